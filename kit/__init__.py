"""Fahuo Kit (发货): the order-to-parcel work of an online shop, from intake to statistics.

    >>> import kit
    >>> shop = kit.connect()                      # ./var/kit.db, or KIT_DATABASE_URL
    >>> shop = kit.connect("postgresql://…", actor="客服小美")
    >>> shop.status()["stage"]["new"]
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from kit.config import Config, load
from kit.shop import Shop
from kit.store import Store

__all__ = ["Shop", "connect"]
__version__ = "0.1.0"


def connect(
    url: str | sa.URL | None = None,
    *,
    actor: str | None = None,
    config: Config | str | Path | None = None,
    migrate: bool = True,
) -> Shop:
    """Open the shop's database (created or upgraded as needed) and act as `actor`."""
    settings = config if isinstance(config, Config) else load(config)
    store = Store.open(url, migrate=migrate)
    shop = Shop(store, settings)
    if actor is not None:
        try:
            shop = shop.acting_as(actor)
        except Exception:
            store.close()
            raise
    return shop
