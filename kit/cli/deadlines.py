"""`kit deadlines`: assign ship-by times and list the orders due, overdue, at risk or
refund-eligible (S1, S2, S5b, S19), and the parcels to confirm on the platform by 21:00 (S9)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import click
import polars as pl

from kit import clock
from kit import deadlines as service
from kit.cli.output import common_options, emit_json, say
from kit.cli.review import open_shop
from kit.errors import BadInput
from kit.i18n import t
from kit.models import Stage

LISTS = ("due", "overdue", "at_risk", "refundable", "confirm")
_WHEN = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]


def policy_label(settings: Any) -> str:
    """The shop's ship-by policy in words, with its thresholds."""
    values = {k: (v.strftime("%H:%M") if hasattr(v, "strftime") else v) for k, v in asdict(settings).items()}
    return t(f"deadlines.policy_{settings.policy}", hours=settings.taobao_hours,
             cutoff=values["mall_cutoff" if settings.policy == "mall" else "tmall_cutoff"],
             ship_by=values["mall_ship_by"], working_hours=settings.within_working_hours,
             workday_start=values["workday_start"], workday_end=values["workday_end"])


def _frame(shop: Any, name: str, now: datetime, day: datetime | None) -> pl.DataFrame:
    """The list called `name` at `now`."""
    if name == "confirm":
        return service.confirm_deadline(shop, (day or now).date(), now=now)
    return {"due": service.due_today, "overdue": service.overdue, "at_risk": service.at_risk,
            "refundable": service.refund_eligible}[name](shop, now)


def _line(name: str, row: dict[str, Any]) -> str:
    """One row of a list, for a person at the terminal."""
    when = "%m-%d %H:%M"
    if name == "confirm":
        return t("deadlines.row_unconfirmed", order_no=row["order_no"], shipment_id=row["shipment_id"],
                 carrier=row["carrier_code"], tracking_no=row["tracking_no"] or "-",
                 handed_over_at=row["handed_over_at"].strftime(when),
                 confirm_by=row["confirm_by"].strftime(when))
    params = {"order_no": row["order_no"], "ship_by": row["ship_by"].strftime(when),
              "stage": Stage(row["stage"]).label}
    if name == "refundable":
        return t("deadlines.row_refund", hours=row["hours_late"], **params)
    if "hours_late" in row:
        return t("deadlines.row_late", hours=row["hours_late"], **params)
    if row["hours_left"] < 0:
        return t("deadlines.row_late", hours=-row["hours_left"], **params)
    return t("deadlines.row_left", hours=row["hours_left"], **params)


@click.command()
@common_options
@click.option("--assign", is_flag=True, help="Give ship_by to orders lacking it, by the shop's policy.")
@click.option("--recompute", is_flag=True,
              help="With --assign: also recompute orders still unshipped on the platform (policy changed).")
@click.option("--due", "due", is_flag=True, help="Orders not handed over whose ship_by is today.")
@click.option("--overdue", "late", is_flag=True, help="Orders not handed over past their ship_by.")
@click.option("--at-risk", "at_risk", is_flag=True, help="Orders not packed within at_risk_hours of ship_by.")
@click.option("--refundable", is_flag=True,
              help="Paid orders unshipped on the platform past ship_by: the buyer may ask a refund (S2).")
@click.option("--confirm", is_flag=True,
              help="Parcels handed over but not confirmed on the platform, due by 21:00 of their day (S9).")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="For --confirm: the hand-over day (default today).")
@click.option("--now", "when", type=click.DateTime(_WHEN), default=None,
              help="Take this as the time now, shop local time (default: the clock).")
def deadlines(db: str | None, as_json: bool, config_path: str | None, actor: str | None, assign: bool,
              recompute: bool, due: bool, late: bool, at_risk: bool, refundable: bool, confirm: bool,
              day: datetime | None, when: datetime | None) -> None:
    """Ship-by deadlines: assign them, list one kind, or (no list asked) count every kind."""
    chosen = [name for name, on in zip(LISTS, (due, late, at_risk, refundable, confirm), strict=True) if on]
    if len(chosen) > 1:
        raise BadInput("deadlines.one_list")
    now = when or clock.now()
    payload: dict[str, Any] = {"ok": True, "now": now}
    with open_shop(db, config_path, actor) as shop:
        settings = shop.config.deadlines
        payload["policy"] = settings.policy
        if assign:
            done = service.assign(shop, recompute=recompute, now=now)
            payload["assigned"] = done.height
            if not as_json:
                say(t("deadlines.assigned", count=done.height, policy=policy_label(settings)))
        if chosen:
            frame = _frame(shop, chosen[0], now, day)
            rows = frame.to_dicts()
            payload.update({"list": chosen[0], "count": len(rows),
                            "shipments" if chosen[0] == "confirm" else "orders": rows})
        elif not assign:
            payload["counts"] = {name: _frame(shop, name, now, day).height for name in LISTS}
    if as_json:
        emit_json(payload)
    elif chosen:
        for row in rows:
            click.echo(_line(chosen[0], row))
        say(t("cli.listed", count=len(rows)))
    elif not assign:
        say(t("deadlines.summary", policy=policy_label(settings), now=now.strftime("%Y-%m-%d %H:%M"),
              due=payload["counts"]["due"], overdue=payload["counts"]["overdue"],
              at_risk=payload["counts"]["at_risk"], refundable=payload["counts"]["refundable"],
              unconfirmed=payload["counts"]["confirm"]))
