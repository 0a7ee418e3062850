"""The messaging app's OAuth (we model WeChat: an authorisation code becomes an ``openid``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from medcard.kit.crypto import random_token, sign_token, verify_token


@dataclass(frozen=True)
class OAuthIdentity:
    """Who the messaging app says the user is."""

    openid: str
    nickname: str


class OAuthCodeInvalid(Exception):
    """The code is forged, expired or already used (the app answers errcode 40029)."""


class MessagingOAuth(Protocol):
    """Authorisation-code login against the messaging app."""

    def authorize_url(self, *, redirect_uri: str, state: str) -> str: ...

    async def exchange_code(self, code: str) -> OAuthIdentity: ...


class SandboxOAuth:
    """Issues signed, single-use, five-minute codes from the sandbox consent page."""

    CODE_TTL_SECONDS = 300

    def __init__(self, *, key: bytes, base_url: str) -> None:
        self.key = key
        self.base_url = base_url.rstrip("/")
        self._used: dict[str, float] = {}

    def authorize_url(self, *, redirect_uri: str, state: str) -> str:
        query = urlencode({"redirect_uri": redirect_uri, "state": state, "response_type": "code"})
        return f"/sandbox/oauth/authorize?{query}"

    def issue_code(self, *, openid: str, nickname: str) -> str:
        """What the consent page hands back in the redirect (sandbox only)."""
        payload = {"o": openid, "n": nickname, "e": int(time.time()) + self.CODE_TTL_SECONDS, "j": random_token(8)}
        return sign_token(self.key, "oc", payload)

    @staticmethod
    def new_openid() -> str:
        return "o" + random_token(20)[:27]

    async def exchange_code(self, code: str) -> OAuthIdentity:
        payload = verify_token(self.key, "oc", code)
        now = time.time()
        if payload is None or payload.get("e", 0) < now or code in self._used:
            raise OAuthCodeInvalid(code[:8])
        self._used = {c: exp for c, exp in self._used.items() if exp >= now}
        self._used[code] = float(payload["e"])
        return OAuthIdentity(openid=str(payload["o"]), nickname=str(payload.get("n", "")))
