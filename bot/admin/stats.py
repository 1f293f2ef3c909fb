"""Admin: group health — one group's figures, every group's side by side, members, and the per-day chart."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from bot.admin.common import db, now
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


@router.get("/groups/{group_id}/stats")
def one_group(request: Request, group_id: str, days: int = Days):
    w = Window.last(now(request), days)
    with db(request).read() as conn:
        _known(conn, group_id)
        stats = group_stats(conn, group_id, w, _tz(request))
    return {"group_id": group_id, "days": days, **stats.to_json()}


@router.get("/stats")
def every_group(request: Request, days: int = Days):
    """One row per group, the quietest first (messages ascending, then orders, then group id)."""
    w = Window.last(now(request), days)
    with db(request).read() as conn:
        rows = all_group_stats(conn, w, _tz(request))
    return [{"group_id": gid, "name": name, "days": days, **s.to_json()} for gid, name, s in rows]


@router.get("/groups/{group_id}/members")
def group_members(
    request: Request, group_id: str,
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
):
    """Everyone seen in the group, most recently seen first: first/last seen, who invited them, how many they invited."""
    with db(request).read() as conn:
        _known(conn, group_id)
        return [m.to_json() for m in members(conn, group_id, limit=limit, offset=offset)]


@router.get("/groups/{group_id}/chart.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def chart(request: Request, group_id: str, days: int = Query(30, ge=1, le=MAX_DAYS)):
    """Messages, active members and orders per local day of the last N days (the first and last day partial)."""
    w = Window.last(now(request), days)
    with db(request).read() as conn:
        _known(conn, group_id)
        points = daily_series(conn, group_id, w, _tz(request))
    return Response(activity_png(points, f"{group_id}: last {days} days"), media_type="image/png")
