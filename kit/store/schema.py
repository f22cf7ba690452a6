"""The live database schema (SQLAlchemy Core tables), the same on SQLite and PostgreSQL.

A new database is created from these tables and stamped with the newest migration; an
existing one is brought here by the migrations in kit.store.migrations. A test checks
that both ways give the same schema.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

Text = sa.Text
Int = sa.Integer
BigInt = sa.BigInteger
Bool = sa.Boolean
Time = sa.DateTime  # naive shop-local time, see kit.clock


def _id(name: str) -> sa.Column:
    return sa.Column(name, BigInt().with_variant(Int, "sqlite"), primary_key=True, autoincrement=True)


kit_schema = sa.Table(
    "kit_schema",
    metadata,
    sa.Column("version", Int, primary_key=True, autoincrement=False),
    sa.Column("description", Text, nullable=False),
    sa.Column("applied_at", Time, nullable=False),
)

staff = sa.Table(
    "staff",
    metadata,
    sa.Column("name", Text, primary_key=True),
    sa.Column("role", Text, nullable=False),
    sa.Column("display_name", Text),
    sa.Column("active", Bool, nullable=False, server_default=sa.true()),
    sa.Column("created_at", Time, nullable=False),
)

batches = sa.Table(
    "batches",
    metadata,
    _id("batch_id"),
    sa.Column("kind", Text, nullable=False),  # demo, import, ...
    sa.Column("source", Text, nullable=False),  # file name or generator
    sa.Column("actor", Text, nullable=False),
    sa.Column("role", Text, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("orders", Int, nullable=False, server_default="0"),
    sa.Column("lines", Int, nullable=False, server_default="0"),
    sa.Column("details", Text),  # JSON
)

skus = sa.Table(
    "skus",
    metadata,
    sa.Column("sku", Text, primary_key=True),
    sa.Column("title", Text, nullable=False),
    sa.Column("category", Text, nullable=False),
    sa.Column("spec", Text),
    sa.Column("weight_g", Int, nullable=False),
    sa.Column("price_fen", BigInt, nullable=False),
    sa.Column("is_virtual", Bool, nullable=False, server_default=sa.false()),
    # v4: below this many units available (all own warehouses together), replenish (S12)
    sa.Column("low_stock_threshold", Int),
)

warehouses = sa.Table(
    "warehouses",
    metadata,
    sa.Column("code", Text, primary_key=True),
    sa.Column("name", Text, nullable=False),
    sa.Column("kind", Text, nullable=False),
    sa.Column("province", Text, nullable=False),
    sa.Column("city", Text, nullable=False, server_default=""),
    sa.Column("serves", Text, nullable=False, server_default=""),  # provinces, best first, \n
)

stock_levels = sa.Table(
    "stock_levels",
    metadata,
    sa.Column("warehouse_code", Text, sa.ForeignKey("warehouses.code"), primary_key=True),
    sa.Column("sku", Text, primary_key=True),
    sa.Column("on_hand", Int, nullable=False, server_default="0"),
    sa.Column("reserved", Int, nullable=False, server_default="0"),
    # Stock never goes negative and never promises more than is on hand, whatever runs
    # in parallel: the database refuses the write.
    sa.CheckConstraint("on_hand >= 0", name="ck_stock_on_hand_nonnegative"),
    sa.CheckConstraint("reserved >= 0", name="ck_stock_reserved_nonnegative"),
    sa.CheckConstraint("reserved <= on_hand", name="ck_stock_reserved_within_on_hand"),
    sa.Index("ix_stock_levels_sku", "sku"),  # v4: allocation reads the levels of an order's SKUs
    sa.Column("location", Text),  # v6: the shelf (货位) the SKU is picked from in this warehouse
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_no", Text, primary_key=True),
    sa.Column("platform", Text, nullable=False),
    sa.Column("shop", Text, nullable=False),
    sa.Column("buyer_nick", Text, nullable=False),
    sa.Column("receiver_name", Text, nullable=False),
    sa.Column("receiver_mobile", Text),
    sa.Column("receiver_phone", Text),
    sa.Column("province", Text, nullable=False),
    sa.Column("city", Text, nullable=False),
    sa.Column("district", Text, nullable=False),
    sa.Column("address_detail", Text, nullable=False),
    sa.Column("postcode", Text),
    sa.Column("payment_method", Text, nullable=False),
    sa.Column("total_fen", BigInt, nullable=False),
    sa.Column("discount_fen", BigInt, nullable=False, server_default="0"),
    sa.Column("post_fee_fen", BigInt, nullable=False, server_default="0"),
    sa.Column("payable_fen", BigInt, nullable=False),
    sa.Column("paid_fen", BigInt, nullable=False, server_default="0"),
    sa.Column("buyer_message", Text),
    sa.Column("seller_memo", Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("paid_at", Time),
    sa.Column("trade_status", Text, nullable=False),
    sa.Column("stage", Text, nullable=False),
    sa.Column("hold_reasons", Text),  # one reason per line
    sa.Column("phone_confirmed", Bool, nullable=False, server_default=sa.false()),
    sa.Column("no_price_slip", Bool, nullable=False, server_default=sa.false()),
    sa.Column("carrier_code", Text),
    sa.Column("ship_by", Time),
    sa.Column("batch_id", BigInt, sa.ForeignKey("batches.batch_id")),
    sa.Column("version", Int, nullable=False, server_default="0"),
    sa.Column("updated_at", Time, nullable=False),
    # v2: intake and review
    sa.Column("extra", Text),  # JSON of the export's columns the kit does not map
    sa.Column("phone_confirmed_by", Text),  # S16: who confirmed the COD order by phone
    sa.Column("phone_confirmed_at", Time),
    sa.Column("merged_into", Text),  # 合单: the order this one ships with
    sa.Index("ix_orders_stage", "stage"),
    sa.Index("ix_orders_trade_status", "trade_status"),
    sa.Index("ix_orders_paid_at", "paid_at"),
    sa.Index("ix_orders_buyer_nick", "buyer_nick"),  # v3: review finds a buyer's other orders
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column("order_no", Text, sa.ForeignKey("orders.order_no"), primary_key=True),
    sa.Column("line_no", Int, primary_key=True, autoincrement=False),
    sa.Column("sub_order_no", Text),
    sa.Column("sku", Text, nullable=False),
    sa.Column("title", Text, nullable=False),
    sa.Column("spec", Text),
    sa.Column("quantity", Int, nullable=False),
    sa.Column("price_fen", BigInt, nullable=False),
    sa.Column("discount_fen", BigInt, nullable=False, server_default="0"),
    sa.Column("amount_fen", BigInt, nullable=False),
    sa.Column("is_gift_item", Bool, nullable=False, server_default=sa.false()),
    # v2: the export's unmapped columns, and the part of a split order the line ships in
    sa.Column("extra", Text),
    sa.Column("ship_part", Int, nullable=False, server_default="1"),
    sa.CheckConstraint("quantity > 0", name="ck_order_line_quantity_positive"),
    sa.Index("ix_order_lines_sku", "sku"),
)

shipments = sa.Table(
    "shipments",
    metadata,
    _id("shipment_id"),
    sa.Column("order_no", Text, sa.ForeignKey("orders.order_no"), nullable=False),
    sa.Column("warehouse_code", Text, sa.ForeignKey("warehouses.code"), nullable=False),
    sa.Column("carrier_code", Text, nullable=False),
    sa.Column("ship_method", Text, nullable=False),
    sa.Column("tracking_no", Text),
    sa.Column("stage", Text, nullable=False),
    sa.Column("tracking_status", Text, nullable=False, server_default="pending"),
    sa.Column("expected_weight_g", Int),
    sa.Column("weight_g", Int),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("handed_over_at", Time),
    sa.Column("confirmed_at", Time),
    sa.Column("version", Int, nullable=False, server_default="0"),
    sa.Column("updated_at", Time, nullable=False),
    sa.Index("ix_shipments_order_no", "order_no"),
    sa.Index("ix_shipments_tracking_no", "tracking_no"),
    # v6: picking, packing and hand-over
    sa.Column("wave_id", BigInt),  # the pick wave it is picked in (kit.picking)
    sa.Column("insured_fen", BigInt, nullable=False, server_default="0"),  # S24c, asked by the buyer
    sa.Column("sms_notify", Bool, nullable=False, server_default=sa.false()),  # S24c
    sa.Column("packed_at", Time),
    sa.Column("packed_by", Text),
    sa.Column("handed_over_by", Text),
    sa.Index("ix_shipments_wave_id", "wave_id"),
    sa.Index("ix_shipments_stage", "stage"),
    # v8: a parcel sent again for a lost or damaged one (kit.exceptions), or the outbound parcel
    # of an exchange or repair (kit.aftersales)
    sa.Column("replaces_shipment_id", BigInt),
    sa.Column("after_sale_id", BigInt),
)

parcels = sa.Table(
    "parcels",
    metadata,
    sa.Column("shipment_id", BigInt, sa.ForeignKey("shipments.shipment_id"), primary_key=True),
    sa.Column("parcel_no", Int, primary_key=True, autoincrement=False),
    sa.Column("tracking_no", Text),
    sa.Column("weight_g", Int),
)

shipment_lines = sa.Table(
    "shipment_lines",
    metadata,
    sa.Column("shipment_id", BigInt, sa.ForeignKey("shipments.shipment_id"), primary_key=True),
    sa.Column("order_no", Text, primary_key=True),
    sa.Column("line_no", Int, primary_key=True, autoincrement=False),
    sa.Column("sku", Text, nullable=False),
    sa.Column("quantity", Int, nullable=False),
    sa.ForeignKeyConstraint(
        ["order_no", "line_no"], ["order_lines.order_no", "order_lines.line_no"]
    ),
    sa.CheckConstraint("quantity > 0", name="ck_shipment_line_quantity_positive"),
)

tracking_events = sa.Table(
    "tracking_events",
    metadata,
    _id("event_id"),
    sa.Column("carrier_code", Text, nullable=False),
    sa.Column("tracking_no", Text, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("status", Text, nullable=False),
    sa.Column("description", Text, nullable=False),
    sa.Column("location", Text),
    sa.UniqueConstraint(
        "carrier_code", "tracking_no", "at", "description", name="uq_tracking_event_once"
    ),
    sa.Index("ix_tracking_events_number", "tracking_no", "at"),  # v7: a parcel's events by its number
)

after_sales = sa.Table(
    "after_sales",
    metadata,
    _id("case_id"),
    sa.Column("order_no", Text, sa.ForeignKey("orders.order_no"), nullable=False),
    sa.Column("kind", Text, nullable=False),
    sa.Column("refund_status", Text, nullable=False),
    sa.Column("reason", Text, nullable=False),
    sa.Column("amount_fen", BigInt, nullable=False, server_default="0"),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("version", Int, nullable=False, server_default="0"),
    sa.Column("updated_at", Time, nullable=False),
    sa.Index("ix_after_sales_order_no", "order_no"),
    # v8: after-sales (kit.aftersales)
    sa.Column("shipment_id", BigInt),  # the parcel the case is about, when it is about one
    sa.Column("refund_id", Text),  # the platform's refund number (退款编号), when it has one
    sa.Column("owner", Text),  # who holds the case
    sa.Column("created_by", Text),
    sa.Column("return_carrier", Text),  # the buyer's parcel back to us
    sa.Column("return_tracking_no", Text),
    sa.Column("received_at", Time),  # the returned goods arrived and were checked
    sa.Column("linked_shipment_id", BigInt),  # the outbound parcel of an exchange or repair
    sa.Column("exception_id", BigInt),  # the delivery exception it resolves (kit.exceptions)
    sa.Column("note", Text),
    sa.Column("closed_at", Time),
    sa.Index("ix_after_sales_refund_id", "refund_id"),
    sa.Index("ix_after_sales_refund_status", "refund_status"),
)

audit = sa.Table(
    "audit",
    metadata,
    _id("audit_id"),
    sa.Column("at", Time, nullable=False),
    sa.Column("actor", Text, nullable=False),
    sa.Column("role", Text, nullable=False),
    sa.Column("entity", Text, nullable=False),  # order, shipment, after_sale, batch
    sa.Column("entity_id", Text, nullable=False),
    sa.Column("action", Text, nullable=False),
    sa.Column("field", Text),
    sa.Column("from_state", Text),
    sa.Column("to_state", Text),
    sa.Column("reason", Text),
    sa.Column("batch_id", BigInt),
    sa.Index("ix_audit_entity", "entity", "entity_id"),
)

# --- v2: intake and review ---------------------------------------------------------------

quarantine = sa.Table(
    "quarantine",
    metadata,
    _id("quarantine_id"),
    sa.Column("batch_id", BigInt, sa.ForeignKey("batches.batch_id"), nullable=False),
    sa.Column("source", Text, nullable=False),
    sa.Column("row_no", Int, nullable=False),
    sa.Column("row_kind", Text, nullable=False),
    sa.Column("order_no", Text),
    sa.Column("reasons", Text, nullable=False),  # reason codes, one per line
    sa.Column("message", Text, nullable=False),  # in the staff's language when quarantined
    sa.Column("raw", Text, nullable=False),  # JSON of the original row: header -> text
    sa.Column("status", Text, nullable=False, server_default="open"),  # open, reimported, dismissed
    sa.Column("created_at", Time, nullable=False),
    sa.Column("resolved_by", Text),
    sa.Column("resolved_at", Time),
    sa.Column("resolved_batch_id", BigInt),
    sa.Index("ix_quarantine_status", "status"),
    sa.Index("ix_quarantine_order_no", "order_no"),
)

flags = sa.Table(
    "flags",
    metadata,
    _id("flag_id"),
    sa.Column("order_no", Text, nullable=False),
    sa.Column("kind", Text, nullable=False),  # e.g. refused_change
    sa.Column("message", Text, nullable=False),
    sa.Column("details", Text),  # JSON
    sa.Column("batch_id", BigInt),
    sa.Column("status", Text, nullable=False, server_default="open"),  # open, done
    sa.Column("created_at", Time, nullable=False),
    sa.Column("created_by", Text, nullable=False),
    sa.Column("resolved_by", Text),
    sa.Column("resolved_at", Time),
    sa.Index("ix_flags_status", "status"),
    sa.Index("ix_flags_order_no", "order_no"),
)

reconciliations = sa.Table(
    "reconciliations",
    metadata,
    _id("reconciliation_id"),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("platform", Text, nullable=False),
    sa.Column("shop", Text, nullable=False),
    sa.Column("counted", Int),  # typed in by pre-sales (S6)
    sa.Column("imported", Int, nullable=False),
    sa.Column("details", Text, nullable=False),  # JSON: counts per stage
    sa.Column("actor", Text, nullable=False),
    sa.Column("at", Time, nullable=False),
)

blacklist = sa.Table(
    "blacklist",
    metadata,
    _id("entry_id"),
    sa.Column("kind", Text, nullable=False),  # buyer_nick, mobile, address
    sa.Column("value", Text, nullable=False),
    sa.Column("reason", Text, nullable=False),
    sa.Column("actor", Text, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("active", Bool, nullable=False, server_default=sa.true()),
    sa.Index("ix_blacklist_kind_value", "kind", "value"),
)

# --- v4: stock ledger, reservations, backorders, pins ---------------------------------------

stock_ledger = sa.Table(
    "stock_ledger",
    metadata,
    _id("entry_id"),
    sa.Column("at", Time, nullable=False),
    sa.Column("warehouse_code", Text, nullable=False),
    sa.Column("sku", Text, nullable=False),
    # receipt, reservation, release, pick, return, transfer, count (kit.stock.KINDS)
    sa.Column("kind", Text, nullable=False),
    sa.Column("on_hand_delta", Int, nullable=False, server_default="0"),
    sa.Column("reserved_delta", Int, nullable=False, server_default="0"),
    sa.Column("order_no", Text),
    sa.Column("line_no", Int),
    sa.Column("shipment_id", BigInt),
    sa.Column("reason", Text),
    sa.Column("actor", Text, nullable=False),
    sa.Column("batch_id", BigInt),  # the import, allocation run or movement it belongs to
    sa.Index("ix_stock_ledger_item", "warehouse_code", "sku"),
)

reservations = sa.Table(
    "reservations",
    metadata,
    _id("reservation_id"),
    sa.Column("order_no", Text, nullable=False),
    sa.Column("line_no", Int, nullable=False),
    sa.Column("warehouse_code", Text, nullable=False),
    sa.Column("sku", Text, nullable=False),
    sa.Column("quantity", Int, nullable=False),
    sa.Column("shipment_id", BigInt),
    sa.Column("status", Text, nullable=False, server_default="reserved"),  # reserved, picked, released
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("batch_id", BigInt),
    sa.CheckConstraint("quantity > 0", name="ck_reservation_quantity_positive"),
    sa.Index("ix_reservations_order_no", "order_no"),
    sa.Index("ix_reservations_shipment_id", "shipment_id"),
)

backorders = sa.Table(
    "backorders",
    metadata,
    _id("backorder_id"),
    sa.Column("order_no", Text, nullable=False),
    sa.Column("line_no", Int, nullable=False),
    sa.Column("sku", Text, nullable=False),
    sa.Column("quantity", Int, nullable=False),  # ordered
    sa.Column("missing", Int, nullable=False),  # not available when last allocated
    # where the units are missing: the warehouse that would ship the line (kit.allocation.decide)
    sa.Column("warehouse_code", Text),
    sa.Column("status", Text, nullable=False, server_default="open"),  # open, allocated, closed
    sa.Column("since", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("closed_at", Time),
    sa.Column("batch_id", BigInt),
    sa.CheckConstraint("missing >= 0", name="ck_backorder_missing_nonnegative"),
    sa.Index("ix_backorders_status", "status"),
    sa.Index("ix_backorders_order_no", "order_no"),
)

sku_pins = sa.Table(
    "sku_pins",
    metadata,
    sa.Column("sku", Text, primary_key=True),
    sa.Column("warehouse_code", Text, sa.ForeignKey("warehouses.code"), nullable=False),
    sa.Column("reason", Text),
    sa.Column("actor", Text, nullable=False),
    sa.Column("at", Time, nullable=False),
)

# --- v5: the outbox of buyer notices -------------------------------------------------------

outbox = sa.Table(
    "outbox",
    metadata,
    _id("notice_id"),
    sa.Column("order_no", Text, nullable=False),
    sa.Column("kind", Text, nullable=False),  # stockout (S20); later shipped, refund, … (S13)
    sa.Column("lang", Text, nullable=False),  # zh or en: the language the text is written in
    sa.Column("text", Text, nullable=False),  # what the buyer reads, filled in from the template
    sa.Column("payload", Text),  # JSON: what the text was made from (items, alternatives)
    sa.Column("status", Text, nullable=False, server_default="queued"),  # queued, sent, cancelled
    sa.Column("due_at", Time, nullable=False),  # S20: within 24 working hours of the stockout
    sa.Column("created_at", Time, nullable=False),
    sa.Column("created_by", Text, nullable=False),
    sa.Column("sent_at", Time),
    sa.Column("sent_by", Text),
    sa.Column("batch_id", BigInt),
    sa.Index("ix_outbox_order_no_kind", "order_no", "kind"),
    sa.Index("ix_outbox_status", "status"),
)

# --- v6: pick waves, the packer's register -------------------------------------------------

waves = sa.Table(
    "waves",
    metadata,
    _id("wave_id"),
    sa.Column("warehouse_code", Text, nullable=False),
    sa.Column("carrier_code", Text, nullable=False),
    sa.Column("ship_by", Time),  # the earliest deadline of its shipments
    sa.Column("shipments", Int, nullable=False),
    sa.Column("units", Int, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("created_by", Text, nullable=False),
)

pack_register = sa.Table(
    "pack_register",  # S8: the packer's own register, one row per parcel closed
    metadata,
    _id("entry_id"),
    sa.Column("shipment_id", BigInt, nullable=False),
    sa.Column("order_no", Text, nullable=False),
    sa.Column("parcel_no", Int, nullable=False),
    sa.Column("weight_g", Int, nullable=False),
    sa.Column("expected_weight_g", Int, nullable=False),  # items and packing material
    sa.Column("packer", Text, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("warning", Text),  # a weight outside the tolerance, accepted by the packer
    sa.Index("ix_pack_register_shipment_id", "shipment_id"),
)

# --- v8: after-sales lines, delivery exceptions, damaged goods ------------------------------

after_sale_lines = sa.Table(
    "after_sale_lines",  # what an after-sale case returns, exchanges or repairs
    metadata,
    sa.Column("case_id", BigInt, sa.ForeignKey("after_sales.case_id"), primary_key=True),
    sa.Column("line_no", Int, primary_key=True, autoincrement=False),  # the order line
    sa.Column("sku", Text, nullable=False),
    sa.Column("quantity", Int, nullable=False),
    sa.Column("new_sku", Text),  # an exchange: what the buyer gets instead (default: the same SKU)
    sa.Column("received_good", Int, nullable=False, server_default="0"),  # back on the shelf
    sa.Column("received_damaged", Int, nullable=False, server_default="0"),  # into damaged goods
    sa.CheckConstraint("quantity > 0", name="ck_after_sale_line_quantity_positive"),
    sa.CheckConstraint(
        "received_good >= 0 AND received_damaged >= 0 AND received_good + received_damaged <= quantity",
        name="ck_after_sale_line_received_within_quantity",
    ),
)

exception_cases = sa.Table(
    "exception_cases",  # S21: one case per delivery problem (lost, damaged, wrong address, refused)
    metadata,
    _id("case_id"),
    sa.Column("shipment_id", BigInt, sa.ForeignKey("shipments.shipment_id"), nullable=False),
    sa.Column("order_no", Text, nullable=False),
    sa.Column("kind", Text, nullable=False),  # lost, damaged, wrong_address, refused
    sa.Column("state", Text, nullable=False),  # kit.models.ExceptionState
    sa.Column("owner", Text),  # who holds the case
    sa.Column("opened_by", Text, nullable=False),
    sa.Column("opened_at", Time, nullable=False),
    sa.Column("description", Text),  # what was found (from the alert, the buyer, the courier)
    sa.Column("claim_fen", BigInt, nullable=False, server_default="0"),  # claimed from the carrier
    sa.Column("evidence", Text),  # photos, the courier's note … (where they are kept)
    sa.Column("carrier_answer", Text),
    sa.Column("compensation_fen", BigInt, nullable=False, server_default="0"),  # what the carrier pays
    sa.Column("resolution", Text),  # reship, refund, delivered, restocked, or the close reason
    sa.Column("new_shipment_id", BigInt),  # the parcel sent again
    sa.Column("after_sale_id", BigInt),  # the refund that settled it
    sa.Column("address_before", Text),  # JSON: the receiver as the parcel was labelled
    sa.Column("address_after", Text),  # JSON: the corrected receiver from the buyer
    sa.Column("task", Text),  # what a person must still do (tell the carrier by phone …)
    sa.Column("version", Int, nullable=False, server_default="0"),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("closed_at", Time),
    sa.Index("ix_exception_cases_state", "state"),
    sa.Index("ix_exception_cases_shipment_id", "shipment_id"),
    sa.Index("ix_exception_cases_order_no", "order_no"),
)

damaged_goods = sa.Table(
    "damaged_goods",  # returned goods not fit to sell: kept apart from the stock levels
    metadata,
    _id("entry_id"),
    sa.Column("warehouse_code", Text, nullable=False),
    sa.Column("sku", Text, nullable=False),
    sa.Column("quantity", Int, nullable=False),
    sa.Column("order_no", Text),
    sa.Column("shipment_id", BigInt),
    sa.Column("source", Text, nullable=False),  # after_sale:ID or exception:ID
    sa.Column("reason", Text),
    sa.Column("at", Time, nullable=False),
    sa.Column("actor", Text, nullable=False),
    sa.CheckConstraint("quantity > 0", name="ck_damaged_goods_quantity_positive"),
    sa.Index("ix_damaged_goods_item", "warehouse_code", "sku"),
)

# What an entity of the lifecycle is stored in, and its key column.
ENTITY_TABLES: dict[str, tuple[sa.Table, str]] = {
    "order": (orders, "order_no"),
    "shipment": (shipments, "shipment_id"),
    "after_sale": (after_sales, "case_id"),
    "exception": (exception_cases, "case_id"),
}
