"""Small, deterministic order frames for tests: synthetic people, real-looking Chinese addresses.

    orders, lines = make_orders(5, stage="approved", start=100)
    shop.insert_orders(orders, lines, kind="test", source="test")

The frames carry every column of `orders` (except batch_id, updated_at and version, which
the kit fills in) and of `order_lines`. Amounts are in fen and agree with each other:
total = sum of line amounts, payable = total - discount, paid = payable (0 while the
buyer has not paid).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from kit.models import TradeStatus

__all__ = ["make_orders"]

SURNAMES = ("赵", "钱", "孙", "李", "周", "吴", "郑", "王")
GIVEN = ("测一", "试二", "样三", "例四", "演五", "示六", "模七")
ADDRESSES = (  # province, city, district, street, postcode
    ("浙江省", "杭州市", "余杭区", "文一西路 1{n:03d} 号", "311121"),
    ("广东省", "深圳市", "南山区", "科技园南路 {n} 号 {m} 栋", "518057"),
    ("北京市", "北京市", "朝阳区", "建国路 {n} 号院 {m} 号楼", "100022"),
    ("上海市", "上海市", "浦东新区", "世纪大道 {n} 弄 {m} 号", "200120"),
    ("四川省", "成都市", "武侯区", "天府大道北段 {n} 号", "610041"),
    ("江苏省", "苏州市", "姑苏区", "人民路 {n} 号 {m} 单元", "215005"),
    ("湖北省", "武汉市", "洪山区", "珞喻路 {n} 号", "430074"),
)
PRODUCTS = (  # sku, title, spec, price in fen
    ("TEA-LJ-250", "西湖龙井 明前特级 250克", "250克/罐", 26800),
    ("CUP-GL-350", "双层玻璃杯 350毫升", "透明", 5900),
    ("TOWEL-CT-2", "纯棉毛巾 两条装", "灰色", 3990),
    ("SOCK-WL-5", "羊毛袜 五双装", "均码", 8900),
)
MESSAGES = (None, "请尽快发货", None, "麻烦用纸箱包装", None)  # neutral: no gift keyword
START = datetime(2026, 11, 30, 9, 0)

ORDER_SCHEMA: dict[str, pl.DataType] = {
    "order_no": pl.String(), "platform": pl.String(), "shop": pl.String(),
    "buyer_nick": pl.String(), "receiver_name": pl.String(), "receiver_mobile": pl.String(),
    "receiver_phone": pl.String(), "province": pl.String(), "city": pl.String(),
    "district": pl.String(), "address_detail": pl.String(), "postcode": pl.String(),
    "payment_method": pl.String(), "total_fen": pl.Int64(), "discount_fen": pl.Int64(),
    "post_fee_fen": pl.Int64(), "payable_fen": pl.Int64(), "paid_fen": pl.Int64(),
    "buyer_message": pl.String(), "seller_memo": pl.String(), "created_at": pl.Datetime("us"),
    "paid_at": pl.Datetime("us"), "trade_status": pl.String(), "stage": pl.String(),
    "hold_reasons": pl.String(), "phone_confirmed": pl.Boolean(), "no_price_slip": pl.Boolean(),
    "carrier_code": pl.String(), "ship_by": pl.Datetime("us"),
}
LINE_SCHEMA: dict[str, pl.DataType] = {
    "order_no": pl.String(), "line_no": pl.Int64(), "sub_order_no": pl.String(),
    "sku": pl.String(), "title": pl.String(), "spec": pl.String(), "quantity": pl.Int64(),
    "price_fen": pl.Int64(), "discount_fen": pl.Int64(), "amount_fen": pl.Int64(),
    "is_gift_item": pl.Boolean(),
}


def order_no(number: int) -> str:
    """The order number make_orders gives its `number`-th order (18 digits, like Taobao's)."""
    return f"9{number:017d}"


def make_orders(
    n: int,
    *,
    stage: str = "new",
    trade_status: str = "WAIT_SELLER_SEND_GOODS",
    payment_method: str = "online",
    start: int = 1,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`n` orders numbered from `start`, all in one stage and trade status, and their lines."""
    unpaid = trade_status == TradeStatus.WAIT_BUYER_PAY
    orders: list[dict[str, object]] = []
    lines: list[dict[str, object]] = []
    for k in range(start, start + n):
        no = order_no(k)
        province, city, district, street, postcode = ADDRESSES[k % len(ADDRESSES)]
        total = 0
        for line_no in range(1, k % 2 + 2):  # one or two lines
            sku, title, spec, price = PRODUCTS[(k + line_no) % len(PRODUCTS)]
            quantity = (k + line_no) % 3 + 1
            amount = price * quantity
            total += amount
            lines.append({
                "order_no": no, "line_no": line_no, "sub_order_no": f"{no}{line_no:02d}",
                "sku": sku, "title": title, "spec": spec, "quantity": quantity,
                "price_fen": price, "discount_fen": 0, "amount_fen": amount,
                "is_gift_item": False,
            })
        discount = (k % 4) * 500
        payable = total - discount
        created = START + timedelta(minutes=7 * k)
        message = MESSAGES[k % len(MESSAGES)]
        orders.append({
            "order_no": no, "platform": "taobao", "shop": "示例小店",
            "buyer_nick": f"测试买家{k:04d}",
            "receiver_name": SURNAMES[k % len(SURNAMES)] + GIVEN[k % len(GIVEN)],
            "receiver_mobile": f"1{3 + k % 7}{(k * 7_919_113) % 10**9:09d}",
            "receiver_phone": None,
            "province": province, "city": city, "district": district,
            "address_detail": street.format(n=k % 900 + 1, m=k % 12 + 1), "postcode": postcode,
            "payment_method": payment_method,
            "total_fen": total, "discount_fen": discount, "post_fee_fen": 0,
            "payable_fen": payable, "paid_fen": 0 if unpaid else payable,
            "buyer_message": message, "seller_memo": None,
            "created_at": created, "paid_at": None if unpaid else created + timedelta(minutes=2),
            "trade_status": trade_status, "stage": stage, "hold_reasons": None,
            "phone_confirmed": False, "no_price_slip": False, "carrier_code": None,
            "ship_by": None,
        })
    return (pl.DataFrame(orders, schema=ORDER_SCHEMA),
            pl.DataFrame(lines, schema=LINE_SCHEMA))
