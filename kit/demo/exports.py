"""Synthetic seller-backend exports: the demo shop's kind of orders written as Taobao 订单报表
and 宝贝报表 (46, 56 or 61 columns, GBK or UTF-8), the per-line Tmall XLSX, a generic CSV
and JSON Lines, byte for byte as the real backends write them (=\"…\" order numbers,
' mobiles, No: waybills, trailing-space headers, the item report's trailing comma).

Deterministic (numpy seeds), whole-column (polars), with made-up people (names drawn
character by character, random mobiles) and real place names. `shop()` gives the truth
(what a reader must find); the *_cells() functions turn it into the text cells of one
export; csv_bytes(), xlsx_bytes() and jsonl_bytes() write files. The intake tests add
their faults on top (tests/intake_fixtures.py); `kit demo --exports DIR` writes samples
to try `kit import` on; the benchmarks write a million-row report.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from kit.demo.catalog import catalog, texts
from kit.demo.geography import receivers

# The six headers that carry a trailing space in real 订单报表 files.
SPACED = ("收货地址", "联系电话", "订单付款时间", "宝贝标题", "宝贝种类", "物流单号")


def _spaced(names: list[str]) -> tuple[str, ...]:
    return tuple(f"{n} " if n in SPACED else n for n in names)


TAOBAO_46 = _spaced([
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分", "总金额",
    "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言", "收货人姓名", "收货地址",
    "运送方式", "联系电话", "联系手机", "订单创建时间", "订单付款时间", "宝贝标题", "宝贝种类", "物流单号",
    "物流公司", "订单备注", "宝贝总数量", "店铺Id", "店铺名称", "订单关闭原因", "卖家服务费", "买家服务费",
    "发票抬头", "是否手机订单", "分阶段订单信息", "特权订金订单id", "是否上传合同照片", "是否上传小票",
    "是否代付", "定金排名", "修改后的sku", "修改后的收货地址", "异常信息", "天猫卡券抵扣", "集分宝抵扣",
    "是否是O2O交易", "退款金额", "预约门店",
])
TAOBAO_56 = (*TAOBAO_46, "确认收货时间", "打款商家金额", "含应开票给个人的个人红包", "新零售交易类型",
             "新零售导购门店id", "新零售导购门店名称", "新零售发货门店id", "新零售发货门店名称",
             "新零售成交门店id", "新零售成交门店名称")
TAOBAO_61 = (*TAOBAO_56, "支付单号", "支付详情", "买家购买渠道", "是否门店自提", "主订单编号")
LAYOUTS = {46: TAOBAO_46, 56: TAOBAO_56, 61: TAOBAO_61}
ITEM_HEADERS = ("订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性", "套餐信息", "备注",
                "订单状态", "商家编码")
TMALL_HEADERS = ("子订单编号", "主订单编号", "商品标题", "商品价格", "购买数量", "外部系统编号",
                 "商品属性", "套餐信息", "订单状态", "商家编码", "买家会员名", "买家应付货款",
                 "买家应付邮费", "买家实付金额", "退款金额",
                 "收货人姓名", "收货地址", "联系手机", "订单创建时间", "订单付款时间", "发货时间", "物流单号",
                 "物流公司", "买家留言", "卖家备注")
# A made-up shop system's export, read through a column mapping.
GENERIC_MAPPING = {"order_no": "订单号", "receiver_name": "收件人", "receiver_mobile": "手机",
                   "province": "省份", "city": "城市", "district": "区县", "address_detail": "详细地址",
                   "paid_fen": "实付金额", "post_fee_fen": "运费", "created_at": "下单时间",
                   "title": "商品名称", "sku": "商品编码", "quantity": "数量", "price_fen": "单价"}
GENERIC_HEADERS = (*GENERIC_MAPPING.values(), "客服备注")

STATUS_TEXT = {"WAIT_BUYER_PAY": "等待买家付款", "WAIT_SELLER_SEND_GOODS": "买家已付款，等待卖家发货",
               "WAIT_BUYER_CONFIRM_GOODS": "卖家已发货，等待买家确认", "TRADE_BUYER_SIGNED": "买家已签收",
               "TRADE_FINISHED": "交易成功", "TRADE_CLOSED": "交易关闭",
               "TRADE_CLOSED_BY_TAOBAO": "交易被淘宝关闭"}
STATUS_P = (0.06, 0.5, 0.2, 0.03, 0.15, 0.04, 0.02)
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
START = datetime(2026, 11, 1)
c = pl.col


def _money(col: str) -> pl.Expr:
    """Fen as yuan text with two decimals: 1250 → "12.50"."""
    return pl.concat_str((c(col) // 100).cast(pl.String), pl.lit("."),
                         (c(col) % 100).cast(pl.String).str.zfill(2))


def _pick(rng: np.random.Generator, pool: list, n: int) -> pl.Series:
    """n random texts from the pool."""
    return pl.Series(pool, dtype=pl.String).gather(rng.integers(0, len(pool), n))


def shop(n: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The truth of n synthetic orders and their lines: what a reader must find in the files."""
    rng = np.random.default_rng(seed)
    people = receivers(rng, n)
    skus = catalog().skus
    carriers = texts()["carriers"]
    count = rng.choice([1, 2, 3], n, p=[0.75, 0.2, 0.05])
    order = np.repeat(np.arange(n), count)
    sku = rng.integers(0, skus.height, order.size)
    qty = rng.choice([1, 2, 3], order.size, p=[0.8, 0.15, 0.05])
    price = skus["price_fen"].to_numpy()[sku]
    off = np.where(rng.random(order.size) < 0.2, (price * qty // 1000) * 100, 0)
    status = rng.choice(len(STATUS_TEXT), n, p=STATUS_P)
    codes = pl.Series(list(STATUS_TEXT), dtype=pl.String).gather(status)
    created = int(START.timestamp()) + rng.integers(0, 28 * 86_400, n)
    paid = status != 0
    base = 3_000_000_000_000_000 + seed * 10**13
    order_no = pl.Series(base + np.arange(n) * 7_919 + rng.integers(0, 7_000, n)).cast(pl.String)
    lines = pl.DataFrame({
        "order": order, "order_no": order_no.gather(order),
        "sub_order_no": pl.Series(base + 5 * 10**12 + np.arange(order.size) * 13).cast(pl.String),
        "sku": skus["sku"].gather(sku), "title": skus["title"].gather(sku), "spec": skus["spec"].gather(sku),
        "quantity": qty, "price_fen": price, "line_discount_fen": off, "amount_fen": price * qty - off,
        "line_status": codes.gather(order),
    })
    per = lines.group_by("order", maintain_order=True).agg(
        goods_fen=c("amount_fen").sum(), list_fen=(c("price_fen") * c("quantity")).sum(),
        title_text=c("title").str.join("，"), kinds=c("sku").len(), qty_total=c("quantity").sum())
    post = np.where(people["remote"].to_numpy(), rng.choice([1000, 1500, 2000], n), 0)
    shipped = np.isin(status, [2, 3, 4])
    carrier = rng.integers(0, 4, n)
    cname = pl.Series([carriers[k]["name"] for k in ("yto", "zto", "sf", "yunda")]).gather(carrier)
    prefix = pl.Series([carriers[k]["prefix"] for k in ("yto", "zto", "sf", "yunda")]).gather(carrier)
    msg = [*texts()["messages"]["ordinary"], '到了放门口, 谢谢', '要"大号"的', "第一行\n第二行"]
    helper = pl.DataFrame({
        "_phone": rng.integers(0, 10**7, n), "_has_phone": rng.random(n) < 0.1,
        "_created": created, "_pay_after": rng.integers(5, 3_600, n), "_paid": paid,
        "_msg": _pick(rng, msg, n), "_has_msg": rng.random(n) < 0.3, "_memo": rng.random(n) < 0.1,
        "_shipped": shipped, "_prefix": prefix, "_cname": cname,
        "_waybill": rng.integers(10**11, 10**12, n), "_cod": rng.random(n) < 0.05, "post_fee_fen": post,
    })
    orders = pl.concat([people.drop("remote", "place"), helper, per.drop("order")], how="horizontal")
    orders = orders.with_columns(
        order_no=order_no, trade_status=codes,
        status_text=codes.replace_strict(STATUS_TEXT, return_dtype=pl.String),
        receiver_phone=pl.when("_has_phone").then(
            pl.concat_str(pl.lit("0571-8"), c("_phone").cast(pl.String).str.zfill(7))),
        created_at=pl.from_epoch("_created"),
        paid_at=pl.when("_paid").then(pl.from_epoch(c("_created") + c("_pay_after"))),
        buyer_message=pl.when("_has_msg").then("_msg"),
        seller_memo=pl.when("_memo").then(pl.lit("已核对库存")),
        tracking_no=pl.when("_shipped").then(pl.concat_str("_prefix", c("_waybill").cast(pl.String))),
        carrier_name=pl.when("_shipped").then("_cname"),
        payment_method=pl.when("_cod").then(pl.lit("cod")).otherwise(pl.lit("online")),
        payable_fen=c("goods_fen") + c("post_fee_fen"),
        total_fen=c("list_fen") + c("post_fee_fen"),
        discount_fen=c("list_fen") - c("goods_fen"),
    ).with_columns(
        paid_fen=pl.when(c("trade_status") == "WAIT_BUYER_PAY").then(0).otherwise("payable_fen"),
        created_at=c("created_at").cast(pl.Datetime("us")), paid_at=c("paid_at").cast(pl.Datetime("us")),
    ).select(pl.exclude("^_.*$"))
    return orders, lines.drop("order")


def _address() -> pl.Expr:
    """收货地址 as Taobao writes it: `省 市 区 详细地址(邮编)`, municipalities without 市."""
    prov = pl.when(c("province").is_in(MUNICIPALITIES)).then(c("province").str.strip_suffix("市")) \
        .otherwise(c("province"))
    return pl.concat_str(prov, pl.lit(" "), "city", pl.lit(" "), "district", pl.lit(" "),
                         "address_detail", pl.lit("("), "postcode", pl.lit(")"))


def _when(col: str) -> pl.Expr:
    """A time as the seller backend writes it; '' when there is none."""
    return c(col).dt.strftime("%Y-%m-%d %H:%M:%S").fill_null("")


def taobao_order_cells(orders: pl.DataFrame, layout: int = 46, *, yuan: bool = False) -> pl.DataFrame:
    """The 订单报表 cells of the orders, as written: ="…" numbers, ' mobiles, No: waybills."""
    suffix = pl.lit("元" if yuan else "")
    amount = {k: pl.concat_str(_money(v), suffix) for k, v in (
        ("买家应付货款", "goods_fen"), ("买家应付邮费", "post_fee_fen"), ("买家实际支付金额", "paid_fen"))}
    known = {
        "订单编号": pl.concat_str(pl.lit('="'), "order_no", pl.lit('"')),
        "买家会员名": c("buyer_nick"), "买家支付宝账号": pl.lit("**"), "买家支付积分": pl.lit("0"),
        **amount, "总金额": pl.concat_str(_money("payable_fen"), suffix), "返点积分": pl.lit("0"),
        "买家实际支付积分": pl.lit("0"), "订单状态": c("status_text"),
        "买家留言": c("buyer_message").fill_null(""), "收货人姓名": c("receiver_name"),
        "收货地址": _address(),
        "运送方式": pl.when(c("payment_method") == "cod").then(pl.lit("货到付款")).otherwise(pl.lit("快递")),
        "联系电话": pl.concat_str(pl.lit("'"), "receiver_phone").fill_null(""),
        "联系手机": pl.concat_str(pl.lit("'"), "receiver_mobile"),
        "订单创建时间": _when("created_at"), "订单付款时间": _when("paid_at"),
        "宝贝标题": c("title_text"), "宝贝种类": c("kinds").cast(pl.String),
        "物流单号": pl.concat_str(pl.lit("No:"), "tracking_no").fill_null(""),
        "物流公司": c("carrier_name").fill_null(""), "订单备注": c("seller_memo").fill_null(""),
        "宝贝总数量": c("qty_total").cast(pl.String), "店铺Id": pl.lit("0"), "店铺名称": pl.lit("示例小店"),
        "订单关闭原因": pl.when(c("trade_status").str.starts_with("TRADE_CLOSED"))
        .then(pl.lit("买家不想买了")).otherwise(pl.lit("订单未关闭")),
        "是否手机订单": pl.lit("手机订单"),
        "主订单编号": pl.concat_str(pl.lit('="'), "order_no", pl.lit('"')),
    }
    return orders.select([known.get(h.strip(), pl.lit("")).alias(h) for h in LAYOUTS[layout]])


def taobao_item_cells(lines: pl.DataFrame) -> pl.DataFrame:
    """The 宝贝报表 cells of the lines."""
    return lines.select(
        pl.concat_str(pl.lit('="'), "order_no", pl.lit('"')).alias("订单编号"), c("title").alias("标题"),
        _money("price_fen").alias("价格"), c("quantity").cast(pl.String).alias("购买数量"),
        c("sku").alias("外部系统编号"), c("spec").alias("商品属性"), pl.lit("").alias("套餐信息"),
        pl.lit("").alias("备注"), c("line_status").replace_strict(STATUS_TEXT).alias("订单状态"),
        c("sku").alias("商家编码"))


def tmall_cells(orders: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """The per-line Tmall XLSX cells: each line carries its order's receiver and times."""
    joined = lines.join(orders.drop("title_text", "trade_status"), on="order_no", how="left",
                        maintain_order="left")
    # A line's 实付 is its share of the order's payment: the goods, and the postage on its first line.
    first = c("sub_order_no") == c("sub_order_no").first().over("order_no")
    share = c("amount_fen") + pl.when(first).then(c("post_fee_fen")).otherwise(0)
    paid = pl.when(c("status_text") == STATUS_TEXT["WAIT_BUYER_PAY"]).then(0).otherwise(share)
    return joined.with_columns(line_paid=paid).select(
        c("sub_order_no").alias("子订单编号"), c("order_no").alias("主订单编号"),
        c("title").alias("商品标题"),
        _money("price_fen").alias("商品价格"), c("quantity").cast(pl.String).alias("购买数量"),
        c("sku").alias("外部系统编号"), c("spec").alias("商品属性"), pl.lit("").alias("套餐信息"),
        c("status_text").alias("订单状态"), c("sku").alias("商家编码"), c("buyer_nick").alias("买家会员名"),
        _money("amount_fen").alias("买家应付货款"), _money("post_fee_fen").alias("买家应付邮费"),
        _money("line_paid").alias("买家实付金额"),
        pl.lit("0.00").alias("退款金额"), c("receiver_name").alias("收货人姓名"),
        _address().alias("收货地址"), c("receiver_mobile").alias("联系手机"),
        _when("created_at").alias("订单创建时间"), _when("paid_at").alias("订单付款时间"),
        pl.lit("").alias("发货时间"), c("tracking_no").fill_null("").alias("物流单号"),
        c("carrier_name").fill_null("").alias("物流公司"), c("buyer_message").fill_null("").alias("买家留言"),
        c("seller_memo").fill_null("").alias("卖家备注"))


def generic_cells(orders: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """A made-up shop system's per-line export, read through GENERIC_MAPPING."""
    joined = lines.join(orders.drop("title_text"), on="order_no", how="left", maintain_order="left")
    m = GENERIC_MAPPING
    return joined.select(
        c("order_no").alias(m["order_no"]), c("receiver_name").alias(m["receiver_name"]),
        c("receiver_mobile").alias(m["receiver_mobile"]), c("province").alias(m["province"]),
        c("city").alias(m["city"]), c("district").alias(m["district"]),
        c("address_detail").alias(m["address_detail"]), _money("paid_fen").alias(m["paid_fen"]),
        _money("post_fee_fen").alias(m["post_fee_fen"]),
        c("created_at").dt.strftime("%Y/%m/%d %H:%M:%S").alias(m["created_at"]),
        c("title").alias(m["title"]), c("sku").alias(m["sku"]),
        c("quantity").cast(pl.String).alias(m["quantity"]), _money("price_fen").alias(m["price_fen"]),
        pl.lit("无").alias("客服备注"))


def jsonl_frame(orders: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """One JSON object per line: canonical keys, yuan under `paid`, fen under `price_fen`."""
    joined = lines.join(orders.drop("title_text"), on="order_no", how="left", maintain_order="left")
    return joined.select(
        "order_no", "receiver_name", "receiver_mobile", "province", "city", "district",
        "address_detail", _money("paid_fen").alias("paid"), "post_fee_fen",
        c("created_at").dt.strftime("%Y-%m-%d %H:%M:%S").alias("created_at"), "trade_status",
        "sub_order_no", "title", "sku", "quantity", "price_fen", pl.lit("直播间").alias("channel"))


def jsonl_bytes(frame: pl.DataFrame, *, bad_lines: tuple[int, ...] = ()) -> bytes:
    """JSON Lines of the frame (UTF-8); rows in bad_lines are cut to text that does not parse."""
    text = frame.select(
        pl.struct(pl.all()).struct.json_encode().alias("j")).with_row_index("i").select(
        pl.when(c("i").is_in(list(bad_lines))).then(c("j").str.slice(0, 12)).otherwise("j")).to_series()
    return (text.str.join("\n").item() + "\n").encode("utf-8") if text.len() else b""


def _quoted(col: str) -> pl.Expr:
    """A CSV field: quoted (quotes doubled) when it holds , " or a line break, except ="…"."""
    v = c(col).fill_null("")
    plain = v.str.contains(r'^="[0-9A-Za-z]*"$') | ~v.str.contains('[,"\r\n]')
    return pl.when(plain).then(v).otherwise(
        pl.concat_str(pl.lit('"'), v.str.replace_all('"', '""', literal=True), pl.lit('"')))


def csv_bytes(cells: pl.DataFrame, encoding: str = "gbk", *, trailing_comma: bool = False,
              eol: str = "\n", header: bool = True, short_rows: tuple[int, ...] = (),
              long_rows: tuple[int, ...] = (), truncate: bool = False) -> bytes:
    """The cells as a CSV file in the encoding (utf-8-sig for a BOM), with optional faults.

    short_rows lose their last two fields, long_rows gain two; truncate cuts the file in the
    middle of its last row (possibly inside a multi-byte character).
    """
    names = cells.columns
    quoted = cells.select([_quoted(h).alias(f"f{i}") for i, h in enumerate(names)])
    tail = pl.lit("," if trailing_comma else "")
    full = pl.concat_str([c(f"f{i}") for i in range(len(names))], separator=",")
    short = pl.concat_str([c(f"f{i}") for i in range(max(len(names) - 2, 1))], separator=",")
    rows = quoted.with_row_index("i").select(
        pl.when(c("i").is_in(list(short_rows))).then(short)
        .when(c("i").is_in(list(long_rows))).then(pl.concat_str(full, pl.lit(",多,余")))
        .otherwise(full).add(tail)).to_series()
    head = ",".join(names) + eol if header else ""
    body = rows.str.join(eol).item() + eol if rows.len() else ""
    data = (head + body).encode(encoding)
    if truncate and rows.len():
        last = (rows[-1] + eol).encode(encoding)
        data = data[: len(data) - len(last) + max(len(last) * 2 // 5, 1)]
    return data


def xlsx_bytes(sheets: dict[str, pl.DataFrame], *, numeric: dict[str, list[str]] | None = None) -> bytes:
    """An XLSX workbook with one sheet per frame; columns in `numeric` are written as numbers."""
    buf = io.BytesIO()
    with xlsxwriter.Workbook(buf, {"in_memory": True}) as book:
        for name, frame in sheets.items():
            sheet = book.add_worksheet(name)
            sheet.write_row(0, 0, frame.columns)
            as_number = set((numeric or {}).get(name, []))
            for j, col in enumerate(frame.columns):  # a small fixture: cell by cell is fine
                for i, value in enumerate(frame[col].to_list(), start=1):
                    if value in (None, ""):
                        continue
                    if col in as_number:
                        sheet.write_number(i, j, float(value))
                    else:
                        sheet.write_string(i, j, value)
    return buf.getvalue()


def big_order_report(n_rows: int, path: str | Path, *, layout: int = 46, encoding: str = "gbk",
                     seed: int = 0) -> Path:
    """Write an n-row 订单报表 (GBK by default) for benchmarks; returns the path."""
    orders, _ = shop(n_rows, seed)
    path = Path(path)
    path.write_bytes(csv_bytes(taobao_order_cells(orders, layout), encoding))
    return path


def write_samples(folder: str | Path, orders: int = 200, seed: int = 20261130) -> list[Path]:
    """Write a Taobao order report and item report (GBK) and a Tmall XLSX of `orders` orders."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    truth, lines = shop(orders, seed % 97)  # shop() folds the seed into 19-digit order numbers
    tmall_truth, tmall_lines = shop(max(orders // 4, 1), seed % 97 + 1)
    files = {
        "ExportOrderList202611.csv": csv_bytes(taobao_order_cells(truth, 56), "gbk"),
        "ExportOrderDetailList202611.csv": csv_bytes(taobao_item_cells(lines), "gbk", trailing_comma=True),
        "天猫订单导出.xlsx": xlsx_bytes({"订单": tmall_cells(tmall_truth, tmall_lines)}),
    }
    written = []
    for name, data in files.items():
        (target / name).write_bytes(data)
        written.append(target / name)
    return written
