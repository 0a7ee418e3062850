"""Refusals of page forms in the product's words (R-A11Y-02).

FastAPI's request validation speaks pydantic ("face_image: Field required", "Input should be a
valid UUID"). The API keeps that detail in problem+json; a page instead names every refused field
at once, by its label, in the page language, with the machine code only as small grey text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from medcard.i18n import N_, NC_, Msg, translate, translations

# Form field name -> its label (a catalog message). Unknown names fall back to a neutral label.
FIELD_LABELS: dict[str, Msg] = {
    "amount": N_("Amount"),
    "binding_id": N_("Insurance e-voucher"),
    "birth_certificate_number": N_("Birth certificate number"),
    "card_id": NC_("insurance/bind", "Health card"),
    "card_number": N_("Social security card number"),
    "client_ip": N_("Address"),
    "code": N_("Code"),
    "data": N_("Policy data"),
    "destination_region_code": N_("Where you get care"),
    "disease_code": N_("Disease"),
    "document_number": N_("Document number"),
    "document_type": N_("Document type"),
    "face_image": N_("Face photo"),
    "field": N_("Field"),
    "image": N_("Photo"),
    "materials": N_("Supporting documents"),
    "method": N_("Method"),
    "name": N_("Name"),
    "nationality": N_("Nationality"),
    "new_value": N_("New value"),
    "password": N_("Password"),
    "phone": NC_("web/feedback", "Phone number"),
    "photo": N_("ID photo"),
    "pin": N_("Payment password"),
    "proof": N_("Proof"),
    "reason": NC_("web/feedback", "Reason"),
    "region_code": N_("Region"),
    "retry_token": N_("Payment code"),
    "scheme": N_("Scheme"),
    "username": N_("Username"),
}
FALLBACK_LABEL = N_("An entry")


def _reason(kind: str, context: Mapping[str, Any], *, is_file: bool) -> tuple[Msg, dict[str, Any]]:
    """What is wrong (a catalog message and its ``{}`` values) from pydantic's error ``type``."""
    if kind == "missing":
        return (N_("choose a file") if is_file else N_("is required")), {}
    if kind.startswith("uuid"):
        return N_("choose again from the list"), {}
    if kind == "string_too_long":
        return N_("is too long (at most {limit} characters)"), {"limit": context.get("max_length", "")}
    if kind == "string_too_short":
        return N_("is too short (at least {limit} characters)"), {"limit": context.get("min_length", "")}
    if kind in ("enum", "literal_error"):
        return N_("choose one of the options"), {}
    if kind.startswith(("int", "float", "decimal")):
        return N_("must be a number"), {}
    return N_("is not in the expected format"), {}


def field_problems(errors: Iterable[Mapping[str, Any]], lang: str) -> list[dict[str, str]]:
    """One entry per refused field (first reason wins): ``field``, ``label`` and ``text``."""
    seen: dict[str, dict[str, str]] = {}
    for item in errors:
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path", "form")]
        name = location[0] if location else ""
        if name in seen:
            continue
        kind = str(item.get("type", ""))
        is_file = name in ("face_image", "image", "photo", "proof", "materials")
        reason, params = _reason(kind, item.get("ctx") or {}, is_file=is_file)
        if name == "face_image" and kind == "missing":
            reason = N_("take a selfie")
        label = translate(lang, FIELD_LABELS.get(name, FALLBACK_LABEL))
        seen[name] = {"field": name, "label": label, "text": translate(lang, reason, **params)}
    return list(seen.values())


def validation_view(errors: Iterable[Mapping[str, Any]], lang: str, *, on_form: bool = False) -> dict[str, Any]:
    """The page's ``error`` for a refused form: a summary naming every field, and each field.
    ``on_form`` when the form itself is shown again (each text is then next to its field too)."""
    problems = field_problems(errors, lang)
    text = translations(lang).ngettext("Please correct %(n)s item", "Please correct %(n)s items", len(problems)) % {
        "n": len(problems)
    }
    hint = translate(lang, N_("Go back, correct each item and submit again; what you typed is still there."))
    if on_form:
        hint = translate(lang, N_("Correct each item as shown and submit again."))
    return {
        "code": "MALFORMED_REQUEST",
        "text": text,
        "hint": hint,
        "field": problems[0]["field"] if problems else "",
        "fields": problems,
    }
