"""Errors in the product's words (issue 9, R-A11Y-02): a branded 404 page instead of
``{"detail":"Not Found"}``, pydantic's English replaced by every refused field named at once in
the page language, and the machine code only as small grey "错误码" text. The API keeps
problem+json."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.insurance.conftest import MakePatient

MACHINE_TEXT = ("Field required", "Input should be", "valid UUID", '"detail"', "Not Found", "String should")


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(("lang", "title"), [("zh", "页面不存在"), ("en", "This page does not exist")])
async def test_r_a11y_02_an_unknown_page_address_is_a_branded_page(
    client: httpx.AsyncClient, lang: str, title: str
) -> None:
    client.cookies.set("medcard_lang", lang)
    response = await client.get("/no-such-page/here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert title in response.text and 'data-code="PAGE_NOT_FOUND"' in response.text
    assert 'id="error-home"' in response.text
    assert not any(text in _visible(response.text) for text in MACHINE_TEXT)
    code = re.search(r'<small class="code">([^<]*)</small>', response.text)
    expected = "错误码 PAGE_NOT_FOUND" if lang == "zh" else "Error code PAGE_NOT_FOUND"
    assert code is not None and " ".join(code.group(1).split()) == expected


async def test_r_a11y_02_the_api_keeps_problem_json_for_an_unknown_address(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "HTTP_404"


async def test_r_a11y_02_a_wrong_method_on_a_page_is_a_branded_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/insurance/00000000-0000-0000-0000-000000000000/unbind")
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-code="PAGE_REFUSED"' in response.text and "无法打开该页面" in response.text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_r_a11y_02_every_refused_form_field_is_named_at_once_in_the_page_language(
    client: httpx.AsyncClient, make_patient: MakePatient, lang: str
) -> None:
    patient = await make_patient()
    client.cookies.set("medcard_lang", lang)
    # A filing form with a forged binding and nothing else: two fields refused by the framework.
    response = await client.post("/insurance/filings", data={"binding_id": "not-a-uuid"}, headers=patient.headers)
    assert response.status_code == 422
    text = _visible(response.text)
    assert not any(machine in text for machine in MACHINE_TEXT), text
    problems = re.findall(r'<li data-field="([a-z_]+)">', response.text)
    assert set(problems) == {"binding_id", "destination_region_code", "reason"}
    if lang == "zh":
        assert "以下内容需要修改（共 3 项）" in text
        assert "就医地" in text and "必填，请填写" in text and "选择无效，请重新选择" in text
    else:
        assert "Please correct 3 items" in text and "Where you get care" in text and "is required" in text
        assert not re.search(r"[\u4e00-\u9fff]", text.split("Please correct")[1].split("Error code")[0])
    assert 'data-code="MALFORMED_REQUEST"' in response.text


async def test_r_ins_01_the_bind_form_flags_every_missing_field_next_to_it(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    """R-INS-01 bind page: nothing typed, no selfie, a forged card id → every field flagged at
    once next to itself, in Chinese; no "客户端版本" to type (the server knows the app version)."""
    patient = await make_patient()
    form = await client.get("/insurance/bind", headers=patient.headers)
    assert "客户端版本" not in form.text and 'name="client_version"' not in form.text
    response = await client.post(
        "/insurance/bind", data={"card_id": "not-a-uuid", "region_code": "110000"}, headers=patient.headers
    )
    assert response.status_code == 422
    text = _visible(response.text)
    assert not any(machine in text for machine in MACHINE_TEXT)
    for field, message in [
        ("card_id", "选择无效，请重新选择"),
        ("card_number", "必填，请填写"),
        ("scheme", "必填，请填写"),
        ("face_image", "请拍摄一张本人自拍"),
    ]:
        assert f'id="{field}-error" role="alert">{message}</p>' in response.text, field
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', response.text), field
    assert 'id="region_code-error">' in response.text  # the chosen place is fine
    assert "以下内容需要修改（共 4 项）" in text


async def test_r_ins_01_the_app_version_comes_from_the_browser_not_a_form_field(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    """R-INS-01's minimum app version is checked against the messaging app's User-Agent."""
    patient = await make_patient(region="310104", sequence=21)  # Shanghai needs 7.0.3 or later
    form = {k: v for k, v in patient.form().items() if k not in ("face_image", "client_version")}
    files = {"face_image": ("selfie.jpg", b"SANDBOX-LIVE", "image/jpeg")}
    old_app = {**patient.headers, "User-Agent": "Mozilla/5.0 MicroMessenger/6.9.0 NetType/WIFI"}
    refused = await client.post("/insurance/bind", data=form, files=files, headers=old_app)
    assert 'data-code="INS_CLIENT_TOO_OLD"' in refused.text
