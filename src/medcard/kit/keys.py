"""Field encryption keys (数据加密密钥): versioned SM4-GCM data keys and the blind-index key.

``MEDCARD_DATA_KEYS`` lists the data-key secrets as ``v1:<secret>,v2:<secret>``: a version
``v<n>`` and a random secret of 32+ characters (``medcard keys generate`` prints one). Every
listed version decrypts; the highest one encrypts every new write, and ``medcard keys rotate``
re-encrypts older values under it. The SM4 key of a version is HMAC-SM3(secret,
``medcard-data-key:<version>``) cut to 128 bits, so the configured text is never a cipher key.

``MEDCARD_BLIND_INDEX_KEY`` keys the blind indexes (盲索引): HMAC-SM3 over a normalised value,
so an equality lookup or a unique constraint works on a column whose contents are encrypted.
It is a secret of its own and is not rotated with the data keys (ADR 0007).

Neither key ever enters the database. Stored values look like ``v1:<base64(nonce || ciphertext
|| tag)>`` with a 12-byte random nonce per value and the table and column bound in as associated
data, so a ciphertext copied into another column (or relabelled as another version) fails.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from medcard.kit.crypto import hmac_sm3

VERSION = re.compile(r"^v[1-9][0-9]{0,5}$")
MIN_SECRET_LENGTH = 32
NONCE_BYTES = 12
TAG_BYTES = 16
INDEX_KINDS = ("document", "phone")


class UndecryptableValue(ValueError):
    """A stored value that no configured key opens: unknown version, wrong column, or tampered."""


def parse_data_keys(text: str) -> dict[str, str]:
    """``v1:secret,v2:secret`` → ``{"v1": "secret", "v2": "secret"}``; raises ValueError on a bad list."""
    secrets: dict[str, str] = {}
    for entry in (part.strip() for part in text.split(",")):
        version, _, secret = entry.partition(":")
        if not VERSION.match(version) or not secret:
            raise ValueError("MEDCARD_DATA_KEYS entries are 'v<n>:<secret>', comma-separated")
        if version in secrets:
            raise ValueError(f"MEDCARD_DATA_KEYS lists {version} twice")
        secrets[version] = secret
    return secrets


def generate_secret() -> str:
    """A fresh random secret for ``MEDCARD_DATA_KEYS`` or ``MEDCARD_BLIND_INDEX_KEY`` (256 bits)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def normalise(kind: str, value: str) -> str:
    """What the blind index hashes: ID numbers without spaces and with an upper-case X;
    phone numbers as bare digits without a +86 / 0086 country prefix; names without spaces."""
    if kind == "document":
        return "".join(value.split()).upper()
    if kind == "phone":
        digits = "".join(ch for ch in value if ch.isdigit())
        for prefix in ("0086", "86"):
            if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
                return digits[len(prefix) :]
        return digits
    if kind == "name":
        return "".join(value.split())
    raise ValueError(f"no blind index kind {kind!r}")


@dataclass(frozen=True)
class KeyRing:
    """The SM4 data keys by version, the newest version, and the blind-index key."""

    data_keys: Mapping[str, bytes]
    index_key: bytes = field(repr=False)

    def __repr__(self) -> str:  # never print key bytes, even in a traceback
        return f"KeyRing(versions={sorted(self.data_keys, key=_version_number)}, current={self.current!r})"

    @classmethod
    def from_secrets(cls, data_secrets: Mapping[str, str], index_secret: str) -> KeyRing:
        if not data_secrets:
            raise ValueError("at least one data key is needed")
        keys = {
            version: hmac_sm3(secret.encode(), f"medcard-data-key:{version}".encode())[:16]
            for version, secret in data_secrets.items()
        }
        return cls(data_keys=keys, index_key=hmac_sm3(index_secret.encode(), b"medcard-blind-index"))

    @property
    def current(self) -> str:
        """The version every new value is encrypted under: the highest configured one."""
        return max(self.data_keys, key=_version_number)

    def encrypt(self, plaintext: bytes, context: str) -> str:
        """``<version>:<base64(nonce || ciphertext || tag)>`` under the current key (SM4-GCM)."""
        version = self.current
        nonce = os.urandom(NONCE_BYTES)
        encryptor = Cipher(algorithms.SM4(self.data_keys[version]), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(_associated_data(version, context))
        body = encryptor.update(plaintext) + encryptor.finalize()
        return f"{version}:{base64.b64encode(nonce + body + encryptor.tag).decode()}"

    def decrypt(self, stored: str, context: str) -> bytes:
        """The plaintext of a value made by :meth:`encrypt` for the same ``context``."""
        version, _, encoded = stored.partition(":")
        key = self.data_keys.get(version)
        if key is None:
            raise UndecryptableValue(f"{context}: no configured data key {version!r}")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise UndecryptableValue(f"{context}: not base64") from error
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise UndecryptableValue(f"{context}: too short")
        nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(_associated_data(version, context))
        try:
            return decryptor.update(body) + decryptor.finalize()
        except InvalidTag as error:
            raise UndecryptableValue(f"{context}: authentication failed ({version})") from error

    def blind_index(self, kind: str, value: str) -> str:
        """HMAC-SM3 of the normalised value, 128 bits in hex; the kind is hashed in too, so an
        ID number and a phone number never share an index value."""
        return hmac_sm3(self.index_key, f"{kind}\x00{normalise(kind, value)}".encode())[:16].hex()


def version_of(stored: str) -> str:
    return stored.partition(":")[0]


def _version_number(version: str) -> int:
    return int(version[1:])


def _associated_data(version: str, context: str) -> bytes:
    return f"medcard|{version}|{context}".encode()


_active: KeyRing | None = None


def install(ring: KeyRing) -> None:
    """Make ``ring`` the process's key ring (``db.make_engine`` installs the one of its settings)."""
    global _active
    _active = ring


def active() -> KeyRing:
    """The installed key ring; encrypted columns and blind indexes use it."""
    if _active is None:
        raise RuntimeError("no key ring installed: make an engine with medcard.db.make_engine(settings) first")
    return _active


@contextmanager
def using(ring: KeyRing) -> Iterator[KeyRing]:
    """Install ``ring`` for a block (rotation, tests), then put the previous one back."""
    previous = _active
    install(ring)
    try:
        yield ring
    finally:
        if previous is not None:
            install(previous)


def blind_index(kind: str, value: str) -> str:
    """The blind index of ``value`` under the installed key ring."""
    return active().blind_index(kind, value)
