"""Pure rules of family accounts (R-FAM-01…06): no session, no clock read.

**How many patients (R-FAM-01).** One account manages at most :data:`MAX_PATIENTS` = 5
patients, *the account holder included* (the usual "最多 5 位就诊人(含本人)"): a verified holder
adds at most 4 family members. A relation counts while it is ``pending_review`` or ``active``
and not past its end; rejected, dissolved and expired ones free their place.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

MAX_PATIENTS = 5
"""Patients per account, the holder included."""
HOLDER_COUNTS = True
"""The account holder is one of the :data:`MAX_PATIENTS` patients."""
ADULT_AGE = 18
BIRTH_CERTIFICATE_AGE = 14
DISSOLVE_AGE = 16
"""From this age a patient may end a proxy relationship from his own login (R-FAM-06)."""
OPEN_STATUSES = ("pending_review", "active")
"""Relations that hold a place among the account's patients."""

RELATION_PROOF_KINDS: dict[str, tuple[str, ...]] = {
    "child": ("birth_certificate", "household_register"),
    "parent": ("household_register", "birth_certificate"),
    "spouse": ("marriage_certificate", "household_register"),
    "guardian": ("guardianship_certificate", "household_register", "birth_certificate"),
}
"""Which legal-relationship proofs fit each relation (R-FAM-02)."""
GUARDIAN_DOCUMENTS = ("relation_proof", "holder_id_photo", "patient_id_photo", "holder_with_id")
"""Guardian binding: both ID photos, the proof and a photo of the guardian holding his ID (R-FAM-02)."""
RELATIVE_DOCUMENTS = ("relation_proof",)


def max_family_members(*, holder_counts: bool = HOLDER_COUNTS) -> int:
    """How many other people one account may manage."""
    return MAX_PATIENTS - 1 if holder_counts else MAX_PATIENTS


def has_room(open_members: int, *, holder_counts: bool = HOLDER_COUNTS) -> bool:
    """Whether one more family member fits beside ``open_members`` (R-FAM-01)."""
    return open_members < max_family_members(holder_counts=holder_counts)


def required_documents(relation: str) -> tuple[str, ...]:
    """The uploads a binding of ``relation`` needs (R-FAM-02)."""
    return GUARDIAN_DOCUMENTS if relation == "guardian" else RELATIVE_DOCUMENTS


def missing_documents(relation: str, given: set[str]) -> list[str]:
    return [document for document in required_documents(relation) if document not in given]


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def birthday(birth: date, years: int) -> date:
    """The day someone born on ``birth`` turns ``years`` (29 February → 1 March)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 3, 1)


def relation_ends_on(relation: str, patient_birth: date, today: date) -> date | None:
    """When the relation ends by itself: a minor's proxy ends on his 18th birthday (he then
    manages himself, or is added again as an adult with his consent); adults' relations don't."""
    if relation in ("child", "guardian") and age_on(patient_birth, today) < ADULT_AGE:
        return birthday(patient_birth, ADULT_AGE)
    return None


def relation_problem(relation: str, *, holder_birth: date, patient_birth: date, today: date) -> str | None:
    """Why the ages make ``relation`` impossible, or ``None`` (a minor is a child or a ward; a
    parent is older than the holder, a child younger)."""
    patient_age = age_on(patient_birth, today)
    if patient_age < ADULT_AGE and relation not in ("child", "guardian"):
        return "minor_relation"
    if relation == "parent" and patient_birth >= holder_birth:
        return "parent_not_older"
    if relation == "child" and patient_birth <= holder_birth:
        return "child_not_younger"
    return None


def needs_review(relation: str, *, authority_confirmed: bool, review_all: bool) -> bool:
    """Staff review the proof unless the identity authority confirmed the relation itself (a
    minor's parent, R-ID-07); a guardian binding's photos (R-FAM-02) are always looked at by a
    person; ``review_all`` is the policy that asks for every binding to be reviewed."""
    return review_all or relation == "guardian" or not authority_confirmed


def is_current(status: str, ends_on: date | None, today: date) -> bool:
    """Whether the holder may act for the patient today."""
    return status == "active" and (ends_on is None or today < ends_on)


def shown_status(status: str, ends_on: date | None, today: date) -> str:
    """The status as people see it: an open relation past its end is ``expired`` even before the
    periodic job has written that down."""
    if status in OPEN_STATUSES and ends_on is not None and today >= ends_on:
        return "expired"
    return status


def may_dissolve(patient_birth: date, today: date) -> bool:
    """A patient aged 16 or over may end a proxy relationship himself (R-FAM-06)."""
    return age_on(patient_birth, today) >= DISSOLVE_AGE


def needs_guardian_confirmation(bill_kind: str, *, proxied: bool) -> bool:
    """A prescription-drug bill (``drug``) paid for someone else waits for the guardian's second
    confirmation before any money moves (R-FAM-04)."""
    return proxied and bill_kind == "drug"


@dataclass(frozen=True)
class Proxy:
    """An account managing a patient, as the notification rule sees it."""

    account_id: uuid.UUID
    since: datetime


def report_recipient(own_account_id: uuid.UUID | None, proxies: list[Proxy]) -> uuid.UUID | None:
    """Where an exam report of a patient is pushed (R-FAM-05): a proxied patient's reports go only
    to the main account — the earliest current proxy —, never also to his own account; an
    unproxied patient gets his own (``None`` if he has no account)."""
    if proxies:
        return min(proxies, key=lambda proxy: proxy.since).account_id
    return own_account_id


# --- family mutual aid (家庭共济, R-FAM-08) --------------------------------------------------------

MUTUAL_AID_MAX_MEMBERS = 5
"""Relatives one insured person lets pay from his personal account at once (revoked ones free a place)."""
MUTUAL_AID_SCHEMES = ("310",)
"""Schemes with a personal account: the employees' basic medical insurance (职工医保)."""


def mutual_aid_refusal(
    *, region_allows: bool, scheme_code: str | None, relation_status: str, active_grants: int, already_bound: bool
) -> str | None:
    """Why the principal may not let this relative pay from his personal account, or ``None``:
    ``region`` (the insured region's policy has no mutual aid), ``scheme`` (no employee insurance
    with a personal account), ``relation`` (not a current family relation), ``limit`` (5 already)."""
    if scheme_code not in MUTUAL_AID_SCHEMES:
        return "scheme"
    if not region_allows:
        return "region"
    if relation_status != "active":
        return "relation"
    if not already_bound and active_grants >= MUTUAL_AID_MAX_MEMBERS:
        return "limit"
    return None


def used_this_year(used_year: int, used_fen: int, year: int) -> int:
    """What the grant has used in ``year`` (a new year starts at 0)."""
    return used_fen if used_year == year else 0


def mutual_aid_allowance(
    wanted_fen: int,
    *,
    available_fen: int,
    per_payment_limit_fen: int | None,
    per_year_limit_fen: int | None,
    used_this_year_fen: int,
) -> int:
    """How much of ``wanted_fen`` the principal's personal account pays for the relative now:
    never more than it holds (available = balance − holds), the per-payment limit, or what is
    left of the per-year limit; never negative."""
    amount = min(wanted_fen, available_fen)
    if per_payment_limit_fen is not None:
        amount = min(amount, per_payment_limit_fen)
    if per_year_limit_fen is not None:
        amount = min(amount, per_year_limit_fen - used_this_year_fen)
    return max(0, amount)


@dataclass(frozen=True)
class MutualAidView:
    """What a relative sees of a grant under the principal's sharing scope (R-SEC-07)."""

    limits: bool
    principal_name: bool
    balance: bool


def mutual_aid_view(family_scope: str) -> MutualAidView:
    """R-SEC-07: the relative always sees his own limits and use; the principal's name with
    ``cards`` or wider, the personal account's balance only with ``cards_and_bills``."""
    return MutualAidView(
        limits=True,
        principal_name=family_scope in ("cards", "cards_and_bills"),
        balance=family_scope == "cards_and_bills",
    )
