"""The core subcommands: init, demo, status, serve."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

import kit
from kit.cli.output import common_options, emit_json, pad, progress_bar, say
from kit.config import load as load_config
from kit.errors import BadInput, StoreError
from kit.i18n import t
from kit.models import ShipmentStage, Stage, TradeStatus
from kit.serve_identity import IDENTITY_HEADER_ENV, check_host, header_env_name, url_host
from kit.store import Store, mask_url, migrations, resolve_url, schema
from kit.store.urls import sqlite_path


@click.command()
@common_options
def init(db: str | None, as_json: bool, config_path: str | None, actor: str | None) -> None:
    """Create or upgrade the database and write kit.toml's staff and warehouses into it."""
    before = _existing_version(db)
    with kit.connect(db, config=config_path) as shop:
        synced = shop.as_system("init").sync_settings()
        result = {
            "ok": True,
            "database": shop.store.shown_url,
            "schema_version": shop.store.schema_version(),
            "previous_version": before,
            "config": shop.config.source,
            **synced,
        }
    if as_json:
        emit_json(result)
    else:
        say(t("cli.init_done", **{k: v if v is not None else "-" for k, v in result.items()}))


def _existing_version(db: str | None) -> int | None:
    """The schema version before init touches anything (None for a new database)."""
    url = resolve_url(db)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None
    try:
        store = Store.open(url, migrate=False)
    except StoreError as exc:
        if exc.key == "store.needs_upgrade":
            return exc.params.get("version")
        raise
    with store:
        return store.schema_version()


@click.command()
@common_options
@click.option("--orders", "n_orders", type=click.IntRange(1, 2_000_000), default=3000,
              show_default=True, help="How many orders to generate (a million needs ~6 GB RAM).")
@click.option("--seed", "seed_value", type=int, default=20261130, show_default=True,
              help="Random seed: the same seed gives the same shop.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day the demo ends on (default: today).")
@click.option("--fresh", is_flag=True, help="Delete the SQLite file first and start over.")
@click.option("--exports", "exports_to", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="FOLDER", help="Only write sample seller-backend exports to try kit import on.")
def demo(db: str | None, as_json: bool, config_path: str | None, actor: str | None,
         n_orders: int, seed_value: int, today: Any, fresh: bool, exports_to: Path | None) -> None:
    """Fill the database with the demo shop: orders in every state, stock, shipments."""
    from kit.demo import SEED_STEPS, seed

    if exports_to is not None:
        from kit.demo.exports import write_samples

        files = write_samples(exports_to, orders=min(n_orders, 5000), seed=seed_value)
        if as_json:
            emit_json({"ok": True, "files": [str(f) for f in files]})
        else:
            say(t("cli.exports_written", count=len(files), folder=str(exports_to)))
        return

    if fresh:
        _remove_sqlite(db)
    day: date | None = today.date() if today else None  # None: the shop as it is right now
    with kit.connect(db, config=config_path) as shop:
        with shop.store.read() as conn:
            existing = conn.execute(
                sa.select(schema.batches.c.batch_id, schema.batches.c.source)
                .where(schema.batches.c.kind == "demo")
            ).first()
        if existing is not None:
            if not as_json:
                say(t("cli.demo_exists", source=existing.source, url=shop.store.shown_url))
            batch_id, created = existing.batch_id, False
        else:
            shop.as_system("init").sync_settings()
            with progress_bar(SEED_STEPS, t("cli.demo_working", orders=n_orders), as_json) as bar:
                batch_id = seed(shop.as_system("demo"), orders=n_orders, seed=seed_value,
                                today=day, progress=bar.update)
            # every paid order gets its ship-by deadline (S19) as `kit deadlines --assign` writes it,
            # so the desks' lists and the on-time statistics have one; the parcels the carriers
            # report lost, damaged or refused get their exception cases, as the tracking job opens
            # them (S21): the exceptions desk has work to show
            from kit.deadlines import assign
            from kit.exceptions import open_from_alerts

            assign(shop.as_system("deadlines"))
            cases = open_from_alerts(shop.as_system("tracking"), notify=False)["opened"]
            created = True
        status = shop.status()
        result = {"ok": True, "database": shop.store.shown_url, "batch_id": batch_id,
                  "created": created, "orders": status["orders"], "status": status}
        if created:
            result["exception_cases"] = cases
    if as_json:
        emit_json(result)
    else:
        say(t("cli.demo_done", orders=status["orders"], url=result["database"]))


def _remove_sqlite(db: str | None) -> None:
    """Delete an SQLite database file and its WAL companions (never a server database)."""
    url = resolve_url(db)
    path = sqlite_path(url)
    if path is None:
        raise BadInput("cli.fresh_sqlite_only", url=mask_url(url))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@click.command()
@common_options
def status(db: str | None, as_json: bool, config_path: str | None, actor: str | None) -> None:
    """Counts of orders per trade status and fulfilment stage, and of shipments."""
    with kit.connect(db, config=config_path) as shop:
        counts = shop.status()
        payload = {"ok": True, "database": shop.store.shown_url,
                   "schema_version": migrations.latest_version(), **counts}
    if as_json:
        emit_json(payload)
        return
    click.echo(render_status(counts, payload["database"]))


def render_status(counts: dict[str, Any], database: str) -> str:
    """The status counts as a small text table for the terminal."""
    lines = [t("cli.status_title", orders=counts["orders"], url=database), ""]
    for title, enum, key in (
        (t("cli.by_trade_status"), TradeStatus, "trade_status"),
        (t("cli.by_stage"), Stage, "stage"),
        (t("cli.by_shipment_stage"), ShipmentStage, "shipments"),
    ):
        lines.append(title)
        for member in enum:
            lines.append(f"  {pad(member.label, 28)}{counts[key].get(str(member), 0):>10,}")
        lines.append("")
    return "\n".join(lines).rstrip()


def dashboards_dir() -> Path:
    """./dashboards when it exists, else the dashboards shipped beside the kit package."""
    local = Path("dashboards")
    if local.is_dir():
        return local.resolve()
    return Path(kit.__file__).resolve().parent.parent / "dashboards"


@click.command()
@common_options
@click.option("--port", type=click.IntRange(1024, 65535), default=8866, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADDR",
              help="Address to listen on; beyond this machine only with [serve] identity_header "
                   "(a reverse proxy that signs staff in, docs/serving.md).")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of dashboards (default ./dashboards).")
def serve(db: str | None, as_json: bool, config_path: str | None, actor: str | None,
          port: int, host: str, directory: Path | None) -> None:
    """Serve the staff dashboards with Voilà: on this machine as the local user, or behind a
    reverse proxy that names the staff member on every request ([serve] identity_header)."""
    folder = (directory or dashboards_dir()).resolve()
    if not folder.is_dir():
        raise BadInput("cli.no_dashboards", path=str(folder))
    config = load_config(config_path)
    settings = config.serve
    header = settings["identity_header"]
    check_host(host, header)  # before the database is opened (or created)
    with kit.connect(db, config=config) as shop:  # fail here, not in every kernel
        url = shop.store.url
        path = sqlite_path(url)
        if path is not None:  # the kernels run in the dashboards folder: no relative paths
            url = url.set(database=str(path.resolve()))
        if header:
            if actor and _given_on_command_line("actor"):
                raise BadInput("serve.as_with_header", header=header)
            for name in settings["identity_map"].values():
                shop.staff_member(name)  # a mapping to nobody is a typo: say so now
            who = None
        else:
            who = actor or shop.config.local_user
            shop.staff_member(who)
        source = shop.config.source
    env = _kernel_env(os.environ, url.render_as_string(hide_password=False), who, header, host)
    if source:
        env["KIT_CONFIG"] = str(Path(source).resolve())
    base = f"http://{url_host(host)}:{port}/"
    pages = sorted(p.name for p in folder.glob("*.ipynb"))
    if as_json:
        emit_json({"ok": True, "url": base, "dashboards": [f"{base}voila/render/{p}" for p in pages],
                   "identity": {"header": header} if header else {"local_user": who}})
    elif header:
        say(t("serve.serving_proxy", url=base, header=header))
    else:
        say(t("cli.serving", url=base, actor=who))
    try:
        code = subprocess.call(voila_command(port, host, header, preheat=settings["preheat"]),
                               cwd=folder, env=env)
    except KeyboardInterrupt:
        code = 0
    sys.exit(code)


def voila_command(port: int, host: str, header: str, *, preheat: bool) -> list[str]:
    """The Voilà command line: the address, no tracebacks; behind a proxy the identity header
    is passed to each page's kernel and kernels are never pre-heated (a pre-heated kernel
    starts before its request, so it could not see the header)."""
    cmd = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
           f"--Voila.ip={host.strip('[]')}", "--Voila.port_retries=0",
           "--VoilaConfiguration.show_tracebacks=False"]
    if header:
        cmd.append(f"--VoilaConfiguration.http_header_envs={header}")
    cmd.append(f"--VoilaConfiguration.preheat_kernel={preheat and not header}")  # over voila.json
    return cmd


def _kernel_env(base: Mapping[str, str], url: str, who: str | None, header: str,
                host: str) -> dict[str, str]:
    """The environment Voilà and its kernels start with: the database, and who acts.

    Behind a proxy no KIT_ACTOR is passed on (a page without the header must not act as
    anyone), and no HTTP_* variable of the identity header either: Voilà builds a kernel's
    environment from its own, so an inherited value would stand in for a missing header.
    """
    env = {k: v for k, v in base.items() if k not in ("KIT_ACTOR", IDENTITY_HEADER_ENV)}
    env["KIT_DATABASE_URL"] = url
    env["VOILA_APP_IP"] = url_host(host)  # where a pre-heated kernel asks for its request
    if header:
        env.pop(header_env_name(header), None)
        env[IDENTITY_HEADER_ENV] = header
    else:
        env["KIT_ACTOR"] = who or ""
    return env


def _given_on_command_line(param: str) -> bool:
    """Whether the option was typed on the command line (not taken from the environment)."""
    ctx = click.get_current_context()
    return ctx.get_parameter_source(param) is click.core.ParameterSource.COMMANDLINE
