"""Test data for the identity slice: document numbers built by the rules' own check character,
and identities the deterministic sandbox authority is known to pass or fail (computed, not guessed)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import httpx

from medcard.adapters.identity import PASS_RATES, sample_face_photo
from medcard.adapters.sandbox import SandboxBehaviour
from medcard.config import Settings
from medcard.identity.countries import NUMERIC_BY_ALPHA3
from medcard.identity.rules import check_character, luhn_valid

_sequence = itertools.count(100)


def with_check(body: str) -> str:
    """``body`` (17 digits) followed by its GB 11643 check character."""
    return body + check_character(body)


def resident(region: str = "110105", birth: date = date(1988, 6, 15), sequence: int | None = None) -> str:
    seq = sequence if sequence is not None else next(_sequence) % 1000
    return with_check(f"{region}{birth:%Y%m%d}{seq:03d}")


def permanent_resident_id(nationality: str = "USA", birth: date = date(1985, 2, 1), province: str = "11") -> str:
    """A 2023-format foreign permanent resident ID."""
    return with_check(f"9{province}{NUMERIC_BY_ALPHA3[nationality]}{birth:%Y%m%d}011")


def sandbox_passes(settings: Settings, method: str, *parts: object) -> bool:
    """What the sandbox authority will answer for ``method`` with these inputs (its own formula)."""
    rate, _mean = PASS_RATES[method]
    return SandboxBehaviour(seed=settings.sandbox_seed).chance(method, *parts) < rate


def resident_passing(
    settings: Settings,
    name: str,
    *,
    birth: date = date(1988, 6, 15),
    region: str = "110105",
    insurance: bool | None = None,
) -> str:
    """A resident ID whose name+number check passes (and insurance match passes/fails as asked)."""
    for sequence in range(1000):
        number = resident(region, birth, sequence)
        if not sandbox_passes(settings, "name_number", number, name):
            continue
        if insurance is not None and sandbox_passes(settings, "insurance", number, name) != insurance:
            continue
        return number
    raise AssertionError("no suitable number")


def resident_failing_name_check(settings: Settings, name: str, *, region: str = "110108") -> str:
    for sequence in range(1000):
        number = resident(region, date(1979, 1, 20), sequence)
        if not sandbox_passes(settings, "name_number", number, name):
            return number
    raise AssertionError("no suitable number")


def bank_card(settings: Settings, document_number: str, phone: str, *, passes: bool) -> str:
    """A Luhn-valid card number the sandbox 4-factor check passes (or fails)."""
    for body in range(622202020000000, 622202020100000):
        for last in range(10):
            number = f"{body}{last}"
            if luhn_valid(number):
                break
        if sandbox_passes(settings, "bank_card", document_number, number, phone) == passes:
            return number
    raise AssertionError("no suitable card")


LIVE_FACE = sample_face_photo(live=True)
SPOOF_FACE = sample_face_photo(live=False)


def claim(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"method": "face", "document_type": "resident_id", "name": "张伟"}
    body.update(overrides)
    return body


async def start(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> httpx.Response:
    return await client.post("/api/v1/identity/sessions", json=claim(**overrides), headers=headers)


async def face(
    client: httpx.AsyncClient, headers: dict[str, str], session_id: str, image: bytes = LIVE_FACE, **kwargs: Any
) -> httpx.Response:
    content_type = kwargs.get("content_type", "image/png")
    files = {"image": ("selfie.png", image, content_type)}
    return await client.post(f"/api/v1/identity/sessions/{session_id}/face", files=files, headers=headers)
