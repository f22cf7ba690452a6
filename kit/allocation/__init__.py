"""Allocation (分仓, S17, S23, S24b): for approved orders, choose the warehouses that ship
them, reserve the stock, create the shipments, and move each order to `allocated` — or to
`backordered`, with what it misses — all in one transaction per batch.

    >>> from kit.allocation import AllocationPolicy, allocate
    >>> result = allocate(shop)                                    # nearest first (S17)
    >>> result = allocate(shop, policy=AllocationPolicy(strategy="fewest_parcels", split=False))
    >>> result.allocated, result.backordered, result.short          # short: lines and missing units

How a batch runs (kit.allocation.run.allocate_batch):

1. lock the orders (PostgreSQL: FOR UPDATE SKIP LOCKED, so parallel runs take different
   orders), check the lifecycle's `allocate` rule for each (role, state, trade status);
2. lock every stock row of their SKUs (PostgreSQL: FOR UPDATE in (warehouse_code, sku)
   order, the order every stock move locks in, so no two writers wait on each other in a
   cycle; SQLite: the write transaction is exclusive) and read their lines, the
   warehouses with their nearness to each province (kit.allocation.ranking), pins and
   drop-ship SKUs, and available stock, into arrays: nobody can change those numbers
   until the batch commits;
3. decide on whole arrays (kit.allocation.decide): no loop per order;
4. write: ONE guarded bulk update of stock_levels, shipments and their lines, reservations
   and their ledger rows, the orders' transitions with audit rows (allocated, or
   backordered with the missing quantities as the reason), the backorders table.
"""

from kit.allocation.decide import Decision, Problem, decide
from kit.allocation.policy import STRATEGIES, AllocationPolicy
from kit.allocation.ranking import distance, scores
from kit.allocation.run import AllocationResult, allocate, allocate_batch, backorders, deallocate

__all__ = [
    "STRATEGIES",
    "AllocationPolicy",
    "AllocationResult",
    "Decision",
    "Problem",
    "allocate",
    "allocate_batch",
    "backorders",
    "deallocate",
    "decide",
    "distance",
    "scores",
]
