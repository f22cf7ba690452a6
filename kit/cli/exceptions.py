"""`kit exception`: delivery exception cases (S21): list them with their age and who holds
them, open one for a parcel or one per tracking alert, and take each step of a case: claim,
the carrier's answer, reship, refund, corrected address, resolve, the refused parcel back,
close, take over."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import click

from kit import exceptions as service
from kit.cli.output import common_options, emit_json, pad, say
from kit.cli.review import open_shop
from kit.errors import BadInput
from kit.i18n import t
from kit.models import ExceptionKind

KINDS = [str(k) for k in ExceptionKind]
STEPS = ("claim", "answer", "reship", "refund", "address", "resolve", "received", "close", "take", "show")


def yuan_to_fen(value: str, *, zero_ok: bool = False) -> int:
    """Yuan as typed ("89", "12.50") in whole fen; BadInput for anything else."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadInput("cli_exception.bad_yuan", value=value) from None
    fen = amount * 100
    if not amount.is_finite() or fen != fen.to_integral_value() or fen < 0 or (fen == 0 and not zero_ok):
        raise BadInput("cli_exception.bad_yuan", value=value)
    return int(fen)


def _row_line(r: dict[str, Any]) -> str:
    """One case as a line of the list."""
    return t(
        "cli_exception.row",
        case_id=pad(str(r["case_id"]), 8),
        kind=pad(r["kind_label"], 10),
        state=pad(r["state_label"], 14),
        order_no=pad(r["order_no"], 22),
        tracking_no=pad(r["tracking_no"] or "-", 20),
        owner=pad(r["owner"] or "-", 12),
        age=pad(f"{r['age_hours']:.1f}", 10),
        note=r["task"] or r["description"] or "",
    )


def _step_line(done: dict[str, Any], chosen: str) -> list[str]:
    """What a step did, in words."""
    lines = []
    if chosen == "reship":
        lines.append(t("cli_exception.reshipped", **done))
    elif chosen == "refund":
        lines.append(
            t(
                "cli_exception.refunded",
                case_id=done["case_id"],
                after_sale_id=done["after_sale_id"],
                amount=f"{done['after_sale']['amount_fen'] / 100:.2f}",
            )
        )
    elif chosen == "received":
        lines.append(t("cli_exception.received", case_id=done["case_id"], **done["units"]))
    elif chosen == "take":
        lines.append(t("cli_exception.taken", case_id=done["case_id"], owner=done["owner"]))
    else:
        lines.append(t("cli_exception.done", case_id=done["case_id"], state=done["state_label"]))
    if done.get("task"):
        lines.append(t("cli_exception.task", task=done["task"]))
    return lines


@click.command("exception")
@common_options
@click.argument("case_id", type=int, required=False, metavar="[CASE]")
@click.option("--open", "open_only", is_flag=True, help="List only the cases still open.")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default=None,
    help="The kind of problem: with --open-case, the new case's; else list only this kind.",
)
@click.option(
    "--owner",
    default=None,
    metavar="NAME",
    help="List only this person's cases; with --open-case, who holds it.",
)
@click.option(
    "--open-case",
    "open_shipment",
    type=int,
    default=None,
    metavar="SHIPMENT",
    help="Open a case for this parcel (needs --kind).",
)
@click.option("--description", default=None, help="With --open-case: what was found.")
@click.option(
    "--from-alerts", is_flag=True, help="Open a case for every lost, damaged or refused alert without one."
)
@click.option(
    "--claim", "claim_yuan", default=None, metavar="YUAN", help="CASE: claim this amount from the carrier."
)
@click.option("--evidence", default=None, help="With --claim: where the evidence is kept.")
@click.option("--answer", "answer_text", default=None, metavar="TEXT", help="CASE: the carrier's answer.")
@click.option("--compensation", default="0", metavar="YUAN", help="With --answer: what the carrier pays.")
@click.option("--reship", is_flag=True, help="CASE: send the parcel again (a new linked parcel).")
@click.option("--warehouse", default=None, help="With --reship: from this warehouse (default the same).")
@click.option("--carrier", default=None, help="With --reship: with this carrier (default the same).")
@click.option(
    "--refund",
    "refund_yuan",
    is_flag=False,
    flag_value="all",
    default=None,
    metavar="[YUAN]",
    help="CASE: refund the buyer (default what the parcel's goods were paid).",
)
@click.option(
    "--address", "address", is_flag=True, help="CASE: the buyer's right address (with the fields below)."
)
@click.option("--name", default=None, help="With --address: the receiver.")
@click.option("--mobile", default=None, help="With --address: the receiver's mobile (11 digits).")
@click.option("--province", default=None, help="With --address.")
@click.option("--city", default=None, help="With --address.")
@click.option("--district", default=None, help="With --address.")
@click.option("--detail", default=None, help="With --address: the street address.")
@click.option("--resolve", is_flag=True, help="CASE: settled (delivered at last, or the claim answered).")
@click.option("--note", default=None, help="With --resolve: a note for the audit trail.")
@click.option(
    "--received", is_flag=True, help="CASE: the refused parcel is back (every unit good unless --damaged)."
)
@click.option("--damaged", type=click.IntRange(min=0), default=None, help="With --received: units damaged.")
@click.option(
    "--close", "close_reason", default=None, metavar="REASON", help="CASE: close without a resolution."
)
@click.option("--take", is_flag=True, help="CASE: take the case over (you hold it).")
@click.option("--show", is_flag=True, help="CASE: the case with its audit trail.")
@click.option("--expected-version", type=int, default=None, help="Refuse the step if the case changed since.")
@click.option("--no-notify", is_flag=True, help="Do not queue the buyer's notice.")
def exception_(
    db: str | None,
    as_json: bool,
    config_path: str | None,
    actor: str | None,
    case_id: int | None,
    open_only: bool,
    kind: str | None,
    owner: str | None,
    open_shipment: int | None,
    description: str | None,
    from_alerts: bool,
    claim_yuan: str | None,
    evidence: str | None,
    answer_text: str | None,
    compensation: str,
    reship: bool,
    warehouse: str | None,
    carrier: str | None,
    refund_yuan: str | None,
    address: bool,
    name: str | None,
    mobile: str | None,
    province: str | None,
    city: str | None,
    district: str | None,
    detail: str | None,
    resolve: bool,
    note: str | None,
    received: bool,
    damaged: int | None,
    close_reason: str | None,
    take: bool,
    show: bool,
    expected_version: int | None,
    no_notify: bool,
) -> None:
    """Delivery exception cases (S21): lost, damaged, wrong address, refused parcels."""
    given = {
        "claim": claim_yuan is not None,
        "answer": answer_text is not None,
        "reship": reship,
        "refund": refund_yuan is not None,
        "address": address,
        "resolve": resolve,
        "received": received,
        "close": close_reason is not None,
        "take": take,
        "show": show,
    }
    chosen = [k for k in STEPS if given[k]]
    opening = [
        o for o, on in (("--open-case", open_shipment is not None), ("--from-alerts", from_alerts)) if on
    ]
    if len(chosen) + len(opening) > 1:
        raise BadInput("cli_exception.one_action", options=" ".join(opening + [f"--{c}" for c in chosen]))
    if chosen and case_id is None:
        raise BadInput("cli_exception.case_needed", option=f"--{chosen[0]}")
    if case_id is not None and not chosen:
        raise BadInput("cli_exception.case_without_action", case_id=case_id)
    if open_shipment is not None and kind is None:
        raise BadInput("cli_exception.open_needs_kind")
    if claim_yuan is not None and not (evidence or "").strip():
        raise BadInput("cli_exception.claim_needs_evidence")
    fields = {
        "receiver_name": name,
        "receiver_mobile": mobile,
        "province": province,
        "city": city,
        "district": district,
        "address_detail": detail,
    }
    if address and not any(fields.values()):
        raise BadInput("cli_exception.address_needs_fields")
    notify = not no_notify
    version = {"expected_version": expected_version}
    payload: dict[str, Any] = {"ok": True}
    lines: list[str] = []
    with open_shop(db, config_path, actor) as shop:
        if open_shipment is not None:
            done = service.open_case(
                shop, open_shipment, kind or "", description=description, owner=owner, notify=notify
            )
            payload["case"] = done
            lines.append(
                t(
                    "cli_exception.opened",
                    case_id=done["case_id"],
                    shipment_id=done["shipment_id"],
                    order_no=done["order_no"],
                    kind=done["kind_label"],
                    state=done["state_label"],
                    owner=done["owner"] or t("exceptions.nobody"),
                )
            )
        elif from_alerts:
            done = service.open_from_alerts(shop, notify=notify)
            payload["from_alerts"] = done
            kinds = "、".join(f"{t('exception_kind.' + k)} {n}" for k, n in done["by_kind"].items()) or "-"
            lines.append(
                t("cli_exception.from_alerts", opened=done["opened"], kinds=kinds, already=done["already"])
            )
        elif chosen and case_id is not None:
            step = chosen[0]
            if step == "show":
                done = service.case(shop, case_id)
            elif step == "claim":
                done = service.claim(
                    shop,
                    case_id,
                    amount_fen=yuan_to_fen(claim_yuan or ""),
                    evidence=evidence or "",
                    **version,
                )
            elif step == "answer":
                done = service.answer(
                    shop,
                    case_id,
                    text=answer_text or "",
                    compensation_fen=yuan_to_fen(compensation, zero_ok=True),
                    **version,
                )
            elif step == "reship":
                done = service.reship(
                    shop, case_id, warehouse=warehouse, carrier=carrier, notify=notify, **version
                )
            elif step == "refund":
                amount = None if refund_yuan in (None, "all") else yuan_to_fen(refund_yuan or "")
                done = service.refund(shop, case_id, amount_fen=amount, notify=notify, **version)
            elif step == "address":
                done = service.correct_address(shop, case_id, fields, notify=notify, **version)
            elif step == "resolve":
                done = service.resolve(shop, case_id, note=note, **version)
            elif step == "received":
                done = service.receive_return(shop, case_id, damaged=damaged, **version)
            elif step == "close":
                done = service.close(shop, case_id, close_reason or "", **version)
            else:
                done = service.take(shop, case_id, **version)
            payload["case"] = done
            if step == "show" and not as_json:
                click.echo(_row_line(service.cases(shop).filter(case_id=case_id).row(0, named=True)))
                for a in done["audit"]:
                    change = f"{a['from_state'] or '-'} → {a['to_state'] or '-'}" if a["field"] else "-"
                    click.echo(
                        t(
                            "cli_exception.audit_row",
                            at=a["at"].strftime("%m-%d %H:%M"),
                            actor=a["actor"],
                            action=a["action"],
                            change=change,
                            reason=a["reason"] or "",
                        )
                    )
            elif step != "show":
                lines += _step_line(done, step)
        else:
            frame = service.cases(shop, kind=kind, owner=owner, open_only=open_only)
            payload["cases"] = frame.to_dicts()
            if not as_json:
                click.echo(t("cli_exception.header"))
                for r in frame.iter_rows(named=True):
                    click.echo(_row_line(r))
            lines.append(t("cli_exception.listed", count=frame.height))
    if as_json:
        emit_json(payload)
    for line in lines:
        say(line)
