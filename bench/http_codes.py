"""Payment codes over HTTP (R-SEC-02): issue and POS redeem through the real request path —
uvicorn, the app, authentication, the unit of work, PostgreSQL — driven by ``wrk`` (a C load
generator with a Lua script, ``bench/http_codes.lua``), against the floor of this stack measured in
the same run: a minimal FastAPI + asyncpg app doing one INSERT per issue and one conditional
UPDATE per redeem (``bench/floor_app.py``).

For each of issue and redeem it prints requests per second at saturation, p50 / p99 latency, CPU
per request (the server process's CPU from /proc plus the CPU of the PostgreSQL backends serving
this database, found in ``pg_stat_activity`` and read from /proc — other databases' work on a
shared machine is not counted) and the ratio to the floor. The machine is shared and noisy, so
app and floor alternate, round after round, and the median round is printed; the ratio of the
two measured side by side is the figure that counts. Then p50 / p99 of the app at half its
saturation rate (paced by ``wrk``'s per-connection delay).

    apt-get install -y wrk      # the benchmark's own requirement; not needed by CI or the app
    MEDCARD_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/medcard_bench \\
        .venv/bin/python bench/http_codes.py [--cards 8000] [--seconds 3] [--rounds 3]

The database named by ``MEDCARD_DATABASE_URL`` is dropped and recreated. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
from common import SECRET, Server, fresh_postgres_settings, process_cpu, serving
from kiosk_issuance import seed
from sqlalchemy import insert, make_url, select

from medcard.codes import service
from medcard.codes.service import IssuedCode, IssueRequest
from medcard.config import Settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.errors import MedCardError
from medcard.kit.clock import clock
from medcard.kit.crypto import sm3_hex
from medcard.models import Account, AuthSession, Card, StaffUser

HERE = Path(__file__).resolve().parent
THREADS = 2


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("bench/http_codes.py needs wrk: apt-get install -y wrk")
    return found


class Database:
    """The PostgreSQL backends serving the benchmark's database, and their CPU."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def backends(self) -> dict[int, float]:
        rows = await self.connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {row["pid"]: process_cpu(row["pid"]) for row in rows}


@dataclass
class Run:
    label: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int
    app_cpu: float
    db_cpu: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us(self) -> float:
        return (self.app_cpu + self.db_cpu) / max(self.requests, 1) * 1e6

    def show(self) -> str:
        per = max(self.requests, 1)
        failed = f"   {self.failed} non-2xx!" if self.failed else ""
        return (
            f"  {self.label:<22} {self.rate:7.0f} req/s   p50 {self.p50_ms:6.1f} ms   p99 {self.p99_ms:6.1f} ms   "
            f"{self.cpu_us:6.0f} µs CPU/req (server {self.app_cpu / per * 1e6:.0f} + db {self.db_cpu / per * 1e6:.0f})"
            f"{failed}"
        )


async def drive(
    label: str,
    server: Server,
    database: Database,
    *,
    mode: str,
    items: Path,
    seconds: float,
    env: dict[str, str],
    connections: int = 64,
) -> Run:
    """Run wrk against ``server`` and read the CPU the server and the database spent meanwhile."""
    settings_env = {"CODES_MODE": mode, "CODES_FILE": str(items), "CODES_THREADS": str(THREADS), **env}
    command = [require_wrk(), f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(HERE / "http_codes.lua"), f"http://127.0.0.1:{server.port}"]
    db_before, app_before = await database.backends(), server.cpu()
    process = await asyncio.create_subprocess_exec(
        *command, env={**os.environ, **settings_env}, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await process.communicate()
    app_cpu = server.cpu() - app_before
    db_after = await database.backends()
    db_cpu = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
    line = next(line for line in output.decode().splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    return Run(
        label=label,
        requests=result["requests"],
        seconds=result["duration_us"] / 1e6,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        failed=result["non2xx"] + result["socket_errors"],
        app_cpu=app_cpu,
        db_cpu=db_cpu,
    )


@dataclass
class Fixture:
    settings: Settings
    pairs: list[tuple[Card, Account]]
    cashier: StaffUser
    staff_token: str
    issue_items: Path


async def prepare(settings: Settings, cards: int, directory: Path) -> Fixture:
    """Seed cards, open a login session per patient and one for the cashier (rows written here:
    the benchmark times what follows a login, not the login)."""
    await seed(settings, cards)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    lines = []
    async with unit_of_work(sessions) as session:
        rows = (await session.execute(select(Card, Account).join(Account, Card.account_id == Account.id))).all()
        cashier = await session.scalar(select(StaffUser).where(StaffUser.username == "cashier1"))
        assert cashier is not None
        expires = clock.now() + timedelta(hours=8)
        tokens = []
        for index, (card, account) in enumerate(rows):
            token = f"bench-patient-{index}-{uuid.uuid4().hex}"
            tokens.append({"id": uuid.uuid4(), "token_hash": sm3_hex(token), "account_id": account.id})
            lines.append(f"{token} {card.id}")
        staff_token = f"bench-cashier-{uuid.uuid4().hex}"
        tokens.append({"id": uuid.uuid4(), "token_hash": sm3_hex(staff_token), "staff_id": cashier.id})
        await session.execute(
            insert(AuthSession),
            [{"account_id": None, "staff_id": None, "expires_at": expires, **token} for token in tokens],
        )
    await engine.dispose()
    issue_items = directory / "issue.txt"
    issue_items.write_text("\n".join(lines) + "\n")
    return Fixture(settings, [(card, account) for card, account in rows], cashier, staff_token, issue_items)


async def codes_to_redeem(fixture: Fixture, count: int, offset: int, path: Path) -> None:
    """Issue ``count`` codes (batched through the service: one card each, cards taken from
    ``offset`` on, so the velocity rule never trips) and write them for the redeem script."""
    pairs = [fixture.pairs[(offset + index) % len(fixture.pairs)] for index in range(count)]
    engine = make_engine(fixture.settings)
    sessions = make_sessionmaker(engine)
    issued: list[IssuedCode] = []
    for start in range(0, len(pairs), 500):
        async with unit_of_work(sessions) as session:
            requests = [IssueRequest(account=account, card=card) for card, account in pairs[start : start + 500]]
            results = await service.issue_many(session, requests, settings=fixture.settings)
        issued += [result for result in results if not isinstance(result, MedCardError)]
    await engine.dispose()
    path.write_text("\n".join(code.code for code in issued) + "\n")  # noqa: ASYNC240 - a small file, between runs


async def reset_floor(connection: asyncpg.Connection, per_thread: int) -> None:
    """Fresh floor rows for the redeem script: 29 + thread (2 digits) + counter (14 digits)."""
    await connection.execute("TRUNCATE floor_code")
    await connection.execute(
        "INSERT INTO floor_code (code, card_id) SELECT '29' || lpad(t::text, 2, '0') || lpad(n::text, 14, '0'),"
        " gen_random_uuid() FROM generate_series(0, $1 - 1) t, generate_series(1, $2) n",
        THREADS,
        per_thread,
    )
    await connection.execute("VACUUM ANALYZE floor_code")


async def settle_statistics(connection: asyncpg.Connection) -> None:
    """VACUUM ANALYZE the app's database before a measured run, as ``reset_floor`` does for the
    floor's table: the seeding and the issue rounds add tens of thousands of rows to tables that
    were empty when the server's statements were first planned, and a run must not measure plans
    made for an empty table (seen: the redeem run seq-scanning ``payment_code`` and
    ``security_profile`` a thousand times). A production database is analysed by autovacuum."""
    await connection.execute("VACUUM ANALYZE")


def median_run(runs: list[Run]) -> Run:
    ordered = sorted(runs, key=lambda run: run.rate)
    return ordered[len(ordered) // 2]


async def run(settings: Settings, args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp(prefix="http-codes-"))
    fixture = await prepare(settings, args.cards, directory)
    dsn = make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    from floor_app import FLOOR_TABLE

    await connection.execute(FLOOR_TABLE)
    await settle_statistics(connection)
    database = Database(connection)
    app_env = {
        "MEDCARD_DATABASE_URL": settings.database_url,
        "MEDCARD_SECRET_KEY": SECRET,
        "MEDCARD_ENVIRONMENT": "test",
        "MEDCARD_SANDBOX_LATENCY_SCALE": "0",
    }
    extra = ["--loop", args.loop, "--http", args.http]
    redeem_items = directory / "redeem.txt"
    connections = args.connections
    results: dict[str, list[Run]] = {key: [] for key in ("app issue", "floor issue", "app redeem", "floor redeem")}
    offset = 0
    staff = {"CODES_STAFF_TOKEN": fixture.staff_token}
    with (
        serving("app", "medcard.app:create_app", app_env, extra) as app,
        serving("floor", "floor_app:create_app", {"FLOOR_DSN": dsn}, extra) as floor,
    ):
        # Warm both: pools filled, statement caches primed, first-request imports done.
        await codes_to_redeem(fixture, 200, offset, redeem_items)
        offset += 200
        await reset_floor(connection, 2000)
        for server, floor_env in ((app, {}), (floor, {"CODES_FLOOR": "1"})):
            await drive(
                "warm",
                server,
                database,
                mode="redeem",
                items=redeem_items,
                seconds=1,
                env=staff | floor_env,
                connections=connections,
            )
            await drive(
                "warm",
                server,
                database,
                mode="issue",
                items=fixture.issue_items,
                seconds=1,
                env={},
                connections=connections,
            )
        expected = 2000
        for round_ in range(args.rounds):
            order = [(app, "app"), (floor, "floor")] if round_ % 2 == 0 else [(floor, "floor"), (app, "app")]
            for server, name in order:
                results[f"{name} issue"].append(
                    await drive(
                        f"{name} issue",
                        server,
                        database,
                        mode="issue",
                        items=fixture.issue_items,
                        seconds=args.seconds,
                        env={},
                        connections=connections,
                    )
                )
            for server, name in order:
                if name == "app":
                    count = min(len(fixture.pairs), int(expected * args.seconds * 1.6) + 200)
                    await codes_to_redeem(fixture, count, offset, redeem_items)
                    offset += count
                    await settle_statistics(connection)
                    env = staff
                else:
                    await reset_floor(connection, 40_000)
                    env = staff | {"CODES_FLOOR": "1"}
                measured = await drive(
                    f"{name} redeem",
                    server,
                    database,
                    mode="redeem",
                    items=redeem_items,
                    seconds=args.seconds,
                    env=env,
                    connections=connections,
                )
                results[f"{name} redeem"].append(measured)
                if name == "app":
                    expected = max(expected, int(measured.rate))
        medians = {key: median_run(runs) for key, runs in results.items()}
        half: list[Run] = []
        for mode in ("issue", "redeem"):
            rate = medians[f"app {mode}"].rate / 2
            delay = max(int(args.connections / rate * 1000 - medians[f"app {mode}"].p50_ms / 2), 0)
            env = {"CODES_DELAY_MS": str(delay)} | staff
            if mode == "redeem":
                await codes_to_redeem(
                    fixture, min(len(fixture.pairs), int(rate * args.seconds * 1.6) + 200), offset, redeem_items
                )
                offset += len(redeem_items.read_text().splitlines())
                await settle_statistics(connection)
            items = fixture.issue_items if mode == "issue" else redeem_items
            half.append(
                await drive(
                    f"app {mode} @ half",
                    app,
                    database,
                    mode=mode,
                    items=items,
                    seconds=args.seconds,
                    env=env,
                    connections=connections,
                )
            )
    await connection.close()
    shutil.rmtree(directory)
    print(
        f"PostgreSQL over HTTP (wrk -t{THREADS} -c{args.connections}, {args.seconds} s a run, median of {args.rounds}"
        f" alternating rounds; uvicorn 1 worker, --loop {args.loop} --http {args.http}), {len(fixture.pairs)} cards,"
        f" load average {os.getloadavg()[0]:.1f}:"
    )
    for key in ("app issue", "floor issue", "app redeem", "floor redeem"):
        print(medians[key].show())
    for mode in ("issue", "redeem"):
        app_run, floor_run = medians[f"app {mode}"], medians[f"floor {mode}"]
        ratios = [a.rate / f.rate for a, f in zip(results[f"app {mode}"], results[f"floor {mode}"], strict=True)]
        print(
            f"  {mode}: ratio to the floor {app_run.rate / floor_run.rate:.2f} (req/s; per round "
            + ", ".join(f"{ratio:.2f}" for ratio in ratios)
            + f"), CPU per request ×{app_run.cpu_us / floor_run.cpu_us:.1f} the floor's"
        )
    print("  at half the saturation rate:")
    for measured in half:
        print(measured.show())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=8000)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--connections", type=int, default=64, help="wrk connections: POS lanes and patient pages in flight at once"
    )
    parser.add_argument("--loop", default="auto", help="uvicorn --loop (auto uses uvloop when installed)")
    parser.add_argument("--http", default="auto", help="uvicorn --http (auto uses httptools when installed)")
    args = parser.parse_args()
    require_wrk()
    settings = fresh_postgres_settings()
    asyncio.run(run(settings, args))


if __name__ == "__main__":
    main()
