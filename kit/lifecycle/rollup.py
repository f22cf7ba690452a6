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
_TO: dict[str, str] = {
    "pack": str(Stage.PACKED),
    "hand_over": str(Stage.HANDED_OVER),
    "confirm": str(Stage.CONFIRMED),
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
    orders = read_by_keys(
        conn,
        schema.orders,
        ["order_no", "stage", "trade_status"],
        "order_no",
        ships["order_no"].unique().to_list(),
    )
    for step in steps:
        ready = ships.group_by("order_no").agg(pl.col("stage").is_in(ORDER_FOLLOWS[step]).all().alias("ok"))
        keys = ready.filter(pl.col("ok"))["order_no"]
        due = orders.filter(pl.col("order_no").is_in(keys.implode()) & (pl.col("stage") == _FROM[step]))
        due_keys = due["order_no"].sort().to_list()
        done[step] = apply_many(conn, "order", due_keys, step, actor, now=at) if due_keys else None
        if done[step] is not None:  # the next step sees the stage this one wrote
            moved = done[step].keys_applied
            orders = orders.with_columns(
                pl.when(pl.col("order_no").is_in(moved))
                .then(pl.lit(_TO[step]))
                .otherwise("stage")
                .alias("stage")
            )
    if action == "confirm":
        some = ships.group_by("order_no").agg(
            pl.col("stage").eq(str(SS.CONFIRMED)).any().alias("any"),
            pl.col("stage").eq(str(SS.CONFIRMED)).all().alias("all"),
        )
        partly = some.filter(pl.col("any") & ~pl.col("all"))["order_no"].sort().to_list()
        due = orders.filter(
            pl.col("order_no").is_in(partly)
            & (pl.col("trade_status") == str(TradeStatus.WAIT_SELLER_SEND_GOODS))
        )["order_no"]
        done["consign_part"] = (
            apply_many(conn, "order", due.to_list(), "consign_part", actor, now=at) if due.len() else None
        )
    return done
