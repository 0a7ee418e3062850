"""National cryptography (国密) helpers: SM3 hashes, HMAC-SM3 and signed tokens.

SM4-GCM field encryption and SM2 signatures come with the security issue; everything
here runs on OpenSSL through the ``cryptography`` package, never pure Python.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac as std_hmac
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac


def sm3(data: bytes) -> bytes:
    """SM3 digest (32 bytes)."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm3_hex(data: bytes | str) -> str:
    return sm3(data.encode() if isinstance(data, str) else data).hex()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC-SM3 (32 bytes)."""
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


@functools.lru_cache(maxsize=256)
def derive_key(secret: str, purpose: str) -> bytes:
    """A separate key per purpose, so a leak of one use never forges another."""
    return hmac_sm3(secret.encode(), b"medcard-key:" + purpose.encode())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(key: bytes, prefix: str, payload: dict[str, Any]) -> str:
    """``prefix.body.mac`` with body = compact JSON, mac = HMAC-SM3 truncated to 128 bits."""
    body = b64url(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = b64url(hmac_sm3(key, f"{prefix}.{body}".encode())[:16])
    return f"{prefix}.{body}.{mac}"


def verify_token(key: bytes, prefix: str, token: str) -> dict[str, Any] | None:
    """The payload of a token made by :func:`sign_token`, or None if forged or malformed."""
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != prefix:
        return None
    expected = b64url(hmac_sm3(key, f"{prefix}.{parts[1]}".encode())[:16])
    if not std_hmac.compare_digest(expected, parts[2]):
        return None
    try:
        payload = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """scrypt (n=2**14, r=8, p=1) for staff passwords; format ``scrypt$salt$hash``."""
    salt = salt or secrets.token_bytes(16)
    derived = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${b64url(salt)}${b64url(derived)}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, expected = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    derived = hashlib.scrypt(password.encode(), salt=b64url_decode(salt), n=2**14, r=8, p=1, dklen=32)
    return std_hmac.compare_digest(b64url(derived), expected)
