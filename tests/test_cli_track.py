"""`kit track` on the command line (S21, S4, S13): the same services as kit.tracking, words for
people, one JSON object with --json (messages on stderr only) and the contract's exit codes
(0 ok, 1 refused by a rule, 2 bad usage or input).

The shop is test_tracking's (copied per test, on SQLite and PostgreSQL): eight orders handed to
the courier on Thu 2026-12-03 15:00, all but F confirmed on the platform.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from fulfil_fixtures import (
    clock_fixture,  # noqa: F401  (a fixture of this module)
    db_url_fixture,  # noqa: F401  (a fixture of this module)
    invoke,
    kit_toml,
    run_json,
    table,
    toml_value,
)
from test_tracking import (
    API_KEY,
    NO,
    NUMBER,
    World,
    built,  # noqa: F401  (test_tracking's shop: a fixture of this module)
    delivered_rows,
    gateway_fixture,  # noqa: F401  (a fixture of this module)
    scans,
    world_fixture,  # noqa: F401  (a fixture of this module)
)


def yto_api(url: str) -> tuple[str, ...]:
    """kit.toml lines switching yto's tracking gateway on at `url`."""
    return ("[carriers.yto]", f"api_url = {toml_value(url)}", f"api_key = {toml_value(API_KEY)}")


@pytest.fixture
def common(w: World, tmp_path: Path) -> list[str]:
    """--db and --config of the copied test shop."""
    return ["--db", w.url, "--config", str(kit_toml(tmp_path / "kit.toml"))]


def test_import_json_twice_one_object_each_and_events_stored_once_S21(w, common):
    """S21: `kit track --import FILE --carrier yto --json` prints one object (what was read, stored,
    already there), messages go to stderr; the second import stores nothing new."""
    path = w.csv(delivered_rows("A"))

    code, first, err = run_json("track", "--import", str(path), "--carrier", "yto", *common)
    code2, second, _ = run_json("track", "--import", str(path), "--carrier", "yto", *common)

    assert (code, first["ok"], first["import"]["stored"], first["import"]["duplicates"]) == (0, True, 4, 0)
    assert first["import"]["delivered_orders"] == [NO["A"]] and "已导入" in err
    assert (code2, second["import"]["stored"], second["import"]["duplicates"]) == (0, 0, 4)
    assert table(w.shop, "tracking_events").height == 4
    assert "alerts" not in first  # the alerts are shown only when nothing else is asked, or --alerts


def test_import_usage_and_file_errors_exit_2_bad_rows_exit_1(w, common):
    """--import without --carrier, order numbers without an action, and a file without the
    needed columns are bad usage or input (2, one JSON error); rows that cannot be read are
    listed and make the run refused (1), the good rows stored."""
    path = w.csv(delivered_rows("A"))
    code, out, err = run_json("track", "--import", str(path), *common)
    assert (
        code == 2 and out["ok"] is False and out["key"] == "cli_track.carrier_needed" and "--carrier" in err
    )
    code, out, _ = run_json("track", NO["A"], *common)
    assert code == 2 and out["key"] == "cli_track.orders_without_action"
    code, out, _ = run_json(
        "track",
        "--import",
        str(w.csv(["x,y"], head="单号,城市\n", name="bad.csv")),
        "--carrier",
        "yto",
        *common,
    )
    assert code == 2 and out["key"] == "tracking.csv_missing_columns"

    code, out, err = run_json(
        "track",
        "--import",
        str(w.csv([*delivered_rows("B"), f"{NUMBER['B']},?,运输中,,"], name="rows.csv")),
        "--carrier",
        "yto",
        *common,
    )
    assert code == 1 and out["ok"] is False and out["import"]["stored"] == 4
    assert [r for r, _ in out["import"]["bad_rows"]] == [6] and "第 6 行" in err


def test_pull_json_names_skipped_carriers_and_exits_0_S21(w, gateway, tmp_path):
    """S21: `kit track --pull` asks yto's gateway (on 127.0.0.1), names sf and zto (no API) as
    skipped on stderr and in the JSON, and exits 0; an unreachable gateway exits 1."""
    state, url = gateway
    state.events[NUMBER["B"]] = scans(NUMBER["B"], ("2026-12-03T18:00:00+08:00", "collected", "已揽收"))
    common = ["--db", w.url, "--config", str(kit_toml(tmp_path / "api.toml", extra=yto_api(url)))]

    code, out, err = run_json("track", "--pull", *common)

    assert code == 0 and out["ok"] is True and out["pull"]["stored"] == 1
    assert sorted(s["carrier"] for s in out["pull"]["carriers_skipped"]) == ["sf", "zto"]
    assert "顺丰速运" in err and "kit track --import" in err
    down = ["--db", w.url, "--config", str(kit_toml(tmp_path / "down.toml", extra=yto_api("http://127.0.0.1:9/")))]
    code, out, err = run_json("track", "--pull", "--carrier", "yto", *down)
    assert (
        code == 1 and out["ok"] is False and [f["carrier"] for f in out["pull"]["carriers_failed"]] == ["yto"]
    )


def test_alerts_by_default_in_words_and_json_S21(w, common, clock):
    """S21: `kit track` alone lists the parcels that need a person (stdout), the count on
    stderr; --alerts --kind narrows; --json gives the same rows; English with --lang en."""
    w.load("yto", [f"{NUMBER['B']},2026-12-05 10:00:00,拒收,收件人拒收,上海"])
    clock["now"] = datetime(2026, 12, 10, 9, 0)

    words = invoke("track", *common)
    code, out, _ = run_json("track", "--alerts", "--kind", "refused", *common)

    assert words.exit_code == 0 and "拒收" in words.stdout and NUMBER["B"] in words.stdout
    assert "未揽收" in words.stdout and "需要处理的物流提醒" in words.stderr
    assert code == 0 and [(a["tracking_no"], a["kind"]) for a in out["alerts"]] == [(NUMBER["B"], "refused")]
    english = invoke("--lang", "en", "track", *common)
    assert "Refused" in english.stdout and "Tracking alerts" in english.stderr


def test_confirm_refused_exits_1_then_succeeds_S4(w, common):
    """S4: `kit track --confirm ORDER` by after-sales: refused (1) while a parcel is on its way,
    naming it; finished (0) once delivered; a warehouse worker is refused (1, PermissionDenied)."""
    w.load("yto", [f"{NUMBER['A']},2026-12-04 02:00:00,运输中,在途,杭州"])

    code, out, err = run_json("track", "--confirm", NO["A"], "--as", "售后小雅", *common)
    assert code == 1 and out["confirm"]["finished"] == [] and NUMBER["A"] in err and "运输中" in err

    w.load("yto", delivered_rows("A"))
    code, out, err = run_json("track", "--confirm", NO["A"], "--as", "售后小雅", *common)
    assert code == 0 and out["confirm"]["finished"] == [NO["A"]] and "交易成功" in err
    assert w.order("A")["trade_status"] == "TRADE_FINISHED"

    code, out, _ = run_json("track", "--confirm", NO["B"], "--as", "仓管小李", *common)
    assert code == 1 and out["error"] == "PermissionDenied"


def test_parcels_sign_and_auto_confirm_S4_S16(w, common, clock):
    """S16/S4: --parcels shows each parcel's status; --sign refuses an online order (1);
    --auto-confirm by the supervisor finishes what was delivered 10 days ago (0)."""
    w.load("yto", delivered_rows("A"))

    code, out, _ = run_json("track", "--parcels", NO["A"], NO["D"], *common)
    assert code == 0 and [(p["tracking_no"], p["status"]) for p in out["parcels"]] == [
        (NUMBER["D1"], "pending"),
        (NUMBER["D2"], "pending"),
        (NUMBER["A"], "delivered"),
    ]  # by order number
    code, out, _ = run_json("track", "--sign", NO["A"], *common)
    assert code == 1 and "不是货到付款" in out["sign"]["refused"][0][1]

    clock["now"] = datetime(2026, 12, 16, 9, 0)
    code, out, err = run_json("track", "--auto-confirm", "--as", "店长", *common)
    assert code == 0 and out["auto_confirm"]["finished"] == [NO["A"]] and "自动确认收货" in err
    code, out, _ = run_json("track", "--auto-confirm", *common)  # the logistics clerk may not
    assert code == 1 and out["error"] == "PermissionDenied"


def test_analyst_may_read_but_not_import_S21(w, common):
    """An analyst sees the alerts (0) but an import is refused (1, nothing stored)."""
    code, _, _ = run_json("track", "--alerts", "--as", "分析师", *common)
    assert code == 0
    code, out, err = run_json(
        "track", "--import", str(w.csv(delivered_rows("A"))), "--carrier", "yto", "--as", "分析师", *common
    )
    assert code == 1 and out["error"] == "PermissionDenied" and "跟踪物流" in err
    assert table(w.shop, "tracking_events").height == 0
