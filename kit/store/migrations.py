"""Versioned schema migrations: a new database is created at the newest version, an older
one is upgraded step by step in one transaction, keeping its data.

To change the schema: edit kit.store.schema, then append a Migration whose `upgrade`
brings the previous version's tables to the new shape (ALTER, backfill). A test builds
a database at every earlier version and checks the upgrade lands on kit.store.schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from kit import clock
from kit.errors import StoreError
from kit.store import schema


@dataclass(frozen=True)
class Migration:
    """One schema version: its number, what it changes, and how to upgrade to it."""

    version: int
    description: str
    upgrade: Callable[[sa.Connection], None] | None = None  # None: only ever created fresh


def add_column(
    conn: sa.Connection, table: str, name: str, type_: sa.types.TypeEngine, default: str | None = None
) -> None:
    """ALTER TABLE … ADD COLUMN with the type as this dialect spells it (NOT NULL needs a default)."""
    spelled = type_.compile(dialect=conn.dialect)
    tail = f" DEFAULT {default} NOT NULL" if default is not None else ""
    conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {spelled}{tail}')


def _v2_intake_and_review(conn: sa.Connection) -> None:
    """Columns for unmapped export fields, phone confirmation and merging; the intake tables.

    The four new tables are created from kit.store.schema as it stands; a later change to
    one of them must freeze this version's definition here first.
    """
    for name, type_ in (
        ("extra", sa.Text()),
        ("phone_confirmed_by", sa.Text()),
        ("phone_confirmed_at", sa.DateTime()),
        ("merged_into", sa.Text()),
    ):
        add_column(conn, "orders", name, type_)
    add_column(conn, "order_lines", "extra", sa.Text())
    add_column(conn, "order_lines", "ship_part", sa.Integer(), default="1")
    for table in (schema.quarantine, schema.flags, schema.reconciliations, schema.blacklist):
        table.create(conn)


def _v4_stock(conn: sa.Connection) -> None:
    """The stock ledger, reservations, backorders and SKU pins; low-stock thresholds.

    The new tables are created from kit.store.schema as it stands (a later change to one
    of them must freeze this version's definition here first). Stock already in the
    database gets its opening balances in the ledger, and the open shipments their
    reservations, so that every level can be rebuilt from the ledger.
    """
    from kit.stock.ledger import record_opening_balances  # the store does not import services

    add_column(conn, "skus", "low_stock_threshold", sa.Integer())
    conn.exec_driver_sql("CREATE INDEX ix_stock_levels_sku ON stock_levels (sku)")
    for table in (schema.stock_ledger, schema.reservations, schema.backorders, schema.sku_pins):
        table.create(conn)
    record_opening_balances(conn, "system:migration", clock.now())


def _v6_pick_pack_ship(conn: sa.Connection) -> None:
    """Shelf locations; shipment wave, insurance, SMS and packer columns; waves and the packer's
    register (created from kit.store.schema as it stands: a later change to one of them must
    freeze this version's definition here first)."""
    add_column(conn, "stock_levels", "location", sa.Text())
    add_column(conn, "shipments", "wave_id", sa.BigInteger())
    add_column(conn, "shipments", "insured_fen", sa.BigInteger(), default="0")
    add_column(conn, "shipments", "sms_notify", sa.Boolean(), default="false")
    add_column(conn, "shipments", "packed_at", sa.DateTime())
    add_column(conn, "shipments", "packed_by", sa.Text())
    add_column(conn, "shipments", "handed_over_by", sa.Text())
    conn.exec_driver_sql("CREATE INDEX ix_shipments_wave_id ON shipments (wave_id)")
    conn.exec_driver_sql("CREATE INDEX ix_shipments_stage ON shipments (stage)")
    for table in (schema.waves, schema.pack_register):
        table.create(conn)


def _v8_after_sales(conn: sa.Connection) -> None:
    """After-sale case columns (parcel, platform refund number, owner, return parcel, linked
    outbound parcel), shipment links (reship, exchange), and the after-sale lines, delivery
    exception and damaged goods tables (created from kit.store.schema as it stands: a later
    change to one of them must freeze this version's definition here first)."""
    for name, type_ in (
        ("shipment_id", sa.BigInteger()), ("refund_id", sa.Text()), ("owner", sa.Text()),
        ("created_by", sa.Text()), ("return_carrier", sa.Text()), ("return_tracking_no", sa.Text()),
        ("received_at", sa.DateTime()), ("linked_shipment_id", sa.BigInteger()),
        ("exception_id", sa.BigInteger()), ("note", sa.Text()), ("closed_at", sa.DateTime()),
    ):
        add_column(conn, "after_sales", name, type_)
    conn.exec_driver_sql("CREATE INDEX ix_after_sales_refund_id ON after_sales (refund_id)")
    conn.exec_driver_sql("CREATE INDEX ix_after_sales_refund_status ON after_sales (refund_status)")
    add_column(conn, "shipments", "replaces_shipment_id", sa.BigInteger())
    add_column(conn, "shipments", "after_sale_id", sa.BigInteger())
    for table in (schema.after_sale_lines, schema.exception_cases, schema.damaged_goods):
        table.create(conn)


MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "initial schema: staff, batches, SKUs, warehouses, stock levels, orders and lines, "
        "shipments, parcels, tracking events, after-sale cases, audit",
    ),
    Migration(
        2,
        "intake and review: unmapped export columns, phone confirmation, merged orders, "
        "split parts; quarantine, flags, reconciliations, blacklist",
        _v2_intake_and_review,
    ),
    Migration(
        3,
        "index on orders.buyer_nick: review looks up a buyer's other open orders",
        lambda conn: conn.exec_driver_sql("CREATE INDEX ix_orders_buyer_nick ON orders (buyer_nick)"),
    ),
    Migration(
        4,
        "stock: ledger of every stock change, reservations, backorders with missing quantities, "
        "SKU pins, low-stock thresholds; opening balances for stock already held",
        _v4_stock,
    ),
    Migration(
        5,
        "outbox of buyer notices (stockouts, S20; later shipping and after-sales, S13)",
        lambda conn: schema.outbox.create(conn),
    ),
    Migration(
        6,
        "pick, pack and ship: shelf locations, pick waves, the packer's register, shipment "
        "insurance / SMS / packer columns",
        _v6_pick_pack_ship,
    ),
    Migration(
        7,
        "index on tracking_events (tracking_no, at): tracking reads a parcel's events by its number",
        lambda conn: conn.exec_driver_sql(
            "CREATE INDEX ix_tracking_events_number ON tracking_events (tracking_no, at)"
        ),
    ),
    Migration(
        8,
        "after-sales and delivery exceptions: after-sale lines and case columns, exception cases, "
        "damaged goods, shipments linked to the parcel they replace or the case they serve",
        _v8_after_sales,
    ),
]


def latest_version(migrations: list[Migration] | None = None) -> int:
    """The version this kit's schema is at."""
    return max(m.version for m in (migrations or MIGRATIONS))


def current_version(conn: sa.Connection) -> int | None:
    """The database's schema version, or None when it holds no kit schema yet."""
    if not sa.inspect(conn).has_table(schema.kit_schema.name):
        return None
    return conn.execute(sa.select(sa.func.max(schema.kit_schema.c.version))).scalar()


def check_version(version: int | None, url: str, migrations: list[Migration] | None = None) -> None:
    """Refuse a database whose schema is newer than this kit knows."""
    latest = latest_version(migrations)
    if version is not None and version > latest:
        raise StoreError("store.schema_too_new", url=url, version=version, latest=latest)


def upgrade(conn: sa.Connection, url: str, migrations: list[Migration] | None = None) -> list[int]:
    """Create or upgrade the schema inside the caller's (write-locked) transaction.

    Returns the versions applied. The caller holds the write lock, so two processes
    opening one new database create it once.
    """
    migrations = sorted(migrations or MIGRATIONS, key=lambda m: m.version)
    version = current_version(conn)
    check_version(version, url, migrations)
    applied: list[int] = []
    if version is None:
        existing = set(sa.inspect(conn).get_table_names()) & set(schema.metadata.tables)
        if existing:
            raise StoreError("store.not_a_kit_database", url=url, tables=", ".join(sorted(existing)))
        schema.metadata.create_all(conn)
        applied = [m.version for m in migrations]
    else:
        for m in migrations:
            if m.version <= version:
                continue
            if m.upgrade is None:
                raise StoreError("store.no_upgrade_path", url=url, version=version, target=m.version)
            m.upgrade(conn)
            applied.append(m.version)
    stamp = clock.now()
    for m in migrations:
        if m.version in applied:
            conn.execute(
                schema.kit_schema.insert().values(
                    version=m.version, description=m.description, applied_at=stamp
                )
            )
    return applied
