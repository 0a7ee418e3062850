#!/usr/bin/env python3
"""Convert hand-rolled bilingual text into gettext calls and catalog entries (ADR 0013).

Re-runnable and idempotent: run it after merging a branch that still writes the old style.

* Templates (``src/medcard/web/templates/**.html``): every ``tr('中文', 'English')`` whose two
  arguments are string literals becomes ``_('English')``; numbers go in as keyword arguments,
  ``tr('共 %(n)s 张', '%(n)s cards', n=cards|length)`` → ``_('%(n)s cards', n=cards|length)``
  (``pgettext('ctx', 'English')`` when the same English already stands for another Chinese text;
  the context is the template's path).
* Error classes (``src/medcard/**/*.py``): the ``message_zh``/``message_en`` and
  ``hint_zh``/``hint_en`` literal pairs become ``message = N_("English")`` / ``hint = N_(...)``
  (``NC_("CODE", ...)`` on a clash, the context being the error code).
* Other Python text (label tables, SVG titles): ``zh_en("中文", "English")`` becomes
  ``N_("English")`` (``NC_("module", ...)`` on a clash); the page renders it with ``_()``.
* Every pair goes into the catalogs: ``zh_CN`` gets the Chinese, ``en`` the English. Then the
  sources are extracted (``messages.pot``) and each catalog is updated against it, so entries no
  source uses any more are dropped and the files are in pybabel's canonical form.

``tr(...)`` calls whose arguments are not two literals (an expression, a variable pair) cannot be
converted mechanically: they are listed and the script exits 1 so a person rewrites them (data
from the database uses ``pick(zh, en)``; text with a number uses ``_('%(n)d rows', n=...)``).

Usage: ``scripts/i18n_convert.py`` (rewrite) or ``scripts/i18n_convert.py --check`` (exit 1 if
anything is left to convert; writes nothing).
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "medcard"
TEMPLATES = SRC / "web" / "templates"
LOCALE_DIR = SRC / "locale"
POT = LOCALE_DIR / "messages.pot"
LOCALES = {"zh_CN": 0, "en": 1}
"""Catalog locale → which side of a (zh, en) pair it takes."""
KEYWORDS = ("N_", "NC_:1c,2")
"""Extraction keywords beyond pybabel's defaults (``_``, ``gettext``, ``pgettext``, ...)."""
EXTRACT_OPTIONS = ("--no-location", "--sort-output", "--project=MedCard", "--copyright-holder=MedCard contributors")
"""No line numbers in the catalogs, so a moved line is no catalog change (and no merge conflict)."""

_LIT = r"""(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
_ARGS = r"(?:[^()'\"]|%s|\((?:[^()'\"]|%s)*\))*" % (_LIT, _LIT)  # noqa: UP031 - keyword arguments, one level of ()
TR_LITERAL = re.compile(r"\btr\(\s*(%s)\s*,\s*(%s)\s*(,%s)?\)" % (_LIT, _LIT, _ARGS), re.S)  # noqa: UP031
TR_ANY = re.compile(r"(?<![\w.])tr\(")
PAIR_ATTRS = {"message": ("message_zh", "message_en"), "hint": ("hint_zh", "hint_en")}


class Catalogs:
    """The known (context, English) → Chinese mapping plus what this run adds."""

    def __init__(self) -> None:
        self.zh: dict[tuple[str | None, str], str] = {}
        self.added: dict[tuple[str | None, str], tuple[str, str]] = {}
        po = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
        if po.exists():
            with po.open("rb") as handle:
                for message in read_po(handle):
                    if message.id and message.string:
                        self.zh[(message.context, str(message.id))] = str(message.string)

    def context_for(self, en: str, zh: str, default: str) -> str | None:
        """The msgctxt under which ``en`` means ``zh`` (None unless the plain msgid means another)."""
        known = self.zh.get((None, en))
        if known is None or known == zh:
            self._add(None, en, zh)
            return None
        for (context, msgid), text in self.zh.items():
            if msgid == en and context is not None and text == zh:
                return context
        context, n = default, 1
        while (context, en) in self.zh and self.zh[(context, en)] != zh:
            n += 1
            context = f"{default}#{n}"
        self._add(context, en, zh)
        return context

    def _add(self, context: str | None, en: str, zh: str) -> None:
        self.zh[(context, en)] = zh
        self.added[(context, en)] = (zh, en)


def jinja_literal(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def convert_templates(catalogs: Catalogs, write: bool) -> tuple[list[Path], list[str]]:
    changed: list[Path] = []
    leftovers: list[str] = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        default = path.relative_to(TEMPLATES).with_suffix("").as_posix()

        def replace(match: re.Match[str], default: str = default) -> str:
            zh, en = ast.literal_eval(match.group(1)), ast.literal_eval(match.group(2))
            params = match.group(3) or ""
            if not params:  # newstyle gettext %-formats every result: a literal % is written %%
                zh, en = zh.replace("%", "%%"), en.replace("%", "%%")
            context = catalogs.context_for(en, zh, default)
            if context is None:
                return f"_({jinja_literal(en)}{params})"
            return f"pgettext({jinja_literal(context)}, {jinja_literal(en)}{params})"

        result = TR_LITERAL.sub(replace, source)
        for match in TR_ANY.finditer(result):
            line = result.count("\n", 0, match.start()) + 1
            leftovers.append(f"{path.relative_to(ROOT)}:{line}: {result[match.start() : match.start() + 70]!r}")
        if result != source:
            changed.append(path)
            if write:
                path.write_text(result, encoding="utf-8")
    return changed, leftovers


def _class_code(node: ast.ClassDef) -> str:
    for item in node.body:
        named_code = isinstance(item, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "code" for t in item.targets
        )
        if named_code and isinstance(item.value, ast.Constant) and isinstance(item.value.value, str):  # type: ignore[attr-defined]
            return item.value.value  # type: ignore[attr-defined]
    return node.name


def _python_literal(indent: str, name: str, marker: str, args: list[str]) -> list[str]:
    """``name = marker(args...)`` within 120 columns (long English split at spaces)."""
    one = f"{indent}{name} = {marker}({', '.join(repr(a) for a in args)})"
    one = one.replace("'", '"') if all('"' not in a and "'" not in a for a in args) else one
    if len(one) <= 120:
        return [one]
    lines = [f"{indent}{name} = {marker}("]
    *head, text = args
    for extra in head:
        lines.append(f'{indent}    "{extra}",')
    words, chunk = re.split(r"(?<= )", text), ""
    pieces: list[str] = []
    for word in words:
        if chunk and len(indent) + 8 + len(chunk) + len(word) > 120:
            pieces.append(chunk)
            chunk = ""
        chunk += word
    pieces.append(chunk)
    lines.extend(f"{indent}    {piece!r}" if '"' in piece else f'{indent}    "{piece}"' for piece in pieces)
    lines.append(f"{indent})")
    return lines


def convert_errors(catalogs: Catalogs, write: bool) -> tuple[list[Path], list[str]]:
    changed: list[Path] = []
    leftovers: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        original = path.read_text(encoding="utf-8")
        source, python_markers = _convert_zh_en(original, catalogs, path.relative_to(SRC).with_suffix("").as_posix())
        if "_zh" not in source and source == original:
            continue
        tree = ast.parse(source)
        lines = source.splitlines()
        edits: list[tuple[int, int, list[str]]] = []  # (first line index, end index exclusive, replacement)
        markers: set[str] = set(python_markers)
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            assigns: dict[str, ast.Assign] = {}
            for item in node.body:
                if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
                    assigns[item.targets[0].id] = item
            for name, (zh_attr, en_attr) in PAIR_ATTRS.items():
                zh_node, en_node = assigns.get(zh_attr), assigns.get(en_attr)
                if zh_node is None and en_node is None:
                    continue
                if zh_node is None or en_node is None:
                    leftovers.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name} has only one of the pair")
                    continue
                zh_value, en_value = zh_node.value, en_node.value
                if not (
                    isinstance(zh_value, ast.Constant)
                    and isinstance(zh_value.value, str)
                    and isinstance(en_value, ast.Constant)
                    and isinstance(en_value.value, str)
                ):
                    leftovers.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name}.{name} is not a literal")
                    continue
                zh, en = zh_value.value, en_value.value
                indent = " " * zh_node.col_offset
                if not en and not zh:
                    replacement: list[str] = []
                else:
                    context = catalogs.context_for(en, zh, _class_code(node))
                    marker = "N_" if context is None else "NC_"
                    markers.add(marker)
                    args = [en] if context is None else [context, en]
                    replacement = _python_literal(indent, name, marker, args)
                first, second = sorted((zh_node, en_node), key=lambda n: n.lineno)
                edits.append((first.lineno - 1, first.end_lineno or first.lineno, replacement))
                edits.append((second.lineno - 1, second.end_lineno or second.lineno, []))
        if not edits and source == original:
            continue
        for start, end, replacement in sorted(edits, reverse=True):
            lines[start:end] = replacement
        result = "\n".join(lines) + "\n"
        missing = sorted(m for m in markers if not re.search(rf"^from medcard\.i18n import .*\b{m}\b", result, re.M))
        if missing:
            result = _add_import(result, missing)
        changed.append(path)
        if write:
            path.write_text(result, encoding="utf-8")
    return changed, leftovers


ZH_EN = re.compile(r"\bzh_en\(\s*(%s)\s*,\s*(%s)\s*\)" % (_LIT, _LIT), re.S)  # noqa: UP031


def _convert_zh_en(source: str, catalogs: Catalogs, default: str) -> tuple[str, set[str]]:
    """``zh_en("中文", "English")`` → ``N_("English")`` (or ``NC_(module, ...)``), pair recorded."""
    markers: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        zh, en = ast.literal_eval(match.group(1)), ast.literal_eval(match.group(2))
        context = catalogs.context_for(en, zh, default)
        markers.add("N_" if context is None else "NC_")
        return f"N_({en!r})" if context is None else f"NC_({context!r}, {en!r})"

    return ZH_EN.sub(replace, source), markers


def _add_import(source: str, names: list[str]) -> str:
    """Add ``from medcard.i18n import ...`` after the last top-level import (ruff sorts later)."""
    tree = ast.parse(source)
    last = max((n.end_lineno or n.lineno for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)), default=0)
    lines = source.splitlines()
    lines.insert(last, f"from medcard.i18n import {', '.join(names)}")
    return "\n".join(lines) + "\n"


def extract(pot: Path) -> None:
    """``pybabel extract`` of the Python sources and templates into ``pot`` (the same command as
    ``make i18n-extract``); an unchanged extraction keeps the file byte for byte."""
    before = pot.read_text(encoding="utf-8") if pot.exists() else ""
    args = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg")]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    args += [*EXTRACT_OPTIONS, "-o", str(pot), str(ROOT)]
    subprocess.run(args, check=True, cwd=ROOT, capture_output=True)  # noqa: S603 - our own tools
    if _undated(pot.read_text(encoding="utf-8")) == _undated(before):
        pot.write_text(before, encoding="utf-8")


def _undated(text: str) -> str:
    return re.sub(r'^"POT-Creation-Date: .*"$', "", text, flags=re.M)


def update_catalogs(catalogs: Catalogs) -> None:
    """Update every catalog against a fresh extraction and fill in this run's pairs."""
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    extract(POT)
    for locale, side in LOCALES.items():
        with POT.open("rb") as handle:  # read per catalog: update() shares the template's messages
            template = read_po(handle)
        po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
        if po.exists():
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
        else:
            po.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, project="MedCard", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()
        for (context, msgid), pair in catalogs.added.items():
            message = catalog.get(msgid, context=context)
            if message is not None and not message.string:
                message.string = pair[side]
        with po.open("wb") as handle:
            write_po(handle, catalog, width=0, omit_header=False, sort_output=True, include_previous=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything is left to convert")
    options = parser.parse_args()
    catalogs = Catalogs()
    templates, template_leftovers = convert_templates(catalogs, write=not options.check)
    errors, error_leftovers = convert_errors(catalogs, write=not options.check)
    for path in (*templates, *errors):
        print(f"{'would convert' if options.check else 'converted'} {path.relative_to(ROOT)}")
    if not options.check:
        if errors:
            ruff = Path(sys.executable).parent / "ruff"
            files = [str(p) for p in errors]
            subprocess.run([str(ruff), "check", "--fix", "-q", "--select", "I,F401", *files], check=False, cwd=ROOT)  # noqa: S603
            subprocess.run([str(ruff), "format", "-q", *files], check=False, cwd=ROOT)  # noqa: S603
        update_catalogs(catalogs)
        print(f"{len(catalogs.added)} pairs into the catalogs")
    leftovers = template_leftovers + error_leftovers
    for line in leftovers:
        print(f"convert by hand: {line}", file=sys.stderr)
    return 1 if leftovers or (options.check and (templates or errors)) else 0


if __name__ == "__main__":
    sys.exit(main())
