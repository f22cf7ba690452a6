"""Who acts on a served desk (issue 7, item 4): `kit serve` stays on this machine unless a
reverse proxy names the staff member on every request ([serve] identity_header); in the
kernel the header decides, mapped through identity_map and looked up among the active
staff, and a page without it is refused in words, never handed to the local user. The last
tests start `kit serve` on a second loopback address and open the stock desk in Chromium
with and without the header."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from browser_support import FIRST_RENDER_MS, KIT, ROOT, UPDATE_MS, desk_page, stop, wait_until_answering
from click.testing import CliRunner

import kit
from kit import config
from kit.cli import cli
from kit.cli.core import _kernel_env, voila_command
from kit.errors import ConfigError, Refused
from kit.i18n import t
from kit.models import Role
from kit.serve_identity import (
    IDENTITY_HEADER_ENV,
    check_host,
    decode_login,
    header_env_name,
    is_loopback,
    requested_staff,
)
from kit.store import schema
from kit.ui.session import open_shop
from kit.ui.stock_desk import StockDeskModel

if TYPE_CHECKING:
    from playwright.sync_api import Page

HEADER = "X-Remote-User"
STAFF = {"店长": "supervisor", "仓管老周": "warehouse", "客服小美": "presale"}
ZHOU_PERCENT = "%E4%BB%93%E7%AE%A1%E8%80%81%E5%91%A8"  # 仓管老周 as UTF-8, percent-encoded
PROXY_TOML = f'[serve]\nidentity_header = "{HEADER}"\nidentity_map = {{ "zhou" = "仓管老周" }}\n'


def run(*args: str) -> tuple[int, str, str]:
    """Run `kit ARGS` in-process; return exit code, stdout, stderr."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# --- where kit serve may listen -------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses_stay_on_this_machine(host):
    """Every loopback spelling is this machine only: served without any sign-in setting."""
    assert is_loopback(host)
    check_host(host, "")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "shop.example.com"])
def test_any_other_address_needs_the_identity_header(host):
    """Beyond this machine without [serve] identity_header: refused, naming address and fix."""
    assert not is_loopback(host)
    with pytest.raises(Refused) as info:
        check_host(host, "")

    assert info.value.exit_code == 1
    assert host in info.value.message
    assert "identity_header" in info.value.message and "127.0.0.1" in info.value.message
    check_host(host, HEADER)  # with a proxy naming the staff member, it may listen there


def test_serve_on_all_addresses_without_the_setting_exits_1(tmp_path):
    """`kit serve --host 0.0.0.0` (the console script, as staff would type it) exits 1 with
    the explanation, before Voilà starts and before the database is even created."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIT_")}
    db = tmp_path / "new.db"
    done = subprocess.run([str(KIT), "serve", "--db", str(db), "--host", "0.0.0.0", "--port", "18999"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)

    assert done.returncode == 1, done.stderr
    assert not db.exists()
    assert "0.0.0.0" in done.stderr and "identity_header" in done.stderr
    assert "docs/serving.md" in done.stderr
    assert "Voil" not in done.stderr + done.stdout  # refused before anything listens


def test_the_refusal_is_in_english_too(sqlite_url):
    """kit --lang en: the same refusal in English."""
    code, _, err = run("--lang", "en", "serve", "--db", sqlite_url, "--host", "0.0.0.0")

    assert code == 1
    assert "Refusing to serve the dashboards on 0.0.0.0" in err
    assert "identity_header" in err


def test_as_cannot_name_the_actor_behind_a_proxy(sqlite_url, tmp_path):
    """Behind a proxy the header names who acts: --as on the command line is refused."""
    toml = tmp_path / "kit.toml"
    toml.write_text(PROXY_TOML.replace('{ "zhou" = "仓管老周" }', "{}"), "utf-8")

    code, _, err = run("serve", "--db", sqlite_url, "--config", str(toml), "--as", "店长",
                       "--host", "0.0.0.0")

    assert code == 2
    assert HEADER in err and "--as" in err


def test_a_mapping_to_nobody_stops_serve(sqlite_url, tmp_path):
    """identity_map naming someone who is not staff is a typo, reported at start."""
    toml = tmp_path / "kit.toml"
    toml.write_text(PROXY_TOML.replace("仓管老周", "仓管老王"), "utf-8")

    code, _, err = run("serve", "--db", sqlite_url, "--config", str(toml), "--host", "0.0.0.0")

    assert code == 2
    assert "仓管老王" in err


def test_voila_gets_the_header_and_no_preheating_behind_a_proxy():
    """Behind a proxy Voilà passes the header to each page's kernel and never pre-heats (a
    pre-heated kernel starts before its request); locally pre-heating is the setting's."""
    proxied = voila_command(8866, "0.0.0.0", HEADER, preheat=True)
    local = voila_command(8866, "127.0.0.1", "", preheat=True)

    assert f"--VoilaConfiguration.http_header_envs={HEADER}" in proxied
    assert "--VoilaConfiguration.preheat_kernel=False" in proxied
    assert "--Voila.ip=0.0.0.0" in proxied
    assert "--VoilaConfiguration.preheat_kernel=True" in local
    assert not any("http_header_envs" in part for part in local)
    assert "--VoilaConfiguration.preheat_kernel=False" in voila_command(8866, "127.0.0.1", "",
                                                                         preheat=False)


def test_kernels_behind_a_proxy_inherit_no_actor_and_no_header():
    """Behind a proxy the kernels get no KIT_ACTOR, and no HTTP_X_REMOTE_USER from the shell
    that started kit serve (Voilà builds a kernel's environment from its own, so an inherited
    value would stand in for a missing header)."""
    shell = {"PATH": "/usr/bin", "KIT_ACTOR": "店长", "HTTP_X_REMOTE_USER": "店长"}

    proxied = _kernel_env(shell, "sqlite:///x.db", None, HEADER, "0.0.0.0")
    local = _kernel_env(shell, "sqlite:///x.db", "客服小美", "", "127.0.0.1")

    assert "KIT_ACTOR" not in proxied and "HTTP_X_REMOTE_USER" not in proxied
    assert proxied[IDENTITY_HEADER_ENV] == HEADER
    assert local["KIT_ACTOR"] == "客服小美" and IDENTITY_HEADER_ENV not in local
    assert proxied["KIT_DATABASE_URL"] == local["KIT_DATABASE_URL"] == "sqlite:///x.db"


# --- the [serve] settings --------------------------------------------------------------------


def test_serve_settings_default_to_this_machine_only():
    """Without [serve]: no header, no mapping, pre-heated kernels (on 127.0.0.1 only)."""
    assert config.Config().serve == {"identity_header": "", "identity_map": {}, "preheat": True}


def test_serve_settings_are_read_and_checked():
    """The header name and the mapping are read; a header a proxy cannot set is refused."""
    read = config.parse(tomllib.loads(PROXY_TOML + "preheat = false\n"))
    assert read.serve == {"identity_header": HEADER, "identity_map": {"zhou": "仓管老周"}, "preheat": False}

    for bad in ('identity_header = "X_Remote_User"', 'identity_header = "X Remote User"',
                'identity_header = "用户"'):
        with pytest.raises(ConfigError, match="identity_header"):
            config.parse(tomllib.loads(f"[serve]\n{bad}\n"))
    with pytest.raises(ConfigError, match=r"serve\.identity_map\.zhou"):
        config.parse(tomllib.loads('[serve]\nidentity_map = { "zhou" = 3 }\n'))
    with pytest.raises(ConfigError, match=r"serve\.identiy_header"):
        config.parse(tomllib.loads('[serve]\nidentiy_header = "X-Remote-User"\n'))


# --- reading the header in the kernel --------------------------------------------------------


def test_header_names_are_case_insensitive():
    """Voilà names the variable HTTP_ + the header in upper case with "-" as "_", whatever
    case the proxy or kit.toml spells it in."""
    assert header_env_name("X-Remote-User") == header_env_name("x-remote-user") == "HTTP_X_REMOTE_USER"
    assert header_env_name("X-Forwarded-User") == "HTTP_X_FORWARDED_USER"


@pytest.mark.parametrize(("raw", "login"), [
    ("zhou", "zhou"),
    ("  zhou ", "zhou"),
    (ZHOU_PERCENT, "仓管老周"),  # percent-encoded UTF-8: the safe way to send a Chinese name
    ("仓管老周".encode().decode("latin-1"), "仓管老周"),  # raw UTF-8 as the HTTP server read it
    ("%FF%FE", "%FF%FE"),  # not UTF-8 once decoded: kept as sent, and so names nobody
    ("50%", "50%"),
])
def test_the_login_is_decoded_from_the_header(raw, login):
    """ASCII as it is; percent-encoded and raw UTF-8 both give the Chinese name."""
    assert decode_login(raw) == login


def test_the_header_is_mapped_to_a_staff_member():
    """identity_map turns a login into a staff member's name; other logins are names."""
    environ = {IDENTITY_HEADER_ENV: HEADER, "HTTP_X_REMOTE_USER": "zhou"}
    mapping = {"zhou": "仓管老周"}

    assert requested_staff(environ, mapping) == "仓管老周"
    assert requested_staff({**environ, "HTTP_X_REMOTE_USER": "客服小美"}, mapping) == "客服小美"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_request_without_the_header_is_refused(value):
    """No header, or an empty one: refused in words naming the header."""
    environ = {IDENTITY_HEADER_ENV: HEADER, "KIT_ACTOR": "店长"}
    if value is not None:
        environ["HTTP_X_REMOTE_USER"] = value

    with pytest.raises(Refused) as info:
        requested_staff(environ, {})

    assert info.value.key == "serve.no_identity"
    assert HEADER in info.value.message


def test_a_header_sent_twice_is_refused():
    """Two values (Voilà joins them with a comma): trust neither."""
    environ = {IDENTITY_HEADER_ENV: HEADER, "HTTP_X_REMOTE_USER": "客服小美,店长"}

    with pytest.raises(Refused) as info:
        requested_staff(environ, {})

    assert info.value.key == "serve.several_identities"


@pytest.fixture
def shop_env(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A shop with three staff (小美 no longer active) and a kit.toml for a proxy, set up in the
    environment as `kit serve` hands it to a kernel behind the proxy."""
    toml = tmp_path / "kit.toml"
    staff = "".join(f'"{name}" = "{role}"\n' for name, role in STAFF.items())
    toml.write_text(f"{PROXY_TOML}\n[staff]\n{staff}", "utf-8")
    with kit.connect(sqlite_url, config=toml) as shop:
        shop.as_system("test").sync_settings()
        with shop.store.write() as conn:
            conn.execute(sa.update(schema.staff).where(schema.staff.c.name == "客服小美")
                         .values(active=False))
    env = {"KIT_DATABASE_URL": sqlite_url, "KIT_CONFIG": str(toml), IDENTITY_HEADER_ENV: HEADER}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HTTP_X_REMOTE_USER", raising=False)
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    return env


def test_the_kernel_acts_as_the_staff_member_the_header_names(shop_env, monkeypatch):
    """The mapped login, a percent-encoded name, and a lower-case header setting all work."""
    monkeypatch.setenv("HTTP_X_REMOTE_USER", "zhou")
    with open_shop() as shop:
        assert (shop.actor.name, shop.actor.role) == ("仓管老周", Role.WAREHOUSE)

    monkeypatch.setenv("HTTP_X_REMOTE_USER", "%E5%BA%97%E9%95%BF")  # 店长
    monkeypatch.setenv(IDENTITY_HEADER_ENV, "x-remote-user")
    with open_shop() as shop:
        assert (shop.actor.name, shop.actor.role) == ("店长", Role.SUPERVISOR)


def test_no_header_never_falls_back_to_the_local_user(shop_env, monkeypatch):
    """KIT_ACTOR (the local user) is ignored behind a proxy: no header, no shop."""
    monkeypatch.setenv("KIT_ACTOR", "店长")

    with pytest.raises(Refused) as info:
        open_shop()

    assert info.value.key == "serve.no_identity"


@pytest.mark.parametrize(("login", "key"), [("nobody", "serve.unknown_login"),
                                            ("客服小美", "serve.inactive")])
def test_unknown_and_inactive_staff_are_refused(shop_env, monkeypatch, login, key):
    """A login that is not staff, or a staff member no longer active: refused in words."""
    monkeypatch.setenv("HTTP_X_REMOTE_USER", login)

    with pytest.raises(Refused) as info:
        open_shop()

    assert info.value.key == key
    assert login in info.value.message


def test_a_desk_without_the_header_shows_the_refusal_and_no_actions(shop_env):
    """The stock desk's model: the refusal in its message area, no action allowed."""
    model = StockDeskModel()

    assert model.refresh() is False
    assert model.message == t("serve.no_identity", header=HEADER)
    assert model.level == "error" and model.shop is None and model.allowed == []


def test_a_desk_with_the_header_allows_that_role_only(shop_env, monkeypatch):
    """The warehouse keeper's stock desk: allocation and receipts, no buyer notices."""
    monkeypatch.setenv("HTTP_X_REMOTE_USER", "zhou")
    model = StockDeskModel()

    assert model.refresh() is True, model.message
    assert model.allowed == ["run_allocation", "receive_stock", "read"]
    model.shop.close()


def test_locally_the_kernel_still_acts_as_kit_actor(shop_env, monkeypatch):
    """Without KIT_IDENTITY_HEADER nothing changes: KIT_ACTOR acts, even with a header set."""
    monkeypatch.delenv(IDENTITY_HEADER_ENV)
    monkeypatch.setenv("KIT_ACTOR", "仓管老周")
    monkeypatch.setenv("HTTP_X_REMOTE_USER", "店长")

    with open_shop() as shop:
        assert shop.actor.name == "仓管老周"


# --- end to end: kit serve behind a (pretend) proxy, the desk in Chromium -------------------


def loopback_host() -> str:
    """127.0.0.2 when this machine can listen there (Linux can), else 127.0.0.1."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.2", 0))
        except OSError:
            return "127.0.0.1"
    return "127.0.0.2"


def free_port_on(host: str) -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def proxied(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`kit serve --host 127.0.0.2` over a demo shop with [serve] identity_header set: the
    address of the stock desk (a proxy in front would set the header; the tests set it)."""
    folder = tmp_path_factory.mktemp("serve-identity")
    db = f"sqlite:///{folder / 'kit.db'}"
    toml = folder / "kit.toml"
    toml.write_text(PROXY_TOML, "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIT_")}
    env["HTTP_X_REMOTE_USER"] = "店长"  # must not reach a kernel whose request lacks the header
    seeded = subprocess.run([str(KIT), "demo", "--db", db, "--orders", "300", "--json"], cwd=folder,
                            env=env, capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    host = loopback_host()
    port = free_port_on(host)
    log = folder / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(KIT), "serve", "--db", db, "--config", str(toml), "--host", host, "--port", str(port),
             "--dir", str(ROOT / "dashboards")],
            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_answering(f"http://{host}:{port}/", proc, log)
        assert HEADER in log.read_text("utf-8")  # it says who acts
        yield f"http://{host}:{port}/voila/render/stock.ipynb"
    finally:
        stop(proc)


def open_desk(page: Page, url: str) -> None:
    """Open the stock desk and wait until the kernel has drawn it (its message area)."""
    page.goto(url, timeout=FIRST_RENDER_MS)
    page.locator(".kit-stock .kit-message").first.wait_for(state="attached", timeout=FIRST_RENDER_MS)


@pytest.mark.browser
@pytest.mark.slow
def test_the_desk_acts_as_the_person_the_proxy_names(chromium, proxied, tmp_path):
    """X-Remote-User: zhou → 仓管老周 (warehouse): the desk says so and shows allocation and
    the receipt form, but not the buyer notices a warehouse keeper may not send."""
    from playwright.sync_api import expect

    with desk_page(chromium, extra_http_headers={HEADER: "zhou"}) as page:
        open_desk(page, proxied)
        desk = page.locator(".kit-stock")
        expect(desk.locator(".kit-table-grid canvas").first).to_be_visible(timeout=FIRST_RENDER_MS)
        subtitle = desk.locator(".kit-subtitle").inner_text()
        page.screenshot(path=str(tmp_path / "proxied-zhou.png"), full_page=True)
        assert "老周" in subtitle and Role.WAREHOUSE.label in subtitle and "店长" not in subtitle
        expect(desk.locator(".kit-action-allocate")).to_be_visible(timeout=UPDATE_MS)
        expect(desk.locator(".kit-form-receive")).to_be_visible(timeout=UPDATE_MS)
        expect(desk.locator(".kit-action-notify")).to_be_hidden(timeout=UPDATE_MS)
        assert desk.locator(".kit-message").inner_text().strip() == ""
        assert "Traceback" not in page.content()


@pytest.mark.browser
@pytest.mark.slow
def test_a_percent_encoded_chinese_name_works_without_a_mapping(chromium, proxied):
    """X-Remote-User: %E5%BA%97%E9%95%BF (店长, supervisor): every stock action is shown."""
    from playwright.sync_api import expect

    with desk_page(chromium, extra_http_headers={HEADER: "%E5%BA%97%E9%95%BF"}) as page:
        open_desk(page, proxied)
        desk = page.locator(".kit-stock")
        expect(desk.locator(".kit-action-notify")).to_be_visible(timeout=FIRST_RENDER_MS)
        assert "店长" in desk.locator(".kit-subtitle").inner_text()
        expect(desk.locator(".kit-action-allocate")).to_be_visible(timeout=UPDATE_MS)


@pytest.mark.browser
@pytest.mark.slow
def test_without_the_header_the_desk_is_refused(chromium, proxied, tmp_path):
    """No header (someone reaching Voilà past the proxy): the refusal in words, no actions,
    and not the local user nor the HTTP_X_REMOTE_USER of the shell that started kit serve."""
    from playwright.sync_api import expect

    with desk_page(chromium) as page:
        open_desk(page, proxied)
        desk = page.locator(".kit-stock")
        message = desk.locator(".kit-message")
        expect(message).to_contain_text(t("serve.no_identity", header=HEADER), timeout=FIRST_RENDER_MS)
        page.screenshot(path=str(tmp_path / "proxied-none.png"), full_page=True)
        for action in (".kit-action-allocate", ".kit-action-notify", ".kit-form-receive"):
            expect(desk.locator(action)).to_be_hidden(timeout=UPDATE_MS)
        assert "店长" not in desk.locator(".kit-subtitle").inner_text()
        assert "Traceback" not in page.content()


@pytest.mark.browser
@pytest.mark.slow
def test_an_unknown_login_is_refused_in_the_browser(chromium, proxied):
    """A login that names nobody on the staff: refused by name."""
    from playwright.sync_api import expect

    with desk_page(chromium, extra_http_headers={HEADER: "mallory"}) as page:
        open_desk(page, proxied)
        message = page.locator(".kit-stock .kit-message")
        expect(message).to_contain_text(t("serve.unknown_login", login="mallory"), timeout=FIRST_RENDER_MS)
        expect(page.locator(".kit-stock .kit-action-allocate")).to_be_hidden(timeout=UPDATE_MS)


def test_serve_json_reports_the_identity_mode(sqlite_url, tmp_path, monkeypatch):
    """--json says where the dashboards are and how the person acting is found (Voilà itself
    is replaced here: only what kit serve prints is checked)."""
    toml = tmp_path / "kit.toml"
    toml.write_text(f'{PROXY_TOML}\n[staff]\n"仓管老周" = "warehouse"\n', "utf-8")
    calls = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, **kw: calls.append((cmd, kw)) or 0)

    code, out, _ = run("serve", "--db", sqlite_url, "--config", str(toml), "--host", "0.0.0.0",
                       "--port", "18998", "--json")

    assert code == 0
    assert json.loads(out)["identity"] == {"header": HEADER}
    assert json.loads(out)["url"] == "http://0.0.0.0:18998/"
    cmd, kwargs = calls[0]
    assert cmd[:3] == [sys.executable, "-m", "voila"]
    assert kwargs["env"][IDENTITY_HEADER_ENV] == HEADER and "KIT_ACTOR" not in kwargs["env"]


@pytest.mark.browser
@pytest.mark.slow
def test_a_preheated_desk_reads_the_shop_when_opened(chromium, tmp_path):
    """Locally the kernels are pre-heated, yet a desk shows what the shop holds when it is
    opened: orders written after the pool was filled are counted (the kernel waits for its
    request before it reads)."""
    import time

    from browser_support import serving
    from orders_factory import make_orders

    db = f"sqlite:///{tmp_path / 'kit.db'}"
    with kit.connect(db, actor="店长") as shop:
        shop.insert_orders(*make_orders(3), kind="test", source="test")
    with serving(db, tmp_path) as server:
        deadline = time.monotonic() + FIRST_RENDER_MS / 1000
        while "Kernel pool of status.ipynb is filled" not in server.log.read_text("utf-8"):
            assert time.monotonic() < deadline, server.log_tail()
            time.sleep(0.5)
        time.sleep(3)  # the pooled kernel has run its imports and waits in open_shop()
        with kit.connect(db, actor="店长") as shop:
            shop.insert_orders(*make_orders(4, start=50), kind="test", source="test")
        with desk_page(chromium) as page:
            page.goto(server.page_url("status.ipynb"), timeout=FIRST_RENDER_MS)
            tile = page.locator(".kit-kpi-orders .kit-kpi-value")
            tile.wait_for(timeout=FIRST_RENDER_MS)
            assert tile.inner_text() == "7"
            assert "店长" in page.locator(".kit-subtitle").first.inner_text()
        assert "Using pre-heated kernel" in server.log.read_text("utf-8")
