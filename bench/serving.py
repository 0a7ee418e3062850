"""Serving set-ups compared on a hello-world FastAPI app, with ``wrk``: plain ``uvicorn`` with one
and two workers, and ``medcard serve``'s way (medcard.serving: a shared socket created with
IPPROTO_TCP, so every connection gets TCP_NODELAY) with two, each on the asyncio loop + h11 and on
uvloop + httptools (``uvicorn[standard]``). Median of alternating rounds (the machine is shared).

    apt-get install -y wrk
    .venv/bin/python bench/serving.py [--seconds 3] [--rounds 3]

Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from common import free_port, wait_for_port

HERE = Path(__file__).resolve().parent
LUA = """
function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99)))
end
"""


def command(kind: str, workers: int, loop: str, http: str, port: int) -> list[str]:
    if kind == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", "--factory", "hello_app:create_app", "--port", str(port),
            "--workers", str(workers), "--loop", loop, "--http", http, "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    script = (
        "from medcard.serving import serve\n"
        "if __name__ == '__main__':\n"
        f"    serve(host='127.0.0.1', port={port}, workers={workers}, loop='{loop}', http='{http}',"
        " access_log=False, app='hello_app:create_app')\n"
    )
    return [sys.executable, "-c", script]


def measure(kind: str, workers: int, loop: str, http: str, seconds: int, lua: Path) -> tuple[float, float, float]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    process = subprocess.Popen(  # noqa: S603 - our own command
        command(kind, workers, loop, http, port), cwd=HERE, env=env, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(kind, port, tries=200)
        time.sleep(1.0)  # every worker up
        wrk = shutil.which("wrk") or "wrk"
        output = subprocess.run(  # noqa: S603 - our own command
            [wrk, "-t1", "-c8", f"-d{seconds}s", "-s", str(lua), f"http://127.0.0.1:{port}/"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    result = json.loads(next(line for line in output.splitlines() if line.startswith("RESULT ")).split(" ", 1)[1])
    return result["requests"] / (result["duration_us"] / 1e6), result["p50_us"] / 1000, result["p99_us"] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/serving.py needs wrk: apt-get install -y wrk")
    lua = HERE / ".serving.lua"
    lua.write_text(LUA)
    setups = [
        (kind, workers, loop, http)
        for loop, http in (("asyncio", "h11"), ("uvloop", "httptools"))
        for kind, workers in (("uvicorn", 1), ("uvicorn", 2), ("medcard serve", 2))
    ]
    results: dict[tuple[str, int, str, str], list[tuple[float, float, float]]] = {setup: [] for setup in setups}
    try:
        for round_ in range(args.rounds):
            for setup in setups if round_ % 2 == 0 else list(reversed(setups)):
                results[setup].append(measure(*setup, args.seconds, lua))
    finally:
        lua.unlink()
    print(f"hello-world FastAPI, wrk -t1 -c8, {args.seconds} s a run, median of {args.rounds} alternating rounds:")
    for (kind, workers, loop, http), runs in results.items():
        rate, p50, p99 = sorted(runs)[len(runs) // 2]
        label = f"{kind}, {workers} worker{'s' if workers > 1 else ''}, {loop} + {http}"
        print(f"  {label:<44} {rate:8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")


if __name__ == "__main__":
    main()
