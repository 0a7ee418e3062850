"""Pure family rules (R-FAM-01…06), table-driven, no database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from medcard.family import rules


def test_r_fam_01_five_patients_include_the_holder() -> None:
    """The holder is one of the 5 patients: 4 relatives fit, a 5th relative (6th patient) does not."""
    assert rules.MAX_PATIENTS == 5 and rules.HOLDER_COUNTS
    assert [rules.has_room(n) for n in range(6)] == [True, True, True, True, False, False]
    assert rules.max_family_members(holder_counts=False) == 5


@pytest.mark.parametrize(
    ("relation", "documents"),
    [
        ("child", ("relation_proof",)),
        ("parent", ("relation_proof",)),
        ("spouse", ("relation_proof",)),
        ("guardian", ("relation_proof", "holder_id_photo", "patient_id_photo", "holder_with_id")),
    ],
)
def test_r_fam_02_required_documents(relation: str, documents: tuple[str, ...]) -> None:
    assert rules.required_documents(relation) == documents
    assert rules.missing_documents(relation, {"relation_proof"}) == list(documents[1:])


@pytest.mark.parametrize(
    ("relation", "birth", "ends_on"),
    [
        ("child", date(2015, 3, 9), date(2033, 3, 9)),
        ("guardian", date(2012, 2, 29), date(2030, 3, 1)),
        ("child", date(2000, 1, 1), None),  # an adult child: no end by age
        ("parent", date(1950, 1, 1), None),
    ],
)
def test_r_fam_03_a_minors_relation_ends_at_18(relation: str, birth: date, ends_on: date | None) -> None:
    assert rules.relation_ends_on(relation, birth, date(2026, 11, 23)) == ends_on


def test_r_fam_02_relation_must_fit_the_ages() -> None:
    today, holder = date(2026, 11, 23), date(1988, 6, 15)
    assert rules.relation_problem("spouse", holder_birth=holder, patient_birth=date(2015, 1, 1), today=today) == (
        "minor_relation"
    )
    assert rules.relation_problem("parent", holder_birth=holder, patient_birth=date(1990, 1, 1), today=today) == (
        "parent_not_older"
    )
    assert rules.relation_problem("child", holder_birth=holder, patient_birth=date(1980, 1, 1), today=today) == (
        "child_not_younger"
    )
    assert rules.relation_problem("parent", holder_birth=holder, patient_birth=date(1958, 1, 1), today=today) is None


def test_r_fam_02_review_unless_the_authority_confirmed_a_parent() -> None:
    assert not rules.needs_review("child", authority_confirmed=True, review_all=False)
    assert rules.needs_review("child", authority_confirmed=True, review_all=True)
    assert rules.needs_review("guardian", authority_confirmed=True, review_all=False)
    assert rules.needs_review("parent", authority_confirmed=False, review_all=False)


def test_r_fam_06_dissolve_from_16() -> None:
    today = date(2026, 11, 23)
    assert rules.may_dissolve(date(2010, 11, 23), today)
    assert not rules.may_dissolve(date(2010, 11, 24), today)


def test_r_fam_06_status_shown_expired_after_the_end() -> None:
    assert rules.shown_status("active", date(2026, 11, 23), date(2026, 11, 23)) == "expired"
    assert rules.shown_status("active", date(2026, 11, 24), date(2026, 11, 23)) == "active"
    assert rules.shown_status("dissolved", date(2026, 1, 1), date(2026, 11, 23)) == "dissolved"
    assert not rules.is_current("active", date(2026, 11, 23), date(2026, 11, 23))


def test_r_fam_05_reports_go_to_the_main_account_only() -> None:
    own, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    proxies = [
        rules.Proxy(second, datetime(2026, 5, 1, tzinfo=UTC)),
        rules.Proxy(first, datetime(2026, 1, 1, tzinfo=UTC)),
    ]
    assert rules.report_recipient(own, proxies) == first  # not also the patient's own account
    assert rules.report_recipient(own, []) == own
    assert rules.report_recipient(None, []) is None
