"""Text in gettext catalogs (ADR 0013): English msgids, one catalog per shipped language.

``src/medcard/locale/<locale>/LC_MESSAGES/messages.po`` holds the translations (``make
i18n-extract`` / ``i18n-update`` / ``i18n-compile`` run pybabel). The compiled ``.mo`` files are
not committed: ``make install`` compiles them, and a process that finds a ``.mo`` missing or
older than its ``.po`` (a fresh clone, a merge that touched a catalog) compiles the ``.po`` in
memory instead, so ``pytest`` in a clean checkout needs no manual step.

Markers for text outside templates (error classes, label tables): ``N_("English")`` and, where
the same English needs two Chinese renderings, ``NC_("context", "English")``. Both return a
:class:`Msg` (a ``str`` that remembers its context); :func:`translate` renders it in a language.
"""

from __future__ import annotations

import gettext as _gettext
import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "zh"
LANGUAGES: dict[str, str] = {"zh": "zh_CN", "en": "en"}
"""Page language code (cookie value, ``lang`` in templates) → catalog locale."""
HTML_LANG: dict[str, str] = {"zh": "zh-CN", "en": "en"}


class Msg(str):
    """A msgid marked for translation; ``context`` is its msgctxt (None for most)."""

    context: str | None = None

    def __new__(cls, msgid: str, context: str | None = None) -> Msg:
        made = super().__new__(cls, msgid)
        made.context = context
        return made


def N_(msgid: str) -> Msg:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark ``msgid`` for extraction; translated when rendered (:func:`translate`)."""
    return Msg(msgid)


def NC_(context: str, msgid: str) -> Msg:  # noqa: N802
    """Mark ``msgid`` with a msgctxt (an English text with two meanings)."""
    return Msg(msgid, context)


def _compile(po: Path) -> _gettext.GNUTranslations:
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The catalog of page language ``lang`` (the compiled ``.mo`` when it is up to date)."""
    locale = LANGUAGES.get(lang)
    if locale is None:
        return _gettext.NullTranslations()
    po = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as handle:
            return _gettext.GNUTranslations(handle)
    return _compile(po)


def translate(lang: str, msgid: str, context: str | None = None, **params: Any) -> str:
    """``msgid`` (or a :class:`Msg`, which carries its context) in ``lang``, ``{}``-formatted."""
    catalog = translations(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    context = context if context is not None else getattr(msgid, "context", None)
    text = catalog.pgettext(context, str(msgid)) if context else catalog.gettext(str(msgid))
    return text.format(**params) if params else text


def language_of(value: str | None) -> str:
    """A page language code from a cookie or query value; the default for anything unknown."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE
