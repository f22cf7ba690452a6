"""After-sales service (售后; S2, S3, S13, S21, S24d): refund only, return and refund, exchange
and repair cases, from the buyer's request to the money back or the item sent again.

    >>> from kit import aftersales
    >>> clerk = shop.acting_as("售后小雅")
    >>> case = aftersales.open_case(clerk, "T1001", "return", "quality", amount_fen=4900,
    ...                             lines=[{"line_no": 1, "quantity": 1}], note="杯子有裂纹")
    >>> case = aftersales.agree(clerk, case["case_id"])         # the buyer is told where to send it
    >>> aftersales.goods_sent_back(clerk, case["case_id"], carrier="yto", tracking_no="YT…")
    >>> aftersales.receive(shop.acting_as("仓管小李"), case["case_id"],
    ...                    [{"line_no": 1, "good": 0, "damaged": 1}])   # into damaged goods
    >>> aftersales.refund(clerk, case["case_id"])               # SUCCESS; the buyer is told
    >>> aftersales.cases(clerk, open_only=True)                 # the cases still waiting

Modules: `cases` (open, agree, refund, refuse, reopen, close, take; `open_in` and `refund_in`
inside a caller's transaction), `returns` (the goods back: goods_sent_back, receive, the
exchange's or repair's parcel out), `limits` (what is still refundable or returnable),
`notices` (the buyer's notice of each step), `records` (one case read, locked and written),
`read` (listing). Every state change goes through kit.lifecycle.
"""

from kit.aftersales.cases import agree, close, open_case, open_in, refund, refund_in, refuse, reopen, take
from kit.aftersales.notices import STEPS
from kit.aftersales.read import CASE_COLUMNS, OPEN_STATUSES, case, cases, refundable
from kit.aftersales.returns import goods_sent_back, receive

__all__ = [
    "CASE_COLUMNS",
    "OPEN_STATUSES",
    "STEPS",
    "agree",
    "case",
    "cases",
    "close",
    "goods_sent_back",
    "open_case",
    "open_in",
    "receive",
    "refund",
    "refund_in",
    "refundable",
    "refuse",
    "reopen",
    "take",
]
