"""Identity routes (filled in by the identity slice)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/identity", tags=["identity"])
