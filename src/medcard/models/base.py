"""Declarative base, naming convention and portable column types."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, MetaData, Text, TypeDecorator, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from medcard.kit import keys
from medcard.kit.clock import clock
from medcard.kit.ids import new_id

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EncryptedText(TypeDecorator[str]):
    """A sensitive text column encrypted at rest with SM4-GCM (R-SEC-08): the database holds
    ``v1:<base64(nonce || ciphertext || tag)>``, bound to ``context`` (``"table.column"``) as
    associated data. Each write draws a fresh nonce, so SQL cannot compare these columns: an
    equality lookup goes through the column's blind index instead, and any comparison in a query
    raises rather than silently matching nothing (``IS NULL`` is allowed)."""

    impl = Text
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator[str]):  # noqa: N801 - SQLAlchemy's hook name
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op.__name__ not in {"is_", "is_not"}:
                raise TypeError(f"an encrypted column cannot be compared in SQL ({op.__name__}); use its blind index")
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            raise TypeError(f"an encrypted column cannot be compared in SQL ({op.__name__}); use its blind index")

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def __repr__(self) -> str:  # how Alembic writes the type into the migration
        return f"EncryptedText({self.context!r})"

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keys.active().encrypt(value.encode(), self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keys.active().decrypt(value, self.context).decode()


class EncryptedJSON(TypeDecorator[dict[str, Any]]):
    """A JSON object encrypted like :class:`EncryptedText` (a card draft holds a whole form)."""

    impl = Text
    cache_ok = True
    comparator_factory = EncryptedText.comparator_factory

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def __repr__(self) -> str:  # how Alembic writes the type into the migration
        return f"EncryptedJSON({self.context!r})"

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        plaintext = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return keys.active().encrypt(plaintext.encode(), self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> dict[str, Any] | None:
        if value is None:
            return None
        loaded: dict[str, Any] = json.loads(keys.active().decrypt(value, self.context))
        return loaded


ENCRYPTED_TYPES = (EncryptedText, EncryptedJSON)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return clock.now()


class Base(DeclarativeBase):
    """Every table: a UUID primary key and a creation time."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSONType}

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
