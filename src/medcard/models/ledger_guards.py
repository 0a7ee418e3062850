"""What the database itself refuses in the journal (R-PAY-01, issue 8): a posting is never
edited or deleted, a resolved (posted or voided) entry is never changed or deleted, and on
PostgreSQL every entry's postings sum to zero when its transaction commits (a deferred
constraint trigger, so an entry's legs may be inserted by several statements).

SQLite has no deferred triggers: there the immutability triggers apply and the balance is
checked by the ledger service (and the invariant tests) only. The initial migration installs
these (``migrations/script.py.mako``); they are not model metadata, so autogenerate does not
see them."""

from __future__ import annotations

from alembic.operations import Operations

POSTGRESQL = (
    """
    CREATE OR REPLACE FUNCTION ledger_posting_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger: a posting is never edited or deleted (entry %)', OLD.entry_id
            USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """,
    """
    CREATE TRIGGER posting_immutable BEFORE UPDATE OR DELETE ON posting
        FOR EACH ROW EXECUTE FUNCTION ledger_posting_immutable()
    """,
    """
    CREATE OR REPLACE FUNCTION ledger_entry_resolved_once() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.state <> 'pending' THEN
            RAISE EXCEPTION 'ledger: a % entry is never edited or deleted (entry %)', OLD.state, OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER journal_entry_resolved_once BEFORE UPDATE OR DELETE ON journal_entry
        FOR EACH ROW EXECUTE FUNCTION ledger_entry_resolved_once()
    """,
    """
    CREATE OR REPLACE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        total bigint;
    BEGIN
        SELECT coalesce(sum(amount_fen), 0) INTO total FROM posting WHERE entry_id = NEW.entry_id;
        IF total <> 0 THEN
            RAISE EXCEPTION 'ledger: the postings of entry % sum to % fen, not 0', NEW.entry_id, total
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE CONSTRAINT TRIGGER posting_entry_balanced AFTER INSERT ON posting
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced()
    """,
)

SQLITE = (
    """
    CREATE TRIGGER posting_no_update BEFORE UPDATE ON posting
    BEGIN SELECT RAISE(ABORT, 'ledger: a posting is never edited or deleted'); END
    """,
    """
    CREATE TRIGGER posting_no_delete BEFORE DELETE ON posting
    BEGIN SELECT RAISE(ABORT, 'ledger: a posting is never edited or deleted'); END
    """,
    """
    CREATE TRIGGER journal_entry_no_update BEFORE UPDATE ON journal_entry WHEN OLD.state <> 'pending'
    BEGIN SELECT RAISE(ABORT, 'ledger: a resolved entry is never edited or deleted'); END
    """,
    """
    CREATE TRIGGER journal_entry_no_delete BEFORE DELETE ON journal_entry WHEN OLD.state <> 'pending'
    BEGIN SELECT RAISE(ABORT, 'ledger: a resolved entry is never edited or deleted'); END
    """,
)

DROP_POSTGRESQL = (
    "DROP TRIGGER IF EXISTS posting_entry_balanced ON posting",
    "DROP TRIGGER IF EXISTS journal_entry_resolved_once ON journal_entry",
    "DROP TRIGGER IF EXISTS posting_immutable ON posting",
    "DROP FUNCTION IF EXISTS ledger_entry_balanced()",
    "DROP FUNCTION IF EXISTS ledger_entry_resolved_once()",
    "DROP FUNCTION IF EXISTS ledger_posting_immutable()",
)
DROP_SQLITE = tuple(
    f"DROP TRIGGER IF EXISTS {name}"
    for name in ("posting_no_update", "posting_no_delete", "journal_entry_no_update", "journal_entry_no_delete")
)


def install(op: Operations) -> None:
    """Create the guards for the migrated database's dialect."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL if postgres else SQLITE:
        op.execute(statement)


def uninstall(op: Operations) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in DROP_POSTGRESQL if postgres else DROP_SQLITE:
        op.execute(statement)
