"""The identity authority (身份核验平台): name/number check, face liveness, bank-card
4-factor, insurance-record match, guardianship check and ID-photo OCR.

The sandbox reproduces R-ID-02's pass rates and mean times. Test images may carry
markers that force an outcome (``SANDBOX-LIVE`` / ``SANDBOX-SPOOF`` for faces,
``MEDCARD-OCR:<base64url json>;`` for an ID photo's printed fields).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Protocol

from medcard.adapters.sandbox import SandboxBehaviour
from medcard.kit.crypto import b64url, b64url_decode, sm3_hex

# R-ID-02 defaults: method -> (pass rate, mean seconds).
PASS_RATES: dict[str, tuple[float, float]] = {
    "face": (0.897, 23.0),
    "bank_card": (0.952, 41.0),
    "insurance": (0.765, 68.0),
    "name_number": (0.99, 1.5),
    "guardianship": (0.95, 30.0),
}
OCR_MARKER = re.compile(rb"MEDCARD-OCR:([A-Za-z0-9_-]+);")


@dataclass(frozen=True)
class DocumentClaim:
    """The identity a person claims: document, number and name (and, for foreigners, permit)."""

    document_type: str
    document_number: str
    name: str
    nationality: str = "CHN"
    residence_permit_number: str | None = None


@dataclass(frozen=True)
class AuthorityResult:
    """The authority's answer. ``error_code`` is the provider's own code when ``passed`` is False."""

    passed: bool
    reference: str
    score: float | None = None
    error_code: str | None = None


@dataclass(frozen=True)
class OcrResult:
    """Fields read from the front of an ID document photo."""

    readable: bool
    fields: dict[str, str] = field(default_factory=dict)


class IdentityAuthority(Protocol):
    """Real-name verification provider. Images are passed through and never kept (R-ID-04)."""

    async def check_name_and_number(self, claim: DocumentClaim) -> AuthorityResult: ...

    async def face_liveness(self, claim: DocumentClaim, image: bytes, *, attempt: int) -> AuthorityResult: ...

    async def bank_card_four_factor(
        self, claim: DocumentClaim, *, bank_card_number: str, phone: str
    ) -> AuthorityResult: ...

    async def insurance_record_match(self, claim: DocumentClaim) -> AuthorityResult: ...

    async def guardianship(
        self, guardian: DocumentClaim, ward: DocumentClaim, *, proof: bytes, birth_certificate_number: str | None
    ) -> AuthorityResult: ...

    async def ocr_document(self, image: bytes) -> OcrResult: ...


class SandboxIdentityAuthority:
    """Deterministic stand-in for the identity authority."""

    def __init__(self, behaviour: SandboxBehaviour) -> None:
        self.behaviour = behaviour

    def _decide(self, method: str, *parts: object) -> AuthorityResult:
        rate, _mean = PASS_RATES[method]
        roll = self.behaviour.chance(method, *parts)
        reference = "SBX-" + sm3_hex(f"{self.behaviour.seed}|{method}|{parts}")[:20].upper()
        return AuthorityResult(passed=roll < rate, reference=reference, score=round(1 - roll, 4))

    async def check_name_and_number(self, claim: DocumentClaim) -> AuthorityResult:
        await self.behaviour.wait(PASS_RATES["name_number"][1], claim.document_number)
        result = self._decide("name_number", claim.document_number, claim.name)
        return result if result.passed else _failed(result, "NAME_NUMBER_MISMATCH")

    async def face_liveness(self, claim: DocumentClaim, image: bytes, *, attempt: int) -> AuthorityResult:
        await self.behaviour.wait(PASS_RATES["face"][1], claim.document_number, attempt)
        result = self._decide("face", claim.document_number, attempt, sm3_hex(image))
        if b"SANDBOX-SPOOF" in image:
            return AuthorityResult(False, result.reference, 0.05, "FACE_NOT_LIVE")
        if b"SANDBOX-LIVE" in image:
            return AuthorityResult(True, result.reference, 0.98)
        return result if result.passed else _failed(result, "FACE_MISMATCH")

    async def bank_card_four_factor(
        self, claim: DocumentClaim, *, bank_card_number: str, phone: str
    ) -> AuthorityResult:
        await self.behaviour.wait(PASS_RATES["bank_card"][1], claim.document_number)
        result = self._decide("bank_card", claim.document_number, bank_card_number, phone)
        return result if result.passed else _failed(result, "BANK_CARD_MISMATCH")

    async def insurance_record_match(self, claim: DocumentClaim) -> AuthorityResult:
        await self.behaviour.wait(PASS_RATES["insurance"][1], claim.document_number)
        result = self._decide("insurance", claim.document_number, claim.name)
        return result if result.passed else _failed(result, "NO_INSURANCE_RECORD")

    async def guardianship(
        self, guardian: DocumentClaim, ward: DocumentClaim, *, proof: bytes, birth_certificate_number: str | None
    ) -> AuthorityResult:
        await self.behaviour.wait(PASS_RATES["guardianship"][1], guardian.document_number)
        if b"SANDBOX-NOT-GUARDIAN" in proof:
            return AuthorityResult(False, "SBX-GUARDIAN", 0.0, "GUARDIAN_MISMATCH")
        if b"SANDBOX-GUARDIAN" in proof:
            return AuthorityResult(True, "SBX-GUARDIAN", 1.0)
        result = self._decide("guardianship", guardian.document_number, ward.document_number)
        return result if result.passed else _failed(result, "GUARDIAN_MISMATCH")

    async def ocr_document(self, image: bytes) -> OcrResult:
        await self.behaviour.wait(2.0, sm3_hex(image))
        match = OCR_MARKER.search(image)
        if not match:
            return OcrResult(readable=False)
        try:
            fields = json.loads(b64url_decode(match.group(1).decode()))
        except ValueError:
            return OcrResult(readable=False)
        return OcrResult(readable=True, fields={str(k): str(v) for k, v in fields.items()})


def _failed(result: AuthorityResult, code: str) -> AuthorityResult:
    return AuthorityResult(False, result.reference, result.score, code)


def sample_document_photo(fields: dict[str, str]) -> bytes:
    """A small PNG standing for a photo of an ID card, readable by the sandbox OCR.

    Used by the demo ("download a sample ID photo") and tests; a real photo goes to the
    real provider.
    """
    payload = b"MEDCARD-OCR:" + b64url(json.dumps(fields, ensure_ascii=False).encode()).encode() + b";"
    return _png_with_text(payload)


def sample_face_photo(*, live: bool = True) -> bytes:
    """A tiny PNG the sandbox treats as a live face (or as a spoof)."""
    return _png_with_text(b"SANDBOX-LIVE" if live else b"SANDBOX-SPOOF")


def _png_with_text(text: bytes) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Comment\x00" + text)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )
