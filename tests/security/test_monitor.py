"""Real-time risk monitoring over the audit log (R-SEC-06): what counts as a signal, the API
and the console page."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.kit.clock import clock
from medcard.models import AuditEvent
from medcard.security.rules import risk_kind
from tests.codes.conftest import Holder, new_code, redeem
from tests.factories import Demo, bearer, staff_token

MONITOR = "/api/v1/security/monitor"


@pytest.mark.parametrize(
    ("action", "details", "kind"),
    [
        ("code.redeem_refused", {"code": "PAYMENT_VELOCITY_EXCEEDED"}, "velocity"),
        ("code.redeem_refused", {"code": "PAYMENT_LIMIT_EXCEEDED"}, "limit"),
        ("code.redeem_refused", {"code": "PIN_WRONG"}, "payment_refused"),
        ("security.pin_wrong", {"failures": 2, "locked": False}, "pin_wrong"),
        ("security.pin_wrong", {"failures": 5, "locked": True}, "pin_locked"),
        ("auth.login", {"region": "650100", "step_up": ["new_device", "impossible_travel"]}, "abnormal_login"),
        ("auth.login", {"region": "110000", "step_up": []}, None),
        ("auth.login_refused", {}, "login_refused"),
        ("security.freeze", {"reason": "loss_report"}, "freeze"),
        ("device.webauthn_clone_suspected", {}, "authenticator_clone"),
        ("card.issue", {}, None),
    ],
)
def test_r_sec_06_which_audit_rows_are_risk_signals(action: str, details: dict[str, object], kind: str | None) -> None:
    assert risk_kind(action, details) == kind


def _event(action: str, details: dict[str, object], *, ago: timedelta, hospital_id: object = None) -> AuditEvent:
    return AuditEvent(
        at=clock.now() - ago,
        actor_kind="patient",
        actor_id="x",
        actor_label="",
        action=action,
        subject_kind="security_profile",
        subject_id="0" * 36,
        details=details,
        hospital_id=hospital_id,
    )


async def test_r_sec_06_monitor_counts_a_velocity_refusal_in_real_time(
    client: httpx.AsyncClient, db: AsyncSession, holder: Holder, cashier: dict[str, str], demo: Demo
) -> None:
    """Six payments in a minute: the sixth is refused by the velocity rule and shows on the
    hotline's monitor at once; an older freeze counts for the day only, one from yesterday not
    at all, and another hospital's POS refusal is not this hotline's."""
    for _ in range(6):
        await redeem(client, cashier, await new_code(client, holder), amount_fen=100)
    db.add_all(
        [
            _event("security.freeze", {"reason": "self_freeze"}, ago=timedelta(hours=2)),
            _event("security.freeze", {"reason": "self_freeze"}, ago=timedelta(hours=25)),
            _event(
                "code.redeem_refused",
                {"code": "PAYMENT_VELOCITY_EXCEEDED"},
                ago=timedelta(minutes=1),
                hospital_id=demo.county_hospital.id,
            ),
        ]
    )
    await db.commit()
    hotline = bearer(await staff_token(client, "hotline1"))
    monitor = (await client.get(MONITOR, headers=hotline)).json()
    assert (monitor["recent"]["velocity"], monitor["day"]["velocity"]) == (1, 1)
    assert (monitor["recent"]["freeze"], monitor["day"]["freeze"]) == (0, 1)
    assert monitor["latest"][0]["kind"] == "velocity" and monitor["latest"][0]["label_zh"] == "支付频率超限"
    assert holder.document_number not in str(monitor) and holder.phone not in str(monitor)

    page = await client.get("/console/security/monitor", headers=hotline)
    assert page.status_code == 200
    assert 'data-kind="velocity" class="alert-row"' in page.text and 'hx-trigger="every 10s"' in page.text
    live = await client.get("/console/security/monitor/live", headers=hotline)
    assert 'id="risk-counts"' in live.text and "<html" not in live.text


async def test_r_sec_06_monitor_is_for_hotline_reviewer_and_admin(
    client: httpx.AsyncClient, cashier: dict[str, str], demo: Demo
) -> None:
    assert (await client.get(MONITOR, headers=cashier)).status_code == 403
    reviewer = bearer(await staff_token(client, "reviewer1"))
    assert (await client.get(MONITOR, headers=reviewer)).status_code == 200
