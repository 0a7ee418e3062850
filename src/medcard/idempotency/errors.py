"""Idempotency errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from typing import Any

from medcard.errors import MedCardError
from medcard.i18n import N_


class IdempotencyKeyMissing(MedCardError):
    status = 400
    code = "IDEMPOTENCY_KEY_MISSING"
    message = N_("The Idempotency-Key header is missing")
    hint = N_("Send an Idempotency-Key header: a new value per operation, the same value when retrying it.")


class IdempotencyKeyInvalid(MedCardError):
    status = 400
    code = "IDEMPOTENCY_KEY_INVALID"
    message = N_("The Idempotency-Key is not valid")
    hint = N_("Use 1–255 visible ASCII characters; a UUID is a good choice.")


class IdempotencyKeyReused(MedCardError):
    status = 422
    code = "IDEMPOTENCY_KEY_REUSED"
    message = N_("This Idempotency-Key was used for a different request")
    hint = N_("A retry must send exactly the first request's body; a new operation needs a new key.")


class IdempotencyInFlight(MedCardError):
    status = 409
    code = "IDEMPOTENCY_IN_FLIGHT"
    message = N_("The same request is still being processed")
    hint = N_("Retry with the same key in a few seconds; nothing will be charged twice.")

    def __init__(self, *, retry_after: int = 1, **params: Any) -> None:
        super().__init__(retry_after=retry_after, **params)


class IdempotentReplay(Exception):
    """Not an error: the stored answer of a finished request, sent again as it was (rendered by
    the app's handler with ``Idempotent-Replayed: true``)."""

    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        self.body = body
        super().__init__(f"replay {status_code}")
