"""`kit review` (审单) and `kit reconcile` (S6) on the command line."""

from __future__ import annotations

from datetime import datetime

import click

import kit
from kit import review as review_service
from kit.cli.output import common_options, emit_json, pad, say
from kit.i18n import t
from kit.reconcile import reconcile as reconcile_day


def open_shop(db: str | None, config_path: str | None, actor: str | None) -> kit.Shop:
    """The shop, acting as --as NAME (or KIT_ACTOR), else the shop's local user."""
    shop = kit.connect(db, config=config_path)
    try:
        return shop.acting_as(actor or shop.config.local_user)
    except Exception:
        shop.close()
        raise


@click.command()
@common_options
@click.option("--recheck", is_flag=True, help="Also review held orders again (release those that now pass).")
@click.option("--list", "listing", is_flag=True, help="List the held orders with their reasons.")
@click.option("--cod", is_flag=True, help="List COD orders waiting for the phone confirmation (S16).")
@click.option("--approve", metavar="ORDER_NO", help="Approve one order.")
@click.option("--hold", metavar="ORDER_NO", help="Hold one order (needs --reason).")
@click.option("--reason", default=None, help="Why, for --hold.")
@click.option("--confirm-phone", "confirm", metavar="ORDER_NO",
              help="Record that the COD order was confirmed by phone, and review it again (S16).")
def review(db: str | None, as_json: bool, config_path: str | None, actor: str | None, recheck: bool,
           listing: bool, cod: bool, approve: str | None, hold: str | None, reason: str | None,
           confirm: str | None) -> None:
    """Review new orders: approve those that pass every rule, hold the rest with reasons."""
    with open_shop(db, config_path, actor) as shop:
        if listing or cod:
            frame = (review_service.cod_call_list(shop) if cod else review_service.held_orders(shop))
            rows = [{"order_no": r["order_no"], "paid_at": r["paid_at"],
                     "receiver_name": r["receiver_name"], "reasons": r.get("reasons", [])}
                    for r in frame.iter_rows(named=True)]
            if as_json:
                emit_json({"ok": True, "orders": rows})
            else:
                for r in rows:
                    click.echo(f"{r['order_no']}  {r['paid_at']:%m-%d %H:%M}  {pad(r['receiver_name'], 8)}"
                               f"  {'；'.join(r['reasons'])}")
                say(t("cli.listed", count=len(rows)))
            return
        if approve or hold:
            no = approve or hold
            change = shop.transition("order", no, "approve" if approve else "hold", reason=reason)
            payload = {"ok": True, "order_no": no, "stage": change.changes[0][2], "version": change.version}
            if as_json:
                emit_json(payload)
            else:
                say(t("cli.changed", order_no=no, stage=t(f"stage.{payload['stage']}")))
            return
        result = (review_service.confirm_phone(shop, confirm) if confirm
                  else review_service.run(shop, recheck=recheck))
    if as_json:
        emit_json({"ok": True, **result.to_dict()})
    else:
        say(t("cli.reviewed", reviewed=result.reviewed, approved=len(result.approved),
              held=result.held.height, presents=len(result.presents)))


@click.command()
@common_options
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="The day to reconcile (orders paid that day).")
@click.option("--counted", type=click.IntRange(0), default=None,
              help="The count pre-sales took from the platform (S6).")
@click.option("--platform", default=None, help="Channel platform (default from kit.toml).")
@click.option("--shop", "shop_name", default=None, help="Channel shop (default from kit.toml).")
def reconcile(db: str | None, as_json: bool, config_path: str | None, actor: str | None,
              day: datetime, counted: int | None, platform: str | None, shop_name: str | None) -> None:
    """Reconcile one day: orders registered per channel and stage against the count typed in (S6)."""
    with open_shop(db, config_path, actor) as shop:
        result = reconcile_day(shop, day.date(), counted=counted, platform=platform, shop_name=shop_name)
    if as_json:
        emit_json({"ok": True, **result.to_dict()})
        return
    for row in result.channels.iter_rows(named=True):
        click.echo(t("cli.reconcile_row", platform=row["platform"], shop=row["shop"],
                     imported=row["imported"], counted="-" if row["counted"] is None else row["counted"],
                     difference="-" if row["difference"] is None else row["difference"]))
        click.echo("  " + "  ".join(f"{t(f'stage.{s}')} {row[s]}" for s in result.channels.columns[5:]
                                    if row[s]))
    if result.quarantined:
        say(t("cli.reconcile_quarantine", count=result.quarantined))
