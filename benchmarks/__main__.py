"""`python -m benchmarks`: run every workload, print the ratios, write RESULTS.md."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys

import polars as pl
import sqlalchemy as sa

from benchmarks import insert_orders
from benchmarks.harness import RESULTS, render


def main() -> None:
    """Run the workloads and write benchmarks/RESULTS.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--naive-orders", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("KIT_BENCH_POSTGRES_URL")
                        or os.environ.get("KIT_TEST_POSTGRES_URL"),
                        help="PostgreSQL URL (default KIT_BENCH_POSTGRES_URL or KIT_TEST_POSTGRES_URL)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if not args.postgres:
        print("benchmarks: no PostgreSQL URL given; measuring SQLite only", file=sys.stderr)
    results = insert_orders.run(args.orders, args.naive_orders, args.postgres, args.repeat)
    versions = {"polars": pl.__version__, "SQLAlchemy": sa.__version__,
                "SQLite": sqlite3.sqlite_version}
    if args.postgres:
        import psycopg

        versions["psycopg"] = psycopg.__version__
    text = render(results, versions)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
