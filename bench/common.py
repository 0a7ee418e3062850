"""What the benchmarks share: an empty, migrated database to measure on."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.pool import NullPool

from medcard.config import Settings
from medcard.db import make_engine
from medcard.kit.clock import clock
from medcard.migrate import upgrade
from medcard.models import Account, Person

SECRET = "bench-secret-0123456789abcdef0123456789abcdef"


def bench_settings(database_url: str) -> Settings:
    """Test-mode settings with zero-latency sandboxes: the figures are MedCard + the database."""
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET,
        sandbox_latency_scale=0.0,
        _env_file=None,  # type: ignore[call-arg]
    )


# A complete card application form (the 18 fields less those taken from the verified identity).
CARD_FORM = {
    "ethnicity": "汉族",
    "phone": "13912345678",
    "region_code": "110101",
    "address": "北京市东城区示范路1号3单元502",
    "postal_code": "100010",
    "occupation": "professional",
    "employer": "京华软件有限公司",
    "marital_status": "married",
    "education": "bachelor",
    "emergency_name": "李四",
    "emergency_phone": "13700001111",
    "emergency_relation": "spouse",
}


def verified_account(number: str, born: date, *, openid: str) -> tuple[Person, Account]:
    """A real-name verified person and its account (benchmarks time what follows, not this)."""
    person = Person(
        document_type="resident_id",
        document_number=number,
        name="测试患者",
        gender="M" if int(number[16]) % 2 else "F",
        birth_date=born,
        phone="13912345678",
        verified_at=clock.now(),
        verification_method="face",
    )
    return person, Account(id=uuid.uuid4(), openid=openid, person=person)


async def _recreate_postgres(url: str) -> None:
    target = make_url(url)
    admin_url = target.set(database="postgres").render_as_string(hide_password=False)
    admin = Settings(database_url=admin_url, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    await engine.dispose()


def fresh_postgres_settings() -> Settings:
    """The settings of the PostgreSQL database ``MEDCARD_DATABASE_URL`` names, dropped, recreated
    and migrated (exits when it names none)."""
    url = os.environ.get("MEDCARD_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        raise SystemExit("set MEDCARD_DATABASE_URL to a PostgreSQL database (it is dropped and recreated)")
    settings = bench_settings(url)
    fresh_database(settings)
    return settings


def fresh_database(settings: Settings, source: str | None = None) -> None:
    """Drop and recreate the benchmark database (PostgreSQL) and migrate it to head — by the
    checkout whose ``src`` folder is ``source`` (its own migrations, in a process of its own), or
    by this one.

    Recreating rather than downgrading keeps the benchmark independent of what an older
    schema left behind. SQLite benchmarks pass a new temporary file instead.
    """
    if not settings.is_sqlite:
        asyncio.run(_recreate_postgres(settings.database_url))
    if source is None:
        upgrade(settings)
        return
    migrate = "from medcard.config import Settings; from medcard.migrate import upgrade; upgrade(Settings())"
    subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", migrate],
        check=True,
        env={**os.environ, "PYTHONPATH": source, "MEDCARD_DATABASE_URL": settings.database_url},
    )


def old_database(settings: Settings, source: str) -> Settings:
    """``<database>_old`` beside the benchmark's database, made fresh by the checkout whose
    ``src`` folder is ``source`` (``bench/payments_ab.py --own-databases``)."""
    url = make_url(settings.database_url)
    old = settings.model_copy(update={"database_url": url.set(database=f"{url.database}_old").render_as_string(False)})
    fresh_database(old, source)
    return old


TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A loopback port nobody listens on (for the servers a benchmark starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process, 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            values = stat.read().rsplit(")", 1)[1].split()
        return (int(values[11]) + int(values[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


HERE = Path(__file__).resolve().parent


def tree_pids(root: int) -> list[int]:
    """``root`` and its children (uvicorn's worker processes, if any)."""
    pids = [root]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == root:
            pids.append(int(pid))
    return pids


@dataclass
class Server:
    """A uvicorn process serving ``target`` on a free port."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    beside: list[int] = field(default_factory=list)
    """Processes doing the server's background work (its audit sealer, its job worker): their
    CPU is its own."""

    def cpu(self) -> float:
        return sum(process_cpu(pid) for pid in [*tree_pids(self.process.pid), *self.beside])


def wait_for_port(name: str, port: int, *, tries: int = 300) -> None:
    """Until a server accepts connections on ``port`` (0.1 s apart), else exit naming it."""
    for _ in range(tries):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{name} did not start")


@contextmanager
def beside(env: dict[str, str], *arguments: str) -> Iterator[subprocess.Popen[bytes]]:
    """A ``medcard`` command doing an app's background work in a process of its own (``audit
    seal --every 1``, ``worker``), stopped with SIGTERM: a benchmark started in the background by
    a shell inherits SIGINT ignored, and so would its helpers (Ctrl-C would not stop them)."""
    command = [str(Path(sys.executable).with_name("medcard")), *arguments]
    process = subprocess.Popen(command, cwd=HERE, env={**os.environ, **env}, stdout=subprocess.DEVNULL)  # noqa: S603
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # left running, it would distort the next run's figures
            process.kill()
            process.wait()


@contextmanager
def serving(name: str, target: str, env: dict[str, str], extra: list[str] | None = None) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", target, "--port", str(port), "--no-access-log"]
    command += ["--log-level", "warning", *(extra or [])]
    process = subprocess.Popen(command, cwd=HERE, env={**os.environ, **env})  # noqa: S603 - our own command
    try:
        wait_for_port(name, port)
        yield Server(name, process, port)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
