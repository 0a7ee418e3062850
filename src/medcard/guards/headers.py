"""Security headers on every response (pure ASGI middleware).

- ``Content-Security-Policy``: scripts and styles only from our own origin (no inline script,
  no ``on…=`` handlers, no eval), no plugins, forms post only to us, never framed.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (paths with ids never
  leave the site; same-origin posts keep their ``Origin`` header for the CSRF guard),
  ``X-Frame-Options: DENY`` for old browsers, ``Cross-Origin-Opener-Policy`` / ``-Resource-Policy``,
  a ``Permissions-Policy`` that grants only the camera (the face step).
- ``Strict-Transport-Security`` in production.
- ``Cache-Control: no-store`` on everything but ``/static``: pages and API answers show personal
  data or a live payment code and must not stay in a shared or back-button cache.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = (
    # FastAPI's /docs and /redoc load Swagger UI / ReDoc from a CDN and start them inline.
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; "
    "worker-src blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=63072000; includeSubDomains"
PERMISSIONS = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
"""The face step may use the camera; nothing else is needed."""


class SecurityHeaders:
    """Adds the headers above to every HTTP response, refusals of the other guards included."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production
        # The headers of each kind of path, built once (names to replace, headers to add).
        self._app = self._headers(CSP, no_store=True)
        self._docs = self._headers(DOCS_CSP, no_store=True)
        self._static = self._headers(CSP, no_store=False)

    def _headers(self, csp: str, *, no_store: bool) -> tuple[frozenset[bytes], list[tuple[bytes, bytes]]]:
        fixed = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
            (b"permissions-policy", PERMISSIONS.encode()),
        ]
        if self.production:
            fixed.append((b"strict-transport-security", HSTS.encode()))
        if no_store:
            fixed += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
        return frozenset(name for name, _ in fixed), fixed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/static/"):
            names, fixed = self._static
        else:
            names, fixed = self._docs if path.startswith(DOCS_PATHS) else self._app

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(name, value) for name, value in message["headers"] if name.lower() not in names]
                message["headers"] = [*kept, *fixed]
            await send(message)

        await self.app(scope, receive, sending)
