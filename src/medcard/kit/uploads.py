"""Checking uploads before they go anywhere: size and real content type (sniffed from the bytes)."""

from __future__ import annotations

from medcard.errors import UnsupportedDocumentType, UnsupportedMediaType, UploadTooLarge

_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}


def sniff_image(data: bytes) -> str | None:
    """The image type the bytes really are (``image/jpeg`` / ``image/png``), whatever the client claimed."""
    for media_type, signatures in _SIGNATURES.items():
        if data.startswith(signatures):
            return media_type
    return None


def sniff_document(data: bytes) -> str | None:
    """``application/pdf`` or an image type for a scanned paper material; ``None`` for anything else."""
    return "application/pdf" if data.startswith(b"%PDF-") else sniff_image(data)


def check_document(data: bytes, *, max_bytes: int, field: str) -> str:
    """Refuse empty, oversized or non-PDF/JPEG/PNG materials; returns the sniffed media type."""
    if len(data) > max_bytes:
        raise UploadTooLarge(field=field, limit_mb=round(max_bytes / 1024 / 1024, 1))
    media_type = sniff_document(data)
    if media_type is None:
        raise UnsupportedDocumentType(field=field)
    return media_type


def check_image(data: bytes, *, max_bytes: int, field: str) -> str:
    """Refuse empty, oversized or non-JPEG/PNG uploads; returns the sniffed media type."""
    if len(data) > max_bytes:
        raise UploadTooLarge(field=field, limit_mb=round(max_bytes / 1024 / 1024, 1))
    media_type = sniff_image(data)
    if media_type is None:
        raise UnsupportedMediaType(field=field)
    return media_type


async def read_limited(upload: object, *, max_bytes: int, field: str) -> bytes:
    """Read a Starlette ``UploadFile`` without holding more than ``max_bytes`` + 1 in memory."""
    from starlette.datastructures import UploadFile

    if not isinstance(upload, UploadFile):
        raise UnsupportedMediaType(field=field)
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadTooLarge(field=field, limit_mb=round(max_bytes / 1024 / 1024, 1))
    return data
