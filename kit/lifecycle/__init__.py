"""The only place an order, a shipment or an after-sale case changes state.

Each change is a row of TRANSITIONS (kit.lifecycle.table): which entity and field it
moves, from which states to which, who may do it, and the guards that must hold
(kit.lifecycle.guards). `apply` and `apply_many` (kit.lifecycle.apply) check the actor's
role, the states and the guards, write the change guarded by the version read and the
audit rows in the same transaction. When two people act on one record at once, exactly
one wins; the other gets Conflict. Field edits (address, phone, memo) go through
`edit` (kit.lifecycle.edits) with the same checks and audit.
"""

from kit.lifecycle.apply import (
    BulkResult,
    Change,
    Planned,
    apply,
    apply_many,
    audit_rows,
    check_role,
    label,
    plan_many,
)
from kit.lifecycle.edits import BEFORE_ALLOCATION, EDITS, SPLIT_ROLES, EditRule, edit, split_lines
from kit.lifecycle.table import TRANSITIONS, Transition, transition, transitions_for

__all__ = [
    "BEFORE_ALLOCATION",
    "EDITS",
    "SPLIT_ROLES",
    "TRANSITIONS",
    "BulkResult",
    "Change",
    "EditRule",
    "Planned",
    "Transition",
    "apply",
    "apply_many",
    "audit_rows",
    "check_role",
    "edit",
    "label",
    "plan_many",
    "split_lines",
    "transition",
    "transitions_for",
]
