"""Load is only ever sent to this machine's loopback interface: a URL naming any other host is refused."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django_index_bench.bench.errors import UsageError

LOOPBACK_HOSTS = ("127.0.0.1", "::1")


def check_host(host: str) -> str:
    """The host when it is a loopback address (127.0.0.0/8 or ::1); UsageError for anything else.

    Names are refused too, "localhost" included: what a name resolves to is not ours to trust."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise UsageError(
            f"refusing to send load to {host!r}: only the loopback addresses {', '.join(LOOPBACK_HOSTS)} "
            "are allowed (a host name is not)"
        ) from None
    if not address.is_loopback:
        raise UsageError(
            f"refusing to send load to {host}: it is not a loopback address ({', '.join(LOOPBACK_HOSTS)})"
        )
    return host


def check_url(url: str) -> str:
    """The URL when it is plain http to a loopback address; UsageError otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise UsageError(f"refusing to send load to {url!r}: expected http://127.0.0.1:PORT/...")
    check_host(parts.hostname)
    return url
