"""The Shop: one object that notebooks, dashboards, the CLI and tests all act through."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock, lifecycle, orders
from kit.config import Config
from kit.errors import NotFound
from kit.models import Order, Role, StaffMember
from kit.permissions import require
from kit.store import Store, schema
from kit.store.frames import read_frame


class Shop:
    """A store, the shop's settings and the person acting; every action checks their role."""

    def __init__(self, store: Store, config: Config, actor: StaffMember | None = None) -> None:
        self.store = store
        self.config = config
        self.actor = actor

    # --- who acts ---------------------------------------------------------------------------

    def staff_member(self, name: str) -> StaffMember:
        """The staff member by name: from the database, else from kit.toml's [staff]."""
        with self.store.read() as conn:
            row = conn.execute(sa.select(schema.staff).where(schema.staff.c.name == name)).mappings().first()
        if row is not None:
            return StaffMember(row["name"], Role(row["role"]), row["display_name"], bool(row["active"]))
        if name in self.config.staff:
            return StaffMember(name, self.config.staff[name])
        raise NotFound("staff.not_found", name=name)

    def acting_as(self, name: str) -> Shop:
        """The same shop with another person acting."""
        return Shop(self.store, self.config, self.staff_member(name))

    def as_system(self, job: str) -> Shop:
        """The same shop acting as the kit's own job `job` (import, platform sync, ...)."""
        return Shop(self.store, self.config, StaffMember(f"system:{job}", Role.SYSTEM))

    # --- settings -------------------------------------------------------------------------------

    def sync_settings(self, now: datetime | None = None) -> dict[str, int]:
        """Write kit.toml's staff and warehouses into the database (new ones added, others updated)."""
        actor = require(self.actor, "sync_settings")
        moment = now or clock.now()
        with self.store.write() as conn:
            for name, role in self.config.staff.items():
                _upsert(conn, schema.staff, {"name": name},
                        {"role": str(role), "active": True}, {"created_at": moment})
            for w in self.config.warehouses:
                _upsert(conn, schema.warehouses, {"code": w.code},
                        {"name": w.name, "kind": str(w.kind), "province": w.province,
                         "city": w.city, "serves": "\n".join(w.serves)}, {})
            conn.execute(schema.audit.insert().values(
                at=moment, actor=actor.name, role=str(actor.role), entity="settings",
                entity_id=self.config.source or "defaults", action="sync_settings",
            ))
        return {"staff": len(self.config.staff), "warehouses": len(self.config.warehouses)}

    # --- orders ---------------------------------------------------------------------------------

    def insert_orders(
        self, orders_frame: pl.DataFrame, lines_frame: pl.DataFrame, *, kind: str, source: str,
        details: dict[str, Any] | None = None, now: datetime | None = None,
    ) -> int:
        """Register a batch of orders with their lines in one transaction; return its batch id."""
        actor = require(self.actor, "insert_orders")
        with self.store.write() as conn:
            return orders.insert_orders(conn, orders_frame, lines_frame, actor=actor, kind=kind,
                                        source=source, now=now or clock.now(), details=details)

    def order(self, order_no: str) -> Order:
        """One order with its lines."""
        with self.store.read() as conn:
            return orders.load_order(conn, order_no)

    def orders(self, *, stage: str | list[str] | None = None,
               trade_status: str | list[str] | None = None, limit: int | None = None) -> pl.DataFrame:
        """Orders as a polars frame, filtered by stage and trade status."""
        with self.store.read() as conn:
            return orders.orders_frame(conn, stage=stage, trade_status=trade_status, limit=limit)

    def lines(self, order_nos: list[str] | None = None) -> pl.DataFrame:
        """Order lines as a polars frame."""
        with self.store.read() as conn:
            return orders.lines_frame(conn, order_nos)

    def status(self) -> dict[str, Any]:
        """Counts of orders per trade status and stage, and of shipments per stage."""
        with self.store.read() as conn:
            return orders.status_counts(conn)

    # --- state changes ----------------------------------------------------------------------------

    def transition(
        self, entity: str, key: str | int, action: str, *, reason: str | None = None,
        expected_version: int | None = None, now: datetime | None = None,
    ) -> lifecycle.Change:
        """Apply one lifecycle transition as the acting person, audited in the same transaction."""
        actor = require(self.actor, "read")
        with self.store.write() as conn:
            return lifecycle.apply(conn, entity, key, action, actor, reason=reason,
                                   expected_version=expected_version, now=now)

    def transition_many(
        self, entity: str, keys: Any, action: str, *, reason: str | None = None,
        now: datetime | None = None,
    ) -> lifecycle.BulkResult:
        """Apply one transition to many records in one transaction; refusals are listed per key.

        `keys` is a list, or a frame with `key` and optional `reason` / `expected_version`.
        """
        actor = require(self.actor, "read")
        with self.store.write() as conn:
            return lifecycle.apply_many(conn, entity, keys, action, actor, reason=reason, now=now)

    def audit_trail(self, entity: str | None = None, key: str | None = None) -> pl.DataFrame:
        """Audit rows, newest last, for one record or all."""
        a = schema.audit
        stmt = sa.select(a).order_by(a.c.audit_id)
        if entity is not None:
            stmt = stmt.where(a.c.entity == entity)
        if key is not None:
            stmt = stmt.where(a.c.entity_id == str(key))
        with self.store.read() as conn:
            return read_frame(conn, stmt)

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()

    def __enter__(self) -> Shop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        who = f"{self.actor.name} ({self.actor.role})" if self.actor else "nobody"
        return f"<Shop {self.config.shop_name!r} at {self.store.shown_url} as {who}>"


def _upsert(conn: sa.Connection, table: sa.Table, key: dict[str, Any], values: dict[str, Any],
            on_insert: dict[str, Any]) -> None:
    """Update the row with `key`, or insert it; one write either way."""
    where = [table.c[k] == v for k, v in key.items()]
    if conn.execute(sa.update(table).where(*where).values(**values)).rowcount == 0:
        conn.execute(table.insert().values(**key, **values, **on_insert))
