"""`kit pick`, `kit pack`, `kit print`, `kit ship`: pick waves and lists (S7), packing checks and
the packer's register (S8, S25), the documents as PDF (S14, S18, S22), hand-over, platform
confirmation with its batch file, and the orders that did not ship (S8, S9, S26b)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import polars as pl

from kit import packing as packing_service
from kit import picking as picking_service
from kit import shipping as shipping_service
from kit.carriers.builtin.express import mask_mobile
from kit.cli.output import common_options, emit_json, pad, say
from kit.cli.review import open_shop
from kit.errors import BadInput
from kit.i18n import t
from kit.models import Role

CALLERS = (Role.PRESALE, Role.SUPERVISOR, Role.AFTERSALE)
# a hand-over file's headers, in Chinese or English, → the kit's column
_HEADERS = {
    "包裹号": "shipment_id",
    "订单编号": "order_no",
    "订单号": "order_no",
    "运单号": "tracking_no",
    "快递单号": "tracking_no",
    "快递公司": "carrier_code",
    "保价": "insured_yuan",
    "短信通知": "sms_notify",
}


@click.command()
@common_options
@click.option("--start", is_flag=True, help="Form the waves (shipments and orders go to picking).")
@click.option("--waves", "list_waves", is_flag=True, help="List open waves.")
@click.option("--list", "wave_id", type=int, default=None, help="Show the pick list of this wave.")
@click.option("--warehouse", default=None, help="Only this warehouse.")
@click.option("--carrier", default=None, help="Only this carrier.")
@click.option("--max", "max_shipments", type=int, default=200, show_default=True, help="Shipments per wave.")
@click.option(
    "--short",
    "short",
    nargs=3,
    type=(int, str, int),
    default=None,
    metavar="SHIPMENT SKU FOUND",
    help="Report a shortage found on the shelf (S7).",
)
def pick(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    start: bool,
    list_waves: bool,
    wave_id: int | None,
    warehouse: str | None,
    carrier: str | None,
    max_shipments: int,
    short: tuple[int, str, int] | None,
) -> None:
    """Pick waves by warehouse, carrier and ship-by day, and their pick lists (S7, S23)."""
    with open_shop(db, config_path, actor) as shop:
        if short:
            done = picking_service.report_short(shop, short[0], short[1], short[2])
            _out(as_json, {"short": done}, t("cli_fulfil.short_done", **done))
        elif start:
            formed = picking_service.start_waves(
                shop, warehouse=warehouse, carrier=carrier, max_shipments=max_shipments
            )
            _out(
                as_json,
                {"waves": formed},
                "\n".join(
                    [t("cli_fulfil.wave_row", **_shown(w)) for w in formed]
                    + [t("cli_fulfil.waves_formed", count=len(formed))]
                ),
            )
        elif wave_id is not None:
            plist = picking_service.pick_list(shop, wave_id)
            if as_json:
                emit_json(
                    {
                        "ok": True,
                        "wave": plist.wave,
                        "totals": plist.totals.to_dicts(),
                        "per_order": plist.per_order.to_dicts(),
                    }
                )
                return
            click.echo(t("cli_fulfil.wave_row", **_shown(plist.wave)))
            for r in plist.totals.iter_rows(named=True):
                click.echo(
                    f"  {pad(r['location'] or '-', 10)} {pad(r['sku'], 18)} ×{r['quantity']:<4} "
                    f"{r['title']} {r['spec'] or ''}"
                )
        elif list_waves:
            frame = picking_service.waves(shop)
            _out(
                as_json,
                {"waves": frame.to_dicts()},
                "\n".join(t("cli_fulfil.wave_open_row", **_shown(r)) for r in frame.iter_rows(named=True))
                or t("cli_fulfil.no_waves"),
            )
        else:
            frame = picking_service.plan(shop, warehouse=warehouse, carrier=carrier)
            _out(
                as_json,
                {"plan": frame.to_dicts()},
                "\n".join(t("cli_fulfil.plan_row", **_shown(r)) for r in frame.iter_rows(named=True))
                or t("cli_fulfil.nothing_to_pick"),
            )


@click.command()
@common_options
@click.argument("shipment_id", type=int)
@click.option("--scan", "scans", multiple=True, help="A scanned SKU (once per unit); repeat the option.")
@click.option("--weight", "weight_g", type=int, default=None, help="Measured weight in grams.")
@click.option("--accept-weight", is_flag=True, help="Accept a weight outside the tolerance (S8).")
def pack(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    shipment_id: int,
    scans: tuple[str, ...],
    weight_g: int | None,
    accept_weight: bool,
) -> None:
    """Show a shipment's packing sheet, or check its box and weight and close it (S8, S25)."""
    with open_shop(db, config_path, actor) as shop:
        if weight_g is None:
            sheet = packing_service.sheet(shop, shipment_id)
            if as_json:
                emit_json({"ok": True, **sheet, "items": sheet["items"].to_dicts()})
                return
            click.echo(t("cli_fulfil.sheet_head", **sheet))
            for r in sheet["items"].iter_rows(named=True):
                gift = t("cli_fulfil.gift") if r["is_gift_item"] else ""
                click.echo(f"  {pad(r['sku'], 18)} ×{r['quantity']:<4} {r['title']} {r['spec'] or ''}{gift}")
            for g in sheet["guides"]:
                click.echo(f"  【{g['title']}】{g['text']}")
            if sheet["buyer_message"]:
                click.echo(t("cli_fulfil.buyer_message", text=sheet["buyer_message"]))
            if sheet["no_price_slip"]:
                click.echo(t("cli_fulfil.present"))
            return
        done = packing_service.pack(shop, shipment_id, list(scans), weight_g, accept_weight=accept_weight)
    _out(
        as_json,
        {"packed": done},
        t("cli_fulfil.packed", **done) + (f"\n{done['warning']}" if done["warning"] else ""),
    )


@click.command(name="print")
@common_options
@click.argument("document", type=click.Choice(["waybill", "note", "warranty", "picklist", "wave"]))
@click.option("--shipments", default=None, help="Shipment ids, comma separated.")
@click.option(
    "--wave", "wave_id", type=int, default=None, help="A wave: its pick list, or all its documents."
)
@click.option("--size", default=None, help="Label size: 76x130, 100x150 or 100x180 (default: [documents]).")
@click.option(
    "-o", "--output", "output", type=click.Path(dir_okay=False), required=True, help="The PDF file to write."
)
def print_(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    document: str,
    shipments: str | None,
    wave_id: int | None,
    size: str | None,
    output: str,
) -> None:
    """Write a waybill, shipping note, warranty card, pick list or a wave's documents as PDF."""
    from kit import documents

    with open_shop(db, config_path, actor) as shop:
        if document == "picklist":
            if wave_id is None:
                raise BadInput("cli_fulfil.wave_needed")
            plist = picking_service.pick_list(shop, wave_id)
            data = documents.pick_list_pdf(plist.wave, plist.totals, plist.per_order)
        else:
            ids = _ids(shipments) if shipments else None
            if ids is None and wave_id is not None:
                ids = picking_service.wave_shipments(shop, wave_id)["shipment_id"].to_list()
            if not ids:
                raise BadInput("cli_fulfil.shipments_needed")
            if document == "waybill":
                data = documents.waybills(shop, ids, size)
            elif document == "note":
                data = documents.shipping_notes(shop, ids)
            elif document == "warranty":
                data = documents.warranty_cards(shop, ids)
            else:
                data = documents.wave_documents(shop, ids, size)
    Path(output).write_bytes(data)
    _out(as_json, {"path": output, "bytes": len(data)}, t("cli_fulfil.printed", path=output, size=len(data)))


@click.command()
@common_options
@click.argument("shipment_id", type=int, required=False)
@click.argument("tracking_no", required=False)
@click.option("--carrier", default=None, help="Carrier code, when not the shipment's (S5, S26b).")
@click.option("--insured", "insured_yuan", type=float, default=None, help="Insured value in yuan (S24c).")
@click.option("--sms", is_flag=True, help="The buyer asked for SMS notification (S24c).")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="CSV of hand-overs: 包裹号 or 订单编号, 运单号, optional 快递公司, 保价 (yuan), 短信通知 (是/否).",
)
@click.option("--scan", "scan", is_flag=True, help="Read 'SHIPMENT TRACKING' lines from a scanner on stdin.")
@click.option(
    "--confirm", "confirm", is_flag=True, help="Confirm every handed-over shipment on the platform (S9)."
)
@click.option(
    "--export",
    "export",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --confirm: write the platform's batch file (CSV, GBK) here.",
)
@click.option(
    "--confirmed",
    "confirmed",
    is_flag=True,
    help="Shipments confirmed today (or in --batch); with --export, their batch file.",
)
@click.option("--batch", "batch_id", type=int, default=None, help="One confirmation batch.")
@click.option("--awaiting", is_flag=True, help="Handed over, not yet confirmed, with the 21:00 deadline.")
@click.option("--unshipped", is_flag=True, help="Orders due today that did not ship, with reasons (S8, S9).")
@click.option("--reason", default=None, help="With --order: why these orders did not ship today (S8).")
@click.option("--order", "orders", multiple=True, help="An order the reason is for; repeat.")
def ship(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    shipment_id: int | None,
    tracking_no: str | None,
    carrier: str | None,
    insured_yuan: float | None,
    sms: bool,
    path: str | None,
    scan: bool,
    confirm: bool,
    export: str | None,
    confirmed: bool,
    batch_id: int | None,
    awaiting: bool,
    unshipped: bool,
    reason: str | None,
    orders: tuple[str, ...],
) -> None:
    """Hand parcels to the courier, confirm them on the platform, and account for what did not ship."""
    with open_shop(db, config_path, actor) as shop:
        if reason is not None:
            done = shipping_service.record_reason(shop, list(orders), reason)
            _out(as_json, done, t("shipping.reasons_recorded", **done))
        elif confirm:
            done = shipping_service.confirm(shop)
            lines = None
            if export:
                rows = (
                    shipping_service.confirmed_in(shop, done["batch_id"])
                    if done["batch_id"]
                    else pl.DataFrame(
                        schema={"order_no": pl.String, "carrier_code": pl.String, "tracking_no": pl.String}
                    )
                )
                lines = shipping_service.write_batch_file(shop, export, rows)
            text = "\n".join(t("shipping.refused_row", row=k, message=m) for k, m in done["refused"])
            text = (text + "\n" if text else "") + (
                t(
                    "shipping.confirmed",
                    count=len(done["confirmed"]),
                    **{k: v for k, v in done.items() if k != "confirmed"},
                )
                if done["confirmed"]
                else t("shipping.nothing_to_confirm")
            )
            if export:
                text += "\n" + t("shipping.batch_written", path=export, lines=lines)
            _out(as_json, {**done, "export": export, "export_lines": lines}, text)
        elif confirmed or batch_id is not None:
            frame = shipping_service.confirmed_in(shop, batch_id)
            lines = shipping_service.write_batch_file(shop, export, frame) if export else None
            text = "\n".join(
                f"{r['order_no']}  {r['carrier_code']}  {r['tracking_no'] or ''}"
                for r in frame.iter_rows(named=True)
            )
            text += ("\n" if text else "") + t("shipping.confirmed_listed", count=frame.height)
            if export:
                text += "\n" + t("shipping.batch_written", path=export, lines=lines)
            _out(as_json, {"confirmed": frame.to_dicts(), "export": export, "export_lines": lines}, text)
        elif awaiting:
            frame = shipping_service.awaiting_confirmation(shop)
            _out(as_json, {"awaiting": frame.to_dicts()}, _awaiting_text(frame))
        elif unshipped:
            frame = shipping_service.unshipped(shop)
            if shop.actor is None or shop.actor.role not in CALLERS:  # S9: phones are for the callers
                frame = frame.with_columns(pl.col("receiver_mobile").map_elements(mask_mobile, pl.String))
            _out(as_json, {"unshipped": frame.to_dicts()}, _unshipped_text(frame))
        else:
            rows = _handover_rows(shipment_id, tracking_no, carrier, insured_yuan, sms, path, scan)
            done = shipping_service.hand_over(shop, rows)
            for row, message in done["refused"]:
                say(t("shipping.refused_row", row=row, message=message))
            if as_json:
                emit_json({"ok": not done["refused"], **done})
            else:
                click.echo(t("shipping.handed", count=len(done["handed_over"])))
            if done["refused"]:
                sys.exit(1)


def _handover_rows(
    shipment_id: int | None,
    tracking_no: str | None,
    carrier: str | None,
    insured_yuan: float | None,
    sms: bool,
    path: str | None,
    scan: bool,
) -> Any:
    """The hand-over rows from the arguments, a CSV file or a scanner's lines on stdin."""
    if path:
        from kit.intake.encoding import to_utf8

        utf8, _ = to_utf8(Path(path).read_bytes(), path)
        frame = pl.read_csv(utf8, infer_schema=False)
        frame = frame.rename({c: _HEADERS.get(c.strip(), c.strip()) for c in frame.columns})
        if "sms_notify" in frame.columns:
            yes = pl.col("sms_notify").str.strip_chars().str.to_lowercase()
            frame = frame.with_columns(
                pl.when(yes.is_in(["是", "要", "y", "yes", "true", "1"]))
                .then(True)
                .when(yes.is_in(["否", "不要", "n", "no", "false", "0", ""]) | yes.is_null())
                .then(False)
                .otherwise(None)
                .alias("sms_notify")
            )
        if "insured_yuan" in frame.columns:  # yuan in the file, as on the command line
            frame = frame.with_columns(
                (pl.col("insured_yuan").str.strip_chars().cast(pl.Float64, strict=False) * 100)
                .round()
                .cast(pl.Int64)
                .alias("insured_fen")
            ).drop("insured_yuan")
        return frame
    if scan:
        rows = []
        for line in sys.stdin:
            parts = line.split()
            if len(parts) >= 2 and parts[0].isdigit():
                rows.append({"shipment_id": int(parts[0]), "tracking_no": parts[1], "carrier_code": carrier})
            elif len(parts) == 1:  # the label's number alone: the parcel that carries it
                rows.append({"tracking_no": parts[0], "carrier_code": carrier})
            elif parts:
                raise BadInput("cli_fulfil.bad_scan_line", line=line.strip()[:80])
        return rows
    if shipment_id is None or (tracking_no is None and carrier != "none"):
        raise BadInput("cli_fulfil.handover_needed")
    insured = None if insured_yuan is None else round(insured_yuan * 100)
    return [
        {
            "shipment_id": shipment_id,
            "tracking_no": tracking_no or "",
            "carrier_code": carrier,
            "insured_fen": insured,
            "sms_notify": sms,
        }
    ]


def _awaiting_text(frame: pl.DataFrame) -> str:
    rows = [
        t(
            "shipping.awaiting_row",
            shipment_id=r["shipment_id"],
            order_no=r["order_no"],
            carrier=r["carrier_code"],
            tracking_no=r["tracking_no"] or "",
            handed=r["handed_over_at"].strftime("%m-%d %H:%M"),
            late=t("shipping.late") if r["late"] else "",
        )
        for r in frame.iter_rows(named=True)
    ]
    deadline = frame["confirm_by"].max().strftime("%H:%M") if frame.height else "21:00"
    return "\n".join([*rows, t("shipping.awaiting", count=frame.height, deadline=deadline)])


def _unshipped_text(frame: pl.DataFrame) -> str:
    rows = [
        t(
            "shipping.unshipped_row",
            order_no=r["order_no"],
            stage=t(f"stage.{r['stage']}"),
            ship_by=r["ship_by"].strftime("%m-%d %H:%M"),
            receiver=r["receiver_name"],
            mobile=r["receiver_mobile"] or "",
            reason=r["reason"] or t("shipping.no_reason"),
        )
        for r in frame.iter_rows(named=True)
    ]
    missing = frame.filter(pl.col("reason").is_null()).height
    return "\n".join([*rows, t("shipping.unshipped_count", count=frame.height, missing=missing)])


def _ids(text: str) -> list[int]:
    try:
        return [int(x) for x in text.replace("，", ",").split(",") if x.strip()]
    except ValueError:
        raise BadInput("cli_fulfil.bad_ids", value=text) from None


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """A wave row with its ship-by written out for a message."""
    ship_by = row.get("ship_by")
    return {
        **row,
        "ship_by": ship_by.strftime("%m-%d %H:%M") if ship_by else "-",
        "due_day": str(row.get("due_day") or "-"),
    }


def _out(as_json: bool, payload: dict[str, Any], text: str) -> None:
    if as_json:
        emit_json({"ok": True, **payload})
    elif text:
        click.echo(text)
