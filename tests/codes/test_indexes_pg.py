"""The per-card and per-account history reads of the payment path use the composite indexes
(R-SEC-02 issue rate, R-SEC-06 velocity and daily limit): PostgreSQL's plan reads
``payment_code`` through ``(card_id, issued_at)`` and ``(account_id, consumed_at)`` with both
columns in the index condition, so the rows read are those of one card or account in the window,
however long its history grows. Proven by the plan, never by timing."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.codes import repository
from medcard.config import Settings
from medcard.db import driver_connection
from medcard.kit.clock import clock
from tests.codes.pg import postgres_only, skip_unless_postgres

pytestmark = postgres_only


def _scans(plan: Any) -> list[dict[str, Any]]:
    """Every node of a JSON plan that reads ``payment_code``."""
    found: list[dict[str, Any]] = []
    nodes = [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        if node.get("Relation Name") == "payment_code":
            found.append(node)
        nodes += node.get("Plans", [])
    return found


async def _plan(db: AsyncSession, statement: str, *args: Any) -> list[dict[str, Any]]:
    driver = await driver_connection(db)
    assert driver is not None
    # Even with sequential scans priced out, a plan without a fitting index would still use one.
    await driver.execute("SET LOCAL enable_seqscan = off")
    plan = await driver.connection.fetchval("EXPLAIN (FORMAT JSON) " + statement, *args)
    return _scans(json.loads(plan) if isinstance(plan, str) else plan)


async def test_r_sec_02_issue_rate_reads_one_cards_window(db: AsyncSession, settings: Settings) -> None:
    """R-SEC-02: the issue-rate count of the login statement uses (card_id, issued_at)."""
    skip_unless_postgres(settings)
    now = clock.now()
    scans = await _plan(db, repository._PATIENT_LOGINS, ["h"], [uuid.uuid4()], now, now - timedelta(minutes=1))
    assert [scan.get("Index Name") for scan in scans] == ["ix_payment_code_card_issued"], scans
    condition = scans[0]["Index Cond"]
    assert "card_id" in condition and "issued_at" in condition, condition


async def test_r_sec_06_velocity_and_daily_sums_read_one_accounts_window(db: AsyncSession, settings: Settings) -> None:
    """R-SEC-06: the payments-so-far query of a redeem uses (account_id, consumed_at)."""
    skip_unless_postgres(settings)
    now = clock.now()
    scans = await _plan(db, repository._PAYMENTS, [uuid.uuid4()], now - timedelta(minutes=5), now - timedelta(hours=8))
    assert [scan.get("Index Name") for scan in scans] == ["ix_payment_code_account_consumed"], scans
    condition = scans[0]["Index Cond"]
    assert "account_id" in condition and "consumed_at" in condition, condition
