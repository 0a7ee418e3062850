"""Console pages: the policy viewer/editor with version history (R-INS-03), the
special-disease review queue (R-INS-07) and the binding dashboard (R-OPS-01)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.auth.service import actor_for_staff
from medcard.db import attempt
from medcard.deps import SessionDep, require_role
from medcard.errors import MedCardError
from medcard.insurance import service as insurance
from medcard.kit.clock import clock
from medcard.models import StaffUser
from medcard.policy import service
from medcard.policy.errors import PolicyInvalid
from medcard.policy.repository import PolicyRepository
from medcard.policy.schemas import PolicyKind
from medcard.web.render import error_view, language, page

router = APIRouter(prefix="/console", include_in_schema=False)
AdminDep = Annotated[StaffUser, Depends(require_role())]
ReviewerDep = Annotated[StaffUser, Depends(require_role("reviewer"))]
KeyPath = Annotated[str, Path(pattern=r"^[0-9a-z_]{2,16}$")]


@router.get("/policy", response_class=HTMLResponse)
async def policies(request: Request, session: SessionDep, staff: AdminDep) -> Response:
    documents = await PolicyRepository(session).documents()
    return page(request, "console/policy_list.html", {"staff": staff, "documents": documents})


async def _policy_page(
    request: Request,
    session: AsyncSession,
    staff: StaffUser,
    kind: str,
    key: str,
    *,
    draft: str | None = None,
    error: MedCardError | None = None,
    saved: bool = False,
    diff: list[str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    versions = await service.history(session, kind, key)
    today = clock.now().date()
    in_force = next((v for v in versions if v.effective_from <= today), None)
    context = {
        "staff": staff,
        "kind": kind,
        "key": key,
        "versions": versions,
        "in_force": in_force,
        "today": today,
        "saved": saved,
        "diff": diff,
        "values": values or {},
        "draft": draft if draft is not None else json.dumps(versions[0].data, ensure_ascii=False, indent=2),
        "fields": [
            (name, value) for name, value in versions[0].data.items() if not name.startswith("_") and _editable(value)
        ]
        if versions
        else [],
        "error": error_view(error, language(request)) if error else None,
    }
    return page(request, "console/policy.html", context, status_code=error.status if error else 200)


@router.get("/policy/{kind}/{key}", response_class=HTMLResponse)
async def policy(request: Request, session: SessionDep, staff: AdminDep, kind: PolicyKind, key: KeyPath) -> Response:
    return await _policy_page(request, session, staff, kind, key, saved=request.query_params.get("saved") == "1")


@router.post("/policy/{kind}/{key}", response_class=HTMLResponse)
async def policy_save(
    request: Request,
    session: SessionDep,
    staff: AdminDep,
    kind: PolicyKind,
    key: KeyPath,
    data: Annotated[str, Form(max_length=200_000)],
    effective_from: Annotated[date, Form()],
    reason: Annotated[str, Form(min_length=2, max_length=200)],
    intent: Annotated[str, Form(pattern=r"^(save|preview)$")] = "save",
) -> Response:
    return await _save_or_preview(request, session, staff, kind, key, data, effective_from, reason, intent)


@router.post("/policy/{kind}/{key}/form", response_class=HTMLResponse)
async def policy_form_save(
    request: Request,
    session: SessionDep,
    staff: AdminDep,
    kind: PolicyKind,
    key: KeyPath,
    effective_from: Annotated[date, Form()],
    reason: Annotated[str, Form(min_length=2, max_length=200)],
    intent: Annotated[str, Form(pattern=r"^(save|preview)$")] = "save",
) -> Response:
    """The form editor: the newest version's top-level fields edited one by one, then the same
    validation, preview diff and save as the JSON editor (R-INS-03)."""
    versions = await service.history(session, kind, key)
    current = dict(versions[0].data) if versions else {}
    submitted = await request.form()
    for name, value in current.items():
        field = f"f_{name}"
        if field not in submitted or not _editable(value):
            continue
        raw = str(submitted[field]).strip()
        if isinstance(value, bool):
            current[name] = raw == "true"
        elif isinstance(value, int):
            current[name] = int(raw) if raw.lstrip("-").isdigit() else raw
        else:
            current[name] = raw
    data = json.dumps(current, ensure_ascii=False, indent=2)
    return await _save_or_preview(request, session, staff, kind, key, data, effective_from, reason, intent)


def _editable(value: object) -> bool:
    return isinstance(value, bool | int | str)


async def _save_or_preview(
    request: Request,
    session: AsyncSession,
    staff: StaffUser,
    kind: str,
    key: str,
    data: str,
    effective_from: date,
    reason: str,
    intent: str,
) -> Response:
    """R-INS-03: save a dated version; ``intent=preview`` validates and shows the diff against the
    newest version first, saving nothing."""

    def parse() -> dict[str, object]:
        try:
            parsed = json.loads(data)
        except ValueError as error:
            raise PolicyInvalid(field="data", reason="JSON") from error
        if not isinstance(parsed, dict):
            raise PolicyInvalid(field="data", reason="JSON object")
        return parsed

    if intent == "preview":

        async def check() -> list[str]:
            parsed = parse()
            await service.check_version(session, kind=kind, key=key, data=parsed, today=clock.now().date())
            versions = await service.history(session, kind, key)
            return service.diff_lines(versions[0].data if versions else {}, parsed)

        diff, preview_error = await attempt(session, check)
        values = {"effective_from": effective_from.isoformat(), "reason": reason}
        return await _policy_page(
            request, session, staff, kind, key, draft=data, error=preview_error, diff=diff, values=values
        )

    async def run() -> object:
        parsed = parse()
        return await service.add_version(
            session,
            kind=kind,
            key=key,
            data=parsed,
            effective_from=effective_from,
            reason=reason,
            actor=actor_for_staff(staff),
            today=clock.now().date(),
        )

    _version, error = await attempt(session, run)
    if error is not None:
        return await _policy_page(request, session, staff, kind, key, draft=data, error=error)
    return RedirectResponse(f"/console/policy/{kind}/{key}?saved=1", status_code=303)


@router.get("/insurance/review", response_class=HTMLResponse)
async def review_queue(request: Request, session: SessionDep, staff: ReviewerDep) -> Response:
    queue = await insurance.review_queue(session, staff=staff)
    context = {"staff": staff, "queue": queue, "diseases": insurance.SPECIAL_DISEASES}
    return page(request, "console/policy_review.html", context)


@router.post("/insurance/review/{application_id}", response_class=HTMLResponse)
async def review(
    session: SessionDep,
    staff: ReviewerDep,
    application_id: uuid.UUID,
    decision: Annotated[str, Form(pattern=r"^(approve|reject)$")],
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    application = await insurance.application_for_staff(session, staff=staff, application_id=application_id)
    await insurance.review_special_disease(
        session,
        staff=staff,
        actor=actor_for_staff(staff),
        application=application,
        approve=decision == "approve",
        note=note,
    )
    return RedirectResponse("/console/insurance/review", status_code=303)


@router.get("/insurance/review/{application_id}/materials/{position}")
async def review_material(
    session: SessionDep, staff: ReviewerDep, application_id: uuid.UUID, position: Annotated[int, Path(ge=0, lt=16)]
) -> Response:
    """One uploaded material for the reviewer: its sniffed type, shown inline, never cached or
    type-guessed by the browser (``nosniff`` comes from the security headers); audited."""
    material = await insurance.material_for_review(
        session, staff=staff, application_id=application_id, position=position
    )
    headers = {"Content-Disposition": f'inline; filename="{material.filename}"', "Cache-Control": "no-store"}
    return Response(material.data, media_type=material.content_type, headers=headers)


@router.get("/insurance/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, session: SessionDep, staff: AdminDep) -> Response:
    stats, categories = await insurance.dashboard(session)
    return page(request, "console/policy_dashboard.html", {"staff": staff, "stats": stats, "categories": categories})
