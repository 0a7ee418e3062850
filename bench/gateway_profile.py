"""Where the code gateway's CPU goes (docs/adr/0005): issue and redeem batches of 1, 8 and 32
requests driven through :class:`medcard.codes.gateway.CodeGateway` in-process (login lookup,
``issue_many`` / ``redeem_many``, the unit of work) against PostgreSQL, without HTTP. Prints the
process CPU per batch and per request, and the statements each batch sent; ``--profile`` writes
a pyinstrument profile of the batches of 8 (``pip install pyinstrument``).

    MEDCARD_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/medcard_bench \\
        .venv/bin/python bench/gateway_profile.py [--batches 60] [--profile /tmp/gateway.html]

The database is dropped and recreated. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from common import fresh_postgres_settings
from http_codes import codes_to_redeem, prepare
from sqlalchemy import event

from medcard.app import create_app
from medcard.codes.gateway import CodeGateway, IssueCall, RedeemCall
from medcard.config import Settings


async def run(settings: Settings, args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp(prefix="gateway-profile-"))
    sizes = [int(size) for size in args.sizes.split(",")]
    fixture = await prepare(settings, args.cards, directory)
    lines = fixture.issue_items.read_text().split()
    issue_calls = [IssueCall(token=lines[i], card_id=uuid.UUID(lines[i + 1])) for i in range(0, len(lines), 2)]
    app = create_app(settings)
    gateway: CodeGateway = app.state.code_gateway
    target = _engine(gateway)
    sent = [0]

    def count(*_args: object) -> None:
        sent[0] += 1

    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled", interval=0.0005)
    offset = 0
    issued = 0
    print(f"load average {os.getloadavg()[0]:.1f}")
    for size in sizes:
        for mode in ("issue", "redeem"):
            cpu = 0.0
            statements = 0
            for batch in range(args.batches):
                if mode == "issue":
                    calls = [issue_calls[(issued + i) % len(issue_calls)] for i in range(size)]
                    issued += size
                    work = [gateway.issue(call) for call in calls]
                else:
                    path = directory / "codes.txt"
                    await codes_to_redeem(fixture, size, offset, path)
                    offset += size
                    codes = path.read_text().split()
                    work = [
                        gateway.redeem(RedeemCall(token=fixture.staff_token, text=code, amount_fen=100))
                        for code in codes
                    ]
                sent[0] = 0
                event.listen(target.sync_engine, "before_cursor_execute", count)
                profiling = profiler is not None and size == args.profile_size and batch >= 5
                if profiling:
                    profiler.start()
                start = time.process_time()
                results = await asyncio.gather(*work, return_exceptions=True)
                elapsed = time.process_time() - start
                if profiling:
                    profiler.stop()
                event.remove(target.sync_engine, "before_cursor_execute", count)
                failures = [r for r in results if isinstance(r, BaseException)]
                if failures:
                    raise SystemExit(f"{mode}: {failures[0]!r}")
                if batch >= 5:  # warm-up batches left out
                    cpu += elapsed
                    statements += sent[0]
            counted = args.batches - 5
            print(
                f"  {mode:<6} batch {size:>3}: {cpu / counted * 1e6:8.0f} µs CPU/batch, "
                f"{cpu / counted / size * 1e6:6.0f} µs/request, {statements / counted:.1f} statements/batch"
            )
    if profiler is not None:
        profiler.write_html(args.profile)
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        with open(args.profile + ".txt", "w") as text:  # noqa: ASYNC230 - once, at the end
            text.write(profiler.output_text(unicode=True, color=False, show_all=True))


def _engine(gateway: CodeGateway) -> Any:
    """The gateway's own engine (its unit of work closes over its sessionmaker)."""
    closure = getattr(gateway.unit_of_work, "__closure__", None) or ()
    return next(cell.cell_contents for cell in closure if hasattr(cell.cell_contents, "kw")).kw["bind"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--cards", type=int, default=1500)
    parser.add_argument("--sizes", default="1,8,32")
    parser.add_argument("--profile", default="")
    parser.add_argument("--profile-size", type=int, default=8)
    args = parser.parse_args()
    settings = fresh_postgres_settings()
    asyncio.run(run(settings, args))


if __name__ == "__main__":
    main()
