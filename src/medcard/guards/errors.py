"""Refusals of the request guards (CSRF / origin check, body size), before any route runs."""

from __future__ import annotations

from medcard.errors import MedCardError


class CsrfRefused(MedCardError):
    """An unsafe request without proof that it came from one of our own pages (R-SEC-05/08)."""

    status = 403
    code = "CSRF_REFUSED"
    message_zh = "请求来源无法确认，已拒绝"
    message_en = "The request did not come from this site's own page and was refused"
    hint_zh = "请回到本站页面，刷新后重新提交。如果不是您本人的操作，可能有其他网站试图冒用您的登录；本次操作未执行。"
    hint_en = (
        "Go back to the page on this site, reload it and submit again. If you did not do this, another "
        "site may have tried to act with your login; no change was made."
    )


class BodyTooLarge(MedCardError):
    """A request body over the route's limit, refused before it is read in full."""

    status = 413
    code = "BODY_TOO_LARGE"
    message_zh = "请求内容过大（上限 {limit_kib} KB）"
    message_en = "The request body is too large (limit {limit_kib} KB)"
    hint_zh = "请缩小上传的内容（如压缩照片）后重试。"
    hint_en = "Send less data (for example, compress the photo) and try again."
