"""`kit stock` (levels, files in, receipts, counts, transfers, thresholds, pins, ledger check,
backorders; S7, S12, S23) and `kit allocate` (分仓, S17, S24b) on the command line."""

from __future__ import annotations

import sys
from typing import Any

import click
import polars as pl

from kit import stock as stock_service
from kit.allocation import STRATEGIES, AllocationPolicy, backorders
from kit.allocation import allocate as allocate_orders
from kit.cli.output import common_options, emit_json, pad, progress_bar, say
from kit.cli.review import open_shop
from kit.i18n import t
from kit.stock.ledger import permit


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts()


def _print_levels(frame: pl.DataFrame) -> None:
    click.echo(t("stock.list_header"))
    for r in frame.iter_rows(named=True):
        low = r["low_stock_threshold"] is not None and r["available"] <= r["low_stock_threshold"]
        click.echo(
            f"{pad(r['sku'], 18)}{pad(r['warehouse_code'], 8)}{r['on_hand']:>8}{r['reserved']:>8}"
            f"{r['available']:>8}  {pad(r['title'] or '', 30)}{'  ' + t('stock.low_mark') if low else ''}"
        )


@click.group(invoke_without_command=True)
@click.pass_context
@common_options
@click.option("--warehouse", default=None, help="Only this warehouse.")
@click.option("--sku", "skus", multiple=True, help="Only this SKU (repeatable).")
@click.option("--low", is_flag=True, help="SKUs at or below their low-stock threshold (S12).")
@click.option(
    "--below",
    type=click.IntRange(0),
    default=None,
    help="With --low: every SKU with at most this many available.",
)
def stock(
    ctx: click.Context,
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    warehouse: str | None,
    skus: tuple[str, ...],
    low: bool,
    below: int | None,
) -> None:
    """Stock per SKU and warehouse: on hand, reserved, available (S12); subcommands change it."""
    if ctx.invoked_subcommand is not None:
        return
    with open_shop(db, config_path, actor) as shop:
        if low or below is not None:
            frame = stock_service.low(shop, below=below)
            if as_json:
                emit_json({"ok": True, "low": _rows(frame)})
                return
            for r in frame.iter_rows(named=True):
                click.echo(
                    t(
                        "stock.low_row",
                        sku=r["sku"],
                        title=r["title"],
                        available=r["available"],
                        threshold=r["threshold"],
                    )
                )
            say(t("stock.listed", count=frame.height))
            return
        frame = stock_service.levels(shop, warehouse=warehouse, skus=list(skus) or None)
    if as_json:
        emit_json({"ok": True, "levels": _rows(frame)})
        return
    _print_levels(frame)
    say(t("stock.listed", count=frame.height))


def echo_backorder_rows(frame: pl.DataFrame) -> None:
    """One line per order line waiting for stock: order, line, SKU, wanted, missing, where, since."""
    for r in frame.iter_rows(named=True):
        click.echo(t("stock.backorder_row", order_no=r["order_no"], line_no=r["line_no"], sku=r["sku"],
                     quantity=r["quantity"], missing=r["missing"], warehouse=r["warehouse_code"] or "—",
                     since=r["since"].strftime("%m-%d %H:%M")))


def _done(as_json: bool, payload: dict[str, Any], message: str) -> None:
    if as_json:
        emit_json({"ok": True, **payload})
    else:
        say(message)


@stock.command("import")
@common_options
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--mode",
    type=click.Choice(stock_service.MODES),
    default="count",
    show_default=True,
    help="count: the file holds what is on the shelf (盘点); receipt: what arrived.",
)
@click.option(
    "--warehouse", default=None, help="Warehouse of every row, when the file has no warehouse column."
)
@click.option("--reason", default=None, help="Note written on every ledger row.")
def import_(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    file: str,
    mode: str,
    warehouse: str | None,
    reason: str | None,
) -> None:
    """Import stock from a CSV (UTF-8 or GBK) or XLSX file: warehouse, SKU, quantity[, threshold]."""
    with open_shop(db, config_path, actor) as shop:
        result = stock_service.import_file(shop, file, mode=mode, warehouse=warehouse, reason=reason)
    _done(as_json, result, t("stock.imported", file=file, **result))


@stock.command("receive")
@common_options
@click.option("--warehouse", required=True)
@click.option("--sku", required=True)
@click.option("--quantity", required=True, help="Whole units above zero.")
@click.option("--return", "returned", is_flag=True, help="Goods a buyer sent back (ledger kind return).")
@click.option("--reason", default=None)
def receive(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    warehouse: str,
    sku: str,
    quantity: str,
    returned: bool,
    reason: str | None,
) -> None:
    """Goods arrived (or came back from a buyer): on hand goes up."""
    with open_shop(db, config_path, actor) as shop:
        result = stock_service.receive_goods(
            shop,
            [{"warehouse_code": warehouse, "sku": sku, "quantity": quantity}],
            reason=reason,
            kind="return" if returned else "receipt",
        )
    _done(as_json, result, t("stock.moved", **result))


@stock.command("correct")
@common_options
@click.option("--warehouse", required=True)
@click.option("--sku", required=True)
@click.option("--on-hand", "on_hand", required=True, help="What was counted on the shelf.")
@click.option("--reason", required=True, help="Why the count differs (damaged, found, …).")
def correct(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    warehouse: str,
    sku: str,
    on_hand: str,
    reason: str,
) -> None:
    """Correct one item to what was counted (盘点); the difference is a ledger row."""
    with open_shop(db, config_path, actor) as shop:
        result = stock_service.count_stock(
            shop, [{"warehouse_code": warehouse, "sku": sku, "on_hand": on_hand}], reason=reason
        )
    _done(as_json, result, t("stock.moved", **result))


@stock.command("transfer")
@common_options
@click.option("--from", "source", required=True, help="Warehouse the goods leave.")
@click.option("--to", "target", required=True, help="Warehouse they arrive at.")
@click.option("--sku", required=True)
@click.option("--quantity", required=True)
@click.option("--reason", default=None)
def transfer(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    source: str,
    target: str,
    sku: str,
    quantity: str,
    reason: str | None,
) -> None:
    """Move available goods between warehouses (S23: a backordered order waits for a transfer)."""
    with open_shop(db, config_path, actor) as shop:
        result = stock_service.transfer_goods(
            shop,
            [{"from_warehouse": source, "to_warehouse": target, "sku": sku, "quantity": quantity}],
            reason=reason,
        )
    _done(as_json, result, t("stock.moved", **result))


@stock.command("threshold")
@common_options
@click.argument("sku")
@click.argument("threshold", type=click.IntRange(0), required=False)
def threshold(
    db: str | None, as_json: bool, config_path: str | None, actor: str | None, sku: str, threshold: int | None
) -> None:
    """Set a SKU's low-stock threshold (S12); without a number, clear it."""
    with open_shop(db, config_path, actor) as shop:
        changed = stock_service.set_threshold(shop, sku, threshold)
    _done(
        as_json,
        {"sku": sku, "threshold": threshold, "changed": changed},
        t("stock.threshold_set", sku=sku, threshold="—" if threshold is None else threshold),
    )


@stock.command("pin")
@common_options
@click.argument("sku")
@click.argument("warehouse", required=False)
@click.option("--reason", default=None)
def pin(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    sku: str,
    warehouse: str | None,
    reason: str | None,
) -> None:
    """Ship a SKU only from one warehouse; without a warehouse, unpin it."""
    with open_shop(db, config_path, actor) as shop:
        if warehouse:
            stock_service.pin_sku(shop, sku, warehouse, reason=reason)
        else:
            stock_service.unpin_sku(shop, sku, reason=reason)
    _done(
        as_json,
        {"sku": sku, "warehouse_code": warehouse},
        t("stock.pinned", sku=sku, warehouse=warehouse) if warehouse else t("stock.unpinned", sku=sku),
    )


@stock.command("check")
@common_options
@click.option("--adopt", is_flag=True, help="Write opening balances for stock written outside the ledger.")
def check(db: str | None, as_json: bool, config_path: str | None, actor: str | None, adopt: bool) -> None:
    """Check that the ledger explains every level (every unit accounted for)."""
    with open_shop(db, config_path, actor) as shop:
        adopted = stock_service.adopt_untracked(shop) if adopt else None
        gaps = stock_service.check_ledger(shop)
    if as_json:
        emit_json({"ok": gaps.height == 0, "differences": _rows(gaps), "adopted": adopted})
    else:
        for r in gaps.head(50).iter_rows(named=True):
            click.echo(t("stock.gap_row", **r))
        say(t("stock.ledger_ok") if gaps.height == 0 else t("stock.ledger_gaps", count=gaps.height))
    if gaps.height:  # a script (or CI of a shop) can tell from the exit code: 1, like a refusal
        sys.exit(1)


@stock.command("backorders")
@common_options
def backorders_(db: str | None, as_json: bool, config_path: str | None, actor: str | None) -> None:
    """Backordered lines and the units they miss (S7, S20, S24b)."""
    with open_shop(db, config_path, actor) as shop:
        permit(shop.actor, "read")
        with shop.store.read() as conn:
            frame = backorders(conn)
    if as_json:
        emit_json({"ok": True, "backorders": _rows(frame)})
        return
    echo_backorder_rows(frame)
    say(t("stock.listed", count=frame.height))


@click.command()
@common_options
@click.option(
    "--strategy",
    type=click.Choice(STRATEGIES),
    default=None,
    help="nearest: nearest warehouse first (S17); fewest_parcels: fewest shipments. "
    "Default: [allocation] strategy in kit.toml.",
)
@click.option(
    "--split/--no-split",
    default=None,
    help="Split an order over several warehouses when no single one can ship it (S24b). "
    "Default: [allocation] split.",
)
@click.option(
    "--dropship/--no-dropship",
    default=None,
    help="Suppliers ship the SKUs they hold (S17). Default: [allocation] dropship.",
)
@click.option("--order", "order_nos", multiple=True, help="Only this order (repeatable).")
@click.option(
    "--limit", type=click.IntRange(1), default=None, help="At most this many orders, first paid first."
)
@click.option(
    "--batch",
    "batch_orders",
    type=click.IntRange(1),
    default=None,
    help="Orders per transaction. Default: [allocation] batch_orders.",
)
def allocate(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    strategy: str | None,
    split: bool | None,
    dropship: bool | None,
    order_nos: tuple[str, ...],
    limit: int | None,
    batch_orders: int | None,
) -> None:
    """Allocate approved and backordered orders: choose warehouses, reserve stock, create shipments."""
    given = {"strategy": strategy, "split": split, "dropship": dropship, "batch_orders": batch_orders}
    with open_shop(db, config_path, actor) as shop:
        policy = AllocationPolicy.from_mapping(
            shop.config.allocation | {k: v for k, v in given.items() if v is not None}
        )
        with progress_bar(limit or 0, t("stock.allocating"), as_json or not limit) as bar:
            result = allocate_orders(
                shop, policy=policy, order_nos=list(order_nos) or None, limit=limit, progress=bar.update
            )
    if as_json:
        emit_json({"ok": True, **result.to_dict()})
        return
    for key, error in result.refused:
        say(t("stock.refused_row", order_no=key, message=error.message))
    say(
        t(
            "stock.allocated",
            allocated=len(result.allocated),
            backordered=len(result.backordered),
            still_short=len(result.still_short),
            waiting=len(result.waiting),
            shipments=result.shipments,
            units=result.units,
        )
    )
