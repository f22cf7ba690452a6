"""A dashboard session: the shop a kernel acts on, and view models that report errors in words.

`kit serve` hands every Voilà kernel its database, acting person and settings through
the environment (KIT_DATABASE_URL, KIT_ACTOR, KIT_CONFIG); `open_shop()` reads them. Behind
a reverse proxy (`[serve] identity_header`, docs/serving.md) the acting person is the
request's header instead (KIT_IDENTITY_HEADER names it; Voilà passes its value as HTTP_…),
looked up among the active staff; without it the desk is refused, never the local user.
A view model runs each action through `attempt()`, so that a refusal or a failure
becomes a sentence in the dashboard's message area instead of a traceback, while
`last_error` and the `kit.ui` logger keep it visible to tests and to the maintainers.
`DeskModel` is what the desks with switchable lists add: the lists, the tile counts and
the actions the acting person's role may use.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from traitlets import Bool, Dict, Enum, HasTraits, Instance, List, Unicode, observe

import kit
from kit.config import load as load_config
from kit.errors import KitError, NotFound, Refused
from kit.i18n import t
from kit.models import Role
from kit.serve_identity import IDENTITY_HEADER_ENV, requested_staff
from kit.shop import Shop

if TYPE_CHECKING:
    from kit.ui.table import TableModel

__all__ = ["DeskModel", "ShopModel", "describe_error", "open_shop"]

log = logging.getLogger("kit.ui")
T = TypeVar("T")


def open_shop() -> Shop:
    """The shop this kernel acts on, as `kit serve` set it up in the environment.

    Locally the person acting is KIT_ACTOR (none when empty). Behind a proxy it is the staff
    member the request's header names, refused in words when the header is missing or names
    nobody active. A pre-heated kernel first waits for its request (the data are read then).
    """
    _wait_for_request()
    url = os.environ.get("KIT_DATABASE_URL") or None
    settings = load_config(os.environ.get("KIT_CONFIG") or None)
    if not os.environ.get(IDENTITY_HEADER_ENV, "").strip():
        return kit.connect(url, actor=os.environ.get("KIT_ACTOR") or None, config=settings)
    name = requested_staff(os.environ, settings.serve["identity_map"])
    shop = kit.connect(url, config=settings)
    try:
        return shop.acting_as(_active_staff(shop, name))
    except BaseException:
        shop.close()
        raise


def _active_staff(shop: Shop, name: str) -> str:
    """`name` when it is an active staff member; refused in words otherwise."""
    try:
        member = shop.staff_member(name)
    except NotFound:
        raise Refused("serve.unknown_login", login=name) from None
    if not member.active:
        raise Refused("serve.inactive", name=name)
    return member.name


_waited = False


def _wait_for_request() -> None:
    """In a pre-heated kernel (VOILA_PREHEAT=True), wait once for the visitor's request, so the
    desk reads the shop when someone opens it, not when the kernel was started."""
    global _waited
    if _waited or os.environ.get("VOILA_PREHEAT") != "True":
        return
    _waited = True
    from voila.utils import wait_for_request

    wait_for_request()


def describe_error(error: BaseException) -> str:
    """What went wrong, in the staff's language: a KitError's message, else a generic one."""
    if isinstance(error, KitError):
        return error.message
    return t("ui.unexpected_error", error=type(error).__name__)


class ShopModel(HasTraits):
    """Base of the dashboards' view models: the shop they call, and the message they show."""

    shop = Instance(Shop, allow_none=True, help="the shop whose services the model calls")
    message = Unicode("", help="what the message area shows; empty when there is nothing to say")
    level = Enum(("", "info", "error"), default_value="", help="how the message is shown")
    last_error = Instance(BaseException, allow_none=True,
                          help="the error behind the message; None once the message is cleared")
    busy = Bool(False, help="an action is running")

    def __init__(self, shop: Shop | None = None, *, opener: Callable[[], Shop] = open_shop,
                 **kwargs: Any) -> None:
        super().__init__(shop=shop, **kwargs)
        self._opener = opener
        self._depth = 0  # nested attempts: busy until the outermost ends

    def attempt(self, action: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Run `action`; on error show it in words, keep it in last_error and return None."""
        self._depth += 1
        self.busy = True
        try:
            return action(*args, **kwargs)
        except Exception as exc:  # every error must reach the staff as words, never a traceback
            self.show_error(exc)
            return None
        finally:
            self._depth -= 1
            self.busy = self._depth > 0

    def callback(self, action: Callable[[], object]) -> Callable[..., None]:
        """A widget callback (on_click, observe) that runs `action` through attempt()."""

        def run(*_args: object) -> None:
            self.attempt(action)

        return run

    def refresh(self) -> bool:
        """Read again what the model shows; False (and a message) when that failed."""
        ok = self.attempt(self._read) is not None
        if ok:
            self.clear_message()
        return ok

    def _read(self) -> object:
        """Read every list and count the model shows (each model says how); None when it failed."""
        raise NotImplementedError

    def show_error(self, error: BaseException) -> None:
        """Show an error in the message area and log it (unexpected ones with their traceback)."""
        self.last_error = error
        self.level = "error"
        self.message = describe_error(error)
        if isinstance(error, KitError):
            log.info("refused: %s (%s)", error.key, type(error).__name__)  # no values: they may be personal
        else:
            log.error("unexpected error in %s", type(self).__name__, exc_info=error)

    def show_info(self, text: str) -> None:
        """Show a plain notice in the message area (it replaces any error)."""
        self.last_error = None
        self.level = "info"
        self.message = text

    def clear_message(self) -> None:
        """Empty the message area (and forget the error behind it)."""
        self.last_error = None
        self.message = ""
        self.level = ""

    @property
    def role(self) -> Role | None:
        """The acting person's role; None when nobody acts (or they are inactive)."""
        actor = self.shop.actor if self.shop is not None else None
        return Role(actor.role) if actor is not None and actor.active else None

    def require_shop(self) -> Shop:
        """The shop, opened now if it is not open yet (so a retry can succeed later)."""
        if self.shop is None:
            self.shop = self._opener()
        return self.shop


class DeskModel(ShopModel):
    """Base of the desks with switchable lists: one TableModel per view, tile counts, allowed actions."""

    tables = Dict(help="view → TableModel: each list, a page at a time")
    counts = Dict(help="the tiles' counts, by name")
    allowed = List(Unicode(), help="the actions the acting person's role may use here")

    @property
    def table(self) -> TableModel:
        """The list the desk shows now (its `view`, a trait each desk declares with its views)."""
        return self.tables[self.view]

    @observe("shop")
    def _allow(self, _change: object = None) -> None:
        role = self.role
        self.allowed = [] if role is None else self._may(role)

    def _may(self, role: Role) -> list[str]:
        """The desk's actions `role` may use (each desk says which)."""
        raise NotImplementedError
