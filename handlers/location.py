"""Where a sign-in came from: the country a source IP address is registered to, offline.

The lookup reads the Regional Internet Registries' delegation data that the `iptocc` package embeds
(bundled into the function's package, see components/lambda_package.py): no network call, no file to
download at run time. It names the country a block is *assigned* to, which for a VPN or a cloud host
is where the operator registered it, not where the person sits.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from iptocc import country_code
from iso3166 import countries_by_alpha2

NOT_AN_ADDRESS = "AWS service or internal source"
NOT_PUBLIC = "private, loopback or reserved address"
NOT_IN_REGISTRY = "address not in the registries' data"


@dataclass(frozen=True)
class Location:
    """A country (ISO 3166-1 alpha-2 code and name), or none and why."""

    country_code: str = ""
    country_name: str = ""
    no_location_reason: str = ""

    def __bool__(self) -> bool:
        return bool(self.country_code)

    @property
    def text(self) -> str:
        if self.country_code:
            return f"{self.country_name} ({self.country_code})"
        return f"no location ({self.no_location_reason})"


# CloudTrail repeats the same few addresses; the cache bounds memory whatever a batch holds.
@functools.lru_cache(maxsize=65536)
def locate(source_ip: str) -> Location:
    """The location of a CloudTrail sourceIPAddress; never raises, whatever the text."""
    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        # "AWS Internal", "signin.amazonaws.com" and other service names, or an empty field.
        return Location(no_location_reason=NOT_AN_ADDRESS)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        return Location(no_location_reason=NOT_PUBLIC)
    code = country_code(str(address))
    if not code:
        return Location(no_location_reason=NOT_IN_REGISTRY)
    return Location(code.upper(), country_name(code))


def country_name(code: str) -> str:
    country = countries_by_alpha2.get(code.upper())
    return country.apolitical_name if country else code.upper()


def country_text(code: str) -> str:
    """'Germany (DE)' for a stored country code."""
    return f"{country_name(code)} ({code.upper()})"
