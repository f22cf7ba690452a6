"""Workload: a million-row Taobao 订单报表 in GBK, from bytes on disk to reviewed orders in SQLite.

kit   — kit.intake.readers.read (detect, decode, parse every column, keep the original text
        of every row) and import_intake(review=True) (classify against the store, run the
        review rules, write each order once, approved or held, with its audit rows).
floor — decode the same bytes, polars.read_csv, and one bulk insert of the same columns
        into the kit's `orders` table, renamed but not parsed (no checks, no audit).
naive — the csv module, one row at a time: parse and check each row in Python, one INSERT
        per row (on a sample; per-row ratios).
Each way runs in a process of its own, so its peak memory is its own.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl

import kit
from benchmarks.databases import DATA
from benchmarks.harness import Result, isolated
from kit.demo.exports import big_order_report
from kit.intake.importer import import_intake
from kit.intake.readers import read
from kit.store import Store

WORKLOAD = "Intake: 订单报表 (GBK, 46 columns) read, reviewed and stored in SQLite"
NAIVE_ROWS = 20_000
# The report's columns the floor stores as they are, under the kit's names (no parsing).
FLOOR_COLUMNS = {"订单编号": "order_no", "买家会员名": "buyer_nick", "收货人姓名": "receiver_name",
                 "联系手机": "receiver_mobile", "收货地址": "address_detail", "总金额": "total_fen",
                 "买家应付货款": "payable_fen", "买家实际支付金额": "paid_fen",
                 "买家应付邮费": "post_fee_fen",
                 "订单状态": "trade_status", "买家留言": "buyer_message", "订单备注": "seller_memo",
                 "订单创建时间": "created_at", "订单付款时间": "paid_at"}
STATUS = {"等待买家付款": "WAIT_BUYER_PAY",
          "买家已付款，等待卖家发货": "WAIT_SELLER_SEND_GOODS",
          "卖家已发货，等待买家确认": "WAIT_BUYER_CONFIRM_GOODS", "买家已签收": "TRADE_BUYER_SIGNED",
          "交易成功": "TRADE_FINISHED", "交易关闭": "TRADE_CLOSED",
          "交易被淘宝关闭": "TRADE_CLOSED_BY_TAOBAO"}


def report(rows: int) -> Path:
    """The generated report of `rows` rows (written once, kept in benchmarks/.data)."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"ExportOrderList-{rows}.csv"
    if not path.exists():
        big_order_report(rows, path, layout=46, encoding="gbk", seed=1)
    return path


def kit_way(path: str, db: str) -> None:
    """The kit: read, import with review, in one transaction."""
    with kit.connect(db, actor="店长") as shop:
        import_intake(shop, read(path), review=True)


def floor_way(path: str, db: str) -> None:
    """Decode, read_csv, one bulk insert of the same columns into `orders` (unparsed)."""
    Store.open(db).close()
    text = Path(path).read_bytes().decode("gb18030").encode("utf-8")
    frame = pl.read_csv(text, infer_schema=False)
    frame = frame.rename({c: c.strip() for c in frame.columns}).select(
        [pl.col(src).alias(dst) for src, dst in FLOOR_COLUMNS.items()]).with_columns(
        platform=pl.lit("taobao"), shop=pl.lit("示例小店"), province=pl.lit(""), city=pl.lit(""),
        district=pl.lit(""), payment_method=pl.lit("online"), stage=pl.lit("new"),
        version=pl.lit(0), updated_at=pl.lit("2026-11-30 00:00:00"))
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA synchronous=NORMAL")
    marks = ", ".join("?" * frame.width)
    con.execute("BEGIN")
    con.executemany(f"INSERT INTO orders ({', '.join(frame.columns)}) VALUES ({marks})", frame.iter_rows())
    con.execute("COMMIT")
    con.close()


def _yuan(text: str) -> int:
    return int(Decimal(text.strip().removesuffix("元")) * 100)


def naive_way(path: str, db: str) -> None:
    """Row at a time, the same job: csv module, Python parsing and checks, a look for the same
    order already stored and for the buyer's other open orders, then the order and its audit
    row, each order committed as it is read."""
    Store.open(db).close()
    con = sqlite3.connect(db)
    cur = con.cursor()
    mobile = re.compile(r"^1[3-9]\d{9}$")
    with open(path, encoding="gb18030", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader)]
        at = {h: i for i, h in enumerate(header)}
        for row in reader:
            order_no = row[at["订单编号"]].strip('="')
            if cur.execute("SELECT 1 FROM orders WHERE order_no = ?", (order_no,)).fetchone():
                continue  # already registered: a duplicate
            province, city, district, *rest = [*row[at["收货地址"]].split(" "), "", "", ""][:4]
            payable = _yuan(row[at["买家应付货款"]]) + _yuan(row[at["买家应付邮费"]])
            paid = _yuan(row[at["买家实际支付金额"]])
            phone = row[at["联系手机"]].lstrip("'")
            buyer = row[at["买家会员名"]]
            status = STATUS.get(row[at["订单状态"]], "WAIT_SELLER_SEND_GOODS")
            others = cur.execute("SELECT count(*) FROM orders WHERE buyer_nick = ? AND stage IN "
                                 "('new', 'held', 'approved')", (buyer,)).fetchone()[0]
            ok = paid >= payable and bool(mobile.match(phone)) and bool(province) and not others
            stage = "approved" if ok else "held"
            cur.execute(
                "INSERT INTO orders (order_no, platform, shop, buyer_nick, receiver_name, receiver_mobile,"
                " province, city, district, address_detail, payment_method, total_fen, payable_fen,"
                " paid_fen, created_at, paid_at, trade_status, stage, version, updated_at)"
                " VALUES (?, 'taobao', '示例小店', ?, ?, ?, ?, ?, ?, ?, 'online', ?, ?, ?, ?, ?, ?, ?, 1,"
                " '2026-11-30 00:00:00')",
                (order_no, buyer, row[at["收货人姓名"]], phone, province, city, district, " ".join(rest),
                 _yuan(row[at["总金额"]]), payable, paid, row[at["订单创建时间"]],
                 row[at["订单付款时间"]] or None, status, stage))
            cur.execute("INSERT INTO audit (at, actor, role, entity, entity_id, action, field, from_state,"
                        " to_state) VALUES ('2026-11-30 00:00:00', 'naive', 'system', 'order', ?, ?,"
                        " 'stage', 'new', ?)", (order_no, stage, stage))
            con.commit()
    con.close()


def run(rows: int = 1_000_000) -> list[Result]:
    """Measure kit and floor on `rows` rows and naive on a sample, each in its own process."""
    big, sample = report(rows), report(min(NAIVE_ROWS, rows))  # same generator, fewer rows
    with tempfile.TemporaryDirectory(prefix="kit-bench-intake-") as folder:
        measures = {
            "kit": isolated("kit", rows, kit_way, (str(big), f"{folder}/kit.db")),
            "floor": isolated("floor", rows, floor_way, (str(big), f"{folder}/floor.db")),
            "naive": isolated("naive", min(NAIVE_ROWS, rows), naive_way,
                              (str(sample), f"{folder}/naive.db")),
        }
    size = big.stat().st_size / 1e6
    return [Result(WORKLOAD, "SQLite", measures, notes=[
        f"{rows:,} rows, {size:,.0f} MB of GBK, generated by kit.demo.exports.big_order_report; "
        f"naive runs on the first {min(NAIVE_ROWS, rows):,} rows (per-row ratios) and commits each "
        "order as it reads it, with the driver's default settings (synchronous=FULL).",
        "kit includes what the floor skips: every cell parsed and checked, the original text of "
        "every row kept for quarantine, the review rules, and an audit row per decision.",
    ])]
