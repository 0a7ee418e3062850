"""Card routes (filled in by the card slice)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/cards", tags=["card"])
