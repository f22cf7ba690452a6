"""The 仓库作业 warehouse desk (warehouse, logistics, supervisor; S7, S8, S18, S22, S23, S25, S26):
form pick waves, print a wave's pick list and its documents, and the packing station: open a
parcel by scanning its order or waybill number, scan every unit (a keyboard-wedge scanner), see
what differs, weigh, pack, and print its waybill label, shipping note and warranty card.

`WarehouseDeskModel` reads through kit.picking and kit.packing and calls one service per
action (kit.picking, kit.documents); the packing station's part of it, with its own actions,
is `PackingStationModel` (kit.ui.packing_station). Which controls a role sees comes from
kit.permissions and kit.lifecycle, and the services check again. CSS classes are listed in
kit.ui.warehouse_view.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from traitlets import Enum, List, Unicode

from kit import clock, documents, packing, picking
from kit.i18n import t
from kit.lifecycle import transition
from kit.models import Role
from kit.permissions import ACTIONS, require
from kit.shop import Shop
from kit.ui.columns import flag, when
from kit.ui.packing_station import PackingStationModel, parse_grams, typed_count
from kit.ui.table import Column, TableModel

__all__ = ["DESK_ACTIONS", "VIEWS", "WarehouseDeskModel", "parse_grams", "warehouse_desk"]

VIEWS = ("plan", "waves", "register")  # what the desk's switchable table shows
DESK_ACTIONS = ("plan_waves", "pack", "report_short_pick", "print_documents")
_US = pl.Datetime("us")


def plan_columns() -> list[Column]:
    """The waves the allocated shipments would form (S12, S23)."""
    c = "warehouse_desk.col_"
    return [
        Column(t(c + "warehouse"), pl.col("warehouse_code"), 80),
        Column(t(c + "carrier"), pl.col("carrier"), 120),
        Column(t(c + "due_day"), pl.col("due_day").cast(pl.String).fill_null(""), 100),
        Column(t(c + "ship_by"), when("ship_by", _US), 110),
        Column(t(c + "shipments"), pl.col("shipments").cast(pl.Int64), 80, ",d"),
        Column(t(c + "orders"), pl.col("orders").cast(pl.Int64), 80, ",d"),
        Column(t(c + "units"), pl.col("units").cast(pl.Int64), 80, ",d"),
    ]


def wave_columns() -> list[Column]:
    """Open pick waves, newest first, with their shipments still picking and already packed."""
    c = "warehouse_desk.col_"
    return [
        Column(t(c + "wave"), pl.col("wave_id"), 70, "d"),
        Column(t(c + "warehouse"), pl.col("warehouse_code"), 80),
        Column(t(c + "carrier"), pl.col("carrier"), 120),
        Column(t(c + "ship_by"), when("ship_by", _US), 110),
        Column(t(c + "shipments"), pl.col("shipments").cast(pl.Int64), 70, ",d"),
        Column(t(c + "units"), pl.col("units").cast(pl.Int64), 70, ",d"),
        Column(t(c + "picking"), pl.col("picking"), 70, ",d"),
        Column(t(c + "packed"), pl.col("packed"), 70, ",d"),
        Column(t(c + "created_at"), when("created_at", _US), 110),
    ]


def register_columns() -> list[Column]:
    """The packer's register of today (S8): parcel, order, weight, expected weight, packer."""
    c = "warehouse_desk.col_"
    return [
        Column(t(c + "time"), when("at", _US), 100),
        Column(t(c + "shipment"), pl.col("shipment_id"), 70, "d"),
        Column(t(c + "order_no"), pl.col("order_no"), 170),
        Column(t(c + "weight_g"), pl.col("weight_g"), 80, ",d"),
        Column(t(c + "expected_g"), pl.col("expected_weight_g"), 80, ",d"),
        Column(t(c + "packer"), pl.col("packer"), 90),
        Column(t(c + "note"), pl.col("warning").fill_null(""), 300),
    ]


def shipment_columns() -> list[Column]:
    """The shipments of the chosen wave, in pick order, with their stage and tracking number."""
    c = "warehouse_desk.col_"
    return [
        Column(t(c + "shipment"), pl.col("shipment_id"), 70, "d"),
        Column(t(c + "order_no"), pl.col("order_no"), 170),
        Column(t(c + "receiver"), pl.col("receiver_name").fill_null(""), 80),
        Column(t(c + "stage"), pl.col("stage_label"), 80),
        Column(t(c + "carrier"), pl.col("carrier"), 110),
        Column(t(c + "tracking_no"), pl.col("tracking_no").fill_null(""), 150),
        Column(t(c + "expected_g"), pl.col("expected_weight_g").cast(pl.String).fill_null(""), 80),
        Column(t(c + "weight_g"), pl.col("weight_g").cast(pl.String).fill_null(""), 80),
        Column(t(c + "present"), flag("no_price_slip", "🎁"), 60),
    ]


class WarehouseDeskModel(PackingStationModel):
    """What the warehouse desk shows and the actions it offers, each one call into a service."""

    view = Enum(VIEWS, default_value="waves", help="which list the switchable table shows")
    warehouses = List(Unicode(), help="warehouse codes with shipments to put in waves")

    def __init__(self, shop: Shop | None = None, **kwargs: Any) -> None:
        super().__init__(shop, **kwargs)
        search = tuple(t(f"warehouse_desk.col_{c}") for c in ("warehouse", "carrier", "order_no", "shipment"))
        self.tables = {
            "plan": TableModel(plan_columns(), key="_plan", search=search),
            "waves": TableModel(wave_columns(), key="wave_id", search=search),
            "register": TableModel(register_columns(), key="entry_id", search=search),
            "shipments": TableModel(shipment_columns(), key="shipment_id", search=search, page_size=10),
        }
        self._allow()

    def _may(self, role: Role) -> list[str]:
        may = {a: role in ACTIONS[a] for a in DESK_ACTIONS if a in ACTIONS}
        may["pack"] = role in transition("shipment", "pack").roles
        return [a for a in DESK_ACTIONS if may[a]]

    # --- reading ---------------------------------------------------------------------------

    def _read(self) -> bool:
        shop = self.require_shop()
        plan = self._named(picking.plan(shop))
        self.tables["plan"].frame = plan.with_columns(
            pl.concat_str("warehouse_code", "carrier_code", pl.col("due_day").cast(pl.String).fill_null("-"),
                          separator="/").alias("_plan")
        )
        waves = self._named(picking.waves(shop))
        self.tables["waves"].frame = waves
        register = packing.register(shop, day=clock.now().date())
        self.tables["register"].frame = register
        self.warehouses = sorted(set(plan["warehouse_code"].to_list()))
        self.wave_choices = [
            (
                t("warehouse_desk.wave_label", wave_id=r["wave_id"], warehouse=r["warehouse_code"],
                  carrier=r["carrier"], picking=r["picking"], packed=r["packed"]),
                int(r["wave_id"]),
            )
            for r in waves.iter_rows(named=True)
        ]
        ids = [w for _, w in self.wave_choices]
        self.counts = {
            "to_wave": int(plan["shipments"].sum()) if plan.height else 0,
            "waves": waves.height,
            "picking": int(waves["picking"].sum()) if waves.height else 0,
            "packed_today": register.height,
        }
        chosen = self.wave_id if self.wave_id in ids else (ids[0] if ids else None)
        if chosen == self.wave_id:
            self._read_wave()
        else:
            self.wave_id = chosen  # observed: reads the wave's shipments
        return True

    # --- waves and pick lists --------------------------------------------------------------

    def form_waves(self, warehouse: str | None = None, max_shipments: Any = 200) -> bool:
        """Form pick waves of the allocated shipments (of one warehouse, when given) and say so."""
        return self.attempt(self._form_waves, warehouse, max_shipments) is not None

    def _form_waves(self, warehouse: str | None, max_shipments: Any) -> list[dict[str, Any]]:
        most = typed_count(max_shipments, "warehouse_desk.bad_max")
        formed = picking.start_waves(self.require_shop(), warehouse=warehouse or None, max_shipments=most)
        self._read()
        if formed:
            self.wave_id = int(formed[0]["wave_id"])
            self.show_info(t("warehouse_desk.waves_formed", count=len(formed),
                             shipments=sum(int(w["shipments"]) for w in formed),
                             units=sum(int(w["units"]) for w in formed)))
        else:
            self.show_info(t("warehouse_desk.nothing_to_wave"))
        return formed

    def print_pick_list(self) -> bool:
        """The chosen wave's pick list as a PDF for download (sorted by shelf location, S12)."""
        return self.attempt(self._print_pick_list) is not None

    def _print_pick_list(self) -> bytes:
        shop = self.require_shop()
        require(shop.actor, "print_documents")
        wave = self._wave()
        listed = picking.pick_list(shop, wave)
        pdf = documents.pick_list_pdf(listed.wave, listed.totals, listed.per_order, config=shop.config)
        return self._offer(pdf, t("warehouse_desk.file_picklist", wave_id=wave))

    def print_wave(self) -> bool:
        """Label, shipping note and warranty card of every parcel of the wave, in one PDF (S18, S23)."""
        return self.attempt(self._print_wave) is not None

    def _print_wave(self) -> bytes:
        wave = self._wave()
        frame = self.tables["shipments"].frame
        ids = frame.filter(pl.col("stage") != "cancelled")["shipment_id"].to_list() if frame.height else []
        pdf = documents.wave_documents(self.require_shop(), ids)
        return self._offer(pdf, t("warehouse_desk.file_wave", wave_id=wave))


def warehouse_desk(shop: Shop | None = None) -> Any:
    """The warehouse desk for a dashboard cell: open the shop (unless given), read, draw."""
    from kit.ui.warehouse_view import WarehouseDesk

    model = WarehouseDeskModel(shop)
    model.refresh()
    return WarehouseDesk(model)
