"""Two checkouts' payment paths side by side (ADR 0012, ninth round): the machine is shared and
its speed drifts by a quarter within minutes, so two runs of ``bench/payments.py`` minutes apart
cannot tell a 10% change. Here both apps serve the same database at once, each with its own audit
sealer and job worker, and ``wrk`` drives them in turn (A B B A …) for short rounds; each pair of
neighbouring rounds gives one ratio, and the median of the ratios is printed with every round.

    git worktree add /tmp/old <commit>
    MEDCARD_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/medcard_bench \\
        .venv/bin/python bench/payments_ab.py --old /tmp/old/src [--rounds 8] [--seconds 4]

``--old`` is the ``src`` folder of the other checkout (its app runs with that on PYTHONPATH); the
schema is migrated by this checkout, so both must agree on it — or, with ``--own-databases``,
the old side gets a database of its own (``<name>_old``) migrated by its checkout, so that a
schema change (a migration) is compared too; both are on the same server. ``--old src --new-env
MEDCARD_PAYMENT_GATEWAY_IN_FLIGHT=1`` compares a setting instead (this checkout on both sides).
The database is dropped and recreated. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

import asyncpg
from common import fresh_postgres_settings, old_database
from payments import Bills, Run, drive, payment_app_env, prepare, serving_app
from sqlalchemy import make_url

from medcard.config import Settings


async def seeded(settings: Settings, patients: int) -> tuple[Bills, asyncpg.Connection]:
    """The database's patients' bills, and a connection to it for VACUUM and its backends' CPU."""
    bills = Bills(await prepare(settings, patients))
    dsn = make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    return bills, await asyncpg.connect(dsn)


async def run(settings: Settings, old_settings: Settings, args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-payments-ab-"))
    # Each side's database: one for both, or (--own-databases) the old side's own, migrated by
    # its checkout, so that a schema change is compared too; each seeded with its patients.
    bills, admins = {}, {}
    bills["new"], admins["new"] = await seeded(settings, args.patients)
    same = old_settings is settings
    bills["old"], admins["old"] = (bills["new"], admins["new"]) if same else await seeded(old_settings, args.patients)
    sides = {"old": payment_app_env(old_settings, args.old), "new": payment_app_env(settings)}
    sides["new"].update(setting.split("=", 1) for setting in args.new_env)
    results: dict[str, list[Run]] = {"old": [], "new": []}
    with serving_app("old", sides["old"]) as old, serving_app("new", sides["new"]) as new:
        servers = {"old": old, "new": new}
        warm = argparse.Namespace(**{**vars(args), "seconds": 1})
        for name, server in servers.items():
            lines = bills[name].take(args.connections * 40, directory / f"{name}.txt")
            await drive(name, server, admins[name], lines, warm)
        expected = 1500
        for round_ in range(args.rounds):
            for name in ("old", "new") if round_ % 2 == 0 else ("new", "old"):
                count = int(expected * args.seconds * 1.25) + args.connections * 4
                items = bills[name].take(count, directory / "ab.txt")
                await admins[name].execute("VACUUM ANALYZE")
                measured = await drive(name, servers[name], admins[name], items, args)
                expected = max(expected, int(measured.rate))
                results[name].append(measured)
                print(f"round {round_ + 1}: {measured.show()}", flush=True)
    for admin in set(admins.values()):
        await admin.close()
    ratios = [new.rate / old.rate for old, new in zip(results["old"], results["new"], strict=True)]
    cpu = [new.cpu_us / old.cpu_us for old, new in zip(results["old"], results["new"], strict=True)]
    print(
        f"new / old payments/s: median {statistics.median(ratios):.3f} (per round "
        f"{', '.join(f'{r:.2f}' for r in ratios)}); CPU per payment new / old: median {statistics.median(cpu):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", required=True, help="the other checkout's src folder (this one's: settings A/B)")
    parser.add_argument(
        "--new-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the new side only (a setting to compare)",
    )
    parser.add_argument(
        "--own-databases",
        action="store_true",
        help="the old side on a database of its own, migrated by its checkout (to compare a schema change)",
    )
    parser.add_argument("--patients", type=int, default=4000)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    args.old = str(Path(args.old).resolve())
    settings = fresh_postgres_settings()
    old_settings = old_database(settings, args.old) if args.own_databases else settings
    asyncio.run(run(settings, old_settings, args))


if __name__ == "__main__":
    main()
