"""The ``medcard`` command: serve, migrate, load demo data."""

from __future__ import annotations

import asyncio

import typer

from medcard.config import get_settings

app = typer.Typer(help="MedCard: electronic health card platform.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default: the newest)."""
    from medcard.migrate import upgrade

    upgrade(get_settings(), revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Migrate the database back to ``revision`` (``base`` empties it)."""
    from medcard.migrate import downgrade

    downgrade(get_settings(), revision)
    typer.echo(f"database at {revision}")


@app.command("demo-data")
def demo_data() -> None:
    """Load the demo region, hospitals and staff accounts (idempotent)."""
    from medcard.db import make_engine, make_sessionmaker, unit_of_work
    from medcard.demo import DEMO_PASSWORD, load

    async def run() -> None:
        engine = make_engine(get_settings())
        async with unit_of_work(make_sessionmaker(engine)) as session:
            summary = await load(session)
        await engine.dispose()
        typer.echo(f"region {summary.region.name_zh}; hospitals: " + ", ".join(h.name_zh for h in summary.hospitals))
        typer.echo("staff logins (password: " + DEMO_PASSWORD + "): " + ", ".join(s.username for s in summary.staff))

    asyncio.run(run())


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, reload: bool = False) -> None:
    """Serve the app (sandbox adapters unless configured otherwise)."""
    import uvicorn

    typer.echo(f"MedCard on http://{host}:{port}/  (patient: /login · staff: /console/login · kiosk: /kiosk)")
    uvicorn.run("medcard.app:create_app", factory=True, host=host, port=port, reload=reload, log_level="info")


audit_app = typer.Typer(help="The tamper-evident audit log (R-SEC-08).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("seal")
def audit_seal() -> None:
    """Link every committed audit row into the hash chain now (the app's sealer does it every
    ``MEDCARD_AUDIT_SEAL_INTERVAL_SECONDS``; run this from a scheduler when that is 0)."""
    from medcard.audit.sealer import seal_pending
    from medcard.db import make_engine, make_sessionmaker

    async def run() -> int:
        engine = make_engine(get_settings())
        sealed = await seal_pending(make_sessionmaker(engine))
        await engine.dispose()
        return sealed

    typer.echo(f"sealed {asyncio.run(run())} rows")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the SM3 hash chain over every sealed audit row; exit 1 if any row was edited or
    deleted, or if rows have waited for the sealer longer than the grace period. Read-only:
    rows not sealed yet are reported as pending, not as broken."""
    from datetime import timedelta

    from medcard.audit.chain import verify
    from medcard.db import make_engine, make_sessionmaker

    async def run() -> bool:
        settings = get_settings()
        engine = make_engine(settings)
        async with make_sessionmaker(engine)() as session:
            grace = timedelta(seconds=settings.audit_seal_grace_seconds)
            report = await verify(session, secret=settings.secret_key, grace=grace)
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
        typer.echo(
            f"audit chain: {report.rows} rows, {report.checkpoints} signed checkpoints, {state}; "
            f"{report.pending} pending (not sealed yet)"
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
        settings = get_settings()
        engine = make_engine(settings)
        sessions = make_sessionmaker(engine)
        sealed = await seal_pending(sessions)
        async with unit_of_work(sessions) as session:
            mark = await checkpoint(session, secret=settings.secret_key)
            text = f"checkpoint at row {mark.chain_seq}" if mark else "nothing to sign yet"
        await engine.dispose()
        return f"sealed {sealed} rows; {text}"

    typer.echo(asyncio.run(run()))


if __name__ == "__main__":
    app()
