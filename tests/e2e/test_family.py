"""Browser: a parent adds family members (an elderly father waiting for review, a child under 14
active at once) and switches patient on the home and payment-code pages (R-FAM-01…03)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from medcard.adapters.identity import sample_face_photo
from medcard.config import Settings
from tests.e2e.conftest import patient_login, screenshot
from tests.identity.helpers import resident_passing

pytestmark = pytest.mark.e2e

SANDBOX = Settings(_env_file=None)  # type: ignore[call-arg]
LIVE = {"name": "selfie.png", "mimeType": "image/png", "buffer": sample_face_photo(live=True)}
PROOF = {"name": "household-register.png", "mimeType": "image/png", "buffer": sample_face_photo(live=True)}
REGION = "320102"


def _verify(page: Page, name: str, birth: date) -> None:
    page.goto("/verify")
    page.check("#method-face")
    page.fill("#document_number", resident_passing(SANDBOX, name, birth=birth, region=REGION))
    page.fill("#name", name)
    page.click("#start")
    page.wait_for_url("**/verify/*")
    page.set_input_files("#face-file", LIVE)
    page.click("#face-submit")
    page.wait_for_url("**/me")


def _add(page: Page, *, relation: str, name: str, birth: date, proof_kind: str, certificate: str = "") -> None:
    page.select_option("#relation", relation)
    page.fill("#document_number", resident_passing(SANDBOX, name, birth=birth, region=REGION))
    page.fill("#name", name)
    page.select_option("#proof_kind", proof_kind)
    if certificate:
        page.fill("#birth_certificate_number", certificate)
    page.set_input_files("#relation_proof", PROOF)
    page.click("#add-member")


def test_r_fam_01_parent_adds_family_members_and_switches_patient(page: Page) -> None:
    patient_login(page, "周建华")
    _verify(page, "周建华", date(1985, 4, 12))
    page.click("#go-family")
    expect(page.locator("#no-members")).to_be_visible()
    _add(page, relation="parent", name="周国强", birth=date(1952, 10, 1), proof_kind="household_register")
    expect(page.locator("#member-added")).to_be_visible()
    expect(page.locator("#member-1")).to_contain_text("待审核")
    _add(page, relation="child", name="周小雨", birth=date(2017, 6, 1), proof_kind="birth_certificate")
    expect(page.locator("#birth_certificate_number-error")).to_contain_text("出生医学证明编号")
    screenshot(page, "family-01-refused-next-to-field")
    _add(
        page,
        relation="child",
        name="周小雨",
        birth=date(2017, 6, 1),
        proof_kind="birth_certificate",
        certificate="P320123456",
    )
    expect(page.locator("#member-2")).to_contain_text("已生效")
    screenshot(page, "family-02-members")

    page.goto("/me")
    expect(page.locator("#home-cards h2")).to_contain_text("我的就诊卡")
    page.select_option("#switch-patient", label="*小雨")
    page.wait_for_url("**/me")
    expect(page.locator("#home-cards h2")).to_contain_text("*小雨")
    screenshot(page, "family-03-home-switched")
    page.goto("/codes")
    expect(page.locator("#paying-for")).to_contain_text("*小雨")
    screenshot(page, "family-04-codes-switched")
    page.select_option("#switch-patient", label="*建华(本人)")
    page.wait_for_url("**/codes")
    expect(page.locator("#paying-for")).to_have_count(0)
