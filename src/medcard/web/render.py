"""Jinja2 set-up: bilingual text (zh-CN first), the language switch and page helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup

from medcard.errors import MedCardError
from medcard.kit.masking import mask_document, mask_name, mask_phone
from medcard.kit.money import format_yuan

LANG_COOKIE = "medcard_lang"
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters.update(card_number=lambda n: " ".join(n[i : i + 4] for i in range(0, len(n), 4)))
templates.env.filters.update(yuan=format_yuan, mask_document=mask_document, mask_phone=mask_phone, mask_name=mask_name)


@pass_context
def csrf_token(context: Any) -> str:
    """This request's CSRF token (ADR 0008), made by ``guards.csrf.CsrfGuard``; empty outside it."""
    return str(context["request"].scope.get("state", {}).get("csrf_token", ""))


@pass_context
def csrf_field(context: Any) -> Markup:
    """The hidden input every state-changing form carries."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf_token(context))


templates.env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field)


# The console's navigation bar: (roles that see it, path, zh, en); admin sees everything.
CONSOLE_NAV: tuple[tuple[tuple[str, ...], str, str, str], ...] = (
    (("cashier", "hotline"), "/console/cards", "就诊卡", "Cards"),
    (("cashier", "pharmacy"), "/console/pos", "扫码收款", "Payment codes"),
    (("hotline",), "/console/security/loss-report", "热线挂失", "Loss report"),
    (("reviewer",), "/console/insurance/review", "特病审核", "Disease review"),
    (("hotline", "reviewer"), "/console/security/monitor", "风控", "Risk"),
    (("reviewer",), "/console/audit", "审计日志", "Audit log"),
    ((), "/console/hospitals", "医院设置", "Hospitals"),
    ((), "/console/policy", "医保政策", "Policy"),
    (("kiosk",), "/kiosk", "自助机", "Kiosk"),
)


def console_nav(role: str) -> list[tuple[str, str, str]]:
    """The console links ``role`` may open, in bar order."""
    return [(path, zh, en) for roles, path, zh, en in CONSOLE_NAV if role == "admin" or role in roles]


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

    settings = getattr(request.app.state, "settings", None)
    values: dict[str, Any] = {
        "lang": lang,
        "tr": tr,
        "error": None,
        "elder": bool(getattr(request.state, "elder_mode", False)),
        "hotline": settings.patient_hotline if settings is not None else "12320",
        "console_staff": getattr(request.state, "staff", None),
        "console_nav": console_nav,
    }
    values.update(context or {})
    return templates.TemplateResponse(request, template, values, status_code=status_code)


def error_view(error: MedCardError, lang: str) -> dict[str, str]:
    """What a page shows for a domain error: text and hint in the page language, plus the code."""
    return {"code": error.code, "text": error.text(lang), "hint": error.hint(lang), "field": error.field or ""}
