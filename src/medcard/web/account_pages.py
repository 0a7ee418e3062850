"""The patient's own account pages: the agreements (at first login and before real-name
verification), elder mode (R-A11Y-01) and account deletion (注销)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from medcard.account import rules, service
from medcard.account.errors import ConsentRequired
from medcard.db import attempt
from medcard.deps import PATIENT_COOKIE, AccountDep, SessionDep
from medcard.errors import NotFound
from medcard.identity.rules import safe_return_path
from medcard.web.render import error_view, language, page

router = APIRouter(include_in_schema=False)
NextQuery = Annotated[str | None, Query(max_length=200)]


@router.get("/consent", response_class=HTMLResponse)
async def consent_page(request: Request, account: AccountDep, next: NextQuery = None) -> Response:
    values: dict[str, Any] = {"agreements": rules.AGREEMENTS, "version": rules.CONSENT_VERSION}
    values |= {"next": safe_return_path(next) or "/me", "renewed": account.consent_version is not None}
    return page(request, "account/consent.html", values)


@router.post("/consent", response_class=HTMLResponse)
async def consent_accept(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    version: Annotated[str, Form(max_length=16)] = "",
    agree: Annotated[str, Form(max_length=8)] = "",
    next: Annotated[str, Form(max_length=200)] = "/me",
) -> Response:
    """Store the accepted version (audited) and go on to where the patient was heading."""

    async def accept() -> None:
        if agree != "yes":
            raise ConsentRequired(field="agree")
        await service.accept_consent(session, account=account, version=version)

    _done, error = await attempt(session, accept)
    if error is not None:
        values: dict[str, Any] = {"agreements": rules.AGREEMENTS, "version": rules.CONSENT_VERSION}
        values["next"] = safe_return_path(next) or "/me"
        values["error"] = error_view(error, language(request))
        return page(request, "account/consent.html", values, status_code=error.status)
    return RedirectResponse(safe_return_path(next) or "/me", status_code=303)


@router.get("/legal/{key}", response_class=HTMLResponse)
async def legal_page(request: Request, key: str) -> Response:
    agreement = rules.AGREEMENT_BY_KEY.get(key)
    if agreement is None:
        raise NotFound()
    return page(request, "account/legal.html", {"agreement": agreement, "version": rules.CONSENT_VERSION})


@router.post("/me/elder-mode")
async def elder_mode(
    session: SessionDep, account: AccountDep, on: Annotated[str, Form(max_length=1)] = "1", next: NextQuery = None
) -> Response:
    """Switch 长辈模式 for this account (R-A11Y-01)."""
    await service.set_elder_mode(session, account=account, on=on == "1")
    return RedirectResponse(safe_return_path(next) or "/me", status_code=303)


@router.get("/me/account", response_class=HTMLResponse)
async def account_page(request: Request, account: AccountDep) -> Response:
    values = {"account": account, "agreements": rules.AGREEMENTS, "kept": rules.KEPT_AFTER_DELETION}
    return page(request, "account/account.html", values | {"words": service.DELETION_WORDS[language(request)]})


@router.post("/me/delete", response_class=HTMLResponse)
async def delete_account(
    request: Request, session: SessionDep, account: AccountDep, confirm: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    """注销: sessions end, personal data goes; audit and payment records stay."""
    _done, error = await attempt(session, lambda: service.delete_account(session, account=account, confirm=confirm))
    if error is not None:
        values: dict[str, Any] = {"account": account, "agreements": rules.AGREEMENTS, "kept": rules.KEPT_AFTER_DELETION}
        values |= {"words": service.DELETION_WORDS[language(request)], "error": error_view(error, language(request))}
        return page(request, "account/account.html", values, status_code=error.status)
    response = RedirectResponse("/login?deleted=1", status_code=303)
    response.delete_cookie(PATIENT_COOKIE)
    return response
