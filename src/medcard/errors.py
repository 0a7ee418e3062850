"""One error base: HTTP status, stable code, zh-CN + English text and a hint.

Rendered as RFC 9457 problem+json for the API and as a friendly message in pages.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

T = TypeVar("T")


class MedCardError(Exception):
    """Base of every domain error. Subclasses set the class attributes; ``params`` fill ``{}``."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "MEDCARD_ERROR"
    message_zh: ClassVar[str] = "请求无法完成"
    message_en: ClassVar[str] = "The request could not be completed"
    hint_zh: ClassVar[str] = ""
    hint_en: ClassVar[str] = ""
    keep_changes: bool = False
    """True when the transaction must commit although the request fails (a counted wrong try)."""

    def __init__(self, *, field: str | None = None, keep_changes: bool | None = None, **params: Any) -> None:
        self.field = field
        self.params = params
        if keep_changes is not None:
            self.keep_changes = keep_changes
        super().__init__(f"{self.code}: {self.text('en')}")

    def text(self, lang: str) -> str:
        template = self.message_zh if lang == "zh" else self.message_en
        return template.format(**self.params) if self.params else template

    def hint(self, lang: str) -> str:
        template = self.hint_zh if lang == "zh" else self.hint_en
        return template.format(**self.params) if self.params else template

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        """RFC 9457 body with our extensions (code, zh-CN texts, hint, field)."""
        body: dict[str, Any] = {
            "type": f"https://medcard.dev/problems/{self.code.lower().replace('_', '-')}",
            "title": self.text("en"),
            "status": self.status,
            "detail": self.hint("en") or self.text("en"),
            "code": self.code,
            "title_zh": self.text("zh"),
            "hint": self.hint("en"),
            "hint_zh": self.hint("zh"),
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
    message_zh = "系统数据不一致，操作未完成"
    message_en = "The data is inconsistent; nothing was changed"
    hint_zh = "请稍后重试；如仍失败请联系服务热线。"
    hint_en = "Try again later; call the hotline if it keeps failing."


def present(value: T | None, what: str) -> T:
    """``value``, or :class:`Inconsistent` when it is None (a runtime guard, never ``assert``)."""
    if value is None:
        raise Inconsistent(what=what)
    return value


class NotFound(MedCardError):
    status = 404
    code = "NOT_FOUND"
    message_zh = "未找到该记录"
    message_en = "Not found"
    hint_zh = "请检查链接或编号是否正确。"
    hint_en = "Check the link or number."


class PageNotFound(MedCardError):
    """An address no page answers (a typo, an old link): a branded page, never ``{"detail": ...}``."""

    status = 404
    code = "PAGE_NOT_FOUND"
    message_zh = "页面不存在"
    message_en = "This page does not exist"
    hint_zh = "链接可能已失效或输入有误，请返回首页重新进入。"
    hint_en = "The link may be old or mistyped; go back to the home page."


class PageRefused(MedCardError):
    """Any other HTTP refusal of a page address (a wrong method, a bare HTTP error)."""

    status = 400
    code = "PAGE_REFUSED"
    message_zh = "无法打开该页面"
    message_en = "This page cannot be opened this way"
    hint_zh = "请从首页重新进入。"
    hint_en = "Start again from the home page."

    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status  # type: ignore[misc]


class NotAuthenticated(MedCardError):
    status = 401
    code = "AUTH_REQUIRED"
    message_zh = "请先登录"
    message_en = "Please log in first"
    hint_zh = "登录已过期或尚未登录。"
    hint_en = "Your session expired or you have not logged in."


class Forbidden(MedCardError):
    status = 403
    code = "FORBIDDEN"
    message_zh = "无权执行此操作"
    message_en = "You are not allowed to do this"
    hint_zh = "该操作需要其他角色的权限。"
    hint_en = "This action needs another role."


class InvalidInput(MedCardError):
    """A well-formed request whose value breaks a rule (named by ``field``)."""

    status = 422
    code = "INVALID_INPUT"
    message_zh = "{field_zh}不正确：{reason_zh}"
    message_en = "{field_en} is not valid: {reason_en}"
    hint_zh = "请核对后重新填写{field_zh}。"
    hint_en = "Check and correct the {field_en}."


class UploadTooLarge(MedCardError):
    status = 413
    code = "UPLOAD_TOO_LARGE"
    message_zh = "上传文件过大（上限 {limit_mb} MB）"
    message_en = "The upload is too large (limit {limit_mb} MB)"
    hint_zh = "请压缩照片后重新上传。"
    hint_en = "Compress the photo and upload it again."


class UnsupportedMediaType(MedCardError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    message_zh = "不支持的文件类型"
    message_en = "Unsupported file type"
    hint_zh = "请上传 JPEG 或 PNG 图片。"
    hint_en = "Upload a JPEG or PNG image."


class UnsupportedDocumentType(UnsupportedMediaType):
    code = "UNSUPPORTED_DOCUMENT_TYPE"
    message_zh = "不支持的文件类型，仅支持 PDF、JPEG、PNG"
    message_en = "Unsupported file type: PDF, JPEG or PNG only"
    hint_zh = "请上传诊断证明、病历的 PDF 文件或照片（JPEG、PNG）。"
    hint_en = "Upload the diagnosis and records as PDF files or photos (JPEG, PNG)."


class RateLimited(MedCardError):
    status = 429
    code = "RATE_LIMITED"
    message_zh = "操作过于频繁"
    message_en = "Too many requests"
    hint_zh = "请 {retry_after} 秒后再试。"
    hint_en = "Try again in {retry_after} seconds."


class DatabaseUnavailable(MedCardError):
    """The database cannot be reached (restart, failover, network): retry shortly."""

    status = 503
    code = "SERVICE_UNAVAILABLE"
    message_zh = "系统暂时不可用"
    message_en = "The service is temporarily unavailable"
    hint_zh = "请 {retry_after} 秒后重试；您的操作未被执行。"
    hint_en = "Try again in {retry_after} seconds; nothing was done."


class InternalError(MedCardError):
    """Something failed that no rule foresaw (the traceback is logged once, on the server)."""

    status = 500
    code = "INTERNAL_ERROR"
    message_zh = "服务器内部错误"
    message_en = "Internal server error"
    hint_zh = "请稍后重试；如仍失败请联系服务热线。"
    hint_en = "Try again later; call the hotline if it keeps failing."


class MalformedBody(MedCardError):
    """A body that cannot be parsed at all (not UTF-8, not JSON, nested too deep)."""

    status = 400
    code = "MALFORMED_BODY"
    message_zh = "请求内容无法解析"
    message_en = "The request body cannot be parsed"
    hint_zh = "请发送 UTF-8 编码、结构正常的 JSON。"
    hint_en = "Send well-formed UTF-8 JSON."


def retry_after_header(error: MedCardError) -> dict[str, str]:
    """``Retry-After`` for a refusal that names a wait (RFC 9110 §10.2.3), else nothing."""
    wait = error.params.get("retry_after")
    return {"Retry-After": str(wait)} if isinstance(wait, int) else {}
