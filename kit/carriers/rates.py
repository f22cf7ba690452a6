"""Contract rate tables (首重/续重 by destination zone): the RateTable record and pricing one
parcel from a table; kit.carriers.rate_files reads them from TOML and CSV files.

TOML layout (one file per carrier and service)::

    carrier = "yto"                # carrier code
    service = "standard"           # service code
    origin = "浙江省"               # province the parcels leave from
    volumetric_divisor = 8000      # cm³ per kg: volumetric g = L×W×H (mm) / divisor
    max_weight_g = 50000           # optional: heavier parcels are not taken
    note = "…"                     # optional

    [[zones]]
    zone = "省内"
    provinces = ["浙江"]            # or one text: "上海、江苏、安徽"
    first_weight_g = 1000          # 首重
    first_price = "3.00"           # yuan, at most two decimals
    step_g = 1000                  # 续重 step
    step_price = "1.00"            # yuan per started step
    days = 1                       # days in transit

CSV layout (UTF-8 or GBK, as Excel saves it; `#` lines are comments): first `key,value` rows
(承运商/carrier, 服务/service, 始发省/origin, 抛重系数/volumetric_divisor, optional
最大重量克/max_weight_g, 备注/note), then a header row 区域/zone, 省份/provinces,
首重克/first_weight_g, 首重价/first_price, 续重克/step_g, 续重价/step_price, 时效天/days, then one
row per zone; provinces are separated by 、 , ; or spaces. Keys and headers may be written in
Chinese, English or both. Every mainland province must be in exactly one zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from kit.carriers.manager import CarrierUnavailable
from kit.carriers.types import Quote, QuoteRequest
from kit.errors import BadInput
from kit.i18n import t
from kit.regions import PROVINCES, full_province

ZONE_NUMBERS = ("first_weight_g", "first_price_fen", "step_g", "step_price_fen", "days")
MAINLAND = tuple(p for p in PROVINCES if p not in ("台湾省", "香港特别行政区", "澳门特别行政区"))


@dataclass(frozen=True)
class Zone:
    """One destination zone: its provinces, first and additional weight prices, and days."""

    name: str
    provinces: tuple[str, ...]  # full official names
    first_weight_g: int
    first_price_fen: int
    step_g: int
    step_price_fen: int
    days: int
    line: int = 0  # where the zone is written in its file


@dataclass(frozen=True)
class RateTable:
    """A carrier's contract prices for one service from one origin province, by zone."""

    carrier_code: str
    service: str
    origin_province: str
    volumetric_divisor: int
    zones: tuple[Zone, ...]
    max_weight_g: int | None = None
    note: str = ""
    source: str = ""  # the file it was loaded from
    line: int = 0  # the line naming the carrier in that file
    sample: bool = False  # one of the kit's made-up sample tables

    @property
    def key(self) -> tuple[str, str, str]:
        """(carrier, service, origin): what a table is found by; unique in a folder."""
        return (self.carrier_code, self.service, self.origin_province)

    def zone_for(self, province: str) -> Zone | None:
        """The zone serving a province (any way people write it), or None."""
        full = province_of(province)
        return next((z for z in self.zones if full in z.provinces), None)

    def to_frame(self) -> pl.DataFrame:
        """One row per province: carrier_code, service, origin, province, zone, prices, days."""
        head = {"carrier_code": self.carrier_code, "service": self.service,
                "origin_province": self.origin_province}
        rows = [head | {"province": list(z.provinces), "zone": z.name}
                | {k: getattr(z, k) for k in ZONE_NUMBERS} for z in self.zones]
        return pl.DataFrame(rows).explode("province")


def provinces_of(names: list[str]) -> list[str | None]:
    """Full province names for names as people write them (None where unknown), in one pass."""
    frame = pl.DataFrame({"province": [str(n) for n in names]}, schema={"province": pl.String})
    return frame.select(full_province())["province"].to_list()


@lru_cache(maxsize=4096)
def province_of(name: str) -> str | None:
    """The full province name for 广东 / 广东省 / 广西 …, or None when unknown."""
    return provinces_of([name])[0]


# --- validation --------------------------------------------------------------------------------


def check_request(request: QuoteRequest) -> str:
    """Refuse a request without a positive weight, with partial sizes, or to an unknown place;
    return the destination's full province name."""
    if not isinstance(request.weight_g, int) or request.weight_g <= 0:
        raise BadInput("rates.bad_weight", weight=request.weight_g)
    sizes = (request.length_mm, request.width_mm, request.height_mm)
    if any(s is not None for s in sizes) and not all(isinstance(s, int) and s > 0 for s in sizes):
        raise BadInput("rates.bad_dimensions", length=sizes[0], width=sizes[1], height=sizes[2])
    destination = province_of(request.destination_province)
    if destination is None:
        raise BadInput("rates.unknown_destination", province=request.destination_province)
    return destination


def chargeable_weight(zone: Zone, weight_g: int) -> int:
    """The weight charged: the first weight, or above it rounded UP to the next whole step."""
    if weight_g <= zone.first_weight_g:
        return zone.first_weight_g
    return zone.first_weight_g + -(-(weight_g - zone.first_weight_g) // zone.step_g) * zone.step_g


def quote_from_table(table: RateTable, request: QuoteRequest) -> Quote:
    """Price one parcel: max(actual, volumetric) weight rounded up to the step, exact in fen."""
    destination = check_request(request)
    if province_of(request.origin_province) != table.origin_province:
        raise CarrierUnavailable("rates.no_table_from", code=table.carrier_code, service=table.service,
                                 origin=request.origin_province, origins=table.origin_province)
    zone = table.zone_for(destination)
    if zone is None:
        raise CarrierUnavailable("rates.no_zone", code=table.carrier_code, service=table.service,
                                 province=destination)
    notes = []
    weight = request.weight_g
    if request.length_mm is not None:  # check_request made sure all three sizes are there
        volume_mm3 = request.length_mm * request.width_mm * request.height_mm
        volumetric = -(-volume_mm3 // table.volumetric_divisor)  # mm³ / (cm³ per kg) = grams
        if volumetric > weight:
            notes.append(t("rates.note_volumetric", volumetric=volumetric, actual=weight,
                           divisor=table.volumetric_divisor))
            weight = volumetric
    charged = chargeable_weight(zone, weight)
    if table.max_weight_g is not None and charged > table.max_weight_g:
        raise CarrierUnavailable("rates.too_heavy", code=table.carrier_code, service=table.service,
                                 weight=charged, max_weight=table.max_weight_g)
    steps = (charged - zone.first_weight_g) // zone.step_g
    if table.sample:
        notes.append(t("rates.note_sample"))
    return Quote(table.carrier_code, table.service, zone.first_price_fen + steps * zone.step_price_fen,
                 charged, zone.name, zone.days, tuple(notes))
