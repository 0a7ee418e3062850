"""Loading, reading and editing versioned policy data.

Shipped data files (``data/policy/*.json``) and the chinese-calendar library seed version 1
of every document; the console adds versions with who/when/why. Nothing is edited in place.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit.service import Actor, record
from medcard.i18n import N_
from medcard.models import PolicyVersion
from medcard.policy import rules
from medcard.policy.errors import PolicyBackdated, PolicyInvalid, PolicyNotFound
from medcard.policy.repository import PolicyRepository

SHIPPED_FROM = date(2025, 1, 1)
SHIPPED_AUTHOR = "shipped-data"
CALENDAR_YEARS = (2025, 2026)


def shipped(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files("medcard.data").joinpath(f"policy/{name}").read_text("utf-8"))
    return data


def library_calendar(year: int) -> dict[str, list[str]]:
    """Holidays and make-up working days of ``year`` from chinese-calendar (2025–2026 known)."""
    import chinese_calendar

    holidays = sorted(d.isoformat() for d in chinese_calendar.holidays if d.year == year)
    workdays = sorted(d.isoformat() for d in chinese_calendar.workdays if d.year == year)
    return {"holidays": holidays, "workdays": workdays}


def shipped_documents() -> list[tuple[str, str, dict[str, Any]]]:
    regions = shipped("regions.json")
    documents = [("region", code, data) for code, data in regions["regions"].items()]
    documents += [("zone", key, data) for key, data in regions["zones"].items()]
    documents += [("scheme", code, data) for code, data in shipped("schemes.json")["schemes"].items()]
    documents += [("calendar", str(year), library_calendar(year)) for year in CALENDAR_YEARS]
    return documents


async def load_shipped(session: AsyncSession) -> int:
    """Seed version 1 of every shipped document that has no version yet (idempotent)."""
    repository = PolicyRepository(session)
    created = 0
    for kind, key, data in shipped_documents():
        if await repository.latest_number(kind, key):
            continue
        version = PolicyVersion(
            kind=kind,
            key=key,
            version=1,
            effective_from=SHIPPED_FROM,
            data=data,
            author=SHIPPED_AUTHOR,
            reason=N_("Shipped policy data"),
        )
        session.add(version)
        await session.flush()
        await record(session, actor=Actor.system("policy-loader"), action="policy.seed", subject=version)
        created += 1
    return created


@dataclass(frozen=True)
class ResolvedRegion:
    """A region's merged policy and the version of the document it came from."""

    policy: rules.RegionPolicy
    version: PolicyVersion


async def region_policy(session: AsyncSession, region_code: str, *, on: date) -> ResolvedRegion:
    """The policy in force for ``region_code``: its own, its city's, its province's or the default."""
    repository = PolicyRepository(session)
    keys = rules.policy_keys(region_code)
    found = await repository.in_force_many("region", [*keys, rules.NATIONAL_DEFAULT], on)
    default = found.get(rules.NATIONAL_DEFAULT)
    if default is None:
        raise PolicyNotFound()
    own = next((found[key] for key in keys if key in found and key != rules.NATIONAL_DEFAULT), None)
    policy = rules.merge_region(own.key if own else region_code, own.data if own else None, default.data)
    return ResolvedRegion(policy=policy, version=own or default)


async def zone_members(session: AsyncSession, *, on: date) -> dict[str, list[str]]:
    repository = PolicyRepository(session)
    keys = [key for kind, key in await repository.documents() if kind == "zone"]
    found = await repository.in_force_many("zone", keys, on)
    return {key: rules.zone_members(version.data) for key, version in found.items()}


async def scheme_policy(session: AsyncSession, code: str, *, on: date) -> tuple[rules.SchemePolicy, PolicyVersion]:
    version = await PolicyRepository(session).in_force("scheme", code, on)
    if version is None:
        raise PolicyNotFound()
    return rules.scheme_from(code, version.data), version


async def calendar(session: AsyncSession, *, on: date) -> rules.Calendar:
    """Every year's calendar document in force on ``on``."""
    repository = PolicyRepository(session)
    keys = [key for kind, key in await repository.documents() if kind == "calendar"]
    found = await repository.in_force_many("calendar", keys, on)
    return rules.calendar_from({int(key): version.data for key, version in found.items()})


async def history(session: AsyncSession, kind: str, key: str) -> list[PolicyVersion]:
    versions = await PolicyRepository(session).history(kind, key)
    if not versions:
        raise PolicyNotFound()
    return versions


def validate(kind: str, key: str, data: dict[str, Any], default: dict[str, Any] | None) -> None:
    """Refuse data the rules could not use (or a database could not store: NUL characters)."""
    try:
        if "\\u0000" in json.dumps(data):
            raise ValueError("NUL characters are not allowed")
        if kind == "region":
            policy = rules.merge_region(key, data, default or data)
            if policy.hmt_residents not in rules.HMT_MODES:
                raise ValueError("hmt_residents must be yes, partial or no")
            if rules.version_tuple(policy.min_client_version) == (0,):
                raise ValueError("min_client_version must look like 6.5.6")
        elif kind == "scheme":
            scheme = rules.scheme_from(key, data)
            for level in rules.HOSPITAL_LEVELS:
                for visit in rules.VISIT_TYPES:
                    if not 0 <= rules.ratio_bp(scheme, hospital_level=level, visit_type=visit) <= 10_000:
                        raise ValueError(f"ratio {level}/{visit} must be 0..10000 basis points")
            shares = [scheme.class_b_self_pay_bp, *scheme.special_disease_ratio_bp.values()]
            if not all(0 <= share <= 10_000 for share in shares):
                raise ValueError("class-B share and special-disease ratios must be 0..10000 basis points")
        elif kind == "calendar":
            calendar_data = rules.calendar_from({int(key): data})
            if any(d.year != int(key) for d in calendar_data.holidays | calendar_data.workdays):
                raise ValueError("every date must be in the year " + key)
        elif kind == "zone":
            members = data.get("members", data.get("provinces", []))
            if not all(isinstance(p, str) and p.isdigit() and len(p) in (2, 4, 6) for p in members):
                raise ValueError("members must be region-code prefixes of 2, 4 or 6 digits")
        else:
            raise ValueError("unknown kind")
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise PolicyInvalid(field="data", reason=str(error)) from error


def diff_lines(current: dict[str, Any], proposed: dict[str, Any]) -> list[str]:
    """A unified diff of two policy documents (keys sorted, two-space indent); empty when equal."""

    def lines(data: dict[str, Any]) -> list[str]:
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).splitlines()

    diff = list(difflib.unified_diff(lines(current), lines(proposed), lineterm="", n=2))
    return diff[2:]  # without the ---/+++ file header


async def check_version(session: AsyncSession, *, kind: str, key: str, data: dict[str, Any], today: date) -> None:
    """Validate a proposed version as :func:`add_version` would, without saving it."""
    repository = PolicyRepository(session)
    default = await repository.in_force("region", rules.NATIONAL_DEFAULT, today) if kind == "region" else None
    validate(kind, key, data, default.data if default else None)


async def add_version(
    session: AsyncSession,
    *,
    kind: str,
    key: str,
    data: dict[str, Any],
    effective_from: date,
    reason: str,
    actor: Actor,
    today: date,
) -> PolicyVersion:
    """A new version of one document (a new calendar year starts at version 1)."""
    if effective_from < today:
        raise PolicyBackdated(field="effective_from")
    repository = PolicyRepository(session)
    latest = await repository.latest_number(kind, key)
    if latest == 0 and kind != "calendar":
        raise PolicyNotFound()
    default = await repository.in_force("region", rules.NATIONAL_DEFAULT, today) if kind == "region" else None
    validate(kind, key, data, default.data if default else None)
    version = PolicyVersion(
        kind=kind,
        key=key,
        version=latest + 1,
        effective_from=effective_from,
        data=data,
        author=(actor.label or actor.id)[:64],
        reason=reason,
    )
    session.add(version)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="policy.version",
        subject=version,
        details={"kind": kind, "key": key, "version": version.version, "effective_from": effective_from.isoformat()},
    )
    return version
