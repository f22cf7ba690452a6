"""The kit's exceptions, each carrying a message from the catalogue and an exit code.

    KitError                      base; .message is in the staff's language
    ├── BadInput          (2)     bad usage or bad input: a file, a value, an option
    │   ├── ConfigError           kit.toml: the key, the value, what was expected
    │   └── StoreError            the database: unknown scheme, unreachable, corrupt,
    │                             newer schema than this kit
    │   └── NotFound              no such order / shipment / staff member
    └── Refused           (1)     a shop rule said no
        ├── IllegalTransition     this change is not allowed from the current state
        ├── PermissionDenied      the actor's role may not do this
        ├── GuardFailed           a rule attached to the change is not met
        └── Conflict              someone else changed the record first
"""

from __future__ import annotations

from typing import Any

from kit.i18n import t

__all__ = [
    "BadInput",
    "ConfigError",
    "Conflict",
    "GuardFailed",
    "IllegalTransition",
    "KitError",
    "NeedsConfirmation",
    "NotFound",
    "PermissionDenied",
    "Refused",
    "StoreError",
]


class KitError(Exception):
    """An error whose message comes from the catalogue, in the staff's language."""

    exit_code = 2

    def __init__(self, message_key: str, /, **params: Any) -> None:
        self.key = message_key
        self.params = params
        super().__init__(t(message_key, **params))

    @property
    def message(self) -> str:
        """The message in the current language."""
        return str(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: the catalogue key, the message and its values."""
        return {
            "error": type(self).__name__,
            "key": self.key,
            "message": self.message,
            "params": {k: _jsonable(v) for k, v in self.params.items()},
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


class BadInput(KitError):
    """Bad usage or bad input: exit code 2."""

    exit_code = 2


class ConfigError(BadInput):
    """A setting in kit.toml (or the environment) is wrong."""


class StoreError(BadInput):
    """The database cannot be used as asked."""


class Refused(KitError):
    """A shop rule refused the action: exit code 1."""

    exit_code = 1


class IllegalTransition(Refused):
    """The requested change is not allowed from the record's current state."""


class PermissionDenied(Refused):
    """The acting person's role may not perform this action."""


class GuardFailed(Refused):
    """A condition attached to the change (payment, phone confirmation, ...) is not met."""


class Conflict(Refused):
    """Someone else changed the record between reading and writing."""


class NeedsConfirmation(Refused):
    """Something unusual (a parcel's weight far from the expected one) needs a person to
    accept it; asked again with it accepted, the action goes through."""


class NotFound(BadInput):
    """The record does not exist."""
