"""The Taobao / Tmall seller-backend CSV reports: 订单报表 (ExportOrderList*.csv, one "order"
row per order) and 宝贝报表 (ExportOrderDetailList*.csv, one "line" row per item), read by
header name so that the 46-, 56- and 61-column layouts all work; unknown columns go to extra.

Amounts of the 订单报表, in fen:
- post_fee_fen = 买家应付邮费;
- payable_fen = 买家应付货款 + 买家应付邮费 (what the buyer owes for goods and postage);
- total_fen = 总金额 as written (payable_fen when the file has no 总金额 column);
- discount_fen = total_fen − payable_fen when 总金额 is at least what the buyer owes;
  otherwise null (some exports write a goods-only 总金额; the reader does not guess);
- paid_fen = 买家实际支付金额 (买家实付金额 in newer exports): 0.00 until the buyer pays.
payment_method is "cod" when 运送方式 or 支付方式 says 货到付款, else "online".

The 宝贝报表 gives price_fen (价格), quantity (购买数量), sku (商家编码, else 外部系统编号),
spec (商品属性) and line_status (订单状态); it has no line amount, so amount_fen and
line_discount_fen stay null. The importer joins lines to orders on order_no.
"""

from __future__ import annotations

import polars as pl

from kit.intake import parse as p
from kit.intake.encoding import Table

ORDER_REQUIRED = (("订单编号",), ("订单状态",))
ITEM_REQUIRED = (("订单编号",), ("标题", "宝贝标题"), ("购买数量",))
ORDER_MARKS = ("买家会员名", "收货地址", "买家应付货款", "买家实际支付金额", "订单付款时间")
PAID = ("买家实际支付金额", "买家实付金额")
MEMO = ("订单备注", "商家备注", "卖家备注")
# Headers read into canonical columns; every other header goes to extra.
ORDER_HEADERS = ("订单编号", "买家会员名", "收货人姓名", "联系手机", "联系电话", "收货地址",
                 "买家应付货款", "买家应付邮费", "总金额", *PAID, "订单状态", "买家留言", *MEMO,
                 "订单创建时间", "订单付款时间", "物流单号", "物流公司")
ITEM_HEADERS = ("订单编号", "标题", "宝贝标题", "价格", "购买数量", "外部系统编号", "商家编码",
                "商品属性", "订单状态")


def is_order_report(table: Table) -> bool:
    """True when the headers are a 订单报表's (order number, status and one more of its own)."""
    return (p.find(table, "订单编号") is not None and p.find(table, "订单状态") is not None
            and p.find(table, *ORDER_MARKS) is not None)


def is_item_report(table: Table) -> bool:
    """True when the headers are a 宝贝报表's (order number, title, quantity, no receiver)."""
    return (p.find(table, "订单编号") is not None and p.find(table, "标题", "宝贝标题") is not None
            and p.find(table, "购买数量") is not None and p.find(table, "收货地址") is None)


def order_rows(table: Table) -> pl.DataFrame:
    """The 订单报表's rows as intake rows of kind "order"."""
    p.require(table, ORDER_REQUIRED)
    plan = p.Plan(table, "order")
    cell, value = plan.cell, plan.value
    plan.order_no("订单编号")
    plan.set("buyer_nick", p.text(cell("买家会员名")))
    plan.set("receiver_name", p.text(cell("收货人姓名")))
    plan.parse("receiver_mobile", p.mobile, "联系手机")
    plan.set("receiver_phone", p.phone(cell("联系电话")))
    plan.address("收货地址")
    plan.set("payment_method", p.payment_method(cell("运送方式"), cell("支付方式")))
    plan.parse("goods", p.amount_fen, "买家应付货款", code="bad_amount")
    plan.parse("post_fee_fen", p.amount_fen, "买家应付邮费", code="bad_amount")
    plan.parse("written_total", p.amount_fen, "总金额", code="bad_amount")
    plan.parse("paid_fen", p.amount_fen, *PAID, code="bad_amount")
    plan.parse("trade_status", p.status, "订单状态", code="unknown_status", required=True)
    plan.parse("created_at", p.moment, "订单创建时间", code="bad_date")
    plan.parse("paid_at", p.moment, "订单付款时间", code="bad_date")
    plan.set("buyer_message", p.text(cell("买家留言")))
    plan.set("seller_memo", p.text(cell(*MEMO)))
    plan.set("carrier_name", p.text(cell("物流公司")))
    plan.parse("tracking_no", p.tracking_no, "物流单号")
    payable = value("goods") + value("post_fee_fen").fill_null(0)
    total = value("written_total") if plan.has("总金额") else payable
    plan.derive("payable_fen", payable)
    plan.derive("total_fen", total)
    plan.derive("discount_fen", pl.when(total >= payable).then(total - payable))
    return plan.frame(plan.extra((*ORDER_HEADERS, "运送方式", "支付方式")))


def line_rows(table: Table) -> pl.DataFrame:
    """The 宝贝报表's rows as intake rows of kind "line"."""
    p.require(table, ITEM_REQUIRED)
    plan = p.Plan(table, "line")
    cell = plan.cell
    plan.order_no("订单编号")
    plan.set("title", p.text(cell("标题", "宝贝标题")))
    plan.parse("price_fen", p.amount_fen, "价格", code="bad_amount")
    plan.parse("quantity", p.quantity, "购买数量", code="bad_quantity")
    plan.set("sku", pl.coalesce(p.text(cell("商家编码")), p.text(cell("外部系统编号"))))
    plan.set("spec", p.text(cell("商品属性")))
    plan.parse("line_status", p.status, "订单状态", code="unknown_status")
    return plan.frame(plan.extra(ITEM_HEADERS))
