"""audit_event.chain_seq, idempotency_key, unused indexes: fewer index writes a payment

- ``uq_audit_event_chain_seq`` becomes a partial unique index (``chain_seq IS NOT NULL``): an
  audit row is inserted unsealed, and its NULL no longer takes an index entry (two a payment).
- ``idempotency_key`` is found for its purge by ``created_at`` (written once) instead of
  ``finished_at`` (written when the request finishes), and its pages are filled to 20% by
  inserts on PostgreSQL: finishing a key (its stored answer, ~1 kB) changes no indexed column
  and finds room on its page, so PostgreSQL updates it in place (a HOT update: no new entry in
  any of its indexes) instead of writing a new row version and three index entries.
- ``payment_order.card_id`` and ``channel_payment.account_id`` lose their indexes: no query
  looks orders up by card or channel payments by account, and neither cards nor accounts are
  ever deleted (what an index on a foreign key's column is otherwise for). Writing an order and
  moving it to paid touch 6 and 5 indexes instead of 7 and 6; a channel payment 3 instead of 4.

docs/adr/0012-payments-throughput.md, tenth round.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEALED = "chain_seq IS NOT NULL"
KEY_FILLFACTOR = 20


def upgrade() -> None:
    # SQLite cannot drop a table's UNIQUE constraint in place: the batch copies the table (its
    # other indexes, partial ones included, are recreated as they were).
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_constraint("uq_audit_event_chain_seq", type_="unique")
    op.create_index(
        "uq_audit_event_chain_seq",
        "audit_event",
        ["chain_seq"],
        unique=True,
        postgresql_where=sa.text(SEALED),
        sqlite_where=sa.text(SEALED),
    )
    op.drop_index("ix_payment_order_card_id", table_name="payment_order")
    op.drop_index("ix_channel_payment_account_id", table_name="channel_payment")
    op.drop_index("ix_idempotency_key_finished_at", table_name="idempotency_key")
    op.create_index("ix_idempotency_key_created_at", "idempotency_key", ["created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE idempotency_key SET (fillfactor = {KEY_FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE idempotency_key RESET (fillfactor)")
    op.drop_index("ix_idempotency_key_created_at", table_name="idempotency_key")
    op.create_index("ix_idempotency_key_finished_at", "idempotency_key", ["finished_at"])
    op.create_index("ix_channel_payment_account_id", "channel_payment", ["account_id"])
    op.create_index("ix_payment_order_card_id", "payment_order", ["card_id"])
    op.drop_index("uq_audit_event_chain_seq", table_name="audit_event")
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.create_unique_constraint("uq_audit_event_chain_seq", ["chain_seq"])
