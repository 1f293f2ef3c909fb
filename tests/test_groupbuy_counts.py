"""A group buy's counts (people, pieces, waitlisted joins, the last 跟团号) are kept on its row: after any
run of joins, changes, leaves, waitlistings, promotions and a settlement they equal what counting its
rows gives, on both databases; migration 0012 fills them in for group buys already there."""
import itertools
import re
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from catalog.groupbuys import get_groupbuy
from helpers import T0, add_product
from storage.migrate import upgrade
from storage.tables import groupbuy_events, groupbuy_participants, groupbuy_waitlist, groupbuys

USERS = ("amy", "bob", "cat", "dan")
SIZES = ("39码", "42码")
CODES = itertools.count(1)  # a product of its own for each example

step = st.one_of(
    st.tuples(st.just("join"), st.sampled_from(USERS), st.sampled_from(SIZES), st.integers(1, 3)),
    st.tuples(st.just("leave"), st.sampled_from(USERS), st.sampled_from(SIZES + (None,))),
)


def kept(db, gb_id: int) -> tuple[int, int, int, int]:
    with db.read() as c:
        return tuple(c.execute(select(groupbuys.c.people_count, groupbuys.c.piece_count, groupbuys.c.waiting_count,
                                      groupbuys.c.last_join_no).where(groupbuys.c.id == gb_id)).one())


def counted(db, gb_id: int) -> tuple[int, int, int, int]:
    p, w, e = groupbuy_participants, groupbuy_waitlist, groupbuy_events
    with db.read() as c:
        return (
            c.execute(select(func.count(func.distinct(p.c.user_id))).where(p.c.groupbuy_id == gb_id)).scalar_one(),
            c.execute(select(func.coalesce(func.sum(p.c.quantity), 0)).where(p.c.groupbuy_id == gb_id)).scalar_one(),
            c.execute(select(func.count()).where(w.c.groupbuy_id == gb_id)).scalar_one(),
            c.execute(select(func.count()).where(e.c.groupbuy_id == gb_id, e.c.kind.in_(("joined", "promoted"))))
            .scalar_one(),
        )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=12), settle=st.booleans())
def test_the_kept_counts_equal_the_counted_ones_after_any_run_of_moves(chat, db, steps, settle):
    # A product of its own per example (the database is shared between examples), few pieces of each
    # size so that joins are waitlisted and leaves promote the line.
    code = f"Z{next(CODES)}"
    add_product(db, code=code, stock=5, variants=[{"name": "39码", "stock": 3}, {"name": "42码", "stock": 2}])
    opened = chat.send(f"开团 {code} 2:150 4:120 截止 2h", user="boss", role="owner")
    gb_id = int(re.search(r"团购 #(\d+)", opened).group(1))
    for s in steps:
        if s[0] == "join":
            chat.send(f"参团 {gb_id} {s[2]} {s[3]}", user=s[1])
        else:
            chat.send(f"退团 {gb_id}" + (f" {s[2]}" if s[2] else ""), user=s[1])
        assert kept(db, gb_id) == counted(db, gb_id), s
    if settle:
        chat.send(f"结束 {gb_id}", user="boss", role="owner")
        assert kept(db, gb_id) == counted(db, gb_id)
    with db.read() as c:
        gb = get_groupbuy(c, gb_id)
    people, pieces, waiting, _ = counted(db, gb_id)
    assert (gb.participants, gb.quantity, gb.waitlist) == (people, pieces, waiting)


def test_a_join_number_is_never_reused_after_a_leave(chat, db):
    add_product(db, stock=10)
    chat.send("开团 A12 2:150 截止 2h", user="boss", role="owner")
    assert "跟团号 1" in chat.send("参团 1 1", user="amy")
    assert "跟团号 2" in chat.send("参团 1 1", user="bob")
    chat.send("退团 1", user="bob")
    assert "跟团号 3" in chat.send("参团 1 1", user="bob")
    assert kept(db, 1) == counted(db, 1) == (2, 2, 0, 3)


def test_0012_fills_the_counts_of_group_buys_already_there(empty_db):
    from alembic import command

    from storage.migrate import alembic_config

    db = empty_db
    upgrade(db, "0011")
    at = (T0 - timedelta(hours=1)).replace(tzinfo=None)
    with db.begin() as c:
        c.execute(text(
            "INSERT INTO products (code, name, description, category, price_fen, stock, active, created_at, updated_at)"
            " VALUES ('A12', '鞋', '', '鞋', 19900, 10, :t, :at, :at)"), {"t": True, "at": at})
        c.execute(text(
            "INSERT INTO groupbuys (group_id, product_id, basis, tiers, deadline, status, created_by, created_at)"
            " VALUES ('g1', 1, 'people', '[]', :at, 'open', 'boss', :at)"), {"at": at})
        for user, variant, qty, no in [("amy", "39码", 2, 1), ("amy", "42码", 1, 3), ("bob", "39码", 1, 4)]:
            c.execute(text(
                "INSERT INTO groupbuy_participants (groupbuy_id, user_id, variant, quantity, join_no, joined_at)"
                " VALUES (1, :u, :v, :q, :n, :at)"), {"u": user, "v": variant, "q": qty, "n": no, "at": at})
        c.execute(text("INSERT INTO groupbuy_waitlist (groupbuy_id, user_id, variant, quantity, created_at)"
                       " VALUES (1, 'cat', '42码', 1, :at)"), {"at": at})
        for kind in ("opened", "joined", "joined", "left", "joined", "promoted", "waitlisted"):
            c.execute(text("INSERT INTO groupbuy_events (groupbuy_id, kind, created_at) VALUES (1, :k, :at)"),
                      {"k": kind, "at": at})
    upgrade(db)
    assert kept(db, 1) == counted(db, 1) == (2, 4, 1, 4)
    with db.engine.connect() as conn:  # and back
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
        conn.commit()
    with db.read() as c:
        assert c.execute(text("SELECT count(*) FROM groupbuy_participants")).scalar_one() == 3
