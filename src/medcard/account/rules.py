"""Pure rules of the patient account: which agreement version is current, who must be asked."""

from __future__ import annotations

from dataclasses import dataclass

from medcard.i18n import N_

CONSENT_VERSION = "2026-11"
"""The version of the three agreements in force; bumping it asks every patient again."""


@dataclass(frozen=True)
class Agreement:
    """One document the patient accepts: 用户协议, 隐私政策 or 个人信息处理授权."""

    key: str
    title_zh: str
    title_en: str


AGREEMENTS = (
    Agreement("terms", "用户协议", "Terms of service"),
    Agreement("privacy", "隐私政策", "Privacy policy"),
    Agreement("processing", "个人信息处理授权", "Consent to process personal information"),
)
AGREEMENT_BY_KEY = {a.key: a for a in AGREEMENTS}


def needs_consent(accepted_version: str | None, current: str | None = None) -> bool:
    """A patient who never accepted, or accepted an older version, is asked (again)."""
    return accepted_version != (current or CONSENT_VERSION)


# What stays after 注销, and why (shown on the deletion page; R-SEC-08 keeps it encrypted).
KEPT_AFTER_DELETION = (
    N_("Audit records (kept at least six months by the Cybersecurity Law)"),
    N_("Payment and refund records (accounting records kept by law)"),
    N_("The hospital's medical record (kept by the hospital by law; your cards are cancelled)"),
)
