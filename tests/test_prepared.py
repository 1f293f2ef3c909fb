"""storage.prepared: statements run on the driver give the same values as Connection.execute, on both databases."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage.prepared import Prepared
from storage.tables import groups, inbound_messages

T = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))

_INSERT = Prepared(
    insert(inbound_messages)
    .values({c: bindparam(c) for c in ("channel", "msg_id", "group_id", "sender_id", "kind", "is_command", "received_at")})
    .returning(inbound_messages.c.id, inbound_messages.c.received_at)
)
_READ = Prepared(
    select(inbound_messages.c.msg_id, inbound_messages.c.is_command, inbound_messages.c.received_at, inbound_messages.c.reply)
    .where(inbound_messages.c.channel == bindparam("channel"))
    .order_by(inbound_messages.c.id)
)
_SET_REPLY = Prepared(
    update(inbound_messages).where(inbound_messages.c.msg_id == bindparam("msg_id")).values(reply=bindparam("reply"))
)
# A value the statement carries itself ("bridge") and one bind used twice (received_at).
_SINCE = Prepared(
    select(inbound_messages.c.msg_id).where(
        inbound_messages.c.channel == "bridge",
        inbound_messages.c.received_at >= bindparam("t"),
        inbound_messages.c.received_at <= bindparam("t"),
    )
)


def _row(msg_id, is_command=True):
    return {"channel": "bridge", "msg_id": msg_id, "group_id": "g1", "sender_id": "u1", "kind": "text",
            "is_command": is_command, "received_at": T}


def test_values_round_trip_like_sqlalchemy(db):
    with db.begin() as conn:
        new_id = _INSERT.returned(conn, _row("m1"))
        _INSERT.returned(conn, _row("m2", is_command=False))
        assert _SET_REPLY.rowcount(conn, {"msg_id": "m1", "reply": ["你好", "¥1.00"]}) == 1
        assert _SET_REPLY.rowcount(conn, {"msg_id": "nope", "reply": []}) == 0
    assert isinstance(new_id, int)
    with db.read() as conn:
        prepared = _READ.all(conn, {"channel": "bridge"})
        via_sqlalchemy = [tuple(r) for r in conn.execute(_READ.statement, {"channel": "bridge"})]
    assert prepared == via_sqlalchemy
    assert prepared[0] == ("m1", True, T.astimezone(timezone.utc), ["你好", "¥1.00"])
    assert prepared[1][1] is False and prepared[1][3] is None
    assert prepared[0][2].tzinfo == timezone.utc


def test_fixed_values_and_a_bind_used_twice(db):
    with db.begin() as conn:
        _INSERT.returned(conn, _row("m1"))
    with db.read() as conn:
        assert _SINCE.all(conn, {"t": T}) == [("m1",)]
        assert _SINCE.first(conn, {"t": T + timedelta(microseconds=1)}) is None
        assert _SINCE.scalar(conn, {"t": T}) == "m1"


def test_runs_inside_the_callers_transaction(db):
    with pytest.raises(RuntimeError):
        with db.begin() as conn:
            _INSERT.returned(conn, _row("m1"))
            raise RuntimeError("roll it all back")
    with db.read() as conn:
        assert _READ.all(conn, {"channel": "bridge"}) == []


def test_a_unique_violation_is_sqlalchemys_integrity_error_and_rolls_back_cleanly(db):
    with db.begin() as conn:
        _INSERT.returned(conn, _row("m1"))
    with pytest.raises(IntegrityError) as caught:  # SQLAlchemy's, as Connection.execute would raise
        with db.begin() as conn:
            _INSERT.returned(conn, _row("m2"))
            _INSERT.returned(conn, _row("m1"))
    assert isinstance(caught.value.orig, db.engine.dialect.loaded_dbapi.IntegrityError)  # the driver's, inside
    assert "INSERT INTO inbound_messages" in caught.value.statement
    with db.begin() as conn:  # the writer is usable again, and m2 went with the failed unit of work
        _INSERT.returned(conn, _row("m3"))
    with db.read() as conn:
        assert [r[0] for r in _READ.all(conn, {"channel": "bridge"})] == ["m1", "m3"]


def test_statements_through_sqlalchemy_and_the_driver_share_one_unit_of_work(db):
    with pytest.raises(RuntimeError):
        with db.begin() as conn:
            conn.execute(insert(groups).values(group_id="g9", owners=[], created_at=T))
            _INSERT.returned(conn, _row("m1"))
            raise RuntimeError
    with db.begin() as conn:
        _INSERT.returned(conn, _row("m2"))
        conn.execute(insert(groups).values(group_id="g8", owners=[], created_at=T))
    with db.read() as conn:
        assert conn.execute(select(groups.c.group_id)).scalars().all() == ["g8"]
        assert [r[0] for r in _READ.all(conn, {"channel": "bridge"})] == ["m2"]


def test_in_lists_are_refused_when_prepared_rather_than_run_wrong():
    with pytest.raises(ValueError, match="IN"):
        Prepared(select(groups.c.group_id).where(groups.c.group_id.in_(bindparam("ids", expanding=True))))


def test_a_statement_that_leaves_out_a_column_with_a_python_side_default_is_refused_when_prepared():
    # groups.owners has default=list: only SQLAlchemy's execution context would fill it in.
    with pytest.raises(ValueError, match="groups.owners"):
        Prepared(insert(groups).values(group_id=bindparam("g"), created_at=bindparam("t")))
    Prepared(insert(groups).values(group_id=bindparam("g"), owners=bindparam("o"), created_at=bindparam("t")))


def test_plans_are_kept_per_dialect_class_not_per_name(db):
    # Two drivers of one database share a name ("postgresql") but not how they render and convert.
    names = Prepared(select(groups.c.group_id))
    with db.read() as conn:
        assert names.all(conn, {}) == []
        assert list(names._plans) == [type(conn.dialect)]
