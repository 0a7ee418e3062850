"""Policy editor: validate and diff against the current version before saving (issue 9; R-INS-03)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from medcard.kit.clock import clock
from tests.factories import Demo, bearer, staff_token

TEXTAREA = '<textarea id="data" name="data" rows="18" spellcheck="false">'


async def test_r_ins_03_preview_shows_the_diff_and_saves_nothing(client: httpx.AsyncClient, demo: Demo) -> None:
    """预览差异 lists the changed line and keeps the form; the history gains no version until 保存."""
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    admin = bearer(await staff_token(client, "admin1"))
    editor = await client.get("/console/policy/region/310000", headers=admin)
    data = editor.text.split(TEXTAREA)[1].split("</textarea>")[0].replace("&#34;", '"')
    changed = data.replace("7.0.3", "7.1.0")
    form = {"data": changed, "effective_from": "2026-04-01", "reason": "市医保局通知", "intent": "preview"}
    preview = await client.post("/console/policy/region/310000", data=form, headers=admin)
    assert preview.status_code == 200 and 'id="policy-diff"' in preview.text
    assert '<span class="del">-' in preview.text and "7.0.3" in preview.text.split('class="del"')[1].split("</span>")[0]
    assert "7.1.0" in preview.text.split('class="add">+')[-1].split("</span>")[0]
    assert 'value="市医保局通知"' in preview.text and 'value="2026-04-01"' in preview.text
    assert 'id="version-2"' not in preview.text

    same = await client.post("/console/policy/region/310000", data={**form, "data": data}, headers=admin)
    assert 'id="policy-no-change"' in same.text

    bad = await client.post(
        "/console/policy/region/310000",
        data={**form, "data": changed.replace("7.1.0", "seven")},
        headers=admin,
    )
    assert 'data-code="POLICY_INVALID"' in bad.text and 'id="version-2"' not in bad.text

    saved = await client.post("/console/policy/region/310000", data={**form, "intent": "save"}, headers=admin)
    assert saved.status_code == 303
    assert 'id="version-2"' in (await client.get(saved.headers["location"], headers=admin)).text


async def test_r_ins_03_form_editor_changes_one_field_with_preview_and_validation(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    """The form editor edits a top-level field, previews the diff, refuses invalid values and saves."""
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    admin = bearer(await staff_token(client, "admin1"))
    editor = await client.get("/console/policy/region/310000", headers=admin)
    assert 'id="policy-fields"' in editor.text and 'id="f_min_client_version"' in editor.text
    form = {"f_min_client_version": "7.1.0", "effective_from": "2026-04-01", "reason": "市医保局通知"}
    preview = await client.post("/console/policy/region/310000/form", data={**form, "intent": "preview"}, headers=admin)
    assert preview.status_code == 200 and "7.1.0" in preview.text.split('class="add">+')[-1].split("</span>")[0]
    assert 'id="version-2"' not in preview.text
    bad = await client.post(
        "/console/policy/region/310000/form",
        data={**form, "f_min_client_version": "seven", "intent": "preview"},
        headers=admin,
    )
    assert 'data-code="POLICY_INVALID"' in bad.text
    saved = await client.post("/console/policy/region/310000/form", data={**form, "intent": "save"}, headers=admin)
    assert saved.status_code == 303
    history = await client.get(saved.headers["location"], headers=admin)
    assert 'id="version-2"' in history.text and 'value="7.1.0"' in history.text
