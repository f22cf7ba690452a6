"""The `kit` command line: one subcommand per capability, each with --db and --json."""

from __future__ import annotations

import click

from kit.cli.aftersales import aftersale, refund
from kit.cli.carriers import carriers
from kit.cli.core import demo, init, serve, status
from kit.cli.deadlines import deadlines
from kit.cli.exceptions import exception_
from kit.cli.fulfil import pack, pick, print_, ship
from kit.cli.intake import import_
from kit.cli.review import reconcile, review
from kit.cli.shortages import outbox, shortages
from kit.cli.stats import stats
from kit.cli.stock import allocate, stock
from kit.cli.tracking import track
from kit.i18n import set_lang


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="Language of messages (default KIT_LANG, else zh).")
@click.version_option(package_name="fahuo-kit")
def cli(lang: str | None) -> None:
    """Fahuo Kit (发货): orders in, parcels out, every step checked and counted."""
    if lang:
        set_lang(lang)


for command in (init, demo, status, import_, review, reconcile, deadlines, stock, allocate, shortages, outbox,
                pick, pack, print_, ship, track, exception_, refund, aftersale, stats, carriers, serve):
    cli.add_command(command)


def main() -> None:
    """Entry point of the `kit` console script."""
    cli(prog_name="kit")
