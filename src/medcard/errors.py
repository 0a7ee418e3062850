"""One error base: HTTP status, stable code, a message and a hint (English msgids, translated by
the gettext catalogs, ADR 0013).

Rendered as RFC 9457 problem+json for the API and as a friendly message in pages.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from medcard.i18n import N_, translate

T = TypeVar("T")


class MedCardError(Exception):
    """Base of every domain error. Subclasses set the class attributes; ``params`` fill ``{}``."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "MEDCARD_ERROR"
    message: ClassVar[str] = N_("The request could not be completed")
    hint: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    """Placeholder values every instance has (a hotline number), overridden by ``params``."""
    keep_changes: bool = False
    """True when the transaction must commit although the request fails (a counted wrong try)."""

    def __init__(self, *, field: str | None = None, keep_changes: bool | None = None, **params: Any) -> None:
        self.field = field
        self.params = params
        if keep_changes is not None:
            self.keep_changes = keep_changes
        super().__init__(f"{self.code}: {self.text('en')}")

    def text(self, lang: str) -> str:
        """The message in page language ``lang`` (from the catalogs, ADR 0013), params filled in."""
        return translate(lang, self.message, **{**self.defaults, **self.params})

    def hint_text(self, lang: str) -> str:
        """The self-help hint in ``lang``; empty when the class has none."""
        return translate(lang, self.hint, **{**self.defaults, **self.params}) if self.hint else ""

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        """RFC 9457 body with our extensions (code, zh-CN texts, hint, field)."""
        body: dict[str, Any] = {
            "type": f"https://medcard.dev/problems/{self.code.lower().replace('_', '-')}",
            "title": self.text("en"),
            "status": self.status,
            "detail": self.hint_text("en") or self.text("en"),
            "code": self.code,
            "title_zh": self.text("zh"),
            "hint": self.hint_text("en"),
            "hint_zh": self.hint_text("zh"),
        }
        if self.field:
            body["field"] = self.field
        if instance:
            body["instance"] = instance
        return body


class Inconsistent(MedCardError):
    """A fact the code relies on is missing (a row, a field set earlier in the flow). Refuses the
    request (500 problem+json) instead of going on; unlike ``assert`` it survives ``python -O``."""

    status = 500
    code = "INTERNAL_INCONSISTENCY"
    message = N_("The data is inconsistent; nothing was changed")
    hint = N_("Try again later; call the hotline if it keeps failing.")


def present(value: T | None, what: str) -> T:
    """``value``, or :class:`Inconsistent` when it is None (a runtime guard, never ``assert``)."""
    if value is None:
        raise Inconsistent(what=what)
    return value


class NotFound(MedCardError):
    status = 404
    code = "NOT_FOUND"
    message = N_("Not found")
    hint = N_("Check the link or number.")


class PageNotFound(MedCardError):
    """An address no page answers (a typo, an old link): a branded page, never ``{"detail": ...}``."""

    status = 404
    code = "PAGE_NOT_FOUND"
    message = N_("This page does not exist")
    hint = N_("The link may be old or mistyped; go back to the home page.")


class PageRefused(MedCardError):
    """Any other HTTP refusal of a page address (a wrong method, a bare HTTP error)."""

    status = 400
    code = "PAGE_REFUSED"
    message = N_("This page cannot be opened this way")
    hint = N_("Start again from the home page.")

    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status  # type: ignore[misc]


class NotAuthenticated(MedCardError):
    status = 401
    code = "AUTH_REQUIRED"
    message = N_("Please log in first")
    hint = N_("Your session expired or you have not logged in.")


class Forbidden(MedCardError):
    status = 403
    code = "FORBIDDEN"
    message = N_("You are not allowed to do this")
    hint = N_("This action needs another role.")


class InvalidInput(MedCardError):
    """A well-formed request whose value breaks a rule (named by ``field``)."""

    status = 422
    code = "INVALID_INPUT"
    message = N_("{field_en} is not valid: {reason_en}")
    hint = N_("Check and correct the {field_en}.")


class UploadTooLarge(MedCardError):
    status = 413
    code = "UPLOAD_TOO_LARGE"
    message = N_("The upload is too large (limit {limit_mb} MB)")
    hint = N_("Compress the photo and upload it again.")


class UnsupportedMediaType(MedCardError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    message = N_("Unsupported file type")
    hint = N_("Upload a JPEG or PNG image.")


class UnsupportedDocumentType(UnsupportedMediaType):
    code = "UNSUPPORTED_DOCUMENT_TYPE"
    message = N_("Unsupported file type: PDF, JPEG or PNG only")
    hint = N_("Upload the diagnosis and records as PDF files or photos (JPEG, PNG).")


class RateLimited(MedCardError):
    status = 429
    code = "RATE_LIMITED"
    message = N_("Too many requests")
    hint = N_("Try again in {retry_after} seconds.")


class DatabaseUnavailable(MedCardError):
    """The database cannot be reached (restart, failover, network): retry shortly."""

    status = 503
    code = "SERVICE_UNAVAILABLE"
    message = N_("The service is temporarily unavailable")
    hint = N_("Try again in {retry_after} seconds; nothing was done.")


class InternalError(MedCardError):
    """Something failed that no rule foresaw (the traceback is logged once, on the server)."""

    status = 500
    code = "INTERNAL_ERROR"
    message = N_("Internal server error")
    hint = N_("Try again later; call the hotline if it keeps failing.")


class MalformedBody(MedCardError):
    """A body that cannot be parsed at all (not UTF-8, not JSON, nested too deep)."""

    status = 400
    code = "MALFORMED_BODY"
    message = N_("The request body cannot be parsed")
    hint = N_("Send well-formed UTF-8 JSON.")


def retry_after_header(error: MedCardError) -> dict[str, str]:
    """``Retry-After`` for a refusal that names a wait (RFC 9110 §10.2.3), else nothing."""
    wait = error.params.get("retry_after")
    return {"Retry-After": str(wait)} if isinstance(wait, int) else {}
