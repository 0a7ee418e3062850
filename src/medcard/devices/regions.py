"""Where a login comes from: a small sandbox table from IP address to city (R-SEC-06).

A deployment replaces this with a real IP-geolocation database; the sandbox maps the RFC 5737
documentation ranges (addresses no real user has) to a few cities far enough apart to show new
regions and impossible travel. Loopback and private addresses are the deployment's own network
and count as the configured home region; anything else is ``unknown`` (no coordinates).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from medcard.i18n import N_, translate

UNKNOWN = "unknown"


@dataclass(frozen=True)
class City:
    """A login region: a city with its coordinates (degrees)."""

    code: str
    name_zh: str
    name_en: str
    latitude: float
    longitude: float


CITIES: dict[str, City] = {
    city.code: city
    for city in (
        City("beijing", "北京", "Beijing", 39.904, 116.407),
        City("tianjin", "天津", "Tianjin", 39.084, 117.201),
        City("shanghai", "上海", "Shanghai", 31.230, 121.474),
        City("guangzhou", "广州", "Guangzhou", 23.129, 113.264),
        City("chengdu", "成都", "Chengdu", 30.573, 104.066),
        City("harbin", "哈尔滨", "Harbin", 45.803, 126.535),
        City("urumqi", "乌鲁木齐", "Urumqi", 43.825, 87.617),
    )
}

SANDBOX_NETWORKS: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (ipaddress.IPv4Network("192.0.2.0/25"), "tianjin"),
    (ipaddress.IPv4Network("192.0.2.128/25"), "harbin"),
    (ipaddress.IPv4Network("198.51.100.0/25"), "guangzhou"),
    (ipaddress.IPv4Network("198.51.100.128/25"), "chengdu"),
    (ipaddress.IPv4Network("203.0.113.0/25"), "shanghai"),
    (ipaddress.IPv4Network("203.0.113.128/25"), "urumqi"),
)


def region_of(ip: str, *, home_region: str) -> str:
    """The city code of ``ip``: the sandbox table, the home region for our own network, else unknown."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return UNKNOWN
    for network, city in SANDBOX_NETWORKS:
        if address in network:
            return city
    if address.is_loopback or address.is_private or address.is_link_local:
        return home_region
    return UNKNOWN


UNKNOWN_REGION = N_("Unknown region")


def region_label(code: str, lang: str) -> str:
    city = CITIES.get(code)
    if city is None:
        return translate(lang, UNKNOWN_REGION)
    return city.name_zh if lang == "zh" else city.name_en
