"""`kit track`: follow the parcels after the hand-over (S21): pull events from the carriers that can
track, import a carrier's CSV export, list the parcels that need a person, and record the
buyer's confirmation of receipt (S4), a COD parcel signed for, or the automatic confirmation."""

from __future__ import annotations

import sys
from typing import Any

import click

from kit import tracking as service
from kit.cli.output import common_options, emit_json, pad, say
from kit.cli.review import open_shop
from kit.errors import BadInput
from kit.i18n import t


@click.command()
@common_options
@click.argument("order_nos", nargs=-1, metavar="[ORDER]...")
@click.option("--pull", is_flag=True, help="Ask the carriers that can track for new events (S21).")
@click.option(
    "--import",
    "import_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="A carrier's CSV export of events (UTF-8 or GBK; 运单号, 时间, 状态, 描述, 地点).",
)
@click.option(
    "--carrier",
    default=None,
    metavar="CODE",
    help="With --import: whose export it is (required); with --pull: only this carrier.",
)
@click.option(
    "--alerts",
    "show_alerts",
    is_flag=True,
    help="Parcels that need a person: not picked up, stuck, failed, refused, returned, … "
    "(the default when nothing else is asked).",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(service.ALERT_KINDS),
    help="With --alerts: only this kind (repeatable).",
)
@click.option("--confirm", is_flag=True, help="The buyers of ORDER … confirmed receipt: trade finished (S4).")
@click.option("--sign", is_flag=True, help="COD orders ORDER … delivered and paid: signed by the buyer.")
@click.option("--parcels", "show_parcels", is_flag=True, help="Each parcel of ORDER … with its status.")
@click.option(
    "--auto-confirm",
    "auto",
    is_flag=True,
    help="Finish the orders delivered [tracking] auto_confirm_days ago, as the platform does.",
)
def track(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    order_nos: tuple[str, ...],
    pull: bool,
    import_path: str | None,
    carrier: str | None,
    show_alerts: bool,
    kinds: tuple[str, ...],
    confirm: bool,
    sign: bool,
    show_parcels: bool,
    auto: bool,
) -> None:
    """Follow every parcel after the hand-over, and finish the trades the buyers confirmed."""
    if import_path and not carrier:
        raise BadInput("cli_track.carrier_needed")
    if order_nos and not (confirm or sign or show_parcels):
        raise BadInput("cli_track.orders_without_action", orders=" ".join(order_nos[:3]))
    if (confirm or sign or show_parcels) and not order_nos:
        raise BadInput("cli_track.orders_needed")
    nothing = not (pull or import_path or confirm or sign or show_parcels or auto)
    payload: dict[str, Any] = {"ok": True}
    lines: list[str] = []
    with open_shop(db, config_path, actor) as shop:
        if import_path:
            done = service.import_events(shop, import_path, carrier or "")
            payload["import"] = done
            payload["ok"] &= not done["bad_rows"]
            lines += [t("cli_track.bad_row", row=r, reason=why) for r, why in done["bad_rows"]]
            lines.append(t("cli_track.imported", file=import_path, **_counts(done)))
        if pull:
            done = service.pull(shop, carrier_codes=[carrier] if carrier else None)
            payload["pull"] = done
            payload["ok"] &= not done["carriers_failed"]
            lines += [f["reason"] for f in done["carriers_skipped"] + done["carriers_failed"]]
            lines += [t("cli_track.asked", **a) for a in done["carriers_asked"]]
            lines.append(t("cli_track.pulled", numbers=done["numbers"], **_counts(done)))
        if auto:
            done = service.auto_confirm(shop)
            payload["auto_confirm"] = done
            lines.append(
                t(
                    "cli_track.auto_confirmed",
                    count=len(done["finished"]),
                    days=done["days"],
                    waiting=done["waiting"],
                )
            )
        for flag, name, call in (
            (confirm, "confirm", service.confirm_receipt),
            (sign, "sign", service.mark_signed),
        ):
            if flag:
                done = call(shop, list(order_nos))
                payload[name] = done
                payload["ok"] &= not done["refused"]
                lines += [t("cli_track.refused", order_no=k, message=m) for k, m in done["refused"]]
                key = "finished" if name == "confirm" else "signed"
                lines.append(
                    t(f"cli_track.{name}_done", count=len(done[key]), orders="、".join(done[key]) or "-")
                )
        if show_parcels:
            frame = service.parcels(shop, list(order_nos))
            payload["parcels"] = frame.to_dicts()
            if not as_json:
                for r in frame.iter_rows(named=True):
                    click.echo(
                        f"{r['order_no']}  {r['shipment_id']:>6}  {pad(r['carrier_code'], 10)}"
                        f"{pad(r['tracking_no'] or '-', 20)}{t('tracking_status.' + r['status'])}"
                    )
        if show_alerts or nothing:
            frame = service.alerts(shop, kinds=list(kinds) or None)
            payload["alerts"] = frame.to_dicts()
            if not as_json:
                for r in frame.iter_rows(named=True):
                    since = r["since"].strftime("%m-%d %H:%M") if r["since"] else "-"
                    click.echo(
                        f"{pad(t('tracking_alert.' + r['kind']), 12)}{since}  {r['order_no']}  "
                        f"{pad(r['carrier_code'], 10)}{pad(r['tracking_no'] or '-', 20)}{r['detail']}"
                    )
                lines.append(t("cli_track.alerts", count=frame.height))
    if as_json:
        emit_json(payload)
    for line in lines:
        say(line)
    if not payload["ok"]:
        sys.exit(1)


def _counts(done: dict[str, Any]) -> dict[str, Any]:
    """The numbers a stored-events message shows."""
    return {
        k: done[k] for k in ("events", "stored", "duplicates", "unknown_status", "unmatched", "notices")
    } | {
        "updated": len(done["shipments_updated"]),
        "signed": len(done["signed"]),
        "delivered": len(done["delivered_orders"]),
    }
