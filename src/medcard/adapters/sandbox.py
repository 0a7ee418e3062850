"""What every sandbox shares: deterministic chance and scaled latency."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxBehaviour:
    """Deterministic under ``seed``; waits ``latency_scale`` × the real system's mean time."""

    seed: int
    latency_scale: float = 0.0

    def chance(self, *parts: object) -> float:
        """A uniform number in [0, 1) fixed by the seed and ``parts``."""
        text = "|".join([str(self.seed), *map(str, parts)]).encode()
        return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") / 2**64

    async def wait(self, mean_seconds: float, *parts: object) -> None:
        """Sleep around ``mean_seconds`` (±50 %, deterministic), scaled; no-op at scale 0."""
        if self.latency_scale <= 0:
            return
        await asyncio.sleep(mean_seconds * self.latency_scale * (0.5 + self.chance("latency", *parts)))
