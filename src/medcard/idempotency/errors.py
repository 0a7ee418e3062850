"""Idempotency errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from typing import Any

from medcard.errors import MedCardError


class IdempotencyKeyMissing(MedCardError):
    status = 400
    code = "IDEMPOTENCY_KEY_MISSING"
    message_zh = "缺少幂等键"
    message_en = "The Idempotency-Key header is missing"
    hint_zh = "每个付款请求都要带上 Idempotency-Key 请求头（每次新操作生成一个新值，重试时沿用原值）。"
    hint_en = "Send an Idempotency-Key header: a new value per operation, the same value when retrying it."


class IdempotencyKeyInvalid(MedCardError):
    status = 400
    code = "IDEMPOTENCY_KEY_INVALID"
    message_zh = "幂等键格式不正确"
    message_en = "The Idempotency-Key is not valid"
    hint_zh = "幂等键为 1–255 个可见 ASCII 字符，建议使用 UUID。"
    hint_en = "Use 1–255 visible ASCII characters; a UUID is a good choice."


class IdempotencyKeyReused(MedCardError):
    status = 422
    code = "IDEMPOTENCY_KEY_REUSED"
    message_zh = "该幂等键已用于另一个不同的请求"
    message_en = "This Idempotency-Key was used for a different request"
    hint_zh = "重试时请求内容必须与首次完全一致；新的操作请生成新的幂等键。"
    hint_en = "A retry must send exactly the first request's body; a new operation needs a new key."


class IdempotencyInFlight(MedCardError):
    status = 409
    code = "IDEMPOTENCY_IN_FLIGHT"
    message_zh = "相同的请求正在处理中"
    message_en = "The same request is still being processed"
    hint_zh = "请稍候几秒再用同一个幂等键重试，不会重复扣款。"
    hint_en = "Retry with the same key in a few seconds; nothing will be charged twice."

    def __init__(self, *, retry_after: int = 1, **params: Any) -> None:
        super().__init__(retry_after=retry_after, **params)


class IdempotentReplay(Exception):
    """Not an error: the stored answer of a finished request, sent again as it was (rendered by
    the app's handler with ``Idempotent-Replayed: true``)."""

    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        self.body = body
        super().__init__(f"replay {status_code}")
