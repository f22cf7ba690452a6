"""Helpers for browser tests: start `kit serve` on a free port, wait for it, stop it; open a
desk page in Chromium, collect its JavaScript errors, keep screenshots."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
KIT = Path(sys.executable).parent / "kit"  # the console script; there is no kit/__main__.py
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # No internet here: without these Chromium keeps calling home and floods refusals.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
FIRST_RENDER_MS = 60_000  # a new kernel per visit: start, import the kit, run the cell
UPDATE_MS = 15_000
SHOTS = os.environ.get("KIT_SCREENSHOTS")  # a folder to keep the screenshots in, if set


@contextmanager
def desk_page(chromium: str, **context: Any) -> Iterator[Any]:
    """One Chromium page, 1280 wide, in Chinese, as a staff member's desktop shows it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                      **context).new_page()
        finally:
            browser.close()


def js_errors_of(page: Any) -> list[str]:
    """The page's uncaught JavaScript errors from now on (a list that fills as they come)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def shot(page: Any, folder: Path, name: str) -> Path:
    """A full-page screenshot in the test's folder (and in KIT_SCREENSHOTS when set)."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)
    return path


def element_shot(locator: Any, folder: Path, name: str) -> Path:
    """A screenshot of one part of the page (scrolled into view), kept like `shot`'s."""
    path = folder / f"{name}.png"
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(path))
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        locator.screenshot(path=str(Path(SHOTS) / f"{name}.png"))
    return path


@dataclass(frozen=True)
class Server:
    """A running `kit serve`: where it answers, its database and its log file."""

    base: str
    db: str
    log: Path

    def page_url(self, notebook: str) -> str:
        """The Voilà address of one dashboard."""
        return f"{self.base}voila/render/{notebook}"

    def log_tail(self) -> str:
        """The end of the server's output, for failure messages."""
        return self.log.read_text("utf-8", errors="replace")[-3000:]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answering(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll the server until it answers HTTP, failing early if it exits."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"kit serve exited with {proc.returncode}:\n{log.read_text('utf-8')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"kit serve did not answer at {url} within 60 s:\n{log.read_text('utf-8')}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop kit serve and Voilà (one process group); Voilà shuts its kernels down on SIGTERM."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)




@contextmanager
def serving(db: str, folder: Path, config: Path | None = None, actor: str | None = None) -> Iterator[Server]:
    """`kit serve` over the database on a free port, logging into `folder`; stopped on exit;
    with `config` (a kit.toml, e.g. with the sender address, S26b) and `actor` (--as NAME).

    The shell's KIT_* settings (language, another database) do not leak into the server.
    """
    port = free_port()
    log = folder / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIT_")}
    extra = [*(["--config", str(config)] if config else []), *(["--as", actor] if actor else [])]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(KIT), "serve", "--db", db, *extra, "--port", str(port), "--dir", str(ROOT / "dashboards")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/", proc, log)
        yield Server(f"http://127.0.0.1:{port}/", db, log)
    finally:
        stop(proc)
