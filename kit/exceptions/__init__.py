"""Delivery exception cases (S21): one case per delivery problem of a parcel with the courier,
each with its own small state machine (kit.lifecycle, entity `exception`) and an owner.

    >>> from kit import exceptions
    >>> exceptions.open_from_alerts(shop)                       # a case per lost/damaged/refused alert
    >>> c = exceptions.open_case(shop, 42, "lost", description="三天没有轨迹")
    >>> exceptions.take(shop, c["case_id"])                     # the acting person holds it
    >>> exceptions.claim(shop, c["case_id"], amount_fen=8900, evidence="聊天截图在共享盘")
    >>> exceptions.answer(shop, c["case_id"], text="同意赔付", compensation_fen=5000)
    >>> exceptions.reship(shop, c["case_id"])                   # a new parcel, linked; or:
    >>> exceptions.refund(shop, c["case_id"])                   # through kit.aftersales
    >>> exceptions.correct_address(shop, 7, {"receiver_name": "王小明", ...})  # wrong address
    >>> exceptions.receive_return(shop, 9, damaged=1)           # a refused parcel is back
    >>> exceptions.close(shop, 11, "快递员已找到，已签收")
    >>> exceptions.cases(shop, open_only=True)                  # the list, with age and owner
    >>> exceptions.case(shop, 42)                               # one case with its audit trail

    kind            opens as           then
    lost, damaged   open               claim → answer → reship | refund | resolve; or reship/refund at once
    wrong_address   open               correct_address → resolve (delivered) | reship
    refused         return_expected    receive_return (restocked) | refund

Any live case can be closed with a reason. Every call is one write transaction with the
acting person's role checked; `expected_version` makes a step fail with Conflict when someone
else changed the case since it was read. Buyers hear of each step that concerns them through
the outbox (kind `exception`, S13) unless notify=False.
"""

from kit.exceptions.address import ADDRESS_FIELDS, check_address, correct_address
from kit.exceptions.handling import answer, claim, close, reship, resolve, take
from kit.exceptions.opening import ALERT_KINDS, open_case, open_from_alerts
from kit.exceptions.records import LIVE
from kit.exceptions.refunds import refund
from kit.exceptions.returns import receive_return
from kit.exceptions.views import CASE_COLUMNS, case, cases

__all__ = [
    "ADDRESS_FIELDS",
    "ALERT_KINDS",
    "CASE_COLUMNS",
    "LIVE",
    "answer",
    "case",
    "cases",
    "check_address",
    "claim",
    "close",
    "correct_address",
    "open_case",
    "open_from_alerts",
    "receive_return",
    "refund",
    "reship",
    "resolve",
    "take",
]
