"""Permission settings (R-SEC-07) and SMS templates without links (R-SEC-09)."""

from __future__ import annotations

import re

import httpx

from medcard.adapters.sms import TEMPLATES
from tests.codes.conftest import Holder

SETTINGS = "/api/v1/security/settings"


async def test_r_sec_07_bill_visibility_and_family_scope_are_stored(client: httpx.AsyncClient, holder: Holder) -> None:
    before = (await client.get("/api/v1/security", headers=holder.headers)).json()
    assert before["bill_visibility"] == "self" and before["family_scope"] == "none"
    changed = await client.put(
        SETTINGS, json={"bill_visibility": "guardians", "family_scope": "cards"}, headers=holder.headers
    )
    assert changed.status_code == 200
    after = (await client.get("/api/v1/security", headers=holder.headers)).json()
    assert after["bill_visibility"] == "guardians" and after["family_scope"] == "cards"


async def test_r_sec_07_unknown_setting_values_are_refused(client: httpx.AsyncClient, holder: Holder) -> None:
    response = await client.put(SETTINGS, json={"bill_visibility": "everyone"}, headers=holder.headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "bill_visibility"


URL = re.compile(r"https?://|www\.|\.(com|cn|net|org)\b|[a-z0-9-]+\.[a-z]{2,}/", re.IGNORECASE)


def test_r_sec_09_sms_templates_contain_no_links() -> None:
    assert TEMPLATES
    for name, (zh, en) in TEMPLATES.items():
        assert not URL.search(zh) and not URL.search(en), name
        assert "点击" not in zh and "click" not in en.lower(), name


def test_r_sec_09_the_link_check_would_catch_a_link() -> None:
    assert URL.search("【MedCard】请点击 https://medcard.example.cn/v 完成认证")
    assert URL.search("visit www.example.com")
