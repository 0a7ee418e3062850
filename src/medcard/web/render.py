"""Jinja2 set-up: text from the gettext catalogs (zh-CN first, ADR 0013), the language switch and
page helpers. Templates write ``{{ _('English') }}`` / ``{% trans %}``; the page language comes
from the ``medcard_lang`` cookie (set by ``/lang/<code>``), zh-CN when there is none."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup

from medcard.errors import MedCardError
from medcard.i18n import DEFAULT_LANGUAGE, HTML_LANG, language_of, translate, translations
from medcard.kit.clock import CHINA
from medcard.kit.masking import mask_document, mask_name, mask_phone
from medcard.kit.money import format_yuan
from medcard.kit.regions import REGIONS, country_name, region_name

LANG_COOKIE = "medcard_lang"
SMS_RESEND_SECONDS = 60
"""How long an SMS code button waits before it offers a new code (the page's countdown)."""
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.add_extension("jinja2.ext.i18n")


@pass_context
def _gettext(context: Any, message: str) -> str:
    catalog = translations(context.get("lang", DEFAULT_LANGUAGE))
    msgctxt = getattr(message, "context", None)  # a Msg from NC_() keeps its msgctxt
    return catalog.pgettext(msgctxt, message) if msgctxt else catalog.gettext(message)


@pass_context
def t(context: Any, message: str | None) -> str:
    """A msgid held in a variable (a label table's ``N_()`` value, a stored policy reason) in the
    page language; unlike ``_()`` it never %-formats, so any text passes through unchanged."""
    if not message:
        return ""
    return translate(context.get("lang", DEFAULT_LANGUAGE), message)


@pass_context
def _ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    return translations(context.get("lang", DEFAULT_LANGUAGE)).ngettext(singular, plural, n)


@pass_context
def _pgettext(context: Any, msgctxt: str, message: str) -> str:
    return translations(context.get("lang", DEFAULT_LANGUAGE)).pgettext(msgctxt, message)


@pass_context
def _npgettext(context: Any, msgctxt: str, singular: str, plural: str, n: int) -> str:
    return translations(context.get("lang", DEFAULT_LANGUAGE)).npgettext(msgctxt, singular, plural, n)


# One install for every request: each callable reads the page language from the render context,
# so concurrent requests in different languages never share a catalog (newstyle: autoescaped,
# ``%(name)s`` placeholders filled from keyword arguments).
templates.env.install_gettext_callables(_gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext)  # type: ignore[attr-defined]
templates.env.filters.update(card_number=lambda n: " ".join(n[i : i + 4] for i in range(0, len(n), 4)))
templates.env.filters.update(yuan=format_yuan, mask_document=mask_document, mask_phone=mask_phone, mask_name=mask_name)


def beijing(moment: datetime | str | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored instant (UTC; naive values from SQLite are UTC too) as Beijing time for a person
    to read; the page says once that its times are Beijing time (``partials/beijing_time.html``)."""
    if moment is None or moment == "":
        return ""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA).strftime(pattern)


def grouped(value: str | None) -> str:
    """Digits grouped for reading: a mobile number (or its mask) 3-4-4, anything else by 4."""
    text = (value or "").replace(" ", "")
    if len(text) == 11 and text.startswith("1"):
        return f"{text[:3]} {text[3:7]} {text[7:]}"
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


templates.env.filters.update(beijing=beijing, china_time=beijing, grouped=grouped)


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
    (("reviewer",), "/console/family/reviews", "家庭审核", "Family review"),
    (("finance",), "/console/finance", "财务对账", "Finance"),
    (("reviewer",), "/console/audit", "审计日志", "Audit log"),
    ((), "/console/hospitals", "医院设置", "Hospitals"),
    ((), "/console/policy", "医保政策", "Policy"),
    (("kiosk",), "/kiosk", "自助机", "Kiosk"),
)


def console_nav(role: str) -> list[tuple[str, str, str]]:
    """The console links ``role`` may open, in bar order."""
    return [(path, zh, en) for roles, path, zh, en in CONSOLE_NAV if role == "admin" or role in roles]


@pass_context
def place(context: Any, code: str | None, full: bool = False) -> str:
    """The name of a GB/T 2260 code in the page language (北京市 for 110000), never the code."""
    return region_name(code, context.get("lang", "zh"), full=full)


@pass_context
def country(context: Any, code: str | None) -> str:
    """The name of an ISO 3166 alpha-3 code in the page language (中国 for CHN)."""
    return country_name(code, context.get("lang", "zh"))


@pass_context
def region_table(context: Any) -> str:
    """The region picker's table (code → name in the page language) as JSON for static JS."""
    lang = context.get("lang", "zh")
    return json.dumps({code: r.name(lang) for code, r in REGIONS.items()}, ensure_ascii=False, separators=(",", ":"))


templates.env.globals.update(place=place, country=country, region_table=region_table)


@pass_context
def pick(context: Any, zh: str, en: str) -> str:
    """Bilingual *data* (a hospital's or a scheme's name stored in both languages, a label table
    kept in Python): the side of the page language. Text written in a template goes through the
    catalogs (``_()``) instead; the guard test refuses literal strings here."""
    return zh if context.get("lang", DEFAULT_LANGUAGE) == "zh" else en


templates.env.globals.update(pick=pick, t=t)


def language(request: Request) -> str:
    """The page language: the ``medcard_lang`` cookie when it names a shipped catalog, else zh."""
    return language_of(request.cookies.get(LANG_COOKIE))


def page(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` in the request's language (``lang``, ``html_lang``) with ``error``."""
    lang = language(request)
    settings = getattr(request.app.state, "settings", None)
    values: dict[str, Any] = {
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "error": None,
        "resend_seconds": SMS_RESEND_SECONDS,
        "elder": bool(getattr(request.state, "elder_mode", False)),
        # 长辈模式 shows one task per screen; ``?more=1`` opens the page's secondary actions (更多)
        "more": request.query_params.get("more") == "1",
        "hotline": settings.patient_hotline if settings is not None else "12320",
        "console_staff": getattr(request.state, "staff", None),
        "console_nav": console_nav,
    }
    values.update(context or {})
    return templates.TemplateResponse(request, template, values, status_code=status_code)


def error_view(error: MedCardError, lang: str) -> dict[str, str]:
    """What a page shows for a domain error: text and hint in the page language, plus the code."""
    return {"code": error.code, "text": error.text(lang), "hint": error.hint_text(lang), "field": error.field or ""}
