"""The packing station of the warehouse desk (S7, S8, S18, S22, S25, S26): the chosen wave's
parcels; one of them open at a time, opened by scanning its order, waybill or parcel number;
every unit scanned into it (a keyboard-wedge scanner) and what differs from the order shown;
weighed and packed; its waybill number assigned and its label, shipping note and warranty
card printed; a shortage found on the shelf reported.

`PackingStationModel` holds this part of `WarehouseDeskModel` (kit.ui.warehouse_desk), which
adds the waves: it lists the open waves (`wave_choices`), chooses one (`wave_id`) and reads
its lists again (`_read`) after a parcel is packed or found short. Each action is one call
into a service (kit.packing, kit.picking, kit.shipping.assign_numbers, kit.documents), which
checks the role again. The widgets are kit.ui.packing_view.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import polars as pl
from traitlets import Bool, Bytes, Dict, Int, List, Tuple, Unicode, observe

from kit import carriers, documents, packing, picking, shipping
from kit.carriers.numbers import normalise
from kit.errors import BadInput, NeedsConfirmation, Refused
from kit.i18n import current_lang, t
from kit.ui.session import DeskModel

__all__ = ["PackingStationModel", "parse_grams", "typed_count"]

_KG = re.compile(r"^(?P<n>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>kg|千克|公斤|g|克)?$", re.IGNORECASE)


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


def typed_count(text: Any, key: str) -> int:
    """A whole number typed into a form (≥ 0); BadInput `key` naming the value otherwise."""
    raw = str(text if text is not None else "").strip()
    if not raw.isdigit():
        raise BadInput(key, value=raw)
    return int(raw)


class PackingStationModel(DeskModel):
    """The packing station's state and actions: the chosen wave's parcels, the open one, its scans."""

    wave_id = Int(None, allow_none=True, help="the chosen wave, whose parcels the station lists")
    wave_choices = List(Tuple(), help="(label, wave_id) of every open wave: a scan finds its parcel in any")
    shipment_choices = List(Tuple(), help="(label, shipment_id) of the chosen wave's shipments")
    shipment_id = Int(None, allow_none=True, help="the parcel open at the packing station")
    sheet = Dict(help="its packing sheet (kit.packing.sheet, items as a list of rows)")
    scans = List(Unicode(), help="what was scanned into the open parcel, one unit per scan")
    differences = List(Dict(), help="kit.packing.check_items of the scans: empty when they agree")
    needs_accept = Bool(False, help="the weight is outside the tolerance: the packer must accept it")
    document = Bytes(b"", help="the last PDF made for download")
    document_name = Unicode("", help="its file name")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._items = pl.DataFrame()

    # --- reading ---------------------------------------------------------------------------

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

    def _wave(self) -> int:
        if self.wave_id is None:
            raise BadInput("warehouse_desk.no_wave")
        return int(self.wave_id)

    def _offer(self, pdf: bytes, name: str) -> bytes:
        self.document_name = name  # first: the download link is drawn when the bytes change
        self.document = pdf
        self.show_info(t("warehouse_desk.document_ready", name=name))
        return pdf

    # --- opening a parcel ------------------------------------------------------------------

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

    # --- scanning, weighing, packing -------------------------------------------------------

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

    # --- the parcel's number and documents, a short pick -----------------------------------

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
        count = typed_count(found, "warehouse_desk.bad_found")
        why = (reason or "").strip() or None
        done = picking.report_short(self.require_shop(), shipment_id, sku, count, reason=why)
        self._read()
        self.show_info(t("warehouse_desk.short_done", **done))
        return done
