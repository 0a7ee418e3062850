"""R-INS-09: every binding error has a stable code, zh-CN and English text and a hint."""

from __future__ import annotations

from medcard.i18n import translate
from medcard.insurance.errors import TAXONOMY


def test_r_ins_09_every_error_has_code_texts_and_hint() -> None:
    codes = [error.code for error in TAXONOMY]
    assert len(codes) == len(set(codes))
    for error in TAXONOMY:
        assert error.code.startswith("INS_") and error.code.isupper()
        assert error.message and error.hint, error.code
        for text in (error.message, error.hint):  # zh-CN from the catalog, English as written
            assert translate("zh", text) != text and translate("en", text) == text, error.code
        assert error.category != "other" or error.code == "INS_ALREADY_BOUND"


def test_r_ins_09_the_three_largest_problem_categories_exist() -> None:
    categories = {error.category for error in TAXONOMY}
    assert {"face", "card_number", "region"} <= categories
