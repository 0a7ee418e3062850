"""Post/Redirect/Get (issue 9): every HTML form POST that succeeds answers 303 See Other, so a
reload never re-submits it (R-A11Y-01: an elderly patient who reloads must not pay, apply or send
an SMS twice).

The enumeration is structural and complete: every ``@router.post`` handler of the page modules
(``medcard.web``) is read, and each of its ``return`` statements must be a 303 redirect, a
re-render under an error branch (``if error …`` / ``if done is None …``, status from the error),
or a helper that itself only redirects. The few POSTs that are not navigations — HTMX fragments,
previews that change nothing, read-only searches kept out of URLs — are listed below with the
reason. A new handler that renders a success page in place fails here."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import medcard.web

WEB = Path(inspect.getfile(medcard.web)).parent

NOT_NAVIGATIONS: dict[str, str] = {
    "card_pages.upload_photo": "HTMX: the ID-photo OCR fills the form fields in place",
    "card_pages.console_cards_search": "read-only search, POSTed so ID numbers and phones stay out of URLs",
    "card_pages.console_show_name": "shows the unmasked name once for the in-person check; not kept in a URL",
    "codes_pages.fresh_code": "HTMX: the next payment code fragment",
    "codes_pages.pos_redeem": "the redeem result carries the one-time verification code into the charge form, "
    "which must not stand in a URL; a re-POST is refused because the code is single use (R-SEC-02)",
    "codes_pages.pos_retry_pin": "the PIN retry within the code's authorisation; as the redeem, single use",
    "finance_pages.pos_review": "preview of the bill before the charge; changes nothing",
    "kiosk_pages.kiosk_scan": "read-only look-up of the scanned code at the kiosk",
    "kiosk_pages.kiosk_activate": "kiosk: the activated card stays on screen for the next task (issue the physical "
    "card) without putting its code in a URL; kiosk browsers run full-screen without a reload control",
    "kiosk_pages.kiosk_service_request": "kiosk: as activation, the card stays on screen for the next service",
    "policy_pages.policy_save": "saves with a 303; the other intent is a preview that changes nothing",
    "policy_pages.policy_form_save": "saves with a 303; the other intent is a preview that changes nothing",
    "security_pages.audit_chain_verify": "a read-only verification of the audit chain",
}


def _post_handlers() -> list[tuple[str, ast.Module, ast.AsyncFunctionDef | ast.FunctionDef]]:
    handlers = []
    for path in sorted(WEB.glob("*.py")):
        module = ast.parse(path.read_text(encoding="utf-8"))
        for node in module.body:
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and any(
                isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "post"
                for d in node.decorator_list
            ):
                handlers.append((f"{path.stem}.{node.name}", module, node))
    return handlers


def _own_returns(function: ast.AST) -> list[tuple[ast.Return, list[ast.expr]]]:
    """The function's own returns (not those of nested functions), each with the conditions it
    sits under: ``if`` tests, their negation in ``else`` and after an ``if`` that returned, and
    ``except`` (a failure)."""
    found: list[tuple[ast.Return, list[ast.expr]]] = []
    failure = ast.Name(id="error")  # stands for "inside an except handler"

    def block(statements: list[ast.stmt], guards: list[ast.expr]) -> None:
        guards = list(guards)
        for statement in statements:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if isinstance(statement, ast.Return):
                found.append((statement, guards))
            elif isinstance(statement, ast.If):
                block(statement.body, [*guards, statement.test])
                negated = ast.UnaryOp(op=ast.Not(), operand=statement.test)
                block(statement.orelse, [*guards, negated])
                if statement.body and isinstance(statement.body[-1], ast.Return) and not statement.orelse:
                    guards.append(negated)
            elif isinstance(statement, ast.Try):
                block(statement.body, guards)
                for handler in statement.handlers:
                    block(handler.body, [*guards, failure])
                block(statement.orelse, guards)
                block(statement.finalbody, guards)
            elif isinstance(statement, ast.With | ast.AsyncWith | ast.For | ast.AsyncFor | ast.While):
                block(statement.body, guards)

    block(getattr(function, "body", []), [])
    return found


def _is_redirect(expression: ast.AST, function: ast.AST, module: ast.Module, seen: set[str]) -> bool:
    if isinstance(expression, ast.Await):
        expression = expression.value
    text = ast.unparse(expression)
    if isinstance(expression, ast.Call) and text.startswith("RedirectResponse(") and "status_code=303" in text:
        return True
    if isinstance(expression, ast.Name):  # ``response = RedirectResponse(..., status_code=303)`` then cookies
        assigned = [
            node.value
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == expression.id for t in node.targets)
        ]
        return bool(assigned) and all(_is_redirect(value, function, module, seen) for value in assigned)
    if isinstance(expression, ast.Call) and isinstance(expression.func, ast.Name) and expression.func.id not in seen:
        helper = next(
            (
                n
                for n in module.body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == expression.func.id
            ),
            None,
        )
        if helper is not None:
            seen = seen | {helper.name}
            returns = _own_returns(helper)
            return bool(returns) and all(
                r.value is not None and (_is_redirect(r.value, helper, module, seen) or _error_branch(r, g))
                for r, g in returns
            )
    return False


def _failure(test: ast.expr) -> bool | None:
    """Whether a branch condition means "the operation failed" (``error``, ``error is not None``,
    ``done is None``, ``not isinstance(done, …)``), means success (their negations) or neither."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _failure(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        parts = [_failure(value) for value in test.values]
        if isinstance(test.op, ast.Or):
            return True if any(parts) else None
        return True if any(parts) else (False if all(p is False for p in parts) else None)
    if isinstance(test, ast.Name):
        return True if "error" in test.id or "refused" in test.id or "invalid" in test.id else None
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance":
        return False
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.comparators[0], ast.Constant):
        subject = ast.unparse(test.left)
        is_none = isinstance(test.ops[0], ast.Is)
        is_not_none = isinstance(test.ops[0], ast.IsNot)
        if "error" in subject:
            return True if is_not_none else False if is_none else None
        return True if is_none else False if is_not_none else None
    return None


def _error_branch(statement: ast.Return, guards: list[ast.expr]) -> bool:
    """A re-render for a failure: under a failure condition (see :func:`_failure`, or an
    ``except``) or answering with the error's status."""
    text = ast.unparse(statement.value) if statement.value else ""
    if "else 200" in text or "status_code=200" in text:
        return False
    failure_status = re.search(r"status_code=[^,)]*error[^,)]*\.status", text) is not None
    return failure_status or any(_failure(guard) for guard in guards)


def _violations() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, module, handler in _post_handlers():
        if name in NOT_NAVIGATIONS:
            continue
        bad = [
            ast.unparse(r.value)[:100]
            for r, guards in _own_returns(handler)
            if r.value is not None
            and not _is_redirect(r.value, handler, module, set())
            and not _error_branch(r, guards)
        ]
        if bad:
            found[name] = bad
    return found


def test_r_a11y_01_every_successful_html_post_redirects_with_303() -> None:
    """Walks every HTML POST handler; each success is a 303 (list above: the non-navigations)."""
    handlers = _post_handlers()
    assert len(handlers) > 50  # the scan really sees the page modules
    assert _violations() == {}


def test_r_a11y_01_the_scan_catches_a_success_page_rendered_in_place() -> None:
    """The check can fail: a handler that renders its success page is reported."""
    source = """
@router.post("/x")
async def send(request, session):
    _, error = await attempt(session, run)
    if error is not None:
        return page(request, "x.html", {"error": error}, status_code=error.status)
    return page(request, "x.html", {"sent": True})
"""
    module = ast.parse(source)
    handler = module.body[0]
    assert isinstance(handler, ast.AsyncFunctionDef)
    returns = _own_returns(handler)
    verdicts = [_is_redirect(r.value, handler, module, set()) or _error_branch(r, g) for r, g in returns if r.value]
    assert verdicts == [True, False]


def test_r_a11y_01_the_exceptions_are_real_handlers() -> None:
    names = {name for name, _module, _handler in _post_handlers()}
    assert set(NOT_NAVIGATIONS) <= names
