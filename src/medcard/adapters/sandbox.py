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


@dataclass(frozen=True)
class SandboxFaults:
    """How often a sandboxed money system misbehaves (all 0 in tests unless a test asks).

    ``timeout_rate``: the answer is lost; of those, ``applied_before_timeout_rate`` were applied
    anyway (the caller must query, never blindly retry). ``failure_rate``: declined for good.
    ``false_insufficient_rate``: "insufficient balance" although the money is there (R-PAY-07)."""

    timeout_rate: float = 0.0
    failure_rate: float = 0.0
    false_insufficient_rate: float = 0.0
    applied_before_timeout_rate: float = 0.5
    timeout_seconds: float = 5.0
    """How long a timed-out call waits before giving up (scaled like every latency)."""
