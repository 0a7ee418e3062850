"""Pure device rules: regions from addresses, impossible travel, abnormal login, step-up,
sign counts, device labels (R-SEC-04, R-SEC-06). No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medcard.auth.rules import retry_after
from medcard.devices import rules
from medcard.devices.regions import CITIES, UNKNOWN, region_label, region_of

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
cities = st.sampled_from(sorted(CITIES))
elapsed = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3))


@pytest.mark.parametrize(
    ("ip", "region"),
    [
        ("127.0.0.1", "beijing"),
        ("10.1.2.3", "beijing"),
        ("192.168.0.8", "beijing"),
        ("::1", "beijing"),
        ("203.0.113.7", "shanghai"),
        ("203.0.113.200", "urumqi"),
        ("198.51.100.20", "guangzhou"),
        ("8.8.8.8", UNKNOWN),
        ("not-an-ip", UNKNOWN),
    ],
)
def test_r_sec_06_login_region_from_the_sandbox_table(ip: str, region: str) -> None:
    """R-SEC-06: documentation ranges map to cities; our own network is the home region."""
    assert region_of(ip, home_region="beijing") == region


def test_r_sec_06_an_unknown_region_is_named_in_the_page_language() -> None:
    assert (region_label(UNKNOWN, "zh"), region_label(UNKNOWN, "en")) == ("未知地区", "Unknown region")


@pytest.mark.parametrize(
    ("origin", "target", "minutes", "impossible"),
    [
        ("beijing", "shanghai", 30, True),  # 1,070 km in half an hour
        ("beijing", "shanghai", 180, False),  # a flight
        ("beijing", "tianjin", 0, False),  # neighbours: within geolocation tolerance
        ("shanghai", "urumqi", 120, True),  # 3,270 km in two hours
        ("shanghai", "urumqi", 300, False),
        ("beijing", UNKNOWN, 0, False),  # no coordinates, no judgement
    ],
)
def test_r_sec_06_impossible_travel_table(origin: str, target: str, minutes: int, impossible: bool) -> None:
    """R-SEC-06: farther than 900 km/h allows (plus 150 km tolerance) is impossible travel."""
    assert rules.impossible_travel(origin, target, timedelta(minutes=minutes)) is impossible


@given(cities, cities)
def test_r_sec_06_distance_is_symmetric_and_zero_for_the_same_city(a: str, b: str) -> None:
    """R-SEC-06: property: distance(a, b) = distance(b, a); a city is 0 km from itself."""
    assert rules.distance_km(a, b) == pytest.approx(rules.distance_km(b, a))
    assert rules.distance_km(a, a) == pytest.approx(0.0)


@given(cities, cities, elapsed, elapsed)
def test_r_sec_06_more_time_never_makes_travel_impossible(a: str, b: str, first: timedelta, second: timedelta) -> None:
    """R-SEC-06: property: if a trip is possible in some time, it is possible in any longer time."""
    shorter, longer = sorted((first, second))
    if not rules.impossible_travel(a, b, shorter):
        assert not rules.impossible_travel(a, b, longer)
    assert not rules.impossible_travel(a, a, shorter)


def _facts(**overrides: object) -> rules.LoginFacts:
    values: dict[str, object] = {
        "first_device": False,
        "trusted_device": True,
        "region": "beijing",
        "known_regions": {"beijing"},
        "previous": rules.PreviousLogin("beijing", NOW - timedelta(hours=1)),
        "now": NOW,
    }
    values.update(overrides)
    return rules.LoginFacts(**values)  # type: ignore[arg-type]


def test_r_sec_06_abnormal_login_reasons() -> None:
    """R-SEC-06: a known device in a known region is normal; each anomaly is named."""
    assert rules.abnormal_login_reasons(_facts()) == ()
    assert rules.abnormal_login_reasons(_facts(trusted_device=False)) == ("new_device",)
    assert rules.abnormal_login_reasons(_facts(region="tianjin")) == ("new_region",)
    far = _facts(region="urumqi", known_regions={"beijing", "urumqi"})
    assert rules.abnormal_login_reasons(far) == ("impossible_travel",)
    assert rules.abnormal_login_reasons(_facts(first_device=True, trusted_device=False, known_regions=set())) == ()


@given(
    first=st.booleans(),
    trusted=st.booleans(),
    region=cities,
    known=st.sets(cities),
    previous=st.none() | st.tuples(cities, elapsed),
)
def test_r_sec_06_abnormal_login_properties(
    first: bool, trusted: bool, region: str, known: set[str], previous: tuple[str, timedelta] | None
) -> None:
    """R-SEC-06: property: the first device never steps up; otherwise new device ⇔ untrusted,
    new region ⇔ unknown region; reasons come from the fixed list, in order, without repeats."""
    facts = rules.LoginFacts(
        first_device=first,
        trusted_device=trusted,
        region=region,
        known_regions=known,
        previous=rules.PreviousLogin(previous[0], NOW - previous[1]) if previous else None,
        now=NOW,
    )
    reasons = rules.abnormal_login_reasons(facts)
    if first:
        assert reasons == ()
        return
    assert ("new_device" in reasons) is (not trusted)
    assert ("new_region" in reasons) is (region not in known)
    assert list(reasons) == [reason for reason in rules.REASONS if reason in reasons]


def test_r_sec_04_step_up_state() -> None:
    """R-SEC-04: a session needs step-up while it has reasons and has not stepped up."""
    assert rules.needs_step_up("new_device", None) is True
    assert rules.needs_step_up("new_device", NOW) is False
    assert rules.needs_step_up("", None) is False


def test_r_sec_04_verification_counts_as_step_up_only_after_the_login_and_fresh() -> None:
    """R-SEC-04: the fallback verification must follow the login and be at most 10 minutes old."""
    opened = NOW - timedelta(minutes=5)
    assert rules.verification_counts_as_step_up(NOW - timedelta(minutes=1), session_opened_at=opened, now=NOW)
    assert not rules.verification_counts_as_step_up(NOW - timedelta(minutes=6), session_opened_at=opened, now=NOW)
    assert not rules.verification_counts_as_step_up(
        NOW - timedelta(minutes=11), session_opened_at=NOW - timedelta(hours=1), now=NOW
    )
    assert not rules.verification_counts_as_step_up(None, session_opened_at=opened, now=NOW)


@pytest.mark.parametrize(
    ("new", "stored", "ok"), [(1, 0, True), (8, 7, True), (7, 7, False), (3, 7, False), (0, 0, True), (0, 5, False)]
)
def test_r_sec_04_sign_count_must_grow(new: int, stored: int, ok: bool) -> None:
    """R-SEC-04: a counter that does not grow means a cloned authenticator (both zero: no counter)."""
    assert rules.sign_count_ok(new, stored) is ok


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit Mobile MicroMessenger/8.0",
            "WeChat · iPhone",
        ),
        ("Mozilla/5.0 (Linux; Android 14) AppleWebKit Chrome/126 Mobile Safari/537.36", "Chrome · Android"),
        ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131 Safari/537.36", "Chrome · Linux"),
        ("python-httpx/0.28.1", "python-httpx"),
        ("", "?"),
    ],
)
def test_r_sec_04_device_label_from_user_agent(agent: str, label: str) -> None:
    """R-SEC-04: the devices list shows a short label, never the raw user agent."""
    assert rules.device_label(agent) == label


def test_r_sec_06_lock_lasts_until_the_limit_th_latest_failure_leaves_the_window() -> None:
    """R-SEC-06: with 5 failures in 15 minutes the lock ends when the 5th latest is 15 minutes old."""
    window = timedelta(minutes=15)
    assert retry_after(None, window=window, now=NOW) is None
    assert retry_after(NOW - timedelta(minutes=5), window=window, now=NOW) == 600
    assert retry_after(NOW - timedelta(minutes=15), window=window, now=NOW) is None
    assert retry_after(NOW - timedelta(minutes=14, seconds=59, microseconds=500_000), window=window, now=NOW) == 1
