"""``db.json_text`` (orjson) writes what ``json.dumps`` with the options it replaced wrote: the
stored JSON columns, the audit details and the idempotency store's answers stay byte for byte
as before — except a float's digits: orjson writes the same number in its own shortest form
(``1e-05`` as ``0.00001``), which reads back equal (money is integer fen; no stored value is a
float whose text anyone compares)."""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from medcard.db import json_text


def reference(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class Scheme(enum.StrEnum):
    EMPLOYEE = "310"


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.uuids()
    | st.datetimes(timezones=st.just(datetime.UTC))
    | st.dates()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.just(Scheme.EMPLOYEE)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(min_value=0, max_value=99), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.lists(VALUES, max_size=3) | st.dictionaries(st.text(max_size=8), VALUES, max_size=4) | SCALARS)
def test_json_text_writes_what_json_dumps_wrote(value: Any) -> None:
    written = json_text(value)
    if value is None:
        assert written is None
    elif _has_float(value):
        assert written is not None and json.loads(written) == json.loads(reference(value))
    else:
        assert written == reference(value)


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(item) for item in value.values())
    return isinstance(value, list) and any(_has_float(item) for item in value)


def test_a_float_is_the_same_number_in_other_digits() -> None:
    """The one difference, pinned: orjson's digits for a small float."""
    assert (json_text(1e-05), reference(1e-05)) == ("0.00001", "1e-05")
    assert json_text([0.5, 2.0]) == reference([0.5, 2.0]) == "[0.5,2.0]"


def test_json_text_keeps_none_a_null_column() -> None:
    assert json_text(None) is None
    assert json_text({"a": None, "when": datetime.date(2026, 12, 1), "id": uuid.UUID(int=1),
                      "fen": decimal.Decimal("1.20"), "名": "统筹"}) == (
        '{"a":null,"when":"2026-12-01","id":"00000000-0000-0000-0000-000000000001","fen":"1.20","名":"统筹"}'
    )  # fmt: skip
