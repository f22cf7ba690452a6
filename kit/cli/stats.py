"""`kit stats`: the shipping statistics table (发货统计表, S22) for a window of days — on screen,
as JSON, as an Excel workbook or CSV — and the shipping record of one day (every parcel
handed over, with its order, items, carrier, number, weight, packer and times)."""

from __future__ import annotations

from typing import Any

import click
import polars as pl

from kit import stats as service
from kit.cli.output import common_options, display_width, emit_json, pad, say
from kit.cli.review import open_shop
from kit.errors import BadInput
from kit.i18n import t
from kit.stats.periods import DIMENSIONS, PERIODS
from kit.stats.table import cell, text_rows, view_title


def render(frame: pl.DataFrame) -> list[str]:
    """The frame as aligned lines for a terminal (CJK characters count two columns)."""
    headers, rows = text_rows(frame)
    if not rows:
        return ["  ".join(headers), t("cli_stats.nothing")]
    widths = [max(display_width(text) for text in column) for column in zip(headers, *rows, strict=True)]
    lines = []
    for row in [headers, *rows]:
        cells = []
        for n, (text, width) in enumerate(zip(row, widths, strict=True)):
            numeric = n > 0 and frame.dtypes[n].is_numeric()
            cells.append(" " * (width - display_width(text)) + text if numeric else pad(text, width))
        lines.append("  ".join(cells).rstrip())
    return lines


def _echo_view(title: str, frame: pl.DataFrame) -> None:
    click.echo(f"== {title} ==")
    for line in render(frame):
        click.echo(line)
    click.echo("")


@click.command()
@common_options
@click.option("--from", "first", metavar="DAY", default=None, help="First day (2026-12-01), included.")
@click.option(
    "--to", "last", metavar="DAY", default=None, help="Last day, included (default: the first day)."
)
@click.option(
    "--by",
    "by",
    metavar="DIMS",
    default="carrier,warehouse",
    show_default=True,
    help=f"Break the shipping table down by: {', '.join(DIMENSIONS)} (comma-separated; '' for none).",
)
@click.option(
    "--period",
    type=click.Choice(PERIODS),
    default="day",
    show_default=True,
    help="Rows per day, week (from Monday) or month.",
)
@click.option(
    "--view",
    "views",
    multiple=True,
    metavar="NAME",
    help=f"Only these tables on screen (repeatable): {', '.join(service.VIEWS)}; "
    "the first is the one --csv writes (default: shipping).",
)
@click.option(
    "--xlsx",
    "xlsx_path",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write an Excel workbook: one sheet per table.",
)
@click.option(
    "--csv",
    "csv_path",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write one table (or, with --record, the record) as CSV.",
)
@click.option(
    "--record",
    "record_day",
    metavar="DAY",
    default=None,
    help="The shipping record of one day instead (S22): one row per parcel handed over.",
)
def stats(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    first: str | None,
    last: str | None,
    by: str,
    period: str,
    views: tuple[str, ...],
    xlsx_path: str | None,
    csv_path: str | None,
    record_day: str | None,
) -> None:
    """The shipping statistics table (发货统计表) of a period, or the shipping record of one day."""
    unknown = [v for v in views if v not in service.VIEWS]
    if unknown:
        raise BadInput("stats.bad_view", value=unknown[0], expected="、".join(service.VIEWS))
    if record_day is None and first is None:
        raise BadInput("cli_stats.from_needed")
    with open_shop(db, config_path, actor) as shop:
        if record_day is not None:
            _record(shop, record_day, as_json, xlsx_path, csv_path)
            return
        table = service.statistics(shop, first or "", last or first, period=period, by=by)
    payload: dict[str, Any] = {"ok": True, **table.to_dict(), "files": []}
    words: list[str] = []
    if xlsx_path:
        payload["files"].append(str(service.write_xlsx(table, xlsx_path)))
        words.append(t("cli_stats.wrote", file=xlsx_path))
    if csv_path:
        payload["files"].append(
            str(service.write_csv(table.views[views[0] if views else "shipping"], csv_path))
        )
        words.append(t("cli_stats.wrote", file=csv_path))
    if as_json:
        emit_json(payload)
    else:
        click.echo(
            t(
                "stats.window",
                first=table.window.first.isoformat(),
                last=table.window.last.isoformat(),
                period=t(f"stats.period.{period}"),
            )
        )
        click.echo("")
        for name in views or service.VIEWS:
            _echo_view(view_title(name), table.views[name])
        total = table.views["summary"].row(0, named=True)
        click.echo(t("cli_stats.totals", **{k: cell(k, v) for k, v in total.items()}))
    for line in [*table.notes, *words]:
        say(line)


def _record(shop: Any, day: str, as_json: bool, xlsx_path: str | None, csv_path: str | None) -> None:
    """The shipping record of one day: on screen or as JSON, and to the files asked for."""
    frame = service.shipping_record(shop, day)
    shown = service.window(day).first.isoformat()
    files = []
    if csv_path:
        files.append(str(service.write_csv(frame, csv_path)))
    if xlsx_path:
        files.append(str(service.write_sheets(xlsx_path, {view_title("record"): frame})))
    if as_json:
        emit_json({"ok": True, "day": shown, "record": frame.to_dicts(), "files": files})
    else:
        _echo_view(f"{view_title('record')} {shown}", frame)
    say(t("cli_stats.record_count", day=shown, count=frame.height))
    for path in files:
        say(t("cli_stats.wrote", file=path))
