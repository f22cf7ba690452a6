"""The conflict contract under real concurrency: staff in separate threads and separate
processes (as separate Voilà kernels are) act on one order; exactly one wins."""

from __future__ import annotations

import multiprocessing as mp
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from orders_factory import make_orders

import kit
from kit.errors import Conflict
from kit.store import schema

STAFF = {f"客服{i}": "presale" for i in range(8)}


def _shop(url: str, actor: str | None = None) -> kit.Shop:
    config = kit.config.parse({"staff": {**STAFF, "店长": "supervisor"}})
    return kit.connect(url, actor=actor, config=config)


def _one_order(url: str) -> tuple[str, int]:
    with _shop(url, "店长") as shop:
        orders, lines = make_orders(1)
        shop.insert_orders(orders, lines, kind="test", source="concurrency")
        order_no = orders["order_no"][0]
        return order_no, shop.order(order_no).version


def _approve(url: str, actor: str, order_no: str, version: int | None, barrier) -> str:
    with _shop(url, actor) as shop:
        shop.store.schema_version()  # connect before the race starts
        barrier.wait(timeout=60)
        try:
            shop.transition("order", order_no, "approve", expected_version=version)
        except Conflict as exc:
            return "conflict:" + exc.message
        return "ok"


def _outcomes(results: list[str]) -> tuple[int, int]:
    wins = sum(r == "ok" for r in results)
    conflicts = sum(r.startswith("conflict:") for r in results)
    return wins, conflicts


def _audit_rows(url: str, order_no: str) -> int:
    with _shop(url) as shop, shop.store.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(schema.audit).where(
            schema.audit.c.entity_id == order_no, schema.audit.c.action == "approve")).scalar()


@pytest.mark.parametrize("with_version", [True, False], ids=["expected-version", "no-version"])
def test_threads_racing_to_approve_one_order_exactly_one_wins(db_url, with_version):
    """Eight staff approve the same order at the same instant: one wins, seven get Conflict."""
    order_no, version = _one_order(db_url)
    barrier = threading.Barrier(8)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(
            lambda name: _approve(db_url, name, order_no, version if with_version else None, barrier),
            list(STAFF)))

    assert _outcomes(results) == (1, 7)
    assert _audit_rows(db_url, order_no) == 1


def test_processes_racing_to_approve_one_order_exactly_one_wins(db_url):
    """Four processes (like four Voilà kernels) race; one wins, three get Conflict."""
    order_no, version = _one_order(db_url)
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(4)
        with ProcessPoolExecutor(4, mp_context=ctx) as pool:
            futures = [pool.submit(_approve, db_url, name, order_no, version, barrier)
                       for name in list(STAFF)[:4]]
            results = [f.result(timeout=120) for f in futures]

    assert _outcomes(results) == (1, 3)
    assert _audit_rows(db_url, order_no) == 1


def test_different_actions_on_one_version_one_wins(db_url):
    """Hold and approve on the same seen version: the loser's message says who won."""
    order_no, version = _one_order(db_url)
    barrier = threading.Barrier(2)

    def act(action: str, actor: str) -> str:
        with _shop(db_url, actor) as shop:
            shop.store.schema_version()
            barrier.wait(timeout=60)
            try:
                shop.transition("order", order_no, action, reason="核对", expected_version=version)
            except Conflict:
                return "conflict"
            return "ok"

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(act, ["approve", "hold"], ["客服0", "客服1"]))

    assert results == ["conflict", "ok"]
