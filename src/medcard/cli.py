"""The ``medcard`` command: serve, migrate, load demo data."""

from __future__ import annotations

import asyncio

import typer

from medcard.config import Settings, get_settings

app = typer.Typer(help="MedCard: electronic health card platform.", no_args_is_help=True)


def _settings() -> Settings:
    """The deployment's settings, and the process's logging configured by them as the app's is
    (``medcard.observability``: JSON lines in production, tracebacks as plain text without local
    variables): ``medcard worker`` and ``medcard audit seal --every`` log as the app does."""
    from medcard.observability import configure_logging

    settings = get_settings()
    configure_logging(settings)
    return settings


db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default: the newest)."""
    from medcard.migrate import upgrade

    upgrade(_settings(), revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Migrate the database back to ``revision`` (``base`` empties it)."""
    from medcard.migrate import downgrade

    downgrade(_settings(), revision)
    typer.echo(f"database at {revision}")


@app.command("demo-data")
def demo_data() -> None:
    """Load the demo region, hospitals and staff accounts (idempotent)."""
    from medcard.db import make_engine, make_sessionmaker, unit_of_work
    from medcard.demo import DEMO_PASSWORD, load

    async def run() -> None:
        engine = make_engine(_settings())
        async with unit_of_work(make_sessionmaker(engine)) as session:
            summary = await load(session)
        await engine.dispose()
        typer.echo(f"region {summary.region.name_zh}; hospitals: " + ", ".join(h.name_zh for h in summary.hospitals))
        typer.echo("staff logins (password: " + DEMO_PASSWORD + "): " + ", ".join(s.username for s in summary.staff))

    asyncio.run(run())


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    reload: bool = False,
    workers: int = typer.Option(1, min=1, help="Worker processes sharing the port (e.g. one per core)."),
    loop: str = typer.Option("auto", help="Event loop: auto (uvloop when installed), uvloop or asyncio."),
    http: str = typer.Option("auto", help="HTTP parser: auto (httptools when installed), httptools or h11."),
    graceful_seconds: int = typer.Option(30, min=0, help="On SIGTERM, how long requests in flight may finish."),
) -> None:
    """Serve the app (sandbox adapters unless configured otherwise). Several workers share one
    socket with TCP_NODELAY on every connection (plain `uvicorn --workers` stalls ~40 ms a response
    on the asyncio loop; see medcard.serving)."""
    from medcard.serving import serve as run

    typer.echo(f"MedCard on http://{host}:{port}/  (patient: /login · staff: /console/login · kiosk: /kiosk)")
    run(host=host, port=port, workers=workers, reload=reload, loop=loop, http=http, graceful_seconds=graceful_seconds)


@app.command()
def worker(
    once: bool = typer.Option(False, "--once", help="Run the jobs due now, then exit."),
    interval: float = typer.Option(1.0, help="Seconds to wait when nothing is due."),
) -> None:
    """Run durable scheduled work (payment expiry, deferred reimbursement, notifications). Any
    number of workers may run beside the app's in-process one: each job runs once."""
    from medcard.adapters import sandbox_adapters
    from medcard.db import make_engine, make_sessionmaker
    from medcard.jobs.worker import Worker

    async def run() -> int:
        settings = _settings()
        engine = make_engine(settings)
        runner = Worker(make_sessionmaker(engine), settings=settings, adapters=sandbox_adapters(settings))
        try:
            if once:
                await runner.schedule_periodic(force=True)
                return await runner.drain()
            typer.echo(f"medcard worker: polling every {interval} s (Ctrl-C stops)")
            await runner.run(interval=interval)
            return 0
        finally:
            await engine.dispose()

    try:
        ran = asyncio.run(run())
    except KeyboardInterrupt:
        return
    if once:
        typer.echo(f"ran {ran} jobs")


jobs_app = typer.Typer(help="The durable job queue (what `medcard worker` runs).", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("status")
def jobs_status() -> None:
    """Jobs per kind and state, and the latest failed ones with their errors."""
    from medcard.db import make_engine, make_sessionmaker
    from medcard.jobs.repository import JobRepository

    async def run() -> None:
        engine = make_engine(_settings())
        async with make_sessionmaker(engine)() as session:
            repository = JobRepository(session)
            counts = await repository.counts()
            failed = await repository.failed(limit=20)
        await engine.dispose()
        for kind, state, count in counts:
            typer.echo(f"{kind:<32} {state:<10} {count}")
        for job in failed:
            typer.echo(f"FAILED {job.id} {job.kind} after {job.attempts} attempts: {job.last_error}", err=True)

    asyncio.run(run())


@jobs_app.command("retry")
def jobs_retry(job_id: str) -> None:
    """Put a failed job back in the queue (after fixing what made it fail)."""
    import uuid

    from medcard.db import make_engine, make_sessionmaker, unit_of_work
    from medcard.jobs.repository import JobRepository
    from medcard.kit.clock import clock

    async def run() -> bool:
        engine = make_engine(_settings())
        async with unit_of_work(make_sessionmaker(engine)) as session:
            retried = await JobRepository(session).retry(uuid.UUID(job_id), now=clock.now())
        await engine.dispose()
        return retried

    if not asyncio.run(run()):
        typer.echo("no failed job with that id", err=True)
        raise typer.Exit(code=1)
    typer.echo("queued again")


settlement_app = typer.Typer(help="Settlement: daily reconciliation (R-PAY-08).", no_args_is_help=True)
app.add_typer(settlement_app, name="settlement")


@settlement_app.command("reconcile")
def settlement_reconcile(
    day: str = typer.Option("", help="China date YYYY-MM-DD (default: yesterday)."),
) -> None:
    """Compare the ledger of one day with the channel's and the insurance platform's statements,
    store the report and print every difference with its cause; exit 1 when there are any.
    With the sandboxes, use the finance console instead: the sandboxes live in the server's memory."""
    from datetime import date

    from medcard.adapters import sandbox_adapters
    from medcard.audit.service import Actor
    from medcard.db import make_engine, make_sessionmaker, unit_of_work
    from medcard.kit.clock import clock
    from medcard.kit.money import format_yuan
    from medcard.settlement import reconciliation

    async def run() -> int:
        settings = _settings()
        engine = make_engine(settings)
        which = date.fromisoformat(day) if day else reconciliation.yesterday(clock.now())
        async with unit_of_work(make_sessionmaker(engine)) as session:
            report = await reconciliation.reconcile(session, day=which, adapters=sandbox_adapters(settings),
                                                    actor=Actor.system("cli"))  # fmt: skip
            rows = await reconciliation.differences(session, report_id=report.id)
        await engine.dispose()
        typer.echo(f"{which}: {report.ledger_entries} ledger entries, {report.channel_lines} channel lines, "
                   f"{report.insurance_lines} insurance lines, {len(rows)} differences")  # fmt: skip
        for row in rows:
            amounts = f"ours {format_yuan(row.ours_fen):>10} theirs {format_yuan(row.theirs_fen):>10}"
            typer.echo(
                f"{row.system:<9} {row.movement:<7} {row.kind:<16} {row.reference:<32} {amounts}  {row.cause_en}"
            )
        return len(rows)

    if asyncio.run(run()):
        raise typer.Exit(code=1)


audit_app = typer.Typer(help="The tamper-evident audit log (R-SEC-08).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("seal")
def audit_seal(
    every: float = typer.Option(
        0.0, "--every", min=0.0, help="Keep sealing, this many seconds apart, until stopped (0: once)."
    ),
) -> None:
    """Link every committed audit row into the hash chain now (the app's sealer does it every
    ``MEDCARD_AUDIT_SEAL_INTERVAL_SECONDS``; run this from a scheduler when that is 0). With
    ``--every`` it keeps sealing in its own process, off the web processes' event loops (their
    interval then 0), until interrupted."""
    from medcard.audit import sealer
    from medcard.db import make_engine, make_sessionmaker

    async def run() -> int:
        engine = make_engine(_settings())
        sessions = make_sessionmaker(engine)
        try:
            if every > 0:
                typer.echo(f"medcard audit seal: every {every} s (Ctrl-C stops)")
                await sealer.run(sessions, interval=every)
            return await sealer.seal_pending(sessions)
        finally:
            await engine.dispose()

    try:
        typer.echo(f"sealed {asyncio.run(run())} rows")
    except KeyboardInterrupt:
        return


@audit_app.command("verify")
def audit_verify(
    full: bool = typer.Option(False, "--full", help="Walk the whole chain, not only after the newest checkpoint."),
) -> None:
    """Check every signed checkpoint, then recompute the SM3 hash chain over the sealed rows after
    the newest one that holds (``--full``: over every sealed row); exit 1 if any row was edited or
    deleted, or if rows have waited for the sealer longer than the grace period. Read-only:
    rows not sealed yet are reported as pending, not as broken."""
    from datetime import timedelta

    from medcard.audit.chain import verify
    from medcard.db import make_engine, make_sessionmaker

    async def run() -> bool:
        settings = _settings()
        engine = make_engine(settings)
        async with make_sessionmaker(engine)() as session:
            grace = timedelta(seconds=settings.audit_seal_grace_seconds)
            report = await verify(session, secret=settings.secret_key, grace=grace, full=full)
        await engine.dispose()
        for problem in report.problems[:50]:
            typer.echo(f"BROKEN: {problem}", err=True)
        if report.stale:
            typer.echo(
                f"STALE: {report.stale} rows unsealed for more than {settings.audit_seal_grace_seconds} s "
                "(is the sealer running? `medcard audit seal`)",
                err=True,
            )
        state = "intact" if report.intact else "BROKEN"
        walked = f"after the checkpoint at row {report.start}" if report.start else "from the first row"
        typer.echo(
            f"audit chain: {report.rows} rows, {report.checkpoints} signed checkpoints, {state}; "
            f"{report.pending} pending (not sealed yet); rows checked {walked}"
        )
        return report.healthy

    if not asyncio.run(run()):
        raise typer.Exit(code=1)


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Seal pending rows, then sign the head of the audit chain (run periodically, e.g. every hour)."""
    from medcard.audit.chain import checkpoint
    from medcard.audit.sealer import seal_pending
    from medcard.db import make_engine, make_sessionmaker, unit_of_work

    async def run() -> str:
        settings = _settings()
        engine = make_engine(settings)
        sessions = make_sessionmaker(engine)
        sealed = await seal_pending(sessions)
        async with unit_of_work(sessions) as session:
            mark = await checkpoint(session, secret=settings.secret_key)
            text = f"checkpoint at row {mark.chain_seq}" if mark else "nothing to sign yet"
        await engine.dispose()
        return f"sealed {sealed} rows; {text}"

    typer.echo(asyncio.run(run()))


keys_app = typer.Typer(
    help="Field-encryption keys: SM4-GCM data keys and their rotation (R-SEC-08).", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a fresh random secret for MEDCARD_DATA_KEYS (as the next version) or MEDCARD_BLIND_INDEX_KEY.

    Reads MEDCARD_DATA_KEYS only, so it works before the rest of a production setup is complete."""
    import os

    from medcard.kit.keys import generate_secret, parse_data_keys

    configured = os.environ.get("MEDCARD_DATA_KEYS", "")
    versions = [int(version[1:]) for version in parse_data_keys(configured)] if configured else [1]
    typer.echo(f"v{max(versions) + 1}:{generate_secret()}")


@keys_app.command("status")
def keys_status() -> None:
    """How many stored values each key version holds, per encrypted column."""
    from medcard.db import make_engine, make_sessionmaker
    from medcard.kit import keys
    from medcard.security.rotation import version_counts

    async def run() -> None:
        engine = make_engine(_settings())
        async with make_sessionmaker(engine)() as session:
            counts = await version_counts(session)
        await engine.dispose()
        typer.echo(f"current key version: {keys.active().current}")
        for column, versions in counts.items():
            typer.echo(f"{column}: " + (", ".join(f"{v}={n}" for v, n in sorted(versions.items())) or "empty"))

    asyncio.run(run())


@keys_app.command("rotate")
def keys_rotate(batch_size: int = typer.Option(500, min=1, help="Rows per transaction.")) -> None:
    """Re-encrypt every encrypted value under the newest key version, in audited batches.

    Safe to interrupt and run again: it resumes with the rows still under an older version."""
    from medcard.db import make_engine, make_sessionmaker, unit_of_work
    from medcard.kit import keys
    from medcard.security.rotation import encrypted_tables, rotate_batch

    async def run() -> None:
        engine = make_engine(_settings())
        sessions = make_sessionmaker(engine)
        for target in encrypted_tables():
            total = 0
            while True:
                async with unit_of_work(sessions) as session:
                    done = await rotate_batch(session, target=target, batch_size=batch_size)
                if not done:
                    break
                total += done
            typer.echo(f"{target.table.name}: {total} rows re-encrypted")
        await engine.dispose()
        typer.echo(f"every encrypted value is under {keys.active().current}")

    asyncio.run(run())


if __name__ == "__main__":
    app()
