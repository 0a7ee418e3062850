"""R-SEC-08: the SM4-GCM key ring, the blind index and the key settings (no database)."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from medcard.config import Settings
from medcard.kit.keys import KeyRing, UndecryptableValue, normalise, parse_data_keys, version_of

SECRET_1 = "a" * 40
SECRET_2 = "b" * 40
RING = KeyRing.from_secrets({"v1": SECRET_1}, "i" * 40)


def test_r_sec_08_a_value_round_trips_and_is_not_stored_in_plaintext() -> None:
    """R-SEC-08: ``v1:<base64(nonce || ciphertext || tag)>``; the plaintext is nowhere in it."""
    stored = RING.encrypt(b"110105198806151234", "person.document_number")
    assert stored.startswith("v1:")
    raw = base64.b64decode(stored[3:])
    assert len(raw) == 12 + 18 + 16
    assert b"110105198806151234" not in raw and "110105198806151234" not in stored
    assert RING.decrypt(stored, "person.document_number") == b"110105198806151234"


def test_r_sec_08_each_write_draws_a_fresh_nonce() -> None:
    """R-SEC-08: the same value encrypts differently every time (12-byte random nonce)."""
    values = {RING.encrypt(b"13912345678", "person.phone") for _ in range(50)}
    assert len(values) == 50
    assert len({base64.b64decode(v[3:])[:12] for v in values}) == 50


def test_r_sec_08_a_ciphertext_moved_to_another_column_fails() -> None:
    """R-SEC-08: table and column are authenticated as associated data."""
    stored = RING.encrypt("张三".encode(), "person.name")
    with pytest.raises(UndecryptableValue, match=r"card\.name"):
        RING.decrypt(stored, "card.name")


@pytest.mark.parametrize("position", [3, 10, 20, -2])
def test_r_sec_08_a_tampered_ciphertext_fails(position: int) -> None:
    """R-SEC-08: GCM's tag catches any changed byte (nonce, body or tag)."""
    stored = RING.encrypt("北京市东城区示范路1号".encode(), "card.address")
    raw = bytearray(base64.b64decode(stored[3:]))
    raw[position] ^= 0x01
    with pytest.raises(UndecryptableValue):
        RING.decrypt("v1:" + base64.b64encode(bytes(raw)).decode(), "card.address")


def test_r_sec_08_a_relabelled_version_or_unknown_version_fails() -> None:
    """R-SEC-08: the version is authenticated too, and a version not configured is refused."""
    both = KeyRing.from_secrets({"v1": SECRET_1, "v2": SECRET_1}, "i" * 40)  # same secret, still distinct keys
    stored = both.encrypt(b"x", "card.phone")
    assert version_of(stored) == "v2"
    with pytest.raises(UndecryptableValue):
        both.decrypt("v1:" + stored[3:], "card.phone")
    with pytest.raises(UndecryptableValue, match="no configured data key 'v2'"):
        RING.decrypt(stored, "card.phone")


def test_r_sec_08_the_highest_version_encrypts_and_every_version_decrypts() -> None:
    """R-SEC-08: with v1 and v2 configured, writes use v2 and v1 values still read."""
    old = RING.encrypt(b"old", "card.name")
    ring = KeyRing.from_secrets({"v2": SECRET_2, "v1": SECRET_1, "v10": "c" * 40}, "i" * 40)
    assert ring.current == "v10"
    assert ring.decrypt(old, "card.name") == b"old"
    assert version_of(ring.encrypt(b"new", "card.name")) == "v10"


def test_r_sec_08_blind_index_normalises_and_separates_kinds() -> None:
    """R-SEC-08: a lower-case x or spaces find the same person; a phone never collides with an ID."""
    upper = RING.blind_index("document", "11010519880615123X")
    assert RING.blind_index("document", " 110105 19880615 123x ") == upper
    assert len(upper) == 32 and "123X" not in upper
    assert RING.blind_index("phone", "+86 139-1234-5678") == RING.blind_index("phone", "13912345678")
    assert RING.blind_index("phone", "13912345678") != RING.blind_index("document", "13912345678")
    other_key = KeyRing.from_secrets({"v1": SECRET_1}, "j" * 40)
    assert other_key.blind_index("document", "11010519880615123X") != upper
    assert normalise("phone", "0086 13912345678") == "13912345678"


def test_r_sec_08_key_ring_never_prints_its_keys() -> None:
    """R-SEC-08: a key ring in a traceback or a log shows versions only."""
    text = repr(RING) + str(RING)
    assert "v1" in text
    for key in (*RING.data_keys.values(), RING.index_key):
        assert key.hex() not in text and repr(key) not in text


@pytest.mark.parametrize("text", ["v1", "v1:", "1:abc", "v0:abc", "v1:a,v1:b", "key:abc"])
def test_r_sec_08_malformed_key_lists_are_refused(text: str) -> None:
    """R-SEC-08: MEDCARD_DATA_KEYS is ``v<n>:<secret>,...`` with each version once."""
    with pytest.raises(ValueError, match="MEDCARD_DATA_KEYS"):
        parse_data_keys(text)


def test_r_sec_08_production_refuses_missing_short_or_reused_keys() -> None:
    """R-SEC-08: the dev default (keys derived from the secret key) is refused in production."""
    secret = "s" * 40
    base = {"environment": "production", "secret_key": secret, "_env_file": None}
    with pytest.raises(ValidationError, match="MEDCARD_DATA_KEYS and MEDCARD_BLIND_INDEX_KEY must be set"):
        Settings(**base)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="32\\+ characters"):
        Settings(**base, data_keys="v1:short", blind_index_key="i" * 40)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="distinct from MEDCARD_SECRET_KEY"):
        Settings(**base, data_keys=f"v1:{secret}", blind_index_key="i" * 40)  # type: ignore[arg-type]
    good = Settings(**base, data_keys=f"v1:{SECRET_1},v2:{SECRET_2}", blind_index_key="i" * 40)  # type: ignore[arg-type]
    assert good.key_ring().current == "v2"
    development = Settings(_env_file=None)  # type: ignore[call-arg]
    assert development.key_ring().current == "v1"
