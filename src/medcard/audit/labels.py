"""Audit log wording and links for the staff console.

Action codes (``card.issue``) stay stable in the log; people read them as Chinese names
(发卡) with English second, and jump from a row to the record it names where the console
has a page for it and the reader's role may open it (issue 9, staff console; R-SEC-08).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medcard.i18n import N_, NC_, Msg, translate

ACTION_LABELS: dict[str, Msg] = {
    "account.consent": N_("Consent accepted"),
    "account.create": N_("Account created"),
    "account.delete": N_("Account deleted"),
    "account.elder_mode": N_("Elder mode switched"),
    "account.verified": N_("Account verified"),
    "auth.login": N_("Login"),
    "auth.login_refused": N_("Login refused"),
    "auth.logout": N_("Logout"),
    "auth.staff_login": N_("Staff login"),
    "auth.unlock": N_("Login unlocked"),
    "card.activate": N_("Card activated"),
    "card.bind_existing": N_("Existing card bound"),
    "card.draft_save": N_("Application draft saved"),
    "card.issue": N_("Card issued"),
    "card.show_name": N_("Full name shown"),
    "card.staff_change": N_("Staff changed document/phone"),
    "card.update": N_("Card updated"),
    "device.bind": N_("Device bound"),
    "device.step_up": N_("Device step-up"),
    "device.unbind": N_("Device unbound"),
    "device.webauthn_clone_suspected": N_("Suspected cloned security key"),
    "device.webauthn_register": N_("Security key registered"),
    "family.confirmation_given": N_("Family confirmation given"),
    "family.confirmation_requested": N_("Family confirmation requested"),
    "family.dissolved": N_("Family link dissolved"),
    "family.expired": N_("Family link expired"),
    "family.member_add": N_("Family member added"),
    "family.proof_view": N_("Relationship proof viewed"),
    "family.proxy_access": N_("Proxy access"),
    "family.review": N_("Family link reviewed"),
    "family.switch": N_("Patient switched"),
    "hospital.create": N_("Hospital created"),
    "hospital.settings_update": N_("Hospital settings updated"),
    "identity.face_attempt": N_("Face check attempt"),
    "identity.session_expired": N_("Verification expired"),
    "identity.session_failed": N_("Verification failed"),
    "identity.session_passed": N_("Verification passed"),
    "identity.session_start": N_("Verification started"),
    "identity.ward_add": N_("Ward added"),
    "insurance.bind": N_("E-voucher bound"),
    "insurance.filing.cancel": N_("Out-of-region filing cancelled"),
    "insurance.filing.create": N_("Out-of-region filing"),
    "insurance.special_disease.apply": N_("Special disease applied"),
    "insurance.special_disease.review": N_("Special disease reviewed"),
    "insurance.unbind": N_("E-voucher unbound"),
    "keys.rotate": N_("Keys rotated"),
    "kiosk.service_request": N_("Kiosk service request"),
    "person.create": N_("Person created"),
    "person.phone_confirm": N_("Phone confirmed"),
    "physical_card.issue": NC_("audit/labels", "Physical card issued"),
    "physical_card.replace": N_("Physical card replaced"),
    "policy.seed": N_("Policy seeded"),
    "policy.version": N_("Policy version saved"),
    "region.create": N_("Region created"),
    "security.freeze": N_("Payments frozen"),
    "security.pin_reset": N_("Payment password reset"),
    "security.pin_wrong": N_("Wrong payment password"),
    "security.reactivate": N_("Reactivated"),
    "security.settings": N_("Permission settings changed"),
    "settlement.credit_repaid": N_("Credit repaid"),
    "settlement.deposit_top_up": N_("Deposit top-up"),
    "settlement.order_expired": N_("Order expired"),
    "settlement.order_open": N_("Order opened"),
    "settlement.order_paid": N_("Order paid"),
    "settlement.refund": NC_("audit/labels", "Refund"),
    "settlement.reimbursed": N_("Reimbursed"),
    "sms.check": N_("SMS code checked"),
    "sms.send": N_("SMS code sent"),
    "staff.create": N_("Staff created"),
}


def action_label(action: str, lang: str) -> str:
    """The action's name in ``lang`` ("zh" or "en"); an unknown code reads as itself."""
    names = ACTION_LABELS.get(action)
    if names is None:
        return action
    return translate(lang, names)


@dataclass(frozen=True)
class _Target:
    roles: tuple[str, ...]
    """Who may open the page (admin always may), as the page's own dependency says."""


_CARD = _Target(("cashier", "hotline"))
_ADMIN = _Target(())
_REVIEWER = _Target(("reviewer",))


def record_link(subject_kind: str, subject_id: str, details: dict[str, Any] | None, role: str) -> str | None:
    """The console page of the row's record, or ``None`` when there is none or ``role`` may not open it."""
    target: _Target
    if subject_kind == "card":
        url, target = f"/console/cards?card_id={subject_id}", _CARD
    elif subject_kind == "hospital":
        url, target = f"/console/hospitals/{subject_id}", _ADMIN
    elif subject_kind == "policy_version":
        kind, key = (details or {}).get("kind"), (details or {}).get("key")
        url = f"/console/policy/{kind}/{key}" if kind and key else "/console/policy"
        target = _ADMIN
    elif subject_kind == "disease_application":
        url, target = "/console/insurance/review", _REVIEWER
    elif subject_kind == "family_member":
        url, target = "/console/family/reviews", _REVIEWER
    else:
        return None
    if role != "admin" and role not in target.roles:
        return None
    return url
