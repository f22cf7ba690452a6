"""How the shop allocates (分仓): the strategy, whether an order may be split over several
warehouses, drop-shipping, and the size of one transaction. Read from kit.toml's
[allocation] table by `from_mapping`, or passed by the caller."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from kit.errors import ConfigError

__all__ = ["STRATEGIES", "AllocationPolicy"]

STRATEGIES = ("nearest", "fewest_parcels")


@dataclass(frozen=True)
class AllocationPolicy:
    """The shop's allocation rules (S17, S24b); every field has kit.toml's default.

    strategy: `nearest` — each order ships from the nearest warehouse that holds all of
      it (S17); when none does and splitting is allowed, each line from the nearest
      warehouse that holds it. `fewest_parcels` — the same single-warehouse choice, but
      a warehouse already shipping a pinned line of the order comes first, and a split
      takes the warehouse holding the most lines first (fewest parcels).
    split: an order that no single warehouse can ship is split over several (S24b, as
      agreed with buyers); otherwise it waits (backordered) for a restock or a transfer.
    dropship: SKUs that a supplier holds are shipped by the supplier (S17, S23 step 3).
    batch_orders: orders per transaction; other staff wait at most one batch.
    """

    strategy: str = "nearest"
    split: bool = True
    dropship: bool = True
    batch_orders: int = 100_000

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ConfigError(
                "config.bad_choice",
                key="allocation.strategy",
                value=repr(self.strategy),
                expected=", ".join(STRATEGIES),
            )
        for name in ("batch_orders",):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    "config.bad_type", key=f"allocation.{name}", value=repr(value), expected="integer ≥ 1"
                )
        for name in ("split", "dropship"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(
                    "config.bad_type",
                    key=f"allocation.{name}",
                    value=repr(getattr(self, name)),
                    expected="true/false",
                )

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None) -> AllocationPolicy:
        """The policy from kit.toml's [allocation] table (missing keys keep their default)."""
        data = dict(data or {})
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError("config.unknown_key", key=f"allocation.{unknown[0]}", expected=", ".join(known))
        return cls(**data)
