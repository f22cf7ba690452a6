"""`kit pick`, `kit pack`, `kit print` and `kit ship` on the command line (S7, S8, S9, S13, S18,
S22, S23, S24c, S26b): the same services as kit.picking, kit.packing, kit.documents and
kit.shipping, words for people, one JSON object with --json (messages on stderr only) and the
contract's exit codes (0 ok, 1 refused by a rule, 2 bad usage or input).

The shop is test_shipping's (copied per test, on SQLite and PostgreSQL): A, B, C, D1, D2 and E
packed, W (due today 12:00, late) and F (due tomorrow) allocated, clock at Thu 2026-12-03 15:00.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest
from fulfil_fixtures import (
    clock_fixture,  # noqa: F401  (a fixture of this module)
    db_url_fixture,  # noqa: F401  (a fixture of this module)
    invoke,
    kit_toml,
    run_json,
    table,
)
from test_shipping import (
    OA,
    OB,
    OC,
    OW,
    SF1,
    YT1,
    YT2,
    YT3,
    World,
    built,  # noqa: F401  (test_shipping's shop: a fixture of this module)
    order,
    ship,
    world_fixture,  # noqa: F401  (a fixture of this module)
)

from kit import outbox, picking, shipping


@pytest.fixture
def common(w: World, tmp_path: Path) -> list[str]:
    """--db and --config of the copied test shop."""
    return ["--db", w.url, "--config", str(kit_toml(tmp_path / "kit.toml"))]


# --- kit pick (S7, S12, S23) ----------------------------------------------------------------------


def test_pick_plan_start_and_list_S7_S23(w, common):
    """S23: `kit pick` shows the waves the allocated shipments would form (W today, F tomorrow),
    --start forms them (as the warehouse), --list N shows a wave's pick list."""
    code, plan, err = run_json("pick", *common)
    assert code == 0 and plan["ok"] is True and err == ""
    assert [(p["warehouse_code"], p["carrier_code"], p["due_day"], p["shipments"], p["units"])
            for p in plan["plan"]] == [("hq", "yto", "2026-12-03", 1, 2), ("hq", "yto", "2026-12-04", 1, 1)]
    words = invoke("pick", *common)
    assert words.exit_code == 0 and "hq 仓" in words.stdout and "应发日 2026-12-03" in words.stdout

    code, started, _ = run_json("pick", "--start", "--as", "仓管小李", *common)
    assert code == 0 and [wave["shipments"] for wave in started["waves"]] == [1, 1]
    assert ship(w, "W")["stage"] == "picking" and ship(w, "F")["stage"] == "picking"
    assert run_json("pick", *common)[1]["plan"] == []

    first = started["waves"][0]["wave_id"]
    code, listed, _ = run_json("pick", "--list", str(first), *common)
    assert code == 0 and listed["wave"]["wave_id"] == first and listed["wave"]["warehouse_name"] == "杭州总仓"
    assert [(t["sku"], t["quantity"]) for t in listed["totals"]] == [("TEA-A", 2)]
    assert [r["order_no"] for r in listed["per_order"]] == [OW]
    words = invoke("pick", "--list", str(first), *common)
    assert f"波次 {first}" in words.stdout and "TEA-A" in words.stdout and "×2" in words.stdout


def test_pick_start_refused_to_pre_sales_and_unknown_wave_is_bad_input_S7(w, common):
    """Forming waves is the warehouse's or logistics' (exit 1, message on stderr); an unknown
    wave is bad input (exit 2)."""
    refused = invoke("pick", "--start", "--as", "客服小美", *common)
    assert refused.exit_code == 1 and refused.stdout == "" and "错误" in refused.stderr
    assert ship(w, "W")["stage"] == "allocated"
    code, payload, err = run_json("pick", "--list", "999999", *common)
    assert code == 2 and payload["ok"] is False and err


# --- kit pack (S8, S25) ---------------------------------------------------------------------------


def test_pack_sheet_wrong_item_zero_weight_and_pack_S8(w, common):
    """S8: `kit pack ID` shows the packing sheet (items, expected weight); with the scans and
    the weight it closes the box; a wrong item is refused by the rule (exit 1, the difference
    on stderr, nothing on stdout); a weight of 0 is bad input (exit 2)."""
    picking.start_waves(w.as_("仓管小李"), shipment_ids=[w.ids["W"]])
    sid = str(w.ids["W"])

    sheet = invoke("pack", sid, *common)
    assert sheet.exit_code == 0 and "TEA-A" in sheet.stdout and "700 克" in sheet.stdout
    code, payload, _ = run_json("pack", sid, *common)
    assert code == 0 and payload["expected_g"] == 700 and payload["items"][0]["quantity"] == 2

    wrong = invoke("pack", sid, "--scan", "TEA-A", "--scan", "SOCK-A", "--weight", "700", "--as", "仓管小李",
                   *common)
    assert wrong.exit_code == 1 and wrong.stdout == ""
    assert "SOCK-A" in wrong.stderr and "TEA-A" in wrong.stderr
    code, payload, err = run_json("pack", sid, "--scan", "TEA-A", "--scan", "SOCK-A", "--weight", "700",
                                  *common)
    assert code == 1 and payload["ok"] is False and "SOCK-A" in err
    assert payload["key"] == "packing.items_differ"

    code, payload, err = run_json("pack", sid, "--scan", "TEA-A", "--scan", "TEA-A", "--weight", "0", *common)
    assert code == 2 and payload["key"] == "packing.weight_not_positive" and "0" in err
    assert ship(w, "W")["stage"] == "picking"

    code, payload, err = run_json("pack", sid, "--scan", "TEA-A", "--scan", "tea-a", "--weight", "705",
                                  "--as", "仓管小李", *common)
    assert code == 0 and err == ""
    assert payload["packed"] == {"shipment_id": w.ids["W"], "order_no": OW, "weight_g": 705,
                                 "expected_weight_g": 700, "warning": None, "picked_units": 2}
    assert (ship(w, "W")["stage"], ship(w, "W")["packed_by"]) == ("packed", "仓管小李")


# --- kit print (S14, S18, S22) --------------------------------------------------------------------


def test_print_waybill_note_picklist_and_wave_write_pdfs_S18_S22(w, common, tmp_path):
    """S18/S22: waybills (of parcels with a number), shipping notes, a wave's pick list and a
    wave's documents are written as PDF files; a waybill without a number is refused."""
    shipping.assign_numbers(w.as_("仓管小李"), [{"shipment_id": w.ids["A"], "tracking_no": YT1}])
    wave = picking.start_waves(w.as_("仓管小李"), shipment_ids=[w.ids["W"]])[0]["wave_id"]
    shipping.assign_numbers(w.as_("仓管小李"), [{"shipment_id": w.ids["W"], "tracking_no": YT2}])

    runs = {
        "waybill": ["waybill", "--shipments", str(w.ids["A"])],
        "note": ["note", "--shipments", f"{w.ids['A']}，{w.ids['B']}"],
        "wave": ["wave", "--wave", str(wave)],
    }
    for name, args in runs.items():
        out = tmp_path / f"{name}.pdf"
        code, payload, _ = run_json("print", *args, "-o", str(out), *common)
        assert code == 0, payload
        assert payload["path"] == str(out) and payload["bytes"] == out.stat().st_size
        assert out.read_bytes().startswith(b"%PDF")

    words = invoke("print", "picklist", "--wave", str(wave), "-o", str(tmp_path / "拣货单.pdf"), *common)
    assert words.exit_code == 0 and "拣货单.pdf" in words.stdout
    assert (tmp_path / "拣货单.pdf").read_bytes().startswith(b"%PDF")
    code, payload, err = run_json("print", "waybill", "--shipments", str(w.ids["B"]), "-o",
                                  str(tmp_path / "no.pdf"), *common)
    assert code != 0 and payload["ok"] is False and err and not (tmp_path / "no.pdf").exists()
    assert run_json("print", "picklist", "-o", str(tmp_path / "p.pdf"), *common)[0] == 2


# --- kit ship: hand-over (S8, S24c, S26b) ---------------------------------------------------------


def test_ship_one_parcel_with_options_and_a_double_click_S8_S24c(w, common):
    """S8/S24c: `kit ship ID NUMBER` hands one parcel over (insured value in yuan, SMS); the
    same again is refused by the rule (exit 1, JSON names the row); no logistics takes no number."""
    code, payload, err = run_json("ship", str(w.ids["A"]), YT1, "--insured", "12.5", "--sms", *common)
    assert (code, payload, err) == (0, {"ok": True, "handed_over": [w.ids["A"]], "refused": []}, "")
    row = ship(w, "A")
    assert (row["stage"], row["tracking_no"], row["insured_fen"], row["sms_notify"]) == (
        "handed_over", YT1, 1250, True)
    assert row["handed_over_by"] == "物流小张"

    code, payload, _ = run_json("ship", str(w.ids["A"]), YT1, *common)
    assert code == 1 and payload["ok"] is False and payload["handed_over"] == []
    assert payload["refused"][0][0] == 1 and "已交快递" in payload["refused"][0][1]

    words = invoke("ship", str(w.ids["E"]), "--carrier", "none", *common)
    assert words.exit_code == 0 and "1 个包裹" in words.stdout
    assert (ship(w, "E")["carrier_code"], ship(w, "E")["tracking_no"]) == ("none", None)
    assert invoke("ship", str(w.ids["B"]), *common).exit_code == 2  # a number is needed


def test_ship_refused_without_sender_naming_the_config_file_S26b(w, tmp_path):
    """S26b: no sender address in kit.toml → every hand-over is refused (exit 1) with the
    section and the file to fill in, on stderr; nothing is handed over."""
    toml = kit_toml(tmp_path / "kit.toml", sender=False)
    code, payload, err = run_json("ship", str(w.ids["A"]), YT1, "--db", w.url, "--config", str(toml))
    assert code == 1 and payload["key"] == "shipping.no_sender"
    assert "[shop.sender]" in err and str(toml) in err
    assert ship(w, "A")["stage"] == "packed"


def test_ship_file_with_chinese_headers_bad_row_refused_good_row_handed_over_S8(w, common, tmp_path):
    """S8: a hand-over file with Chinese headers (包裹号, 运单号; UTF-8 with the BOM Excel
    writes): one bad row → exit 1 with its row number and reason, the good row handed over."""
    path = tmp_path / "交接.csv"
    path.write_text(f"包裹号,运单号\n{w.ids['A']},{YT1}\n{w.ids['B']},YT1\n", "utf-8-sig")

    code, payload, _ = run_json("ship", "--file", str(path), *common)

    assert code == 1 and payload["ok"] is False and payload["handed_over"] == [w.ids["A"]]
    assert [r for r, _ in payload["refused"]] == [2] and "YT1" in payload["refused"][0][1]
    assert ship(w, "A")["stage"] == "handed_over" and ship(w, "B")["stage"] == "packed"

    by_order = tmp_path / "orders.csv"
    by_order.write_text(f"订单编号,快递单号,快递公司,保价\n{OC},{SF1},,300\n", "utf-8")  # 保价 in yuan
    words = invoke("ship", "--file", str(by_order), *common)
    assert words.exit_code == 0 and "1 个包裹" in words.stdout
    assert (ship(w, "C")["tracking_no"], ship(w, "C")["insured_fen"]) == (SF1, 30_000)


def test_ship_file_saved_as_gbk_is_read_S8(w, common, tmp_path):
    """S8: a hand-over file saved by Excel in GBK (as the platform's own files are) is read
    like a UTF-8 one."""
    path = tmp_path / "交接.csv"
    path.write_bytes(f"包裹号,运单号\n{w.ids['A']},{YT1}\n".encode("gbk"))
    code, payload, _ = run_json("ship", "--file", str(path), *common)
    assert (code, payload["handed_over"]) == (0, [w.ids["A"]])


def test_ship_file_with_sms_column_S24c(w, common, tmp_path):
    """S24c: the 短信通知 column the --file help offers (是/否) is read."""
    path = tmp_path / "交接.csv"
    path.write_text(f"包裹号,运单号,短信通知\n{w.ids['A']},{YT1},是\n{w.ids['B']},{YT2},否\n", "utf-8")
    code, payload, _ = run_json("ship", "--file", str(path), *common)
    assert code == 0 and payload["handed_over"] == [w.ids["A"], w.ids["B"]]
    assert ship(w, "A")["sms_notify"] is True and ship(w, "B")["sms_notify"] is False


def test_ship_refused_rows_are_said_on_stderr_with_json_S8(w, common, tmp_path):
    """The contract: messages go to stderr; a refused row is a message."""
    code, _, err = run_json("ship", str(w.ids["B"]), "YT1", *common)
    assert code == 1 and "YT1" in err


def test_ship_scan_reads_shipment_and_number_lines_from_stdin_S8(w, common):
    """S8: a scanner session on stdin, one 'SHIPMENT NUMBER' line per parcel (blank lines
    skipped); a line that is not of that shape is bad input and nothing is handed over."""
    stdin = f"{w.ids['A']} {YT1}\n\n{w.ids['D1']}\t{YT3}\n"
    code, payload, err = run_json("ship", "--scan", *common, stdin=stdin)
    assert (code, payload["handed_over"], err) == (0, [w.ids["A"], w.ids["D1"]], "")
    assert ship(w, "D1")["tracking_no"] == YT3

    code, payload, err = run_json("ship", "--scan", *common, stdin=f"{w.ids['B']} {YT2}\nB-{SF1} x\n")
    assert code == 2 and payload["key"] == "cli_fulfil.bad_scan_line" and SF1 in err
    assert ship(w, "B")["stage"] == "packed"


# --- kit ship: confirmation and the 21:00 list (S9, S1b, S13) -------------------------------------


def test_ship_awaiting_and_confirm_with_gbk_export_S9_S1b_S13(w, common, tmp_path):
    """S9: --awaiting lists what was handed over and awaits confirmation by 21:00; --confirm
    confirms it all (orders → WAIT_BUYER_CONFIRM_GOODS, shipped notices queued) and --export
    writes the platform's batch file in GBK; afterwards nothing awaits."""
    shipping.hand_over(w.shop, [{"shipment_id": w.ids["A"], "tracking_no": YT1},
                                {"shipment_id": w.ids["C"], "tracking_no": SF1}])

    code, payload, _ = run_json("ship", "--awaiting", *common)
    assert code == 0 and [r["shipment_id"] for r in payload["awaiting"]] == [w.ids["A"], w.ids["C"]]
    assert {r["confirm_by"] for r in payload["awaiting"]} == {"2026-12-03T21:00:00"}
    assert {r["late"] for r in payload["awaiting"]} == {False}
    words = invoke("ship", "--awaiting", *common)
    assert "21:00" in words.stdout and YT1 in words.stdout and "2 个包裹" in words.stdout

    export = tmp_path / "批量发货.csv"
    code, payload, err = run_json("ship", "--confirm", "--export", str(export), *common)
    assert code == 0 and err == ""
    assert (payload["confirmed"], payload["orders"], payload["notices"]) == ([w.ids["A"], w.ids["C"]], 2, 2)
    assert payload["export_lines"] == 2 and payload["batch_id"]
    rows = list(csv.reader(io.StringIO(export.read_bytes().decode("gbk"))))
    assert rows == [["订单编号", "物流公司", "运单号"], [OA, "圆通速递", YT1], [OC, "顺丰速运", SF1]]
    assert order(w, OA)["trade_status"] == "WAIT_BUYER_CONFIRM_GOODS"
    assert outbox.notices(w.shop, kind="shipped").height == 2

    assert run_json("ship", "--awaiting", *common)[1]["awaiting"] == []
    words = invoke("ship", "--confirm", *common)
    assert words.exit_code == 0 and "没有可以网上确认的包裹" in words.stdout


def test_ship_confirm_export_refused_to_the_warehouse_S9(w, common):
    """S9: the warehouse may not confirm on the platform: exit 1, message on stderr."""
    shipping.hand_over(w.shop, [{"shipment_id": w.ids["A"], "tracking_no": YT1}])
    code, payload, err = run_json("ship", "--confirm", "--as", "仓管小李", *common)
    assert code == 1 and payload["error"] == "PermissionDenied" and err
    assert ship(w, "A")["stage"] == "handed_over"


# --- kit ship: orders that did not ship (S8, S9, S19) ---------------------------------------------


def test_ship_unshipped_and_reason_S8_S9_S19(w, common):
    """S8/S9: --unshipped lists the orders due today not handed over with their reason (empty
    until given); --reason … --order … records it (pre-sales) and queues the delayed notice;
    an empty reason is bad input, an unknown order too."""
    shipping.hand_over(w.shop, [{"shipment_id": w.ids["A"], "tracking_no": YT1}])

    code, payload, _ = run_json("ship", "--unshipped", *common)
    listed = payload["unshipped"]
    assert code == 0 and listed[0]["order_no"] == OW and listed[0]["hours_late"] == 3.0
    assert OA not in [r["order_no"] for r in listed] and len(listed) == 5
    assert {r["reason"] for r in listed} == {None}

    code, payload, err = run_json("ship", "--reason", "等待调货", "--order", OW, "--order", OB,
                                  "--as", "客服小美", *common)
    assert (code, payload, err) == (0, {"ok": True, "reasons": 2, "notices": 2}, "")
    assert sorted(outbox.notices(w.shop, kind="delayed")["order_no"].to_list()) == sorted([OW, OB])

    words = invoke("ship", "--unshipped", *common)
    assert words.exit_code == 0 and "等待调货" in words.stdout and "（待填写）" in words.stdout
    assert "5 单" in words.stdout and "3 单还没有原因" in words.stdout
    listed = run_json("ship", "--unshipped", *common)[1]["unshipped"]
    reasons = {r["order_no"]: (r["reason"], r["reason_by"]) for r in listed}
    assert reasons[OW] == ("等待调货", "客服小美") and reasons[OC] == (None, None)

    code, payload, err = run_json("ship", "--reason", " ", "--order", OC, "--as", "客服小美", *common)
    assert code == 2 and payload["key"] == "shipping.reason_required" and err
    code, payload, _ = run_json("ship", "--reason", "等待调货", "--order", "123", "--as", "客服小美", *common)
    assert code == 2 and payload["key"] == "shipping.unknown_order"
    assert table(w.shop, "flags").filter(pl.col("kind") == "not_shipped").height == 2
