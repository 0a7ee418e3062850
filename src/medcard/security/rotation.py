"""Re-encrypting the encrypted columns under the newest data key (``medcard keys rotate``, R-SEC-08).

Rotation works in batches, each its own transaction with an audit row: a batch selects rows
holding at least one value under an older key version, reads them (any configured version
decrypts) and writes them back (the newest version encrypts). Rows already rotated never match
again, so an interrupted rotation simply resumes where it stopped, and the service keeps
reading and writing meanwhile. Blind indexes do not change: their key is not a data key.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Column, Table, Text, bindparam, or_, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit.service import Actor, record
from medcard.errors import present
from medcard.kit import keys
from medcard.models import Base
from medcard.models.base import ENCRYPTED_TYPES


@dataclass(frozen=True)
class EncryptedTable:
    """A table with encrypted columns, and the ORM class that maps it (the audit subject)."""

    table: Table
    columns: tuple[Column[object], ...]
    model: type[Base]


def encrypted_tables() -> list[EncryptedTable]:
    """Every table with at least one SM4-GCM column, in dependency order."""
    models = {mapper.local_table: mapper.class_ for mapper in Base.registry.mappers}
    found = []
    for table in Base.metadata.sorted_tables:
        columns = tuple(column for column in table.columns if isinstance(column.type, ENCRYPTED_TYPES))
        if columns:
            found.append(EncryptedTable(table=table, columns=columns, model=models[table]))
    return found


def _stored(column: Column[object]) -> Column[str]:
    """The column as the database holds it (the ciphertext text, not decrypted)."""
    return type_coerce(column, Text)  # type: ignore[return-value]


async def rotate_batch(session: AsyncSession, *, target: EncryptedTable, batch_size: int = 500) -> int:
    """Re-encrypt up to ``batch_size`` rows of ``target`` that hold a value under an older key
    version; audit the batch. Returns how many rows were rewritten (0: the table is done)."""
    current = keys.active().current
    table, columns = target.table, target.columns
    stale = or_(*(_stored(column).not_like(f"{current}:%") for column in columns))
    query = select(table.c.id, *columns).where(stale).order_by(table.c.id).limit(batch_size)
    rows = (await session.execute(query)).all()
    if not rows:
        return 0
    # Writing the plaintext back through the column types encrypts it under the current version.
    # An ``onupdate`` column (updated_at) keeps its value: re-encryption does not change the data.
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id", type_=table.c.id.type))
        .values(
            {column: bindparam(f"new_{column.name}", type_=column.type) for column in columns}
            | {column: column for column in table.columns if column.onupdate is not None}
        )
    )
    parameters = [
        {"row_id": row.id} | {f"new_{column.name}": row._mapping[column] for column in columns} for row in rows
    ]
    await session.execute(statement, parameters)
    subject = present(await session.get(target.model, rows[-1].id), "rotated row")
    await record(
        session,
        actor=Actor.system("keys rotate"),
        action="keys.rotate",
        subject=subject,
        details={"table": table.name, "rows": len(rows), "key_version": current},
    )
    return len(rows)


async def version_counts(session: AsyncSession) -> dict[str, Counter[str]]:
    """How many stored values each key version holds, per ``table.column`` (``keys status``)."""
    counts: dict[str, Counter[str]] = {}
    for target in encrypted_tables():
        for column in target.columns:
            stored = await session.scalars(select(_stored(column)).where(column.is_not(None)))
            counts[f"{target.table.name}.{column.name}"] = Counter(keys.version_of(value) for value in stored)
    return counts
