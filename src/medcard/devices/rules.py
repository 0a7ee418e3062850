"""Pure device rules: abnormal login (new device, new region, impossible travel), whether a
session must step up, a device's label from its user agent. No session, no clock read."""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from medcard.devices.regions import CITIES

MAX_TRAVEL_KMH = 900.0
"""Faster than an airliner: two logins farther apart than this for the time between are abnormal."""
TRAVEL_TOLERANCE_KM = 150.0
"""IP geolocation places a city roughly; neighbouring cities (Beijing-Tianjin) never count."""
STEP_UP_FRESH = timedelta(minutes=10)
"""A fresh identity verification counts as a step-up when it passed within this time."""
REASONS = ("new_device", "new_region", "impossible_travel")


def distance_km(a: str, b: str) -> float | None:
    """Great-circle distance between two region codes, or None if either has no coordinates."""
    first, second = CITIES.get(a), CITIES.get(b)
    if first is None or second is None:
        return None
    lat1, lat2 = math.radians(first.latitude), math.radians(second.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(second.longitude - first.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def impossible_travel(from_region: str, to_region: str, elapsed: timedelta) -> bool:
    """True when nobody could have travelled between the two logins' cities in ``elapsed``."""
    distance = distance_km(from_region, to_region)
    if distance is None:
        return False
    hours = max(elapsed.total_seconds(), 0.0) / 3600
    return distance > MAX_TRAVEL_KMH * hours + TRAVEL_TOLERANCE_KM


@dataclass(frozen=True)
class PreviousLogin:
    region: str
    at: datetime


@dataclass(frozen=True)
class LoginFacts:
    """What the service knows about a login before deciding whether it looks abnormal."""

    first_device: bool
    """The account has never bound any device: its first device is trusted."""
    trusted_device: bool
    """This device is bound, not revoked and trusted (first device or stepped up before)."""
    region: str
    known_regions: Collection[str]
    """Regions of the account's earlier trusted logins."""
    previous: PreviousLogin | None
    """The account's latest trusted login."""
    now: datetime


def abnormal_login_reasons(facts: LoginFacts) -> tuple[str, ...]:
    """Why a login must step up before sensitive actions (empty: a normal login)."""
    if facts.first_device:
        return ()
    reasons = []
    if not facts.trusted_device:
        reasons.append("new_device")
    if facts.region not in facts.known_regions:
        reasons.append("new_region")
    previous = facts.previous
    if previous is not None and impossible_travel(previous.region, facts.region, facts.now - previous.at):
        reasons.append("impossible_travel")
    return tuple(reasons)


def needs_step_up(reasons: str, stepped_up_at: datetime | None) -> bool:
    """A session opened by an abnormal login is refused sensitive actions until it steps up."""
    return bool(reasons) and stepped_up_at is None


def verification_counts_as_step_up(finished_at: datetime | None, *, session_opened_at: datetime, now: datetime) -> bool:
    """A passed identity verification steps a session up if it is fresh and was done after the
    login (one done before may have been the real owner on another device)."""
    return finished_at is not None and finished_at >= session_opened_at and now - finished_at <= STEP_UP_FRESH


_BROWSERS = (
    ("MicroMessenger", "WeChat"),
    ("Edg/", "Edge"),
    ("HeadlessChrome", "Chrome"),
    ("Chromium", "Chromium"),
    ("Chrome", "Chrome"),
    ("Firefox", "Firefox"),
    ("Safari", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("Macintosh", "Mac"),
    ("Linux", "Linux"),
)


def device_label(user_agent: str) -> str:
    """A short, human label (``Chrome · Android``) from a user agent; never the raw string."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if not browser and not system:
        client = re.match(r"[A-Za-z][\w.-]{0,30}", user_agent)
        return client.group(0) if client else "?"
    return " · ".join(part for part in (browser, system) if part)


def sign_count_ok(new: int, stored: int) -> bool:
    """WebAuthn §6.1.1: a counter that does not grow means a cloned authenticator, unless the
    authenticator keeps no counter at all (both zero)."""
    return (new == 0 and stored == 0) or new > stored
