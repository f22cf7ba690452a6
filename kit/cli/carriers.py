"""`kit carriers`: the carriers the kit knows, which carrier a tracking number belongs to,
what a parcel costs, and which carrier suits an order (S5, S15)."""

from __future__ import annotations

import re

import click

from kit import carriers as carrier_plugins
from kit.cli.output import common_options, emit_json, pad, say
from kit.cli.review import open_shop
from kit.config import load as load_config
from kit.errors import BadInput
from kit.i18n import t


def _registry(config_path: str | None) -> carrier_plugins.CarrierRegistry:
    return carrier_plugins.for_config(load_config(config_path))


def parse_weight(text: str) -> int:
    """'1.3kg', '1300g', '1.3' (kg) or '1300 克' as grams."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(kg|公斤|千克|g|克)?\s*", text.lower())
    if not match:
        raise BadInput("cli.bad_weight", value=text)
    value, unit = float(match.group(1)), match.group(2) or "kg"
    grams = value if unit in ("g", "克") else value * 1000
    if grams <= 0:
        raise BadInput("cli.bad_weight", value=text)
    return round(grams)


@click.group()
def carriers() -> None:
    """Carriers: list them, check a tracking number, quote a parcel, choose for an order."""


@carriers.command("list")
@common_options
def list_(db: str | None, as_json: bool, config_path: str | None, actor: str | None) -> None:
    """Every carrier with its names, capabilities and plugin; plugins that failed, with why."""
    rows = _registry(config_path).listing()
    if as_json:
        emit_json({"ok": True, "carriers": rows})
        return
    for r in rows:
        if r["status"] == "ok":
            click.echo(f"{r['code']:<10}{pad(r['name_zh'], 16)}{pad(r['name_en'], 32)}"
                       f"{pad(','.join(r['capabilities']), 36)}{r['plugin']} ({r['source']})")
        else:
            click.echo(t("cli.plugin_unavailable", plugin=r["plugin"], source=r["source"], error=r["error"]))


@carriers.command("check")
@common_options
@click.argument("number")
def check(db: str | None, as_json: bool, config_path: str | None, actor: str | None, number: str) -> None:
    """Which carriers a tracking number may belong to, best first, with the reasons."""
    from kit.carriers.numbers import detect, normalise

    registry = _registry(config_path)
    found = detect(number, registry.patterns)
    if as_json:
        emit_json({"ok": True, "number": normalise(number),
                   "candidates": [{"carrier_code": c.carrier_code, "score": round(c.score, 3),
                                   "pattern": c.pattern, "reason": c.reason} for c in found]})
        return
    if not found:
        say(t("cli.no_candidate", number=normalise(number)))
    for c in found:
        click.echo(f"{c.carrier_code:<10}{c.score:>6.2f}  {c.reason}")


@carriers.command("quote")
@common_options
@click.option("--weight", required=True, help="Parcel weight: 1.3kg, 800g …")
@click.option("--to", "to", required=True, help="Destination province: 广东 or 广东省.")
@click.option("--size", default=None, metavar="LxWxH", help="Parcel size in cm, e.g. 30x20x10.")
@click.option("--carrier", default=None, help="One carrier (default: every carrier that can quote).")
@click.option("--service", default="standard", show_default=True)
def quote(db: str | None, as_json: bool, config_path: str | None, actor: str | None, weight: str,
          to: str, size: str | None, carrier: str | None, service: str) -> None:
    """What a parcel costs: first and additional weight by zone, volumetric weight counted."""
    from kit.carriers import quoting

    config = load_config(config_path)
    registry = carrier_plugins.for_config(config)
    dims: dict[str, int] = {}
    if size:
        parts = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[x×*]\s*(\d+(?:\.\d+)?)\s*[x×*]\s*(\d+(?:\.\d+)?)\s*",
                             size.lower())
        if not parts:
            raise BadInput("cli.bad_size", value=size)
        dims = dict(zip(("length_mm", "width_mm", "height_mm"),
                        (round(float(p) * 10) for p in parts.groups()), strict=True))
    request = carrier_plugins.QuoteRequest(weight_g=parse_weight(weight), destination_province=to,
                                           origin_province=config.sender.province, service=service,
                                           **dims)
    found = ([quoting.quote(registry, carrier, request, config)] if carrier
             else quoting.quotes(registry, request, config))
    if as_json:
        emit_json({"ok": True, "quotes": [{"carrier_code": q.carrier_code, "service": q.service,
                                           "price": q.price_yuan, "price_fen": q.price_fen,
                                           "chargeable_weight_g": q.chargeable_weight_g,
                                           "zone": q.zone, "days": q.days} for q in found]})
        return
    for q in found:
        click.echo(t("cli.quote_row", carrier=q.carrier_code, service=q.service, price=q.price_yuan,
                     weight=q.chargeable_weight_g, zone=q.zone, days=q.days if q.days is not None else "?"))


@carriers.command("choose")
@common_options
@click.argument("order_no")
def choose(db: str | None, as_json: bool, config_path: str | None, actor: str | None,
           order_no: str) -> None:
    """Rank the carriers for one order by cost, speed and reliability (S15); the default wins ties (S5)."""
    from kit.carriers import quoting

    with open_shop(db, config_path, actor) as shop:
        ranked = quoting.choose_for_order(shop, order_no)
    if as_json:
        emit_json({"ok": True, "order_no": order_no, "ranking": ranked.to_dicts()})
        return
    for r in ranked.iter_rows(named=True):
        click.echo(f"{r['rank']:>2}. {r['carrier_code']:<8}{r['score']:>6.2f}  {r['reason']}")
