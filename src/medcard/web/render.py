"""Jinja2 set-up: bilingual text (zh-CN first), the language switch and page helpers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup

from medcard.errors import MedCardError
from medcard.kit.clock import CHINA
from medcard.kit.masking import mask_document, mask_name, mask_phone
from medcard.kit.money import format_yuan

LANG_COOKIE = "medcard_lang"
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters.update(yuan=format_yuan, mask_document=mask_document, mask_phone=mask_phone, mask_name=mask_name)


def china_time(moment: datetime | None) -> str:
    """A stored UTC time as China time for staff tables (``2026-11-30 21:05``)."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else ""


templates.env.filters["china_time"] = china_time


@pass_context
def csrf_token(context: Any) -> str:
    """This request's CSRF token (ADR 0008), made by ``guards.csrf.CsrfGuard``; empty outside it."""
    return str(context["request"].scope.get("state", {}).get("csrf_token", ""))


@pass_context
def csrf_field(context: Any) -> Markup:
    """The hidden input every state-changing form carries."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf_token(context))


templates.env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field)


def language(request: Request) -> str:
    """``zh`` unless the visitor switched to English."""
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


def page(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` with ``tr(zh, en)``, ``lang`` and ``error`` helpers available."""
    lang = language(request)

    def tr(zh: str, en: str) -> str:
        return zh if lang == "zh" else en

    values: dict[str, Any] = {"lang": lang, "tr": tr, "error": None}
    values.update(context or {})
    return templates.TemplateResponse(request, template, values, status_code=status_code)


def error_view(error: MedCardError, lang: str) -> dict[str, str]:
    """What a page shows for a domain error: text and hint in the page language, plus the code."""
    return {"code": error.code, "text": error.text(lang), "hint": error.hint(lang), "field": error.field or ""}
