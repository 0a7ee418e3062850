"""Request guards that run before any route: security headers, body-size limits, CSRF and
origin checks (R-SEC-05, R-SEC-08). Each is a pure ASGI middleware; ``install`` adds them."""

from __future__ import annotations

from fastapi import FastAPI

from medcard.config import Settings

from .body_limit import BodyLimit, route_limits
from .csrf import CsrfGuard
from .headers import SecurityHeaders

__all__ = ["install"]


def install(app: FastAPI, settings: Settings) -> None:
    """Outermost first: headers (so refusals carry them too), body limit, then CSRF (which may
    read a form body, already capped)."""
    app.add_middleware(
        CsrfGuard,
        secret_key=settings.secret_key,
        base_url=settings.base_url,
        secure_cookie=settings.environment == "production",
    )
    app.add_middleware(BodyLimit, limits=route_limits(settings))
    app.add_middleware(SecurityHeaders, production=settings.environment == "production")
