"""kit.allocation.decide on numpy Problems, no database (S17, S24b).

Two references written here with plain loops over orders:

- `documented`: the module's rules exactly as its docstring states them: step by step
  (1 whole parts, 2 pinned and drop-ship lines, 3 split lines), warehouse rank by
  warehouse rank, and at each rank the orders one by one in priority order; orders not
  served give their stock back and the passes run again; orders still blocked then go
  one by one. The vectorised decision must agree with it line for line.
- `one_by_one`: the naive reading of "first paid, first served": each order in priority
  order takes everything it needs before the next one looks. The vectorised decision
  disagrees with it on which orders are served in a minority of the random cases, and
  every such case is reproduced exactly by `documented`: the docstring's rules allow it
  (see test_one_by_one_disagreements_are_the_documented_rounds_S17).
"""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np
import polars as pl
import pytest

from kit.allocation import AllocationPolicy, decide
from kit.allocation.decide import DROPSHIP, PINNED, REGULAR, Problem
from kit.allocation.ranking import UNKNOWN, scores
from kit.regions import PROVINCES

D = sys.modules["kit.allocation.decide"]  # the module (kit.allocation.decide is the function)
CASES = 300
POLICIES = [
    AllocationPolicy(strategy=strategy, split=split)
    for strategy in ("nearest", "fewest_parcels")
    for split in (True, False)
]
POLICY_IDS = [f"{p.strategy}-{'split' if p.split else 'whole'}" for p in POLICIES]
SITES = (  # kind, province: hq first, then stores and suppliers to pick from
    ("hq", "浙江省"),
    ("store", "广东省"),
    ("store", "北京市"),
    ("store", "四川省"),
    ("supplier", "福建省"),
    ("supplier", "湖北省"),
)
BUYERS = [PROVINCES.index(p) for p in ("浙江省", "广东省", "北京市", "四川省", "上海市")]


# --- problems --------------------------------------------------------------------------------


def ranked(kinds: list[str], provinces: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """score, own ids, own_rank, supplier_rank for warehouses w0, w1, … as read_batch makes them."""
    frame = pl.DataFrame(
        {
            "code": [f"w{i}" for i in range(len(kinds))],
            "kind": kinds,
            "province": provinces,
            "serves": [""] * len(kinds),
        }
    )
    score = np.asarray(scores(frame).to_numpy())
    supplier = np.array([k == "supplier" for k in kinds])
    own, sup = np.flatnonzero(~supplier), np.flatnonzero(supplier)
    own_rank = own[np.argsort(score[:, own], axis=1, kind="stable")]
    supplier_rank = sup[np.argsort(score[:, sup], axis=1, kind="stable")]
    return score, own, own_rank, supplier_rank


def random_problem(seed: int) -> tuple[Problem, np.ndarray]:
    """A small random batch: up to 5 warehouses, 4 SKUs, 7 orders of 1–2 parts of 1–3 lines,
    scarce stock (0–3 per item), some pinned SKUs and some SKUs a supplier holds."""
    rng = np.random.default_rng(seed)
    picks = [0, *sorted(rng.choice(np.arange(1, len(SITES)), size=int(rng.integers(0, 5)), replace=False))]
    score, own, own_rank, supplier_rank = ranked([SITES[i][0] for i in picks], [SITES[i][1] for i in picks])
    n_wh, n_skus = len(picks), int(rng.integers(1, 5))
    pin_of = np.where(rng.random(n_skus) < 0.15, rng.integers(0, n_wh, n_skus), -1)
    dropped = (rng.random(n_skus) < 0.5) & (supplier_rank.shape[1] > 0)
    host, group, sku, qty, province = [], [], [], [], []
    n_groups = 0
    for h in range(int(rng.integers(1, 8))):
        where = int(rng.integers(0, UNKNOWN + 1)) if rng.random() < 0.3 else int(rng.choice(BUYERS))
        for _part in range(int(rng.integers(1, 3))):
            for _line in range(int(rng.integers(1, 4))):
                host.append(h)
                group.append(n_groups)
                sku.append(int(rng.integers(0, n_skus)))
                qty.append(int(rng.integers(1, 4)))
                province.append(where)
            n_groups += 1
    skus = np.array(sku)
    pin = pin_of[skus]
    kind = np.where(pin >= 0, PINNED, np.where(dropped[skus], DROPSHIP, REGULAR))
    problem = Problem(
        host=np.array(host),
        group=np.array(group),
        sku=skus,
        qty=np.array(qty),
        province=np.array(province),
        kind=kind,
        pin=pin,
        avail=rng.integers(0, 4, n_wh * n_skus).astype(np.int64),
        n_skus=n_skus,
        own_rank=own_rank,
        supplier_rank=supplier_rank,
        score=score,
    )
    return problem, own


def copy(p: Problem) -> Problem:
    """The same problem with its own availability (decide uses it up)."""
    return Problem(**{**p.__dict__, "avail": p.avail.copy()})


# --- the documented rules, one order at a time -------------------------------------------------


def candidates(p: Problem, own: np.ndarray, line: int) -> list[int]:
    """The warehouses a line may ship from: its pin; suppliers then own warehouses for a
    drop-ship line; own warehouses otherwise (nearest first)."""
    where = p.province[line]
    if p.kind[line] == PINNED:
        return [int(p.pin[line])]
    if p.kind[line] == DROPSHIP:
        return [*map(int, p.supplier_rank[where]), *map(int, p.own_rank[where])]
    return [int(w) for w in p.own_rank[where]]


def could_ship(p: Problem, own: np.ndarray, avail: np.ndarray, host: int) -> bool:
    """No line needs more than its best candidate has, and no SKU more than all its
    candidates have together: otherwise the order takes no stock at all."""
    lines = np.flatnonzero(p.host == host)
    need: Counter = Counter()
    for i in lines:
        have = [avail[w * p.n_skus + p.sku[i]] for w in candidates(p, own, i)]
        if not have or max(have) < p.qty[i]:
            return False
        need[(p.sku[i], p.kind[i])] += p.qty[i]
    for i in lines:
        if need[(p.sku[i], p.kind[i])] > sum(avail[w * p.n_skus + p.sku[i]] for w in candidates(p, own, i)):
            return False
    return True


class Documented:
    """The decision as the docstrings of kit.allocation.decide describe it, with loops."""

    def __init__(self, p: Problem, own: np.ndarray, policy: AllocationPolicy) -> None:
        self.p, self.own, self.policy = p, own, policy
        self.avail = p.avail.copy()
        self.chosen = np.full(p.qty.size, -1)
        self.n_hosts = int(p.host.max()) + 1

    def key(self, w: int, line: int) -> int:
        return w * self.p.n_skus + int(self.p.sku[line])

    def take(self, w: int, lines: list[int]) -> bool:
        """Place the lines at w when all of them fit there together."""
        need: Counter = Counter()
        for i in lines:
            need[self.key(w, i)] += self.p.qty[i]
        if any(self.avail[k] < q for k, q in need.items()):
            return False
        for i in lines:
            self.avail[self.key(w, i)] -= self.p.qty[i]
            self.chosen[i] = w
        return True

    def group_levels(self, g: int) -> list[int]:
        """Warehouses a part's ordinary lines try, in order (-1: no warehouse at that rank)."""
        p = self.p
        lines = np.flatnonzero(p.group == g)
        levels = [int(w) for w in p.own_rank[p.province[lines[0]]]]
        if self.policy.strategy == "fewest_parcels":
            pins = [int(p.pin[i]) for i in lines if p.kind[i] == PINNED and p.pin[i] in self.own]
            levels = [pins[0] if pins else -1, *levels]
        return levels

    def whole_parts(self, hosts: set[int]) -> None:
        """Step 1: rank by rank; at each rank the parts one by one, first first."""
        p = self.p
        todo = [g for g in dict.fromkeys(p.group.tolist()) if p.host[p.group == g][0] in hosts]
        todo = [
            g for g in todo
            if any(p.kind[i] == REGULAR and self.chosen[i] < 0 for i in np.flatnonzero(p.group == g))
        ]
        for level in range(self.n_levels(todo)):
            placed = []
            for g in todo:
                lines = [i for i in np.flatnonzero(p.group == g) if p.kind[i] == REGULAR]
                levels = self.group_levels(g)
                w = levels[level] if level < len(levels) else -1
                if w >= 0 and self.take(w, lines):
                    placed.append(g)
            todo = [g for g in todo if g not in placed]

    def n_levels(self, groups: list[int]) -> int:
        return max((len(self.group_levels(g)) for g in groups), default=0)

    def single_lines(self, lines: list[int], levels_of) -> None:
        """Steps 2 and 3 (nearest): rank by rank; at each rank the lines one by one."""
        depth = max((len(levels_of(i)) for i in lines), default=0)
        for level in range(depth):
            for i in list(lines):
                levels = levels_of(i)
                if level < len(levels) and self.take(levels[level], [i]):
                    lines.remove(i)

    def fewest(self, lines: list[int]) -> None:
        """Step 3 (fewest_parcels): each part takes the own warehouse holding most of its open
        lines (nearest on a tie), for all parts at once; then the lines one by one."""
        p = self.p
        for _ in range(self.own.size):
            if not lines:
                return
            snapshot = self.avail.copy()
            proposals = []
            for g in dict.fromkeys(p.group[lines].tolist()):
                mine = [i for i in lines if p.group[i] == g]
                best = None
                for j, w in enumerate(self.own):
                    held = sum(snapshot[self.key(w, i)] >= p.qty[i] for i in mine)
                    rank = (-held, p.score[p.province[mine[0]], w], j)
                    if best is None or rank < best[0]:
                        best = (rank, int(w))
                proposals += [(i, best[1]) for i in mine if snapshot[self.key(best[1], i)] >= p.qty[i]]
            if not proposals:
                return
            for i, w in sorted(proposals):
                if self.take(w, [i]):
                    lines.remove(i)

    def run(self, hosts: set[int]) -> bool:
        """One pass for these orders; those not served give their stock back. True when some did."""
        p = self.p
        self.whole_parts(hosts)
        mine = [i for i in range(p.qty.size) if p.host[i] in hosts]
        self.single_lines([i for i in mine if p.kind[i] != REGULAR and self.chosen[i] < 0],
                          lambda i: candidates(p, self.own, i))
        if self.policy.split:
            rest = [i for i in mine if p.kind[i] == REGULAR and self.chosen[i] < 0]
            if self.policy.strategy == "fewest_parcels":
                self.fewest(rest)
            else:
                self.single_lines(rest, lambda i: [int(w) for w in p.own_rank[p.province[i]]])
        gave_back = False
        for h in hosts:
            lines = np.flatnonzero(p.host == h)
            if (self.chosen[lines] < 0).any():
                for i in lines[self.chosen[lines] >= 0]:
                    self.avail[self.key(self.chosen[i], i)] += p.qty[i]
                    self.chosen[i] = -1
                    gave_back = True
        return gave_back

    def served(self) -> np.ndarray:
        return np.array([(self.chosen[self.p.host == h] >= 0).all() for h in range(self.n_hosts)])

    def decide(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        p = self.p
        gave_back = False
        for _ in range(D.SETTLE_PASSES):
            pending = {h for h in range(self.n_hosts) if not self.served()[h]}
            trying = {h for h in pending if could_ship(p, self.own, self.avail, h)}
            gave_back = self.run(trying)
            if not gave_back or self.served().all():
                break
        if gave_back:
            pending = [h for h in range(self.n_hosts) if not self.served()[h]]
            blocked = [h for h in pending if could_ship(p, self.own, self.avail, h)][: D.SOLO_HOSTS]
            for h in blocked:
                if could_ship(p, self.own, self.avail, h):
                    self.run({h})
        served = self.served()
        missing, missing_at = self.missing(served)
        return self.chosen, served, missing, missing_at, self.avail

    def missing(self, served: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per line of an unserved order: its candidate lacking least (nearest on a tie), or
        for a part that may not be split its one own warehouse lacking least; an order's
        lines of one SKU at one warehouse share what is there, in line order."""
        p, avail = self.p, self.avail
        n_wh = avail.size // p.n_skus
        missing, at = np.zeros(p.qty.size, np.int64), np.full(p.qty.size, -1)
        lines = [i for i in range(p.qty.size) if not served[p.host[i]]]
        for i in lines:
            allowed = candidates(p, self.own, i) if p.kind[i] != DROPSHIP else range(n_wh)
            at[i] = min(
                allowed,
                key=lambda w, i=i: (max(p.qty[i] - avail[self.key(w, i)], 0), p.score[p.province[i], w], w),
            )
        if not self.policy.split and self.own.size:
            for g in dict.fromkeys(p.group[lines].tolist()):
                part = [i for i in lines if p.group[i] == g and p.kind[i] == REGULAR]
                if not part:
                    continue
                need: Counter = Counter()
                for i in part:
                    need[int(p.sku[i])] += p.qty[i]

                def lack(w: int, need: Counter = need, part: list[int] = part) -> tuple:
                    short = sum(max(q - avail[w * p.n_skus + s], 0) for s, q in need.items())
                    return (short, p.score[p.province[part[0]], w], list(self.own).index(w))

                best = min((int(w) for w in self.own), key=lack)
                for i in part:
                    at[i] = best
        taken: Counter = Counter()
        for i in lines:
            k = (p.host[i], self.key(at[i], i))
            have = avail[self.key(at[i], i)] - taken[k]
            missing[i] = min(p.qty[i], max(p.qty[i] - max(have, 0), 0))
            taken[k] += p.qty[i]
        return missing, at


def documented(p: Problem, own: np.ndarray, policy: AllocationPolicy):
    return Documented(p, own, policy).decide()


def one_by_one(p: Problem, own: np.ndarray, policy: AllocationPolicy, avail: np.ndarray | None = None,
               hosts: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Strictly first paid, first served: each order, in priority order, by the documented
    rules (whole parts nearest first, pins, drop-ship, split) against what the orders before
    it left; it takes its stock only when every line is placed."""
    ref = Documented(copy(p), own, policy)
    if avail is not None:
        ref.avail = avail.copy()
    for h in range(ref.n_hosts) if hosts is None else hosts:
        ref.run({h})
    return ref.chosen, ref.served()


# --- invariants ------------------------------------------------------------------------------


def check_invariants(p: Problem, start: np.ndarray, own: np.ndarray, d) -> None:
    """What every decision guarantees, whatever the strategy (S17, S24b)."""
    n_hosts = int(p.host.max()) + 1
    placed = d.warehouse >= 0
    used = np.zeros_like(start)
    np.add.at(used, d.warehouse[placed] * p.n_skus + p.sku[placed], p.qty[placed])
    assert (used <= start).all(), "more taken than available at some (warehouse, SKU)"
    assert (p.avail == start - used).all(), "p.avail is what is left after the served orders"
    for h in range(n_hosts):
        lines = p.host == h
        if d.served[h]:
            assert placed[lines].all(), f"order {h} served with a line not placed"
        else:
            assert not placed[lines].any(), f"order {h} not served but holds stock"
    assert (d.missing[d.served[p.host]] == 0).all(), "missing units only on unserved orders"
    assert (d.missing >= 0).all() and (d.missing <= p.qty).all()
    pinned = placed & (p.kind == PINNED)
    assert (d.warehouse[pinned] == p.pin[pinned]).all(), "a pinned line ships only from its pin"
    regular = placed & (p.kind == REGULAR)
    assert np.isin(d.warehouse[regular], own).all(), "ordinary lines ship from own warehouses"
    assert (d.missing_at[~d.served[p.host]] >= 0).all()


# --- tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_random_batches_follow_the_documented_rules_S17_S24b(policy):
    """S17, S24b on 300 random small batches per policy: the invariants hold, and the
    vectorised decision equals the loop reference line for line (warehouses, served,
    missing units and where, stock left)."""
    for seed in range(CASES):
        p, own = random_problem(seed)
        start = p.avail.copy()
        want = documented(p, own, policy)
        got = decide(p, policy, own)
        check_invariants(p, start, own, got)
        where = f"seed {seed}"
        assert got.warehouse.tolist() == want[0].tolist(), where
        assert got.served.tolist() == want[1].tolist(), where
        assert got.missing.tolist() == want[2].tolist(), where
        assert got.missing_at[~got.served[p.host]].tolist() == want[3][~want[1][p.host]].tolist(), where
        assert p.avail.tolist() == want[4].tolist(), where


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_no_order_is_left_waiting_beside_stock_that_would_serve_it_S24b(policy):
    """S24b: an order left unserved could not be served alone from what is left either (by
    the same rules): stock is never left idle beside an order it would ship."""
    for seed in range(CASES):
        p, own = random_problem(seed)
        d = decide(p, policy, own)
        for h in np.flatnonzero(~d.served):
            _, alone = one_by_one(p, own, policy, avail=p.avail, hosts=[int(h)])
            assert not alone[h], f"seed {seed}: order {h} could ship from the stock left"


def test_one_by_one_disagreements_are_the_documented_rounds_S17():
    """S17: the decision works rank by rank for all orders together ("accepted lines take
    their stock, the others move on to the next warehouse"), so a later order's nearest
    warehouse is served before an earlier order's second choice, and an order that fails
    gives back its stock only after others moved on. Against strict one-by-one service the
    served orders therefore differ in some random batches; every such batch is reproduced
    exactly by the documented rules (test above), and most batches agree."""
    differ = total = 0
    for policy in POLICIES:
        for seed in range(CASES):
            p, own = random_problem(seed)
            _, strict = one_by_one(p, own, policy)
            d = decide(copy(p), policy, own)
            total += 1
            if (strict != d.served).any():
                differ += 1
                assert d.served.tolist() == documented(p, own, policy)[1].tolist()
    assert differ < total * 0.1, f"{differ} of {total} batches differ from one-by-one service"


def test_a_later_nearer_order_wins_over_an_earlier_second_choice_S17():
    """S17, the documented rounds: the first-paid buyer in 广东 finds its store empty and moves
    on to headquarters, but the later buyer in 浙江 already took headquarters' last unit in
    the first round (its nearest). One by one, the first buyer would have had it."""
    score, own, own_rank, supplier_rank = ranked(["hq", "store"], ["浙江省", "广东省"])
    gd, zj = PROVINCES.index("广东省"), PROVINCES.index("浙江省")
    p = Problem(
        host=np.array([0, 1]), group=np.array([0, 1]), sku=np.array([0, 0]), qty=np.array([1, 1]),
        province=np.array([gd, zj]), kind=np.array([REGULAR, REGULAR]), pin=np.array([-1, -1]),
        avail=np.array([1, 0]), n_skus=1, own_rank=own_rank, supplier_rank=supplier_rank, score=score,
    )
    policy = AllocationPolicy()

    d = decide(copy(p), policy, own)

    assert d.served.tolist() == [False, True] and d.warehouse.tolist() == [-1, 0]
    assert d.missing.tolist() == [1, 0] and d.missing_at[0] == 1  # the 广东 store lacks it
    assert one_by_one(p, own, policy)[1].tolist() == [True, False]


def test_first_paid_first_served_at_the_same_warehouse_S24b():
    """S24b: orders competing for the same warehouse are served in priority order, even when
    the first one needs more: three buyers in 浙江, two units at headquarters."""
    score, own, own_rank, supplier_rank = ranked(["hq"], ["浙江省"])
    zj = PROVINCES.index("浙江省")
    p = Problem(
        host=np.array([0, 1, 2]), group=np.array([0, 1, 2]), sku=np.zeros(3, np.int64),
        qty=np.array([2, 1, 1]), province=np.full(3, zj), kind=np.zeros(3, np.int64),
        pin=np.full(3, -1), avail=np.array([2]), n_skus=1, own_rank=own_rank,
        supplier_rank=supplier_rank, score=score,
    )

    d = decide(p, AllocationPolicy(), own)

    assert d.served.tolist() == [True, False, False]
    assert d.missing.tolist() == [0, 1, 1]


def test_an_order_that_cannot_ship_does_not_block_a_later_one_S24b():
    """S24b: an order needing more units of a SKU than all its warehouses hold together
    takes nothing (before the fix it took the supplier's units on every pass, gave them
    back, and the later order that fits waited forever with nothing missing)."""
    score, own, own_rank, supplier_rank = ranked(["hq", "supplier"], ["浙江省", "福建省"])
    zj = PROVINCES.index("浙江省")
    p = Problem(
        host=np.array([0, 0, 0, 1]), group=np.array([0, 1, 1, 2]), sku=np.zeros(4, np.int64),
        qty=np.array([1, 1, 3, 2]), province=np.full(4, zj), kind=np.full(4, DROPSHIP),
        pin=np.full(4, -1), avail=np.array([0, 3]), n_skus=1, own_rank=own_rank,
        supplier_rank=supplier_rank, score=score,
    )

    d = decide(p, AllocationPolicy(), own)

    assert d.served.tolist() == [False, True]
    assert d.warehouse.tolist() == [-1, -1, -1, 1]
    assert d.missing[:3].sum() == 5 - 1  # five wanted, one left at the supplier


def test_two_lines_of_one_sku_count_their_missing_units_together_S24b():
    """S24b: an unserved order's lines of one SKU share the units at one warehouse: two
    lines of 2 where 3 are left miss 1 between them (before the fix: 0, so the order was
    neither allocated nor backordered)."""
    score, own, own_rank, supplier_rank = ranked(["hq"], ["浙江省"])
    zj = PROVINCES.index("浙江省")
    for split in (True, False):
        p = Problem(
            host=np.array([0, 0]), group=np.array([0, 0]), sku=np.zeros(2, np.int64), qty=np.array([2, 2]),
            province=np.full(2, zj), kind=np.zeros(2, np.int64), pin=np.full(2, -1), avail=np.array([3]),
            n_skus=1, own_rank=own_rank, supplier_rank=supplier_rank, score=score,
        )

        d = decide(p, AllocationPolicy(split=split), own)

        assert not d.served[0]
        assert d.missing.tolist() == [0, 1] and d.missing_at.tolist() == [0, 0]


def sequential_accept(keys, qty, unit, n_units, avail) -> np.ndarray:
    """Units one by one, first first: a unit is accepted when all its lines fit after the
    units accepted before it."""
    left, accepted = avail.copy(), np.zeros(keys.size, bool)
    for u in range(n_units):
        mine = unit == u
        after = left.copy()
        np.subtract.at(after, keys[mine], qty[mine])
        if (after >= 0).all():
            left, accepted[mine] = after, True
    return accepted


def test_accept_is_serving_units_one_by_one():
    """decide._accept's promise ("what serving the units one by one, first first, would
    give"), on 2,000 random competitions; before the fix a unit that failed only because
    of an earlier unit that failed itself was dropped too (half the cases differed)."""
    for seed in range(2000):
        rng = np.random.default_rng(seed)
        n_units = int(rng.integers(1, 12))
        unit = np.repeat(np.arange(n_units), rng.integers(1, 4, n_units))
        keys, qty = rng.integers(0, 3, unit.size), rng.integers(1, 4, unit.size)
        avail = rng.integers(0, 6, 3)

        got = D._accept(keys, qty, unit, n_units, avail)

        assert got.tolist() == sequential_accept(keys, qty, unit, n_units, avail).tolist(), f"seed {seed}"


def test_pinned_line_waits_for_its_pin_even_when_another_warehouse_has_it_S17():
    """S17: a pinned SKU ships only from its pin; stock elsewhere does not serve it, and
    what it misses is counted at the pin."""
    score, own, own_rank, supplier_rank = ranked(["hq", "store"], ["浙江省", "广东省"])
    gd = PROVINCES.index("广东省")
    p = Problem(
        host=np.array([0]), group=np.array([0]), sku=np.array([0]), qty=np.array([2]),
        province=np.array([gd]), kind=np.array([PINNED]), pin=np.array([0]), avail=np.array([1, 5]),
        n_skus=1, own_rank=own_rank, supplier_rank=supplier_rank, score=score,
    )

    d = decide(p, AllocationPolicy(), own)

    assert not d.served[0] and d.missing.tolist() == [1] and d.missing_at.tolist() == [0]


def test_empty_batch():
    """No lines: an empty decision."""
    score, own, own_rank, supplier_rank = ranked(["hq"], ["浙江省"])
    empty = np.zeros(0, np.int64)
    p = Problem(empty, empty, empty, empty, empty, empty, empty, np.zeros(1, np.int64), 1, own_rank,
                supplier_rank, score)

    d = decide(p, AllocationPolicy(), own)

    assert d.served.size == 0 and d.warehouse.size == 0 and d.rounds == 0
