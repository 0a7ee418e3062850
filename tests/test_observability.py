"""Log rendering (R-SEC-08: logs carry no personal data or keys): tracebacks in production JSON
lines are plain text, cheap, and never show local variables."""

from __future__ import annotations

import json
import sys
from typing import Any

from medcard.config import Settings
from medcard.observability import processors

SECRET = "s" * 40


def _render(settings: Settings) -> str:
    def failing() -> None:
        private_value = "110105198806150011"  # a local the traceback must not print
        raise ConnectionRefusedError(111, f"refused ({len(private_value)})")

    try:
        failing()
    except ConnectionRefusedError:
        event: Any = {"event": "audit_sealer_failed", "exc_info": sys.exc_info()}
    for processor in processors(settings):
        event = processor(None, "error", event)
    return str(event)


def test_r_sec_08_production_json_lines_carry_a_plain_traceback_without_locals() -> None:
    """R-SEC-08: one JSON line, the traceback as text in "exception", no locals, no rich frames."""
    production = Settings(  # type: ignore[call-arg]
        environment="production",
        secret_key=SECRET,
        data_keys="v1:" + "d" * 40,
        blind_index_key="i" * 40,
        _env_file=None,
    )
    line = json.loads(_render(production))
    assert line["event"] == "audit_sealer_failed" and line["level"] == "error"
    assert line["exception"].startswith("Traceback") and "ConnectionRefusedError" in line["exception"]
    assert "110105198806150011" not in line["exception"] and "│" not in line["exception"]


def test_r_sec_08_development_tracebacks_are_plain_too() -> None:
    """R-SEC-08: the console renderer uses the plain formatter (no rich, no locals)."""
    text = _render(Settings(_env_file=None))  # type: ignore[call-arg]
    assert "Traceback" in text and "ConnectionRefusedError" in text
    assert "110105198806150011" not in text and "│" not in text
