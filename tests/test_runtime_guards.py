"""Runtime guards survive ``python -O`` (issue 10 hardening; the guards protect R-SEC-03 PIN
checks, R-SEC-05 loss reports, R-ID-05 SMS verification and the console pages)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from medcard.errors import Inconsistent, present

SOURCE = Path(__file__).resolve().parents[1] / "src" / "medcard"


def test_no_assert_statement_guards_a_request_path_in_src() -> None:
    """``python -O`` strips ``assert``: no module under src/ may rely on one (ruff S101 holds it
    too); guards raise real errors instead."""
    found = []
    for module in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assert):
                found.append(f"{module.relative_to(SOURCE)}:{node.lineno}")
    assert found == []


def test_a_missing_fact_refuses_the_request_with_a_coded_error() -> None:
    """A missing row refuses (500 problem+json, stable code) instead of continuing."""
    assert present("x", "thing") == "x"
    with pytest.raises(Inconsistent) as refused:
        present(None, "account")
    problem = refused.value.problem("/api/v1/codes/redeem")
    assert problem["status"] == 500 and problem["code"] == "INTERNAL_INCONSISTENCY" and problem["title_zh"]
