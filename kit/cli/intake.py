"""`kit import`: export files in, every row accounted for; the quarantine listed, exported,
dismissed."""

from __future__ import annotations

from pathlib import Path

import click

from kit.cli.output import common_options, emit_json, say
from kit.cli.review import open_shop
from kit.errors import BadInput
from kit.i18n import t
from kit.intake import quarantine
from kit.intake.importer import OUTCOMES, import_intake
from kit.intake.readers import FORMATS, read


def _mapping(pairs: tuple[str, ...], name: str | None, shop: object) -> dict[str, str] | None:
    """--map COLUMN=HEADER pairs on top of the named [intake.mappings.NAME] of kit.toml."""
    mapping: dict[str, str] = {}
    if name:
        known = shop.config.mappings  # type: ignore[attr-defined]
        if name not in known:
            raise BadInput("cli.unknown_mapping", name=name, known=", ".join(known) or "-")
        mapping.update(known[name])
    for pair in pairs:
        column, sep, header = pair.partition("=")
        if not sep or not column.strip() or not header.strip():
            raise BadInput("cli.bad_map", pair=pair)
        mapping[column.strip()] = header.strip()
    return mapping or None


@click.command("import")
@common_options
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Export format (default: found from file names and headers).")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=HEADER",
              help="A column of a generic export, e.g. --map order_no=订单号 (repeatable).")
@click.option("--mapping", metavar="NAME", help="A column mapping from kit.toml [intake.mappings.NAME].")
@click.option("--sheet", default=None, help="Sheet of a workbook to read.")
@click.option("--platform", default=None, help="Platform of these orders (default from kit.toml).")
@click.option("--shop", "shop_name", default=None, help="Shop of these orders (default from kit.toml).")
@click.option("--review", "then_review", is_flag=True,
              help="Review the new orders as they are imported: stored approved or held.")
@click.option("--quarantine", "show_quarantine", is_flag=True, help="List the rows waiting in quarantine.")
@click.option("--export-quarantine", "export_to", type=click.Path(path_type=Path), default=None,
              metavar="FOLDER", help="Write the quarantined rows back as files to fix and import again.")
@click.option("--dismiss", multiple=True, type=int, metavar="ID",
              help="Close a quarantined row (with --reason).")
@click.option("--reason", default="", help="Why, for --dismiss.")
def import_(db: str | None, as_json: bool, config_path: str | None, actor: str | None,
            files: tuple[Path, ...], fmt: str | None, maps: tuple[str, ...], mapping: str | None,
            sheet: str | None, platform: str | None, shop_name: str | None, then_review: bool,
            show_quarantine: bool, export_to: Path | None, dismiss: tuple[int, ...], reason: str) -> None:
    """Import orders from seller-backend exports: each row new, updated, unchanged or quarantined."""
    with open_shop(db, config_path, actor) as shop:
        if show_quarantine:
            rows = quarantine.open_rows(shop)
            if as_json:
                emit_json({"ok": True, "quarantined": rows.drop("raw").to_dicts()})
            else:
                for r in rows.iter_rows(named=True):
                    click.echo(f"#{r['quarantine_id']}  {r['source']}  {r['message']}")
                say(t("cli.listed", count=rows.height))
            return
        if export_to is not None:
            paths = quarantine.export(shop, export_to)
            if as_json:
                emit_json({"ok": True, "files": [str(p) for p in paths]})
            else:
                say(t("cli.quarantine_exported", count=len(paths), folder=str(export_to)))
            return
        if dismiss:
            closed = quarantine.dismiss(shop, list(dismiss), reason)
            if as_json:
                emit_json({"ok": True, "dismissed": closed})
            else:
                say(t("cli.dismissed", count=closed))
            return
        intake = read(list(files), format=fmt, mapping=_mapping(maps, mapping, shop), sheet=sheet,
                      max_bytes=shop.config.max_file_mb * 1024 * 1024)
        summary = import_intake(shop, intake, platform=platform, shop_name=shop_name,
                                review=then_review)
        reviewed = summary.review
    if as_json:
        emit_json({"ok": True, **summary.to_dict()})
        return
    say(t("cli.imported", files="、".join(summary.sources), rows_in=summary.rows_in,
          **{o: summary.rows[o] for o in OUTCOMES}, flagged=summary.flagged))
    for code, count in summary.reasons.items():
        say(f"  {t(f'quarantine.{code}', column='…', value='…')}: {count}")
    if reviewed:
        say(t("cli.reviewed", reviewed=reviewed.reviewed, approved=len(reviewed.approved),
              held=reviewed.held.height, presents=len(reviewed.presents)))
