"""Who may do what beyond state changes (those are in kit.lifecycle's table)."""

from __future__ import annotations

from kit.errors import PermissionDenied
from kit.i18n import t
from kit.models import Role, StaffMember

P, A, W, L, S, AN, AD, SYS = (Role.PRESALE, Role.AFTERSALE, Role.WAREHOUSE, Role.LOGISTICS,
                              Role.SUPERVISOR, Role.ANALYST, Role.ADMIN, Role.SYSTEM)

ACTIONS: dict[str, frozenset[Role]] = {
    # registering orders: after-sales registers them (seed), pre-sales passes them on
    "insert_orders": frozenset({P, A, S, AD, SYS}),
    # writing staff and warehouses from kit.toml into the database
    "sync_settings": frozenset({S, AD, SYS}),
    # running the review rules over new orders (审单), keeping the blacklist, reconciling (S6)
    "run_review": frozenset({P, S, SYS}),
    "manage_blacklist": frozenset({P, A, S}),
    "reconcile": frozenset({P, A, S}),
    # stock (S7, S12): receipts and returns, stock counts (盘点) and imports, transfers between
    # warehouses (S23), low-stock thresholds and SKU pins, giving back reservations (cancel,
    # refund), picking, and allocation runs (分仓: allocate or backorder, S17, S24b)
    "receive_stock": frozenset({W, S, SYS}),
    "count_stock": frozenset({W, S, SYS}),
    "transfer_stock": frozenset({W, S}),
    "stock_settings": frozenset({W, S, AD}),
    "release_stock": frozenset({W, A, S, SYS}),
    "pick_stock": frozenset({W, L, S}),
    "run_allocation": frozenset({W, S, SYS}),
    # pick, pack, print, ship (S7, S8, S9, S18, S22): waves and pick lists, printing documents,
    # shortages found on the shelf, the reason an order due today did not ship, the platform's
    # batch file of confirmed shipments
    "plan_waves": frozenset({W, L, S}),
    "print_documents": frozenset({W, L, A, S}),
    "report_short_pick": frozenset({W, S}),
    "record_not_shipped": frozenset({P, W, L, S}),
    "export_confirmation": frozenset({P, L, S}),
    # after the hand-over (S21, S4; kit.tracking): pull or import the carriers' tracking events,
    # and run the automatic buyer confirmation (the trade finished N days after delivery)
    "track_parcels": frozenset({L, A, S, SYS}),
    "auto_confirm": frozenset({A, S, SYS}),
    # after-sales (S2, S3, S24d; kit.aftersales): open a case for the buyer's request, check the
    # returned goods in (back on the shelf or into damaged goods), import the platform's refunds
    "open_after_sale": frozenset({P, A, S, SYS}),
    "receive_returns": frozenset({A, W, S}),
    "import_refunds": frozenset({A, S, SYS}),
    # delivery exceptions (S21; kit.exceptions): open a case for a parcel, take it over, record
    # the claim's details
    "open_exception": frozenset({A, L, S, SYS}),
    "handle_exception": frozenset({A, L, S}),
    # buyer notices (S13, S20): queue them, mark them sent once the buyer has been told
    "notify_buyers": frozenset({P, A, S, SYS}),
    # generating the demo shop
    "seed_demo": frozenset({AD, S, SYS}),
    # reading: everyone with a role, analysts included
    "read": frozenset(Role),
}


def require(actor: StaffMember | None, action: str) -> StaffMember:
    """Return the actor when their role may perform `action`; raise PermissionDenied otherwise."""
    label = t(f"action.{action}")
    if actor is None:
        raise PermissionDenied("permission.no_actor", action=label)
    allowed = ACTIONS[action]
    if not actor.active or actor.role not in allowed:
        raise PermissionDenied(
            "lifecycle.permission_denied", actor=actor.name, role=Role(actor.role).label,
            action=label, allowed="、".join(sorted(r.label for r in allowed if r is not SYS)),
        )
    return actor
