"""`python -m benchmarks`: run the workloads, print the ratios, write RESULTS.md."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys

import polars as pl
import sqlalchemy as sa

from benchmarks import allocation, confirmation, desks, documents, insert_orders, intake, stats
from benchmarks.harness import RESULTS, load_all, render, save

WORKLOADS = ("insert", "intake", "allocation", "documents", "confirmation", "desks", "stats")


def _sqlite_only(postgres: str | None) -> None:
    """Say so when a workload that measures PostgreSQL too has no URL for it."""
    if not postgres:
        print("benchmarks: no PostgreSQL URL given; measuring SQLite only", file=sys.stderr)


def main() -> None:
    """Run the workloads and write benchmarks/RESULTS.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--only", choices=WORKLOADS, action="append",
                        help="run only this workload (repeatable); the others keep their last numbers")
    parser.add_argument("--orders", type=int, default=100_000, help="insert workload: orders")
    parser.add_argument("--naive-orders", type=int, default=10_000)
    parser.add_argument("--intake-rows", type=int, default=1_000_000, help="intake workload: rows")
    parser.add_argument("--allocation-orders", type=int, default=1_000_000,
                        help="allocation workload: approved orders (e.g. 20000 for a quick run)")
    parser.add_argument("--allocation-naive", type=int, default=allocation.NAIVE_ORDERS,
                        help="allocation workload: orders the naive way runs on")
    parser.add_argument("--allocation-repeat", type=int, default=1,
                        help="allocation workload: runs of kit and floor (each on a fresh copy)")
    parser.add_argument("--documents-labels", type=int, default=500,
                        help="documents workload: waybill labels in the wave")
    parser.add_argument("--documents-naive", type=int, default=documents.NAIVE_LABELS,
                        help="documents workload: labels the naive way prints")
    parser.add_argument("--confirmation-orders", type=int, default=100_000,
                        help="confirmation workload: handed-over shipments (one per order)")
    parser.add_argument("--confirmation-naive", type=int, default=confirmation.NAIVE_ORDERS,
                        help="confirmation workload: shipments the naive way confirms")
    parser.add_argument("--desks-orders", type=int, default=100_000,
                        help="desks workload: open orders in the shipping desk's shop")
    parser.add_argument("--stats-shipments", type=int, default=10_000_000,
                        help="stats workload: synthetic shipments in memory (one year)")
    parser.add_argument("--stats-db-shipments", type=int, default=1_000_000,
                        help="stats workload: shipments read from the databases (0: skip)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("KIT_BENCH_POSTGRES_URL")
                        or os.environ.get("KIT_TEST_POSTGRES_URL"),
                        help="PostgreSQL URL (default KIT_BENCH_POSTGRES_URL or KIT_TEST_POSTGRES_URL)")
    args = parser.parse_args()
    chosen = args.only or list(WORKLOADS)
    if "insert" in chosen:
        _sqlite_only(args.postgres)
        save("insert", insert_orders.run(args.orders, args.naive_orders, args.postgres, args.repeat))
    if "intake" in chosen:
        save("intake", intake.run(args.intake_rows))
    if "allocation" in chosen:
        _sqlite_only(args.postgres)
        save("allocation", allocation.run(args.allocation_orders, args.allocation_naive, args.postgres,
                                          args.allocation_repeat))
    if "documents" in chosen:
        save("documents", documents.run(args.documents_labels, args.documents_naive, args.repeat))
    if "confirmation" in chosen:
        _sqlite_only(args.postgres)
        save("confirmation", confirmation.run(args.confirmation_orders, args.confirmation_naive,
                                              args.postgres, args.repeat))
    if "desks" in chosen:
        _sqlite_only(args.postgres)
        save("desks", desks.run(args.desks_orders, args.postgres, args.repeat))
    if "stats" in chosen:
        _sqlite_only(args.postgres)
        save("stats", stats.run(args.stats_shipments, args.stats_db_shipments, args.postgres, args.repeat))
    versions = {"polars": pl.__version__, "SQLAlchemy": sa.__version__, "SQLite": sqlite3.sqlite_version}
    if args.postgres:
        import psycopg

        versions["psycopg"] = psycopg.__version__
    results, runs = load_all()
    text = render(results, versions, runs)
    print(text)
    RESULTS.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
