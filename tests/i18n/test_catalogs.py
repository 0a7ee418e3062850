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


# ``pick(zh, en)`` is for data stored in both languages (a hospital's name_zh/name_en, an
# agreement's title_zh/title_en); these calls pick from pairs that are data too but not
# attributes of that form, each with where the pair comes from.
DATA_PICKS = {
    ("home.html", "pick(*scheme)"): "insurance.service.scheme_names: national scheme names",
    ("insurance/code.html", "pick(*scheme)"): "insurance.service.scheme_names: national scheme names",
    ("insurance/special_diseases.html", "pick(*diseases[a.disease_code])"): "special-disease catalogue",
    ("insurance/special_diseases.html", "pick(*names)"): "special-disease catalogue",
    ("console/policy_review.html", "pick(*diseases[a.disease_code])"): "special-disease catalogue",
    ("codes/_status.html", "pick(*status.merchant)"): "the redeeming hospital's name_zh/name_en",
    ("insurance/bind.html", "pick(zh, en)"): "LOCATIONS: GB/T 2260 region names",
}
PICK_CALL = re.compile(r"\bpick\((?:[^()]|\([^()]*\))*\)")
DATA_ATTRIBUTES = re.compile(r"^pick\([^,]*_zh\b[^,]*,\s*[^,]*_en\b[^,]*\)$")


def template_pair_offenders() -> list[str]:
    """Every ``pick()`` in the templates that is neither ``pick(x.…_zh, x.…_en)`` nor listed in
    DATA_PICKS: a label table in Python shown with ``pick(*label)`` is such an offender."""
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        for call in PICK_CALL.findall(path.read_text(encoding="utf-8")):
            if not DATA_ATTRIBUTES.match(call) and (name, call) not in DATA_PICKS:
                offenders.append(f"{name}: {call}")
    return offenders


def test_r_a11y_02_templates_pick_only_bilingual_data() -> None:
    """R-A11Y-02: label text written in Python (statuses, relations, genders, purposes) is a
    catalog message rendered with ``t(label)``; ``pick()`` only chooses between the two stored
    names of data. Adding a language must not need a third element in a Python tuple."""
    assert template_pair_offenders() == []


# Modules (or single top-level names in them, "module:NAME") whose (Chinese, English) pairs are
# data stored in both languages, not UI text; everything else writes N_("English").
DATA_PAIRS = {
    "kit/regions.py": "GB/T 2260 region and ISO 3166 country names",
    "adapters/his.py": "the sandbox HIS's charge items (hospital data)",
    "adapters/sms.py": "the sandbox SMS gateway's message texts (sent in both languages at once)",
    "insurance/service.py": "national insurance scheme names and the special-disease catalogue",
    "settlement/reconciliation.py": "mismatch causes stored on reconciliation rows (cause_zh/cause_en)",
    "web/insurance_pages.py:LOCATIONS": "GB/T 2260 region names of the sandbox insured regions",
}
NOT_YET_IN_CATALOGS = {
    "settlement/documents.py": "receipt PDF source rows",
}
"""Label tables still written as pairs; shrink this set, never grow it."""


def python_pair_offenders() -> list[str]:
    """Module-level tuples holding a Chinese string followed by an English one (a hand-written
    (zh, en) pair of UI text), outside DATA_PAIRS and NOT_YET_IN_CATALOGS."""

    def is_text(node: ast.expr, chinese: bool) -> bool:
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value):
            return False
        return bool(CJK.search(node.value)) == chinese

    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        module = path.relative_to(SRC).as_posix()
        if module in DATA_PAIRS or module in NOT_YET_IN_CATALOGS:
            continue
        for top in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            names = [t.id for t in getattr(top, "targets", [getattr(top, "target", None)]) if isinstance(t, ast.Name)]
            if any(f"{module}:{n}" in DATA_PAIRS for n in names):
                continue
            for node in ast.walk(top):
                if isinstance(node, ast.Tuple) and any(
                    is_text(a, True) and is_text(b, False) for a, b in zip(node.elts, node.elts[1:], strict=False)
                ):
                    offenders.append(f"{module}:{node.lineno}: {ast.unparse(node)[:60]}")
    return offenders


def test_r_a11y_02_no_python_label_table_holds_a_hand_written_pair() -> None:
    """R-A11Y-02: no module-level (Chinese, English) tuple of UI text outside the listed data
    modules; write ``N_("English")`` (or ``zh_en("中文", "English")`` and run
    ``scripts/i18n_convert.py``) so the text is in the catalogs."""
    assert python_pair_offenders() == []
    for module in (*DATA_PAIRS, *NOT_YET_IN_CATALOGS):
        assert (SRC / module.split(":")[0]).exists(), module


def test_r_a11y_02_the_pair_checks_catch_a_reintroduced_pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """R-A11Y-02: the two checks above fail on a label table written the old way."""
    module = tmp_path / "medcard" / "web" / "labels.py"
    module.parent.mkdir(parents=True)
    module.write_text('STATUS = {"active": ("正常", "Active")}\nOK = {"active": N_("Active")}\n', encoding="utf-8")
    page = tmp_path / "medcard" / "web" / "templates" / "x.html"
    page.parent.mkdir(parents=True)
    page.write_text("{{ pick(*status[card.status]) }} {{ pick(h.name_zh, h.name_en) }}", encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.SRC", tmp_path / "medcard")
    monkeypatch.setattr(f"{__name__}.TEMPLATES", page.parent)
    assert python_pair_offenders() == ["web/labels.py:1: ('正常', 'Active')"]
    assert template_pair_offenders() == ["x.html: pick(*status[card.status])"]
