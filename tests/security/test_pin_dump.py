"""A stolen dump of 1,000 payment-password rows is useless without the pepper (R-SEC-03)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from medcard.config import Settings
from medcard.kit.crypto import hmac_sm3, sm3_hex
from medcard.security import rules
from medcard.security.service import pin_digest

COMMON = ["135790", "246802", "520131", "147258", "258369", "159753", "888888", "666666", "198810", "000001"]


def _seeded(settings: Settings, count: int = 1000) -> tuple[list[tuple[str, str]], list[str]]:
    rows, pins = [], []
    while len(pins) < count:
        pin = f"{secrets.randbelow(10**6):06d}"
        if not rules.pin_shape_ok(pin):
            continue
        salt = secrets.token_hex(16)
        rows.append((salt, pin_digest(settings, salt, pin)))
        pins.append(pin)
    return rows, pins


def _without_pepper(salt: str, pin: str) -> set[str]:
    """Every construction an attacker can compute from the dump alone."""
    data = f"{salt}:{pin}".encode()
    return {
        sm3_hex(data),
        sm3_hex(pin),
        sm3_hex(salt + pin),
        hashlib.sha256(data).hexdigest(),
        hmac_sm3(b"", data).hex(),
        hmac_sm3(salt.encode(), pin.encode()).hex(),
        hmac.new(salt.encode(), pin.encode(), hashlib.sha256).hexdigest(),
    }


def _attack(rows: list[tuple[str, str]], guesses_for: list[list[str]], digest: object) -> int:
    recovered = 0
    for (salt, stored), guesses in zip(rows, guesses_for, strict=True):
        if any(stored in digest(salt, guess) for guess in guesses):  # type: ignore[operator]
            recovered += 1
    return recovered


def test_r_sec_03_dump_of_1000_pins_without_the_pepper_recovers_none(settings: Settings) -> None:
    rows, pins = _seeded(settings)
    # The attacker is even handed each row's true PIN among the guesses: without the pepper no
    # construction reproduces the stored hash.
    guesses = [[pin, *COMMON] for pin in pins]
    assert _attack(rows, guesses, _without_pepper) == 0


def test_r_sec_03_the_same_attack_with_the_pepper_recovers_all(settings: Settings) -> None:
    """Control: the attack itself works, so the test above can fail."""
    rows, pins = _seeded(settings)
    guesses = [[pin, *COMMON] for pin in pins]
    assert _attack(rows, guesses, lambda salt, pin: {pin_digest(settings, salt, pin)}) == 1000


def test_r_sec_03_a_wrong_pepper_recovers_none(settings: Settings) -> None:
    rows, pins = _seeded(settings)
    other = settings.model_copy(update={"secret_key": "x" * 48})
    guesses = [[pin] for pin in pins]
    assert _attack(rows, guesses, lambda salt, pin: {pin_digest(other, salt, pin)}) == 0
