"""`kit shortages` (S7, S20, S23): what waiting orders miss, per SKU or per line, as a table,
JSON or an XLSX for purchasing and production; `--notify` queues the buyers' stockout
notices. `kit outbox` lists the notices to send and marks them sent."""

from __future__ import annotations

import click

from kit import outbox as outbox_service
from kit import shortages as service
from kit.cli.output import common_options, emit_json, pad, say
from kit.cli.review import open_shop
from kit.cli.stock import echo_backorder_rows
from kit.i18n import t


@click.command()
@common_options
@click.option(
    "--lines", "per_line", is_flag=True, help="Every waiting order line instead of one row per SKU."
)
@click.option(
    "--xlsx",
    "xlsx_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the workbook for purchasing and production to this file.",
)
@click.option("--notify", is_flag=True, help="Queue a stockout notice for every order not yet told (S20).")
def shortages(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    per_line: bool,
    xlsx_path: str | None,
    notify: bool,
) -> None:
    """What the waiting (backordered) orders miss, for purchasing or production (S7)."""
    with open_shop(db, config_path, actor) as shop:
        frame = service.lines(shop) if per_line else service.by_sku(shop)
        exported = service.export_xlsx(shop, xlsx_path) if xlsx_path else None
        queued = service.notify(shop) if notify else None
    if as_json:
        payload = {"ok": True, "lines" if per_line else "skus": frame.to_dicts()}
        if exported:
            payload["xlsx"] = exported
        if queued is not None:
            payload["notified"] = queued.select("order_no", "due_at", "text").to_dicts()
        emit_json(payload)
        return
    if frame.height == 0:
        say(t("shortages.none"))
    elif per_line:
        echo_backorder_rows(frame)
        say(t("shortages.listed", count=frame["sku"].n_unique(), orders=frame["order_no"].n_unique()))
    else:
        click.echo(t("shortages.header"))
        for r in frame.iter_rows(named=True):
            click.echo(
                t(
                    "shortages.row",
                    sku=pad(r["sku"], 18),
                    goes_to=pad(t(f"shortages.{r['goes_to']}"), 8),
                    missing=f"{r['missing']:>5}",
                    orders=f"{r['orders']:>6}",
                    available=f"{r['available']:>6}",
                    to_source=f"{r['to_source']:>6}",
                    title=r["title"] or "",
                )
            )
        orders = len({n for nos in frame["order_nos"].to_list() for n in nos.split("、")})
        say(t("shortages.listed", count=frame.height, orders=orders))
    if exported:
        say(t("shortages.exported", **exported))
    if queued is not None:
        say(t("shortages.notified", count=queued.height))


@click.command()
@common_options
@click.option("--status", type=click.Choice(outbox_service.STATUSES), default="queued", show_default=True)
@click.option("--all", "everything", is_flag=True, help="Every notice, whatever its status.")
@click.option("--sent", "sent_ids", type=int, multiple=True, help="Mark this notice sent (repeatable).")
@click.option("--send", "send", is_flag=True, help="Offer queued notices to the notifier plugins.")
@click.option(
    "--ask",
    "ask",
    type=click.Choice(outbox_service.ASKING),
    default=None,
    help="Queue an address check or COD confirmation notice for --order (S24a, S16).",
)
@click.option("--order", "orders", multiple=True, help="With --ask: an order; repeat.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the queued notices to this CSV (UTF-8 with BOM) for sending by hand.",
)
def outbox(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    status: str,
    everything: bool,
    sent_ids: tuple[int, ...],
    send: bool,
    ask: str | None,
    orders: tuple[str, ...],
    csv_path: str | None,
) -> None:
    """Notices to buyers (S13, S20, S24c): what to tell whom, by when; --sent ID marks one sent."""
    with open_shop(db, config_path, actor) as shop:
        if ask:
            count = outbox_service.ask(shop, list(orders), ask)
            if as_json:
                emit_json({"ok": True, "queued": count})
            else:
                say(t("outbox.asked", count=count))
            return
        if send:
            result = outbox_service.send(shop)
            if as_json:
                emit_json({"ok": True, **result})
            else:
                for notice_id, plugin, error in result["errors"]:
                    say(t("outbox.notifier_failed", notice_id=notice_id, plugin=plugin, error=error))
                say(
                    t(
                        "outbox.sent_by_plugins",
                        sent=len(result["sent"]),
                        left=result["left"],
                        notifiers="、".join(result["notifiers"]) or t("outbox.no_notifier"),
                    )
                )
            return
        if csv_path:
            count = outbox_service.export_csv(shop, csv_path)
            if as_json:
                emit_json({"ok": True, "path": csv_path, "notices": count})
            else:
                say(t("outbox.exported", path=csv_path, count=count))
            return
        if sent_ids:
            result = outbox_service.mark_sent(shop, list(sent_ids))
            if as_json:
                emit_json({"ok": True, **result})
            else:
                say(t("outbox.marked", sent=len(result["sent"]), skipped=len(result["skipped"])))
            return
        frame = outbox_service.notices(shop, status=None if everything else status)
    if as_json:
        emit_json({"ok": True, "notices": frame.to_dicts()})
        return
    for r in frame.iter_rows(named=True):
        click.echo(
            t(
                "outbox.row",
                notice_id=r["notice_id"],
                order_no=r["order_no"],
                kind=t(f"outbox_kinds.{r['kind']}"),
                due=r["due_at"].strftime("%m-%d %H:%M"),
                late=t("outbox.late") if r["overdue"] else "",
                text=r["text"],
            )
        )
    say(t("outbox.listed", count=frame.height))
