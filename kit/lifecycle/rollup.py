"""An order follows its shipments: it is packed when every live shipment (not cancelled) is
packed, handed over when every one is with the courier, confirmed when every one is
confirmed on the platform (S8, S9). A trade some of whose shipments are confirmed reads
"seller shipped part" (SELLER_CONSIGNED_PART, S1b) until the last one is."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa

from kit.lifecycle.apply import BulkResult, apply_many
from kit.models import ShipmentStage, StaffMember, Stage, TradeStatus
from kit.store import schema
from kit.store.frames import read_by_keys

__all__ = ["ORDER_FOLLOWS", "follow_shipments"]

SS = ShipmentStage
# order action → the shipment stages every live shipment must have reached
ORDER_FOLLOWS: dict[str, tuple[str, ...]] = {
    "pack": (str(SS.PACKED), str(SS.HANDED_OVER), str(SS.CONFIRMED)),
    "hand_over": (str(SS.HANDED_OVER), str(SS.CONFIRMED)),
    "confirm": (str(SS.CONFIRMED),),
}
_FROM: dict[str, str] = {
    "pack": str(Stage.PICKING),
    "hand_over": str(Stage.PACKED),
    "confirm": str(Stage.HANDED_OVER),
}


def follow_shipments(
    conn: sa.Connection, order_nos: list[str], action: str, actor: StaffMember, at: datetime
) -> dict[str, BulkResult | None]:
    """Move these orders by `action` (pack, hand_over, confirm) where all their live shipments
    have reached its stages, with the stages before it caught up first; for confirm, a trade
    only partly confirmed moves to SELLER_CONSIGNED_PART. Returns the results by action."""
    done: dict[str, BulkResult | None] = {}
    if not order_nos:
        return done
    ships = read_by_keys(conn, schema.shipments, ["order_no", "stage"], "order_no", list(order_nos)).filter(
        pl.col("stage") != str(SS.CANCELLED)
    )
    steps = list(ORDER_FOLLOWS)[: list(ORDER_FOLLOWS).index(action) + 1]
    for step in steps:
        ready = ships.group_by("order_no").agg(pl.col("stage").is_in(ORDER_FOLLOWS[step]).all().alias("ok"))
        keys = ready.filter(pl.col("ok"))["order_no"].sort().to_list()
        orders = read_by_keys(conn, schema.orders, ["order_no", "stage"], "order_no", keys)
        due = orders.filter(pl.col("stage") == _FROM[step])["order_no"].sort().to_list()
        done[step] = apply_many(conn, "order", due, step, actor, now=at) if due else None
    if action == "confirm":
        some = ships.group_by("order_no").agg(
            pl.col("stage").eq(str(SS.CONFIRMED)).any().alias("any"),
            pl.col("stage").eq(str(SS.CONFIRMED)).all().alias("all"),
        )
        partly = some.filter(pl.col("any") & ~pl.col("all"))["order_no"].sort().to_list()
        trades = read_by_keys(conn, schema.orders, ["order_no", "trade_status"], "order_no", partly)
        due = trades.filter(pl.col("trade_status") == str(TradeStatus.WAIT_SELLER_SEND_GOODS))["order_no"]
        done["consign_part"] = (
            apply_many(conn, "order", due.to_list(), "consign_part", actor, now=at) if due.len() else None
        )
    return done
