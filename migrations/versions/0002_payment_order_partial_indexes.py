"""payment_order: partial indexes, no index of account_id alone

An order enters only the indexes it is found by: pending orders the expiry index, orders with a
deferred reimbursement the reimbursement index, mutual-aid orders the grant index. The unique key
(account_id, request_key) serves the account's lookups. Writing an order touches 7 indexes
instead of 10, moving it to paid 6 instead of 10 (docs/adr/0012-payments-throughput.md, eighth
round).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL = {
    "ix_payment_order_pending": ("expires_at", "state = 'pending'"),
    "ix_payment_order_reimburse_on": ("reimburse_on", "reimburse_on IS NOT NULL"),
    "ix_payment_order_mutual_aid_grant_id": ("mutual_aid_grant_id", "mutual_aid_grant_id IS NOT NULL"),
}


def upgrade() -> None:
    op.drop_index("ix_payment_order_account_id", table_name="payment_order")
    for name, (column, where) in PARTIAL.items():
        op.drop_index(name, table_name="payment_order")
        op.create_index(name, "payment_order", [column], postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def downgrade() -> None:
    for name in PARTIAL:
        op.drop_index(name, table_name="payment_order")
    op.create_index("ix_payment_order_pending", "payment_order", ["state", "expires_at"])
    op.create_index("ix_payment_order_reimburse_on", "payment_order", ["reimburse_on"])
    op.create_index("ix_payment_order_mutual_aid_grant_id", "payment_order", ["mutual_aid_grant_id"])
    op.create_index("ix_payment_order_account_id", "payment_order", ["account_id"])
