"""Admin: group health — one group's figures, every group's side by side, members, and the per-day chart."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from bot.admin.common import Limit, Offset, db, now
from bot.admin.schemas import EveryGroupStatsOut, GroupStatsOut, MemberOut, errors
from bot.chart import activity_png
from catalog.groups import get_group
from catalog.stats import MAX_DAYS, Window, all_group_stats, daily_series, group_stats, members

router = APIRouter(tags=["stats"])

Days = Query(7, ge=1, le=MAX_DAYS, description="the window: the last N days, (now - N days, now]")


def _tz(request: Request):
    return request.app.state.settings.tz


def _known(conn, group_id: str) -> None:
    if get_group(conn, group_id) is None:
        raise HTTPException(404, f"no group {group_id}")


GroupId = Path(..., min_length=1, max_length=128)


@router.get("/groups/{group_id}/stats", response_model=GroupStatsOut, responses=errors(404, 422))
def one_group(request: Request, group_id: str = GroupId, days: int = Days):
    w = Window.last(now(request), days)
    with db(request).read() as conn:
        _known(conn, group_id)
        stats = group_stats(conn, group_id, w, _tz(request))
    return {"group_id": group_id, "days": days, **stats.to_json()}


@router.get("/stats", response_model=list[EveryGroupStatsOut], responses=errors(422))
def every_group(request: Request, days: int = Days):
    """One row per group, the quietest first (messages ascending, then orders, then group id)."""
    w = Window.last(now(request), days)
    with db(request).read() as conn:
        rows = all_group_stats(conn, w, _tz(request))
    return [{"group_id": gid, "name": name, "days": days, **s.to_json()} for gid, name, s in rows]


@router.get("/groups/{group_id}/members", response_model=list[MemberOut], responses=errors(404, 422))
def group_members(request: Request, group_id: str = GroupId, limit: int = Limit, offset: int = Offset):
    """Everyone seen in the group, most recently seen first: first/last seen, who invited them, how many they invited."""
    with db(request).read() as conn:
        _known(conn, group_id)
        return [m.to_json() for m in members(conn, group_id, limit=limit, offset=offset)]


@router.get("/groups/{group_id}/chart.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}, **errors(404, 422)})
def chart(request: Request, group_id: str = GroupId, days: int = Query(30, ge=1, le=MAX_DAYS)):
    """Messages; active members and orders; GMV (yuan): per local day of the last N days, one panel each
    (the first and last day partial), titled with the group's name."""
    w = Window.last(now(request), days)
    with db(request).read() as conn:
        group = get_group(conn, group_id)
        if group is None:
            raise HTTPException(404, f"no group {group_id}")
        points = daily_series(conn, group_id, w, _tz(request))
    return Response(activity_png(points, f"{group.name or group_id} · 最近 {days} 天"), media_type="image/png")
