"""Importing the platform's refund export (kit.aftersales.imports; S2, S3, S6, S24d).

The test shop: headquarters (hq) holds CUP-A and SOCK-A. Five online orders paid in full,
built at a fixed Thursday 2026-12-03 15:00:

    order  lines       paid    fulfilment
    A      SOCK-A 1    89.00   allocated (stock reserved), not shipped
    B      SOCK-A 1    89.00   handed over and confirmed (YT…01)
    C      CUP-A 1     59.00   handed over and confirmed (YT…02)
    D      SOCK-A 2   178.00   handed over and confirmed (YT…03)
    E      CUP-A 1     59.00   handed over and confirmed (YT…04)

Each test writes the platform's export (Chinese headers; UTF-8 or GBK) and imports it as the
after-sales clerk. The shop is built once per database and copied for every test.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from fulfil_fixtures import (
    add_order,
    built_shops,
    catalogue,
    clock_fixture,  # noqa: F401  (a fixture of this module)
    config,
    db_url_fixture,  # noqa: F401  (a fixture of this module)
    level,
    open_shop,
    ship,
    table,
)
from orders_factory import order_no

import kit
from kit.aftersales.imports import import_refunds, read_refunds, refund_path
from kit.allocation import allocate
from kit.errors import BadInput, PermissionDenied

SKUS = catalogue("CUP-A", "SOCK-A")
OPENING = [("hq", "CUP-A", 10), ("hq", "SOCK-A", 20)]
ORDERS = {
    "A": (7, [("SOCK-A", 1)]),
    "B": (14, [("SOCK-A", 1)]),
    "C": (21, [("CUP-A", 1)]),
    "D": (28, [("SOCK-A", 2)]),
    "E": (35, [("CUP-A", 1)]),
}
PRICE = {"CUP-A": 5900, "SOCK-A": 8900}
NO = {name: order_no(k) for name, (k, _) in ORDERS.items()}
HEAD = "退款编号,订单编号,退款金额,退款状态,退款原因,是否需要退货,申请时间,买家退货物流公司,退货运单号"
WAIT = "买家已经申请退款，等待卖家同意"
RETURN = "卖家已经同意退款，等待买家退货"
CONFIRM = "买家已经退货，等待卖家确认收货"


def build(url: str) -> None:
    """Write the test shop into an empty database: A allocated, B to E shipped and confirmed."""
    with kit.connect(url, actor="店长", config=config()) as boss:
        open_shop(boss, SKUS, OPENING)
        for k, items in ORDERS.values():
            paid = sum(PRICE[sku] * qty for sku, qty in items)
            add_order(
                boss,
                k,
                items,
                source="refunds",
                total_fen=paid,
                discount_fen=0,
                post_fee_fen=0,
                payable_fen=paid,
                paid_fen=paid,
            )
        assert sorted(allocate(boss.acting_as("仓管小李")).allocated) == sorted(NO.values())
        ids = {no: sid for sid, no in table(boss, "shipments").select("shipment_id", "order_no").rows()}
        shipped = [ids[NO[n]] for n in "BCDE"]
        ship(boss, {sid: f"YT10000000000{i:02d}" for i, sid in enumerate(shipped, 1)})


built = built_shops(build)  # built(kind) → the test shop's URL; db_url: a fresh copy per test


@pytest.fixture(name="clerk")
def clerk_fixture(db_url: str, clock: dict) -> kit.Shop:
    """The copied shop with the after-sales clerk acting."""
    with kit.connect(db_url, actor="售后小雅", config=config()) as shop:
        yield shop


def export(
    folder: Path, rows: list[str], *, name: str = "退款管理.csv", encoding: str = "utf-8", head: str = HEAD
) -> Path:
    """The platform's refund export with these data lines."""
    path = folder / name
    path.write_bytes((head + "\n" + "\n".join(rows) + "\n").encode(encoding))
    return path


def cases(shop: kit.Shop) -> dict[str, dict]:
    """The after-sale cases by their platform refund number."""
    return {r["refund_id"]: r for r in table(shop, "after_sales").iter_rows(named=True)}


def case_trail(shop: kit.Shop, case_id: int) -> pl.DataFrame:
    """The audit rows of one case."""
    return table(shop, "audit", entity="after_sale", entity_id=str(case_id))


EACH_STATUS = [
    f"RF001,{NO['C']},10.00,{WAIT},质量问题,否,2026-12-02 10:00:00,,",
    f"RF002,{NO['B']},89.00,{RETURN},与描述不符,是,2026-12-02 11:00:00,,",
    f"RF003,{NO['D']},89.00,{CONFIRM},商品破损,是,2026-12-02 12:00:00,圆通速递,YT9988776655",
    f"RF004,{NO['E']},20.00,退款成功,七天无理由退换货,否,2026-12-02 13:00:00,,",
    f"RF005,{NO['C']},5.00,退款关闭,拍错/多拍/不想要,否,2026-12-02 14:00:00,,",
    f"RF006,{NO['E']},10.00,卖家拒绝退款,质量问题,否,2026-12-02 15:00:00,,",
]


def test_new_refunds_reach_each_exported_status_through_the_lifecycle(clerk, tmp_path):
    """Every new refund becomes a case, moved by the import's system job to the status the
    export shows, with the reason code, the buyer's words and the return parcel."""
    path = export(tmp_path, EACH_STATUS)

    done = import_refunds(clerk, path)

    assert (done["imported"], done["updated"], done["duplicates"], done["quarantined"]) == (6, 0, 0, 0)
    assert done["balanced"] and done["rows"] == 6
    got = cases(clerk)
    assert {k: (v["kind"], v["refund_status"], v["reason"]) for k, v in got.items()} == {
        "RF001": ("refund", "WAIT_SELLER_AGREE", "quality"),
        "RF002": ("return", "WAIT_BUYER_RETURN_GOODS", "not_as_described"),
        "RF003": ("return", "WAIT_SELLER_CONFIRM_GOODS", "damaged"),
        "RF004": ("refund", "SUCCESS", "changed_mind"),
        "RF005": ("refund", "CLOSED", "changed_mind"),
        "RF006": ("refund", "SELLER_REFUSE_BUYER", "quality"),
    }
    assert "拍错/多拍/不想要" in got["RF005"]["note"] and "RF005" in got["RF005"]["note"]
    assert (got["RF003"]["return_carrier"], got["RF003"]["return_tracking_no"]) == (
        "圆通速递",
        "YT9988776655",
    )
    assert got["RF004"]["amount_fen"] == 2000
    trail = case_trail(clerk, got["RF003"]["case_id"])
    assert trail.filter(pl.col("field") == "refund_status")["action"].to_list() == [
        "open",
        "agree_return",
        "goods_returned",
    ]
    assert set(trail["actor"]) == {"system:import:售后小雅"} and set(trail["role"]) == {"system"}
    lines = table(clerk, "after_sale_lines", case_id=got["RF003"]["case_id"])
    assert lines.select("line_no", "sku", "quantity").rows() == [(1, "SOCK-A", 2)]
    batch = table(clerk, "batches", batch_id=done["batch_id"]).row(0, named=True)
    assert batch["kind"] == "refund_import" and json.loads(batch["details"])["imported"] == 6


def test_the_same_file_again_is_all_duplicates(clerk, tmp_path):
    """Importing one export twice changes nothing the second time (S6: no duplicated case)."""
    path = export(tmp_path, EACH_STATUS, encoding="gbk")
    import_refunds(clerk, path)
    before = (table(clerk, "after_sales").rows(), table(clerk, "audit", entity="after_sale").height)

    again = import_refunds(clerk, path)

    assert (again["imported"], again["updated"], again["duplicates"], again["quarantined"]) == (0, 0, 6, 0)
    assert (table(clerk, "after_sales").rows(), table(clerk, "audit", entity="after_sale").height) == before


def test_an_export_moving_statuses_forward_updates_the_cases(clerk, tmp_path):
    """A later export walks each case along the lifecycle from where it stands."""
    import_refunds(
        clerk,
        export(
            tmp_path,
            [
                f"RF101,{NO['C']},59.00,{WAIT},质量问题,否,,,",
                f"RF102,{NO['B']},89.00,{WAIT},尺码不合适,是,,,",
            ],
        ),
    )

    later = export(
        tmp_path,
        [
            f"RF101,{NO['C']},59.00,SUCCESS,质量问题,否,,,",
            f"RF102,{NO['B']},89.00,{CONFIRM},尺码不合适,是,,中通快递,ZT5566778899",
        ],
        name="退款管理-2.csv",
    )
    done = import_refunds(clerk, later)

    assert (done["imported"], done["updated"], done["duplicates"], done["quarantined"]) == (0, 2, 0, 0)
    got = cases(clerk)
    assert (got["RF101"]["refund_status"], got["RF102"]["refund_status"]) == (
        "SUCCESS",
        "WAIT_SELLER_CONFIRM_GOODS",
    )
    actions = case_trail(clerk, got["RF102"]["case_id"]).filter(pl.col("field") == "refund_status")["action"]
    assert actions.to_list() == ["open", "agree_return", "goods_returned"]
    assert got["RF102"]["return_tracking_no"] == "ZT5566778899"
    order_c = table(clerk, "orders", order_no=NO["C"]).row(0, named=True)
    assert order_c["trade_status"] == "TRADE_CLOSED"  # fully refunded after shipping: trade closed


def test_a_full_refund_before_shipment_cancels_the_fulfilment(clerk, tmp_path):
    """退款成功 for everything paid on an order not yet shipped closes the trade, cancels its
    parcel and gives its reserved stock back (S3)."""
    assert level(clerk, "hq", "SOCK-A")[1] == 1
    path = export(
        tmp_path,
        [f"RF201,{NO['A']},89.00,退款成功,未按约定时间发货,否,2026-12-03 09:00:00,,"],
        encoding="gbk",
    )

    done = import_refunds(clerk, path)

    assert done["imported"] == 1 and done["orders_closed"] == [NO["A"]]
    order = table(clerk, "orders", order_no=NO["A"]).row(0, named=True)
    assert (order["trade_status"], order["stage"]) == ("TRADE_CLOSED", "cancelled")
    assert table(clerk, "shipments", order_no=NO["A"])["stage"].to_list() == ["cancelled"]
    assert level(clerk, "hq", "SOCK-A")[1] == 0
    assert cases(clerk)["RF201"]["reason"] == "late_shipment"


def test_bad_rows_are_quarantined_and_good_rows_still_imported(clerk, tmp_path):
    """Unknown order, unknown status text, unreadable amount, more than paid, a status going
    backwards: each quarantined with its reason and original text; the good rows go in."""
    import_refunds(
        clerk, export(tmp_path, [f"RF301,{NO['E']},59.00,退款成功,质量问题,否,,,"], name="早先.csv")
    )
    rows = [
        f"RF302,{NO['C']},12.50,{WAIT},少件,否,,,",  # good
        "RF303,9999999999999999,10.00,退款成功,质量问题,否,,,",  # unknown order
        f"RF304,{NO['C']},10.00,等待处理,质量问题,否,,,",  # unknown status text
        f"RF305,{NO['C']},abc,{WAIT},质量问题,否,,,",  # amount unreadable
        f"RF306,{NO['B']},100.00,{WAIT},质量问题,否,,,",  # more than paid (89.00)
        f"RF301,{NO['E']},59.00,{WAIT},质量问题,否,,,",  # SUCCESS back to waiting
    ]
    path = export(tmp_path, rows, encoding="gbk")

    done = import_refunds(clerk, path)

    assert (done["imported"], done["updated"], done["duplicates"], done["quarantined"]) == (1, 0, 0, 5)
    assert done["imported"] + done["updated"] + done["duplicates"] + done["quarantined"] == len(rows)
    assert set(cases(clerk)) == {"RF301", "RF302"}
    assert cases(clerk)["RF301"]["refund_status"] == "SUCCESS"
    held = table(clerk, "quarantine", row_kind="refund").sort("row_no")
    assert held["row_no"].to_list() == [2, 3, 4, 5, 6]
    assert [r.split(":")[0] for r in held["reasons"]] == [
        "unknown_order",
        "unknown_status",
        "bad_amount",
        "over_refundable",
        "unreachable",
    ]
    raw = [json.loads(r) for r in held["raw"]]
    assert raw[1]["退款状态"] == "等待处理" and raw[2]["退款金额"] == "abc"
    assert "abc" in held["message"][2] and "退款金额" in held["message"][2]
    assert "89.00" in held["message"][3]
    assert "退款成功" in held["message"][4] and "RF301" in held["message"][4]
    assert done["quarantine_reasons"] == {
        "bad_amount": 1,
        "over_refundable": 1,
        "unknown_order": 1,
        "unknown_status": 1,
        "unreachable": 1,
    }
    assert {r["row_no"] for r in done["quarantined_rows"]} == {2, 3, 4, 5, 6}

    again = import_refunds(clerk, path)  # the waiting rows are not kept twice

    assert again["quarantined"] == 5 and again["duplicates"] == 1
    assert table(clerk, "quarantine", row_kind="refund").height == 5


def test_a_case_opened_by_staff_takes_the_platform_refund_number(clerk, tmp_path):
    """The one open refund staff registered for an order gets the platform's number instead of
    a second case for the same request (S6)."""
    from kit import aftersales

    opened = aftersales.open_case(clerk, NO["C"], "refund", "quality", amount_fen=3000, notify=False)
    path = export(tmp_path, [f"RF401,{NO['C']},30.00,退款成功,质量问题,否,,,"])

    done = import_refunds(clerk, path)

    assert (done["imported"], done["updated"]) == (0, 1)
    case = table(clerk, "after_sales", case_id=opened["case_id"]).row(0, named=True)
    assert (case["refund_id"], case["refund_status"]) == ("RF401", "SUCCESS")
    assert table(clerk, "after_sales").height == 1


def test_refund_paths_follow_the_kind_of_case():
    """A refund-only case cannot wait for goods; a return walks through the goods states."""
    assert refund_path("refund", "WAIT_SELLER_AGREE", "SUCCESS") == ["refund"]
    assert refund_path("refund", "WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS") is None
    assert refund_path("return", "WAIT_SELLER_AGREE", "WAIT_SELLER_CONFIRM_GOODS") == [
        "agree_return",
        "goods_returned",
    ]
    assert refund_path("return", "SUCCESS", "WAIT_SELLER_AGREE") is None


def test_headers_and_texts_are_read_whole_column(tmp_path):
    """Header variants, codes for statuses, yuan with a sign, ="…" wrapped numbers."""
    head = "退款单号,订单号,退款金额(元),退款状态,退款原因,是否需要退货"
    path = export(
        tmp_path,
        [
            '="RF501",="3500000000000001",￥12.5,WAIT_SELLER_AGREE,发错货,',
            "RF502,3500000000000002,7,买家已经退货，等待卖家确认收货,颜色不符,",
        ],
        head=head,
    )

    rows = read_refunds(path)

    assert rows.select("refund_id", "order_no", "amount_fen", "status", "reason", "kind").rows() == [
        ("RF501", "3500000000000001", 1250, "WAIT_SELLER_AGREE", "wrong_item", "refund"),
        ("RF502", "3500000000000002", 700, "WAIT_SELLER_CONFIRM_GOODS", "not_as_described", "return"),
    ]
    assert rows["problems"].to_list() == [[], []]


def test_a_file_without_the_required_columns_is_refused(clerk, tmp_path):
    """A file that is not a refund export is refused before anything is written, naming the column."""
    path = export(tmp_path, ["1,2"], head="订单编号,金额")

    with pytest.raises(BadInput) as info:
        import_refunds(clerk, path)

    assert "退款编号" in info.value.message
    assert table(clerk, "batches").filter(pl.col("kind") == "refund_import").height == 0


def test_the_warehouse_may_not_import_refunds(clerk, tmp_path):
    """Importing refunds is after-sales' and the supervisor's work."""
    path = export(tmp_path, EACH_STATUS[:1])

    with pytest.raises(PermissionDenied):
        import_refunds(clerk.acting_as("仓管小李"), path)
