"""audit_event: vacuumed and analysed every 20,000 changed rows on PostgreSQL

Every audit row is written twice: inserted unsealed, then sealed by the sealer (a new row
version). The old versions stay in the sealer's backlog index (``ix_audit_event_unsealed``)
until a VACUUM removes them, and every round of the sealer walks past them; the planner's idea
of how many rows are unsealed comes from the last ANALYZE. With PostgreSQL's defaults (20% and
10% of the table) a log of millions of rows waits for hundreds of thousands of changes. A fixed
threshold keeps both small whatever the log's size (docs/adr/0012-payments-throughput.md, tenth
round). Nothing to do on SQLite.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROWS = 20_000
OPTIONS = (
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_threshold",
    "autovacuum_analyze_scale_factor",
    "autovacuum_analyze_threshold",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE audit_event SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = "
            f"{ROWS}, autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = {ROWS})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE audit_event RESET ({', '.join(OPTIONS)})")
