"""Who acts on a served desk: the address check of `kit serve` and the identity a proxy sends.

Two modes (docs/serving.md):

* **local** — kit.toml sets no `[serve] identity_header`. Voilà listens on a loopback
  address only (127.0.0.1 by default) and every kernel acts as `--as NAME`, else
  `shop.local_user`, handed over as KIT_ACTOR.
* **proxy** — `[serve] identity_header = "X-Remote-User"`: a reverse proxy signs the staff
  in and sets that header on every request. `kit serve` tells Voilà to pass the header to
  the page's kernel (`VoilaConfiguration.http_header_envs`), which Voilà does as the
  environment variable `HTTP_X_REMOTE_USER` (RFC 3875 naming: `HTTP_`, upper case, `-`
  as `_`), and tells the kernel which header to trust (KIT_IDENTITY_HEADER). The kernel
  maps the login through `[serve] identity_map` and acts as that staff member; without the
  header, or for someone who is not active staff, the desk is refused — never the local
  user.

This module holds the rules both sides share; it imports neither Voilà nor the database.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from contextlib import suppress
from urllib.parse import unquote

from kit.errors import Refused

__all__ = [
    "IDENTITY_HEADER_ENV",
    "check_host",
    "decode_login",
    "header_env_name",
    "is_loopback",
    "requested_staff",
    "url_host",
]

IDENTITY_HEADER_ENV = "KIT_IDENTITY_HEADER"  # set by `kit serve` in proxy mode: the header to trust
HEADER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")  # no "_": nginx drops such headers, and "-" becomes "_"
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only: localhost, 127.0.0.0/8 or ::1."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_host(host: str, identity_header: str) -> None:
    """Refuse to listen beyond this machine unless a proxy tells who acts on each request."""
    if not identity_header and not is_loopback(host):
        raise Refused("serve.needs_identity", host=host)


def header_env_name(header: str) -> str:
    """The environment variable Voilà gives a kernel for a request header (X-Remote-User →
    HTTP_X_REMOTE_USER; header names are case-insensitive, so the result is the same for
    x-remote-user)."""
    return "HTTP_" + header.upper().replace("-", "_")


def decode_login(raw: str) -> str:
    """The login a header value carries, in the three spellings a proxy may send.

    Percent-encoded UTF-8 (``%E4%BB%93…``, the safe way to send a Chinese name) is decoded;
    raw UTF-8 bytes, which the HTTP server read as Latin-1 (what nginx forwards from a
    Chinese basic-auth user name), are read again as UTF-8; plain ASCII is kept as it is.
    """
    value = raw.strip()
    if _PERCENT.search(value):
        with suppress(UnicodeDecodeError):  # not UTF-8 once decoded: kept as sent (it names nobody)
            value = unquote(value, errors="strict")
    if any("\x80" <= c <= "\xff" for c in value):
        with suppress(UnicodeEncodeError, UnicodeDecodeError):
            value = value.encode("latin-1").decode("utf-8")
    return value.strip()


def requested_staff(environ: Mapping[str, str], identity_map: Mapping[str, str]) -> str:
    """The staff member the request's header names (identity_map applied).

    Refused in words when the header is missing, empty or holds several values; whether the
    name is active staff is for the shop to say (`Shop.staff_member`).
    """
    header = environ.get(IDENTITY_HEADER_ENV, "").strip()
    raw = environ.get(header_env_name(header), "")
    login = decode_login(raw)
    if not login:
        raise Refused("serve.no_identity", header=header)
    if "," in login:  # the header came twice (a proxy that appends): trust neither
        raise Refused("serve.several_identities", header=header)
    return identity_map.get(login, login)


def url_host(host: str) -> str:
    """The host as it appears in a URL (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
