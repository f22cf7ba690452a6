"""Daily reconciliation (S6): the orders imported per channel and day against the count
pre-sales typed in, broken down by where each order now stands, so a missing order shows
up as a difference and every registered order is somewhere."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.models import Stage
from kit.permissions import require
from kit.store import schema
from kit.store.frames import read_frame


@dataclass(frozen=True)
class Reconciliation:
    """One day's counts per channel (platform and shop); difference = counted − imported,
    so a positive difference is orders the platform has and the kit does not."""

    day: date
    channels: pl.DataFrame   # platform, shop, imported, counted, difference, one column per stage
    quarantined: int         # rows still in quarantine: they may be the missing orders

    @property
    def balanced(self) -> bool:
        """True when every typed-in count equals the imported count."""
        typed = self.channels.filter(pl.col("counted").is_not_null())
        return typed.height > 0 and bool((typed["difference"] == 0).all())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {"day": self.day.isoformat(), "balanced": self.balanced, "quarantined": self.quarantined,
                "channels": self.channels.to_dicts()}


def reconcile(shop: Any, day: date, *, counted: int | None = None, platform: str | None = None,
              shop_name: str | None = None, now: datetime | None = None) -> Reconciliation:
    """The day's orders per channel by stage; with `counted`, record it against one channel."""
    # Reading is for everyone; recording a typed-in count is pre-sales' and supervisors' work.
    actor = require(shop.actor, "read" if counted is None else "reconcile")
    o = schema.orders
    start = datetime.combine(day, time())
    paid = sa.func.coalesce(o.c.paid_at, o.c.created_at)  # COD orders are counted when placed
    with (shop.store.write() if counted is not None else shop.store.read()) as conn:
        frame = read_frame(conn, sa.select(o.c.platform, o.c.shop, o.c.stage, sa.func.count().label("n"))
                           .where(paid >= start, paid < start + timedelta(days=1),
                                  o.c.trade_status != "WAIT_BUYER_PAY")
                           .group_by(o.c.platform, o.c.shop, o.c.stage))
        waiting = conn.execute(sa.select(sa.func.count()).select_from(schema.quarantine)
                               .where(schema.quarantine.c.status == "open")).scalar_one()
        stages = [str(s) for s in Stage]
        wide = (frame.pivot(on="stage", index=["platform", "shop"], values="n")
                if frame.height else pl.DataFrame(schema={"platform": pl.String, "shop": pl.String}))
        wide = wide.with_columns([pl.lit(0, dtype=pl.Int64).alias(s) for s in stages
                                  if s not in wide.columns])
        wide = wide.with_columns([pl.col(s).fill_null(0).cast(pl.Int64) for s in stages])
        wide = wide.with_columns(pl.sum_horizontal(stages).alias("imported"))
        channel = (platform or shop.config.platform, shop_name or shop.config.shop_name)
        if wide.filter((pl.col("platform") == channel[0]) & (pl.col("shop") == channel[1])).height == 0:
            wide = pl.concat([wide, pl.DataFrame({"platform": [channel[0]], "shop": [channel[1]],
                                                  **{s: [0] for s in stages}, "imported": [0]},
                                                 schema=wide.schema)], how="vertical_relaxed")
        is_channel = (pl.col("platform") == channel[0]) & (pl.col("shop") == channel[1])
        wide = wide.with_columns(
            pl.when(is_channel).then(pl.lit(counted, dtype=pl.Int64)).otherwise(None).alias("counted"))
        wide = wide.with_columns((pl.col("counted") - pl.col("imported")).alias("difference"))
        wide = wide.select("platform", "shop", "imported", "counted", "difference", *stages).sort(
            "platform", "shop")
        if counted is not None:
            row = wide.filter(is_channel).row(0, named=True)
            conn.execute(schema.reconciliations.insert().values(
                day=day, platform=channel[0], shop=channel[1], counted=counted, imported=row["imported"],
                details=json.dumps({s: row[s] for s in stages}), actor=actor.name, at=now or clock.now()))
    return Reconciliation(day, wide, int(waiting))
