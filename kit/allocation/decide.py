"""The allocation decision, on whole arrays: which warehouse ships each order line, which
orders cannot be served and what they miss. No database, no loop per order.

Availability is a dense array over (warehouse, SKU) (10 warehouses × 50,000 SKUs is half
a million numbers), so "join a line to its warehouse's stock" is one gather. Lines come
in priority order (first paid, first served). Each step proposes one warehouse per line
(or per group of lines that must ship together), keeps the proposals whose running total
per (warehouse, SKU), in priority order, stays within what is available, and accepts a
group only when all its lines fit (a group that does not fit drops out and the totals
are taken again without it); accepted lines take their stock, the others move on to the
next warehouse. The bounded loops run over warehouses and passes, never over orders.

Steps: (1) each ship part's ordinary lines from one warehouse, nearest first (S17);
(2) pinned and drop-ship lines from their own candidates (S17: supplier ships directly);
(3) when the policy allows splitting (S24b), the lines of parts no single warehouse could
ship, each from the nearest warehouse holding it (or, for `fewest_parcels`, the one
holding most of the part's lines first). An order is served only when all its lines
are; the stock of an order that is not is given back and the step run again for the rest.
An order that cannot ship (a line, or all its units of one SKU together, beyond what its
candidate warehouses hold) takes no stock at all; orders still taking stock they give back
after SETTLE_PASSES are decided one by one, first first (at most SOLO_HOSTS of them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kit.allocation.policy import AllocationPolicy

__all__ = ["DROPSHIP", "PINNED", "REGULAR", "Decision", "Problem", "decide"]

REGULAR, PINNED, DROPSHIP = 0, 1, 2
SETTLE_PASSES = 6  # decide again for orders left unserved after another's stock came back
FIT_ITERATIONS = 8  # units whose line does not fit drop out, and the rest are summed again
SOLO_HOSTS = 32  # orders still blocked after the passes are decided one by one, at most this many
NEAR_SPAN = 1_000_000  # nearness scores stay below this, so counts * NEAR_SPAN - score ranks both


@dataclass
class Problem:
    """One batch as arrays. Lines are in priority order; `host` numbers the orders (merged
    orders share their host) in priority order, `group` the ship parts of hosts.

    avail: (warehouses × skus,) units available, indexed warehouse * n_skus + sku.
    own_rank / supplier_rank: (provinces + 1, n) warehouse ids, nearest first.
    score: (provinces + 1, warehouses) nearness, lower first.
    """

    host: np.ndarray
    group: np.ndarray
    sku: np.ndarray
    qty: np.ndarray
    province: np.ndarray
    kind: np.ndarray  # REGULAR, PINNED, DROPSHIP
    pin: np.ndarray  # warehouse id of a pinned line, else -1
    avail: np.ndarray
    n_skus: int
    own_rank: np.ndarray
    supplier_rank: np.ndarray
    score: np.ndarray


@dataclass
class Decision:
    """Per line: the warehouse chosen (-1: none), and for lines of unserved orders the units
    missing and the warehouse they are missing at. Per host: served."""

    warehouse: np.ndarray
    served: np.ndarray
    missing: np.ndarray
    missing_at: np.ndarray
    rounds: int


def _compete(keys: np.ndarray, qty: np.ndarray, avail: np.ndarray) -> np.ndarray:
    """Per proposal (in priority order): whether the running total of its (warehouse, SKU)
    up to and including it stays within what is available."""
    order = np.argsort(keys, kind="stable")  # stable: priority order kept within a key
    k, q = keys[order], qty[order]
    total = np.cumsum(q)
    starts = np.ones(k.size, bool)
    starts[1:] = k[1:] != k[:-1]
    before = np.maximum.accumulate(np.where(starts, total - q, 0))
    fits = np.empty(k.size, bool)
    fits[order] = (total - before) <= avail[k]
    return fits


def _all_by(index: np.ndarray, ok: np.ndarray, size: int) -> np.ndarray:
    """Per index value (group or host): True when every row with that value is ok."""
    return np.bincount(index[~ok], minlength=size) == 0


def _take(avail: np.ndarray, keys: np.ndarray, qty: np.ndarray) -> None:
    """Subtract accepted quantities from availability, in place."""
    np.subtract.at(avail, keys, qty)


def _certain(keys: np.ndarray, unit: np.ndarray, failing: np.ndarray, n_units: int) -> np.ndarray:
    """Per unit: whether it fails whatever the other failing units do. A failing line fails
    for sure when every line before it at its (warehouse, SKU) belongs to a unit that fits
    (those are served) or to its own unit; the first failing unit always does."""
    suspect = ~_all_by(unit, ~failing, n_units)
    order = np.argsort(keys, kind="stable")
    k, u = keys[order], unit[order]
    index = np.arange(k.size)
    starts = np.ones(k.size, bool)
    starts[1:] = k[1:] != k[:-1]
    runs = starts.copy()
    runs[1:] |= u[1:] != u[:-1]
    key_start = np.maximum.accumulate(np.where(starts, index, 0))
    run_start = np.maximum.accumulate(np.where(runs, index, 0))
    counted = np.cumsum(suspect[u]) - suspect[u]  # suspect lines before each, overall
    blocked = counted[run_start] > counted[key_start]  # another suspect unit comes first
    certain = np.zeros(n_units, bool)
    certain[u[failing[order] & ~blocked]] = True
    return certain


def _accept(
    keys: np.ndarray, qty: np.ndarray, unit: np.ndarray, n_units: int, avail: np.ndarray
) -> np.ndarray:
    """Which proposals (in priority order) to accept, whole units (groups, or single lines) at
    a time: the units that fail for sure drop out and the running totals are taken again
    without them, until every unit left fits. A line's fit depends only on the lines before
    it, so this is what serving the units one by one, first first, would give (after
    FIT_ITERATIONS, every unit still failing drops out: never more than is available)."""
    alive = np.ones(keys.size, bool)
    for _ in range(FIT_ITERATIONS):
        idx = np.flatnonzero(alive)
        fits = _compete(keys[idx], qty[idx], avail)
        if fits.all():
            return alive
        alive[idx] &= ~_certain(keys[idx], unit[idx], ~fits, n_units)[unit[idx]]
    fits = np.zeros(keys.size, bool)
    fits[alive] = _compete(keys[alive], qty[alive], avail)
    return alive & _all_by(unit[alive], fits[alive], n_units)[unit]


def _place_groups(p: Problem, lines: np.ndarray, candidates: list[np.ndarray], chosen: np.ndarray) -> None:
    """Step 1: each group's `lines` from one warehouse; `candidates[k][line]` is the k-th
    warehouse to try (-1: none). Writes `chosen`, takes stock from p.avail."""
    n_groups = int(p.group.max()) + 1 if p.group.size else 0
    todo = lines
    for level in candidates:
        if todo.size == 0:
            return
        wh = level[todo]
        key = wh * p.n_skus + p.sku[todo]
        static = (wh >= 0) & (p.avail[np.maximum(key, 0)] >= p.qty[todo])
        proposed = _all_by(p.group[todo], static, n_groups)[p.group[todo]]
        props = todo[proposed]
        if props.size == 0:
            continue
        won = _accept(key[proposed], p.qty[props], p.group[props], n_groups, p.avail)
        accepted = props[won]
        chosen[accepted] = level[accepted]
        _take(p.avail, key[proposed][won], p.qty[accepted])
        placed = np.zeros(n_groups, bool)
        placed[p.group[accepted]] = True
        todo = todo[~placed[p.group[todo]]]


def _place_lines(p: Problem, lines: np.ndarray, candidates: list[np.ndarray], chosen: np.ndarray) -> None:
    """Steps 2 and 3 (nearest): each line on its own, from its first candidate that fits."""
    todo = lines
    for level in candidates:
        if todo.size == 0:
            return
        wh = level[todo]
        key = wh * p.n_skus + p.sku[todo]
        static = (wh >= 0) & (p.avail[np.maximum(key, 0)] >= p.qty[todo])
        props = todo[static]
        if props.size == 0:
            continue
        won = _accept(key[static], p.qty[props], np.arange(props.size), props.size, p.avail)
        accepted = props[won]
        chosen[accepted] = level[accepted]
        _take(p.avail, key[static][won], p.qty[accepted])
        todo = np.setdiff1d(todo, accepted, assume_unique=True)


def _place_fewest(p: Problem, lines: np.ndarray, own: np.ndarray, chosen: np.ndarray) -> None:
    """Step 3 (fewest_parcels): per group, the warehouse holding most of its open lines first
    (nearest on a tie), then the next, until no warehouse adds a line."""
    todo = lines
    for _ in range(own.size):
        if todo.size == 0:
            return
        keys = own[None, :] * p.n_skus + p.sku[todo, None]  # open lines × own warehouses
        holds = p.avail[keys] >= p.qty[todo, None]
        _, first, where = np.unique(p.group[todo], return_index=True, return_inverse=True)
        counts = np.zeros((first.size, own.size), np.int64)
        np.add.at(counts, where, holds.astype(np.int64))
        near = p.score[p.province[todo[first]]][:, own]
        pick = np.argmax(counts * NEAR_SPAN - near, axis=1)[where]
        rows = np.arange(todo.size)
        ok = holds[rows, pick]
        props = todo[ok]
        if props.size == 0:
            return
        key = keys[rows, pick][ok]
        won = _accept(key, p.qty[props], np.arange(props.size), props.size, p.avail)
        accepted = props[won]
        chosen[accepted] = own[pick[ok][won]]
        _take(p.avail, key[won], p.qty[accepted])
        todo = np.setdiff1d(todo, accepted, assume_unique=True)


def _could_ship(p: Problem, own: np.ndarray, hosts: np.ndarray) -> np.ndarray:
    """Per host: whether each of its lines (among `hosts`) has some candidate warehouse with
    enough available now, and its units of each SKU fit in all candidates together. An order
    that cannot ship takes no stock it would give back."""
    lines = np.flatnonzero(hosts[p.host])
    every = p.avail.reshape(-1, p.n_skus)
    sku, qty, kind = p.sku[lines], p.qty[lines], p.kind[lines]
    best = every[:, sku].max(axis=0) if every.shape[0] else np.zeros(lines.size, np.int64)
    regular, pinned = kind == REGULAR, kind == PINNED
    if own.size:
        best[regular] = every[own][:, sku[regular]].max(axis=0)
    else:
        best[regular] = 0
    best[pinned] = every[p.pin[lines[pinned]], sku[pinned]]
    # all of an order's units of one SKU must fit in its candidates together, not one line each
    room = every[:, sku].sum(axis=0) if every.shape[0] else np.zeros(lines.size, np.int64)
    room[regular] = every[own][:, sku[regular]].sum(axis=0) if own.size else 0
    room[pinned] = best[pinned]
    _, pair = np.unique((p.host[lines] * p.n_skus + sku) * 3 + kind, return_inverse=True)
    demand = np.bincount(pair, weights=qty).astype(np.int64)[pair]
    n_hosts = hosts.size
    return hosts & _all_by(p.host[lines], (best >= qty) & (room >= demand), n_hosts)


def _levels(rank: np.ndarray, province: np.ndarray) -> list[np.ndarray]:
    """Per rank position, each line's warehouse at that position for its province."""
    return [rank[province, k] for k in range(rank.shape[1])]


def _missing(
    p: Problem, decision: Decision, unserved: np.ndarray, policy: AllocationPolicy, own: np.ndarray
) -> None:
    """Units each line of an unserved order lacks, and at which warehouse (see Decision).

    A line ships whole from one warehouse, so what it lacks is counted at its candidate
    warehouse that lacks least (nearest on a tie): the pin for a pinned line, suppliers and
    own warehouses for a drop-ship line, own warehouses otherwise. When orders may not be
    split, the ordinary lines of a ship part are counted together at the one own warehouse
    where the part lacks least: what a restock or a transfer there must bring (S23). An
    order's lines of one SKU counted at one warehouse share what is there, in line order.
    """
    lines = np.flatnonzero(unserved[p.host])
    if lines.size == 0:
        return
    sku, qty, kind = p.sku[lines], p.qty[lines], p.kind[lines]
    every = p.avail.reshape(-1, p.n_skus)
    lack = np.maximum(qty[:, None] - every[:, sku].T, 0)  # lines × warehouses
    near = p.score[p.province[lines]]
    allowed = np.zeros(lack.shape, bool)
    allowed[np.ix_(kind == REGULAR, own)] = True
    allowed[kind == DROPSHIP] = True
    pinned = np.flatnonzero(kind == PINNED)
    allowed[pinned, p.pin[lines[pinned]]] = True
    best = np.argmin(np.where(allowed, lack * NEAR_SPAN + near, np.iinfo(np.int64).max), axis=1)
    at = best
    regular = np.flatnonzero(kind == REGULAR)
    if not policy.split and regular.size and own.size:
        # a part's units of one SKU are counted together (two lines of one SKU share the shelf)
        _, pair = np.unique(p.group[lines[regular]] * p.n_skus + sku[regular], return_inverse=True)
        _, first, where = np.unique(p.group[lines[regular]], return_index=True, return_inverse=True)
        demand = np.bincount(pair, weights=qty[regular]).astype(np.int64)
        pair_sku = np.zeros(demand.size, np.int64)
        pair_sku[pair] = sku[regular]
        pair_group = np.zeros(demand.size, np.int64)
        pair_group[pair] = where
        part = np.maximum(demand[:, None] - every[own][:, pair_sku].T, 0)  # part SKUs × own
        per_group = np.zeros((first.size, own.size), np.int64)
        np.add.at(per_group, pair_group, part)
        choice = np.argmin(per_group * NEAR_SPAN + near[regular[first]][:, own], axis=1)[where]
        at[regular] = own[choice]
    # what each line misses where it is counted: an order's lines of one SKU at one warehouse
    # take the units there in line order, so the later lines miss what the earlier ones took
    key = (p.host[lines] * (every.shape[0] + 1) + at) * p.n_skus + sku
    order = np.argsort(key, kind="stable")
    k, q = key[order], qty[order]
    total = np.cumsum(q)
    starts = np.ones(k.size, bool)
    starts[1:] = k[1:] != k[:-1]
    running = total - np.maximum.accumulate(np.where(starts, total - q, 0))
    short = np.empty(lines.size, np.int64)
    short[order] = np.clip(running - every[at[order], sku[order]], 0, q)
    decision.missing[lines] = short
    decision.missing_at[lines] = at


def decide(
    p: Problem,
    policy: AllocationPolicy,
    own: np.ndarray,
    *,
    hosts: np.ndarray | None = None,
    chosen: np.ndarray | None = None,
) -> Decision:
    """Choose a warehouse for every line of the batch (see the module docstring).

    `own` holds the ids of the shop's own warehouses (headquarters and stores). With `hosts`
    (a mask) only those orders are decided; the others keep their warehouse in `chosen`,
    and p.avail must already be net of their stock. p.avail is used up in place:
    afterwards it holds what is left once the served orders took their stock.
    """
    n, n_hosts = p.qty.size, int(p.host.max()) + 1 if p.qty.size else 0
    if n == 0:
        empty = np.zeros(0, np.int64)
        return Decision(empty, np.zeros(0, bool), empty, empty, 0)
    chosen = np.full(n, -1) if chosen is None else chosen.copy()
    pending = np.ones(n_hosts, bool) if hosts is None else hosts.copy()
    own_levels = _levels(p.own_rank, p.province)
    regular, pinned, dropped = (p.kind == REGULAR), (p.kind == PINNED), (p.kind == DROPSHIP)
    special_levels = [np.where(pinned, p.pin, -1)]
    special_levels += [np.where(dropped, lv, -1) for lv in _levels(p.supplier_rank, p.province)]
    special_levels += [np.where(dropped, lv, -1) for lv in own_levels]
    first = own_levels
    if policy.strategy == "fewest_parcels":  # an own warehouse already shipping a pinned line first
        n_groups = int(p.group.max()) + 1 if n else 0
        preferred = np.full(n_groups, -1)
        at_own = pinned & np.isin(p.pin, own)
        preferred[p.group[at_own][::-1]] = p.pin[at_own][::-1]
        first = [preferred[p.group], *own_levels]
    rounds, back = 0, np.zeros(0, np.int64)

    def run(trying: np.ndarray) -> np.ndarray:
        """One pass for the orders in `trying`; an order not served gives its stock back."""
        open_line = trying[p.host] & (chosen < 0)
        _place_groups(p, np.flatnonzero(open_line & regular), first, chosen)
        _place_lines(p, np.flatnonzero(open_line & ~regular), special_levels, chosen)
        if policy.split:
            rest = np.flatnonzero(trying[p.host] & regular & (chosen < 0))
            if policy.strategy == "fewest_parcels":
                _place_fewest(p, rest, own, chosen)
            else:
                _place_lines(p, rest, own_levels, chosen)
        failed = trying & ~_all_by(p.host, chosen >= 0, n_hosts)
        back = np.flatnonzero(failed[p.host] & (chosen >= 0))
        if back.size:  # an order not served gives its stock back to the others
            np.add.at(p.avail, chosen[back] * p.n_skus + p.sku[back], p.qty[back])
            chosen[back] = -1
        pending[:] &= ~_all_by(p.host, chosen >= 0, n_hosts)
        return back

    for _pass in range(SETTLE_PASSES):
        rounds += 1
        back = run(pending & _could_ship(p, own, pending))
        if back.size == 0 or not pending.any():
            break
    if back.size:  # orders still taking stock they give back: the rest, one by one, first first
        for h in np.flatnonzero(pending & _could_ship(p, own, pending))[:SOLO_HOSTS]:
            alone = np.zeros(n_hosts, bool)
            alone[h] = True
            run(alone & _could_ship(p, own, alone))
    decision = Decision(
        chosen, _all_by(p.host, chosen >= 0, n_hosts), np.zeros(n, np.int64), np.full(n, -1), rounds
    )
    _missing(p, decision, pending, policy, own)
    return decision
