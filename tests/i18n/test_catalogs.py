"""R-A11Y-02 (zh-CN first, English second) through gettext catalogs (ADR 0013): every message the
sources use is translated in every shipped catalog, the committed template is what the sources
give, and no template or error class carries a hand-rolled zh/en pair any more."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from medcard.errors import MedCardError, NotFound
from medcard.i18n import LANGUAGES, LOCALE_DIR, N_, NC_, translate, translations
from scripts.i18n_convert import TR_ANY, extract

SRC = Path(__file__).resolve().parents[2] / "src" / "medcard"
TEMPLATES = SRC / "web" / "templates"
CJK = re.compile(r"[\u3400-\u9fff]")


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {(m.context, str(m.id)) for m in catalog if m.id}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """A fresh ``pybabel extract`` of the sources (the same command ``make i18n-extract`` runs)."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    extract(pot)
    return _read(pot)


def test_r_a11y_02_the_committed_template_matches_the_sources(extracted: Catalog) -> None:
    """R-A11Y-02: messages.pot is up to date (run ``make i18n-update`` after changing text)."""
    committed = _read(LOCALE_DIR / "messages.pot")
    assert len(extracted) > 1000
    assert _keys(extracted) - _keys(committed) == set(), "new text: run make i18n-update"
    assert _keys(committed) - _keys(extracted) == set(), "text no source uses: run make i18n-update"


@pytest.mark.parametrize("locale", sorted(LANGUAGES.values()))
def test_r_a11y_02_every_message_is_translated_in_every_catalog(extracted: Catalog, locale: str) -> None:
    """R-A11Y-02: each msgid the sources use has a non-empty, non-fuzzy translation whose
    placeholders match (babel's checks), in each shipped catalog."""
    catalog = _read(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po")
    by_key = {(m.context, str(m.id)): m for m in catalog if m.id}
    missing = sorted(k for k in _keys(extracted) if k not in by_key or not by_key[k].string)
    fuzzy = sorted(k for k, m in by_key.items() if m.fuzzy)
    assert missing == [] and fuzzy == []
    problems = [(str(m.id), [str(e) for e in errors]) for m, errors in catalog.check()]
    assert problems == []
    if locale == "zh_CN":  # the Chinese catalog is Chinese, not an English copy
        english = sorted(str(m.id) for m in catalog if m.id and CJK.search(str(m.id) + str(m.string)) is None)
        assert len(english) < 40, english  # punctuation-only and code-only entries ("%(n)s", ": ")


def test_r_a11y_02_no_template_carries_a_hand_rolled_pair() -> None:
    """R-A11Y-02: templates write ``_('English')``; ``tr('中文', 'English')`` (old style, run
    ``scripts/i18n_convert.py``) and ``pick()`` of two literals are refused."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if TR_ANY.search(text) or re.search(r"\bpick\(\s*['\"][^'\"]*['\"]\s*,\s*['\"]", text):
            offenders.append(str(path.relative_to(TEMPLATES)))
    assert offenders == []


def test_r_a11y_02_no_error_class_carries_a_hand_rolled_pair() -> None:
    """R-A11Y-02: error classes set ``message``/``hint`` with ``N_()``; no ``message_zh``/``_en``."""
    offenders = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    targets = item.targets if isinstance(item, ast.Assign) else []
                    names = {t.id for t in targets if isinstance(t, ast.Name)}
                    if names & {"message_zh", "message_en", "hint_zh", "hint_en"}:
                        offenders.append(f"{path.relative_to(SRC)}:{node.name}")
    assert offenders == []


def _error_classes(base: type[MedCardError] = MedCardError) -> list[type[MedCardError]]:
    found = []
    for cls in base.__subclasses__():
        found += [cls, *_error_classes(cls)]
    return found


def test_r_a11y_02_every_error_class_reads_in_both_languages() -> None:
    """R-A11Y-02: each error's message and hint exist in Chinese and in English (a msgid the
    catalogs do not know would come back unchanged, i.e. English on a Chinese page)."""
    import medcard.app  # noqa: F401 - imports every module, so every error class is defined

    untranslated = []
    for cls in _error_classes():
        for text in (cls.message, cls.hint):
            if text and translate("zh", text) == str(text) and CJK.search(str(text)) is None:
                untranslated.append(f"{cls.__name__}: {text}")
    assert untranslated == []
    assert len(_error_classes()) > 100


def test_r_a11y_02_markers_and_contexts() -> None:
    """R-A11Y-02: a msgctxt keeps two Chinese texts apart behind one English msgid."""
    assert translate("zh", N_("Not found")) == "未找到该记录"
    assert translate("en", N_("Not found")) == "Not found"
    zh_catalog = translations("zh")
    contexts = [m for m in _read(LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po") if m.context]
    assert contexts, "the conversion needed contexts (e.g. Hospital → 医院 / 选择医院)"
    first = contexts[0]
    assert translate("zh", NC_(str(first.context), str(first.id))) == first.string
    assert zh_catalog.gettext("no such text") == "no such text"


async def test_r_a11y_02_problem_json_carries_both_languages(client: httpx.AsyncClient) -> None:
    """R-A11Y-02: an API error is problem+json with the English title and hint and their zh-CN
    twins from the catalog; the same error on a page follows the page language."""
    api = await client.get("/api/v1/cards/00000000-0000-0000-0000-000000000000")
    assert api.headers["content-type"].startswith("application/problem+json")
    body = api.json()
    assert body["code"] == "AUTH_REQUIRED"
    assert body["title"] == "Please log in first" and body["title_zh"] == "请先登录"
    assert body["hint"] and CJK.search(body["hint_zh"]) and not CJK.search(body["hint"] + body["title"])

    problem = NotFound().problem("/x")
    assert (problem["title"], problem["title_zh"]) == ("Not found", "未找到该记录")

    chinese = await client.get("/no-such-page")
    client.cookies.set("medcard_lang", "en")
    english = await client.get("/no-such-page")
    client.cookies.delete("medcard_lang")
    assert chinese.status_code == english.status_code == 404
    assert "页面不存在" in chinese.text and "This page does not exist" not in chinese.text
    assert "This page does not exist" in english.text and "页面不存在" not in english.text
