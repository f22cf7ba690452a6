"""The 仓库作业 warehouse desk (warehouse, logistics, supervisor; S7, S8, S18, S22, S23, S25, S26):
form pick waves, print a wave's pick list, and the packing station: open a parcel by
scanning its order or waybill number, scan every unit (a keyboard-wedge scanner), see what
differs, weigh, pack, and print its waybill label, shipping note and warranty card.

`WarehouseDeskModel` reads through kit.picking and kit.packing and calls one service per
action (kit.picking, kit.packing, kit.shipping.assign_numbers, kit.documents); which
controls a role sees comes from kit.permissions and kit.lifecycle, and the services check
again. CSS classes are listed in kit.ui.warehouse_view.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import polars as pl
from traitlets import Bool, Bytes, Dict, Enum, Int, List, Tuple, Unicode, observe

from kit import carriers, clock, documents, packing, picking, shipping
from kit.carriers.numbers import normalise
from kit.errors import BadInput, NeedsConfirmation, Refused
from kit.i18n import current_lang, t
from kit.lifecycle import transition
from kit.permissions import ACTIONS, require
from kit.shop import Shop
from kit.ui.session import ShopModel
from kit.ui.table import Column, TableModel

__all__ = ["DESK_ACTIONS", "VIEWS", "WarehouseDeskModel", "parse_grams", "warehouse_desk"]

VIEWS = ("plan", "waves", "register")  # what the desk's switchable table shows
DESK_ACTIONS = ("plan_waves", "pack", "report_short_pick", "print_documents")
_US = pl.Datetime("us")
_KG = re.compile(r"^(?P<n>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>kg|千克|公斤|g|克)?$", re.IGNORECASE)


def _when(name: str) -> pl.Expr:
    return pl.col(name).cast(_US).dt.strftime("%m-%d %H:%M").fill_null("")


def plan_columns() -> list[Column]:
    """The waves the allocated shipments would form (S12, S23)."""
    c = "warehouse_desk.col_"
    return [
        Column(t(c + "warehouse"), pl.col("warehouse_code"), 80),
        Column(t(c + "carrier"), pl.col("carrier"), 120),
        Column(t(c + "due_day"), pl.col("due_day").cast(pl.String).fill_null(""), 100),
        Column(t(c + "ship_by"), _when("ship_by"), 110),
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
        Column(t(c + "ship_by"), _when("ship_by"), 110),
        Column(t(c + "shipments"), pl.col("shipments").cast(pl.Int64), 70, ",d"),
        Column(t(c + "units"), pl.col("units").cast(pl.Int64), 70, ",d"),
        Column(t(c + "picking"), pl.col("picking"), 70, ",d"),
        Column(t(c + "packed"), pl.col("packed"), 70, ",d"),
        Column(t(c + "created_at"), _when("created_at"), 110),
    ]


def register_columns() -> list[Column]:
    """The packer's register of today (S8): parcel, order, weight, expected weight, packer."""
    c = "warehouse_desk.col_"
    return [
        Column(t(c + "time"), _when("at"), 100),
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
        Column(t(c + "present"), pl.when(pl.col("no_price_slip")).then(pl.lit("🎁")).otherwise(pl.lit("")),
               60),
    ]


def parse_grams(text: Any) -> int:
    """A typed or scale-sent weight in grams ("820", "820克", "0.82kg"); BadInput when it is none."""
    raw = str(text if text is not None else "").strip()
    if not raw:
        raise BadInput("warehouse_desk.weight_required")
    match = _KG.match(raw.replace(",", "").replace("，", ""))
    if match is None:
        raise BadInput("packing.bad_weight", value=raw)
    grams = float(match["n"]) * (1000 if (match["unit"] or "").lower() in ("kg", "千克", "公斤") else 1)
    return round(grams)


def _count(text: Any, key: str) -> int:
    """A whole number typed into a form (≥ 0); BadInput `key` naming the value otherwise."""
    raw = str(text if text is not None else "").strip()
    if not raw.isdigit():
        raise BadInput(key, value=raw)
    return int(raw)


class WarehouseDeskModel(ShopModel):
    """What the warehouse desk shows and the actions it offers, each one call into a service."""

    view = Enum(VIEWS, default_value="waves", help="which list the switchable table shows")
    tables = Dict(help="plan, waves, register, shipments → TableModel")
    counts = Dict(help="tile counts: to_wave, waves, picking, packed_today")
    allowed = List(Unicode(), help="the desk's actions (DESK_ACTIONS) the acting person may use")
    warehouses = List(Unicode(), help="warehouse codes with shipments to put in waves")
    wave_choices = List(Tuple(), help="(label, wave_id) of every open wave")
    wave_id = Int(None, allow_none=True, help="the chosen wave")
    shipment_choices = List(Tuple(), help="(label, shipment_id) of the chosen wave's shipments")
    shipment_id = Int(None, allow_none=True, help="the parcel open at the packing station")
    sheet = Dict(help="its packing sheet (kit.packing.sheet, items as a list of rows)")
    scans = List(Unicode(), help="what was scanned into the open parcel, one unit per scan")
    differences = List(Dict(), help="kit.packing.check_items of the scans: empty when they agree")
    needs_accept = Bool(False, help="the weight is outside the tolerance: the packer must accept it")
    document = Bytes(b"", help="the last PDF made for download")
    document_name = Unicode("", help="its file name")

    def __init__(self, shop: Shop | None = None, **kwargs: Any) -> None:
        super().__init__(shop, **kwargs)
        search = tuple(t(f"warehouse_desk.col_{c}") for c in ("warehouse", "carrier", "order_no", "shipment"))
        self.tables = {
            "plan": TableModel(plan_columns(), key="_plan", search=search),
            "waves": TableModel(wave_columns(), key="wave_id", search=search),
            "register": TableModel(register_columns(), key="entry_id", search=search),
            "shipments": TableModel(shipment_columns(), key="shipment_id", search=search, page_size=10),
        }
        self._items = pl.DataFrame()
        self._allow()

    @property
    def table(self) -> TableModel:
        """The switchable list the desk shows now."""
        return self.tables[self.view]

    @observe("shop")
    def _allow(self, _change: object = None) -> None:
        role = self.role
        if role is None:
            self.allowed = []
            return
        may = {a: role in ACTIONS[a] for a in DESK_ACTIONS if a in ACTIONS}
        may["pack"] = role in transition("shipment", "pack").roles
        self.allowed = [a for a in DESK_ACTIONS if may[a]]

    # --- reading ---------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Read the plan, the waves, the register and the open parcel again; False when that failed."""
        ok = self.attempt(self._read) is not None
        if ok:
            self.clear_message()
        return ok

    def _carrier(self, code: Any) -> str:
        adapter = self._registry().adapters.get(str(code or ""))
        if adapter is None:
            return str(code or "")
        return adapter.name.zh if current_lang() == "zh" else adapter.name.en

    def _registry(self) -> Any:
        if getattr(self, "_carriers", None) is None:
            self._carriers = carriers.for_config(self.require_shop().config)
        return self._carriers

    def _named(self, frame: pl.DataFrame) -> pl.DataFrame:
        codes = frame["carrier_code"].cast(pl.String).to_list() if frame.height else []
        return frame.with_columns(pl.Series("carrier", [self._carrier(c) for c in codes], pl.String))

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

    @observe("wave_id")
    def _wave_changed(self, _change: object = None) -> None:
        self.attempt(self._read_wave)

    def _read_wave(self) -> bool:
        shop = self.require_shop()
        if self.wave_id is None:
            frame = pl.DataFrame(schema={"shipment_id": pl.Int64})
        else:
            frame = self._named(picking.wave_shipments(shop, self.wave_id)).with_columns(
                pl.col("stage").map_elements(lambda s: t(f"shipment_stage.{s}"), return_dtype=pl.String)
                .alias("stage_label")
            )
        self.tables["shipments"].frame = frame
        self.shipment_choices = [
            (
                t("warehouse_desk.shipment_label", shipment_id=r["shipment_id"], order_no=r["order_no"],
                  receiver=r["receiver_name"] or "", stage=r["stage_label"]),
                int(r["shipment_id"]),
            )
            for r in (frame.iter_rows(named=True) if frame.width > 1 else [])
        ]
        if self.shipment_id is not None:
            if self.shipment_id in [s for _, s in self.shipment_choices]:
                self._read_sheet(keep_scans=True)
            else:
                self.close_shipment()
        return True

    def _read_sheet(self, keep_scans: bool = False) -> None:
        shop = self.require_shop()
        sheet = packing.sheet(shop, self.shipment_id)
        self._items = sheet["items"]
        frame = self.tables["shipments"].frame
        tracking = None
        if "tracking_no" in frame.columns:
            row = frame.filter(pl.col("shipment_id") == self.shipment_id)
            tracking = row["tracking_no"][0] if row.height else None
        self.sheet = {
            **sheet,
            "items": sheet["items"].to_dicts(),
            "tracking_no": tracking,
            "carrier": self._carrier(sheet["carrier_code"]),
            "stage_label": t(f"shipment_stage.{sheet['stage']}"),
        }
        if not keep_scans:
            self.scans = []
        self._check()

    def _check(self) -> None:
        """What differs between the scans and the open parcel (kit.packing.check_items)."""
        self.differences = packing.check_items(self._items, list(self.scans)) if self._items.height else []

    def scanned_units(self) -> dict[str, int]:
        """Scanned units per upper-case SKU, for the sheet's 已扫 column."""
        return dict(Counter(s.strip().upper() for s in self.scans if s.strip()))

    # --- waves and pick lists --------------------------------------------------------------

    def form_waves(self, warehouse: str | None = None, max_shipments: Any = 200) -> bool:
        """Form pick waves of the allocated shipments (of one warehouse, when given) and say so."""
        return self.attempt(self._form_waves, warehouse, max_shipments) is not None

    def _form_waves(self, warehouse: str | None, max_shipments: Any) -> list[dict[str, Any]]:
        most = _count(max_shipments, "warehouse_desk.bad_max")
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

    def _wave(self) -> int:
        if self.wave_id is None:
            raise BadInput("warehouse_desk.no_wave")
        return int(self.wave_id)

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

    def _offer(self, pdf: bytes, name: str) -> bytes:
        self.document_name = name  # first: the download link is drawn when the bytes change
        self.document = pdf
        self.show_info(t("warehouse_desk.document_ready", name=name))
        return pdf

    # --- the packing station ---------------------------------------------------------------

    def open_shipment(self, shipment_id: int | None) -> bool:
        """Open a parcel at the packing station: its sheet, no scans yet."""
        if shipment_id is None:
            self.close_shipment()
            return True
        return self.attempt(self._open, int(shipment_id)) is not None

    def _open(self, shipment_id: int) -> dict[str, Any]:
        previous = self.shipment_id
        self.shipment_id = shipment_id
        try:
            self._read_sheet()
        except Exception:
            self.shipment_id = previous
            raise
        self.needs_accept = False
        self.show_info(t("warehouse_desk.opened", shipment_id=shipment_id, order_no=self.sheet["order_no"]))
        return self.sheet

    def close_shipment(self) -> None:
        """Put the open parcel away (nothing is written)."""
        self.shipment_id = None
        self.sheet = {}
        self.scans = []
        self._items = pl.DataFrame()
        self.differences = []
        self.needs_accept = False

    def _open_id(self) -> int:
        if self.shipment_id is None:
            raise BadInput("warehouse_desk.no_shipment")
        return int(self.shipment_id)

    def scan(self, code: str) -> bool:
        """One scan: into a parcel being packed it is one unit of a SKU; otherwise it opens the
        parcel whose order number, waybill number or parcel number it is."""
        code = (code or "").strip()
        if not code:
            return False
        if self.shipment_id is not None and self.sheet.get("stage") == "picking":
            skus = {str(r["sku"]).upper() for r in self.sheet["items"]}
            other = None if code.upper() in skus else self._match(self.tables["shipments"].frame, code)
            if other is None or other == self.shipment_id:
                return self.attempt(self._scan_item, code) is not None
            return self.attempt(self._open, other) is not None  # the packer moved on to another parcel
        return self.attempt(self._open_by_code, code) is not None

    def _scan_item(self, code: str) -> bool:
        self.scans = [*self.scans, code]
        self.needs_accept = False
        self._check()
        sku = code.upper()
        diff = next((d for d in self.differences if d["sku"] == sku), None)
        if diff is not None and diff["kind"] in ("wrong_item", "extra"):
            raise Refused("warehouse_desk.scan_wrong", difference=t(f"packing.diff_{diff['kind']}", **diff))
        expected = sum(int(r["quantity"]) for r in self.sheet["items"] if str(r["sku"]).upper() == sku)
        self.show_info(t("warehouse_desk.scanned", sku=sku, scanned=self.scanned_units().get(sku, 0),
                         expected=expected))
        return True

    @staticmethod
    def _match(frame: pl.DataFrame, code: str) -> int | None:
        """The parcel of `frame` (a wave's) with this parcel, order or waybill number, if any."""
        if frame.height == 0 or "order_no" not in frame.columns:
            return None
        number = normalise(code)
        hit = frame.filter(
            (pl.col("shipment_id").cast(pl.String) == code)
            | (pl.col("order_no") == code)
            | (pl.col("tracking_no").fill_null("") == number)
        ).sort(pl.col("stage") != "picking")  # the parcel still to pack first
        return int(hit["shipment_id"][0]) if hit.height else None

    def _open_by_code(self, code: str) -> dict[str, Any]:
        """Open the chosen wave's parcel with this parcel, order or waybill number, else another
        open wave's (which then becomes the chosen one)."""
        self._wave()
        shop = self.require_shop()
        for wave in [self.wave_id, *(w for _, w in self.wave_choices if w != self.wave_id)]:
            shown = wave == self.wave_id
            frame = self.tables["shipments"].frame if shown else picking.wave_shipments(shop, wave)
            found = self._match(frame, code)
            if found is not None:
                self.wave_id = wave  # observed: reads that wave's parcels
                return self._open(found)
        raise BadInput("warehouse_desk.scan_unknown", code=code)

    def undo_scan(self) -> bool:
        """Take the last scanned unit out again."""
        if not self.scans:
            return False
        self.scans = self.scans[:-1]
        self.needs_accept = False
        self._check()
        self.clear_message()
        return True

    def clear_scans(self) -> None:
        """Empty the box: scan every unit again."""
        self.scans = []
        self.needs_accept = False
        self._check()
        self.clear_message()

    def pack(self, weight: Any, *, accept_weight: bool = False) -> bool:
        """Close the open parcel's box with the scanned units and the measured weight (S8); a
        weight outside the tolerance asks first (needs_accept), `accept_weight` accepts it."""
        return self.attempt(self._pack, weight, accept_weight) is not None

    def _pack(self, weight: Any, accept_weight: bool) -> dict[str, Any]:
        shipment_id = self._open_id()
        grams = parse_grams(weight)
        try:
            done = packing.pack(self.require_shop(), shipment_id, list(self.scans), grams,
                                accept_weight=accept_weight)
        except NeedsConfirmation:
            self.needs_accept = True
            raise
        self.needs_accept = False
        self._read()  # the register, the wave and the parcel (now packed, scans kept on its sheet)
        self.scans = []
        self._check()
        text = t("warehouse_desk.packed", **done)
        self.show_info(f"{text}（{done['warning']}）" if done["warning"] else text)
        return done

    def assign_number(self, tracking_no: str) -> bool:
        """Give the open parcel its pre-printed waybill number, before its label is printed (S18)."""
        return self.attempt(self._assign, tracking_no) is not None

    def _assign(self, tracking_no: str) -> dict[str, Any]:
        shipment_id = self._open_id()
        if not (tracking_no or "").strip():
            raise BadInput("warehouse_desk.tracking_required")
        result = shipping.assign_numbers(
            self.require_shop(), [{"shipment_id": shipment_id, "tracking_no": tracking_no.strip()}]
        )
        if result["refused"]:
            raise Refused("warehouse_desk.number_refused", reason=result["refused"][0][1])
        self._read_wave()
        self.show_info(t("warehouse_desk.number_assigned", shipment_id=shipment_id,
                         tracking_no=self.sheet.get("tracking_no") or normalise(tracking_no)))
        return result

    def print_label(self) -> bool:
        """The open parcel's waybill label as a PDF (it needs its tracking number first)."""
        return self.attempt(self._print_one, documents.waybills, "warehouse_desk.file_labels") is not None

    def print_note(self) -> bool:
        """The open parcel's shipping note (发货单; a present's shows no prices, S22, S26)."""
        made = self.attempt(self._print_one, documents.shipping_notes, "warehouse_desk.file_notes")
        return made is not None

    def print_warranty(self) -> bool:
        """The open parcel's warranty card (S18)."""
        made = self.attempt(self._print_one, documents.warranty_cards, "warehouse_desk.file_warranty")
        return made is not None

    def _print_one(self, make: Any, name_key: str) -> bytes:
        shipment_id = self._open_id()
        pdf = make(self.require_shop(), [shipment_id])
        return self._offer(pdf, t(name_key, shipment_id=shipment_id))

    def report_short(self, sku: str | None, found: Any, reason: str | None = None) -> bool:
        """A shortage found on the shelf for the open parcel (S7): the order waits for stock."""
        return self.attempt(self._report_short, sku, found, reason) is not None

    def _report_short(self, sku: str | None, found: Any, reason: str | None) -> dict[str, Any]:
        shipment_id = self._open_id()
        if not sku:
            raise BadInput("warehouse_desk.short_sku_required")
        count = _count(found, "warehouse_desk.bad_found")
        why = (reason or "").strip() or None
        done = picking.report_short(self.require_shop(), shipment_id, sku, count, reason=why)
        self._read()
        self.show_info(t("warehouse_desk.short_done", **done))
        return done


def warehouse_desk(shop: Shop | None = None) -> Any:
    """The warehouse desk for a dashboard cell: open the shop (unless given), read, draw."""
    from kit.ui.warehouse_view import WarehouseDesk

    model = WarehouseDeskModel(shop)
    model.refresh()
    return WarehouseDesk(model)
