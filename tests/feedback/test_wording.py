"""Chinese text reads as Chinese and irreversible actions ask first (issue 9, R-A11Y-02):

- every zh-CN text in the page templates and on every error class uses full-width punctuation
  (，：；（）！？) next to Chinese characters — "已解除,您不再能…" or "单笔限额(元)" is a defect;
- every form that freezes, reports a loss, unbinds, removes, revokes, dissolves or deletes carries
  a ``data-confirm`` question (the page's script shows it before submitting; the browser walk
  ``test_r_sec_05_freezing_asks_first_and_cancel_changes_nothing`` proves the dialog itself)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from babel.messages.pofile import read_po

import medcard
import medcard.web

TEMPLATES = Path(inspect.getfile(medcard.web)).parent / "templates"
CATALOG = Path(inspect.getfile(medcard)).parent / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"
CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
HALF_WIDTH = re.compile(rf"[{CJK}]\s*[,:;()!?]|[,:;()!?]\s*[{CJK}]")
DESTRUCTIVE = re.compile(
    r'<form[^>]*action="[^"]*(freeze|loss-report|unbind|remove|revoke|dissolve|delete)[^"]*"[^>]*>'
)


def _catalog_texts() -> list[tuple[str, str]]:
    """Every Chinese text of the pages and errors: the zh_CN catalog's translations (ADR 0013)."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    texts = []
    for message in catalog:
        if not message.id:
            continue
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            texts.append((str(message.id), text))
    return texts


def test_r_a11y_02_chinese_text_uses_full_width_punctuation() -> None:
    texts = _catalog_texts()
    assert len(texts) > 500  # the scan sees every message of the catalog
    assert [(where, text) for where, text in texts if HALF_WIDTH.search(text)] == []


def test_r_a11y_02_the_punctuation_check_can_fail() -> None:
    assert HALF_WIDTH.search("已解除,您不再能查看其就诊卡。") and HALF_WIDTH.search("单笔限额(元)")
    assert not HALF_WIDTH.search("系统每天 08:00 自动核对（PDF）")


def test_r_sec_05_every_irreversible_form_asks_first() -> None:
    """冻结 / 挂失 / 解绑 and the other irreversible actions ask before they submit."""
    forms = [
        (path.name, match.group(0))
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in DESTRUCTIVE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert len(forms) >= 8
    assert [(name, form) for name, form in forms if "data-confirm=" not in form] == []
