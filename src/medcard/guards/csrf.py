"""Cross-site request forgery defence (ADR 0008), as pure ASGI middleware.

Every unsafe request (POST, PUT, PATCH, DELETE) passes two checks before any route runs:

1. **Where it came from.** ``Sec-Fetch-Site`` must be ``same-origin`` (or ``none``: typed by the
   user); without it, ``Origin`` (when sent) must be this server's own origin. A page on another
   site, *or on a sibling origin of the same site* (another port, another subdomain), is refused
   even though ``SameSite=Lax`` cookies would travel with it.
2. **A token bound to the login.** Pages must send ``csrf_token`` (form field) or the
   ``X-CSRF-Token`` header, equal to HMAC-SM3(key, binding) where the binding is the session
   cookie (patient or staff) or, before login, a random ``medcard_csrf`` cookie. The API needs
   the header only when the request is authenticated by a cookie (the pages' own scripts);
   bearer-token clients carry no ambient credential and need neither.

Templates read the token through ``csrf_token()`` / ``csrf_field()`` (``web/render.py``).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medcard.deps import PATIENT_COOKIE, STAFF_COOKIE
from medcard.kit.crypto import b64url, derive_key, hmac_sm3, random_token

from .errors import CsrfRefused
from .respond import refuse

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
PRESESSION_COOKIE = "medcard_csrf"
STAFF_AREAS = ("/console", "/kiosk")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def token_for(key: bytes, binding: str) -> str:
    """The token a page carries for ``binding`` (a session token or the pre-session cookie)."""
    return b64url(hmac_sm3(key, b"csrf|" + binding.encode())[:24])


def _page_binding(path: str, cookies: dict[str, str], presession: str) -> str:
    """The login a page's forms are bound to: the session of the page's area first."""
    order = (STAFF_COOKIE, PATIENT_COOKIE) if path.startswith(STAFF_AREAS) else (PATIENT_COOKIE, STAFF_COOKIE)
    for name in order:
        if cookies.get(name):
            return cookies[name]
    return presession


def _accepted(key: bytes, cookies: dict[str, str]) -> list[str]:
    """Tokens of the request's logins; the pre-session one only when there is no login (a
    pre-session cookie planted by a sibling subdomain must not unlock a logged-in session)."""
    sessions = [cookies[name] for name in (PATIENT_COOKIE, STAFF_COOKIE) if cookies.get(name)]
    bindings = sessions or [cookies.get(PRESESSION_COOKIE, "")]
    return [token_for(key, binding) for binding in bindings if binding]


def _matches(token: object, accepted: Iterable[str]) -> bool:
    if not isinstance(token, str) or not token:
        return False
    return any(hmac.compare_digest(token.encode(), good.encode()) for good in accepted)


def _has_bearer(headers: Headers) -> bool:
    value = headers.get("authorization", "")
    return value.lower().startswith("bearer ") and bool(value[7:].strip())


class CsrfGuard:
    """Refuses forged unsafe requests with ``CSRF_REFUSED`` (403) before the application sees them."""

    def __init__(self, app: ASGIApp, *, secret_key: str, base_url: str, secure_cookie: bool) -> None:
        self.app = app
        self.key = derive_key(secret_key, "csrf")
        base = urlsplit(base_url)
        self.own_origin = f"{base.scheme}://{base.netloc}".lower()
        self.secure_cookie = secure_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookies = cookie_parser(headers.get("cookie", ""))
        fresh = None
        if not scope["path"].startswith("/api/"):
            # Pages: the token their forms carry (read by web/render.py), bound to the login or to a
            # pre-session cookie given now. The JSON API renders no form: neither is made for it.
            presession = cookies.get(PRESESSION_COOKIE) or ""
            fresh = None if presession else random_token(24)
            binding = _page_binding(scope["path"], cookies, presession or fresh or "")
            scope.setdefault("state", {})["csrf_token"] = token_for(self.key, binding)

        if scope["method"] in UNSAFE_METHODS:
            if not self._same_origin(scope, headers):
                await refuse(scope, receive, send, CsrfRefused())
                return
            if not _has_bearer(headers):
                allowed, receive = await self._token_check(scope, receive, headers, cookies)
                if not allowed:
                    await refuse(scope, receive, send, CsrfRefused())
                    return
        await self.app(scope, receive, self._with_presession(send, fresh))

    def _same_origin(self, scope: Scope, headers: Headers) -> bool:
        """Fetch metadata first (browsers set it and pages cannot forge it), else ``Origin``."""
        site = headers.get("sec-fetch-site")
        if site is not None:
            return site in ("same-origin", "none")
        origin = headers.get("origin")
        if origin is None:
            return True  # not a browser (or a very old one): the token check still applies
        host = headers.get("host", "")
        return origin.lower() in (self.own_origin, f"{scope.get('scheme', 'http')}://{host}".lower())

    async def _token_check(
        self, scope: Scope, receive: Receive, headers: Headers, cookies: dict[str, str]
    ) -> tuple[bool, Receive]:
        accepted = _accepted(self.key, cookies)
        if scope["path"].startswith("/api/"):
            cookie_auth = cookies.get(PATIENT_COOKIE) or cookies.get(STAFF_COOKIE)
            return (not cookie_auth or _matches(headers.get(HEADER), accepted)), receive
        if _matches(headers.get(HEADER), accepted):
            return True, receive
        if not accepted or not headers.get("content-type", "").startswith(FORM_TYPES):
            return False, receive
        body = await _buffer(receive)
        try:
            form = await Request(scope, _replay(body, receive)).form()
        except Exception:  # noqa: BLE001 - a body that is not a form carries no token
            return False, _replay(body, receive)
        try:
            return _matches(form.get(FORM_FIELD), accepted), _replay(body, receive)
        finally:
            await form.close()

    def _with_presession(self, send: Send, fresh: str | None) -> Send:
        """Give a browser that had no pre-session cookie the one its page's forms are bound to."""
        if fresh is None:
            return send

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                content_type = Headers(raw=message["headers"]).get("content-type", "")
                if content_type.startswith("text/html"):
                    cookie: SimpleCookie = SimpleCookie()
                    cookie[PRESESSION_COOKIE] = fresh
                    morsel = cookie[PRESESSION_COOKIE]
                    morsel["path"] = "/"
                    morsel["httponly"] = True
                    morsel["samesite"] = "Lax"
                    if self.secure_cookie:
                        morsel["secure"] = True
                    value = morsel.OutputString().encode("latin-1")
                    message["headers"] = [*message["headers"], (b"set-cookie", value)]
            await send(message)

        return sending


async def _buffer(receive: Receive) -> bytes:
    """Read the whole body (already capped by ``BodyLimit``) so it can be parsed and replayed."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the buffered body once, then defers to the server (disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
