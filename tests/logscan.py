"""The log scan of the test run (R-SEC-08): no full ID number, phone number, typed payment
password, payment code or key in any log line.

``tests/conftest.py`` installs :data:`CAPTURE` on the root logger for the whole session (structlog
hands its lines to ``logging``, see ``medcard.observability``), adds the live servers' logs of the
browser tests, and runs :func:`scan` when the session ends: a finding fails the run and prints
the offending line."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from medcard.identity.rules import check_character

_EDGE_BEFORE, _EDGE_AFTER = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
RESIDENT_ID = re.compile(_EDGE_BEFORE + r"(\d{17}[0-9Xx])" + _EDGE_AFTER)
MOBILE_PHONE = re.compile(_EDGE_BEFORE + r"(1[3-9]\d{9})" + _EDGE_AFTER)
PAYMENT_CODE = re.compile(_EDGE_BEFORE + r"(2\d{17}|2\d{3}(?: \d{4}){3} \d{2})" + _EDGE_AFTER)
SIX_DIGITS = re.compile(r'"(\d{6})"')


@dataclass(frozen=True)
class Leak:
    """One forbidden value in one log line."""

    kind: str
    line: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.line}"


def typed_pins(test_root: Path) -> set[str]:
    """Every 6-digit payment password the tests type: string literals on a line that mentions a
    PIN, or anywhere in a test module about PINs (e.g. the seeded passwords of the dump test)."""
    pins: set[str] = set()
    for path in test_root.rglob("*.py"):
        if "logscan" in path.stem:  # the scanner's own tests plant values on purpose
            continue
        about_pins = "pin" in path.stem.lower()
        for line in path.read_text(encoding="utf-8").splitlines():
            if about_pins or "pin" in line.lower():
                pins.update(SIX_DIGITS.findall(line))
    return pins


def scan(lines: Iterable[str], *, pins: Iterable[str] = (), keys: Iterable[str] = ()) -> list[Leak]:
    """Every forbidden value in ``lines``. ID numbers count only with a valid GB 11643 check
    character (so a random 18-digit number is not one); masked forms (``1101**********1234``,
    ``139****5678``) never match."""
    pin_pattern = _any_of(pins)
    secrets = [key for key in keys if len(key) >= 8]
    leaks = []
    for line in lines:
        for number in RESIDENT_ID.findall(line):
            if check_character(number[:17]) == number[17].upper():
                leaks.append(Leak("ID number", line))
        leaks.extend(Leak("phone number", line) for _ in MOBILE_PHONE.findall(line))
        leaks.extend(Leak("payment code", line) for _ in PAYMENT_CODE.findall(line))
        if pin_pattern and pin_pattern.search(line):
            leaks.append(Leak("payment password", line))
        leaks.extend(Leak("key", line) for key in secrets if key in line)
    return leaks


def _any_of(pins: Iterable[str]) -> re.Pattern[str] | None:
    choices = sorted({re.escape(pin) for pin in pins})
    return re.compile(_EDGE_BEFORE + "(?:" + "|".join(choices) + ")" + _EDGE_AFTER) if choices else None


class LogCapture(logging.Handler):
    """Keeps every formatted log line of the session (and the secrets the scan looks for)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self.keys: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a handler must never raise into the code that logs
            self.handleError(record)

    def add_file(self, path: Path) -> None:
        """A live server's log (browser tests run the app in a subprocess)."""
        if path.exists():
            self.lines.extend(f"{path.name}: {line}" for line in path.read_text(errors="replace").splitlines())

    @contextmanager
    def planted(self) -> Iterator[list[str]]:
        """Lines logged inside the block are handed to the caller and kept out of the session's
        scan (for the test that proves the scan sees structlog output)."""
        start = len(self.lines)
        block: list[str] = []
        try:
            yield block
        finally:
            block.extend(self.lines[start:])
            del self.lines[start:]


CAPTURE = LogCapture()
