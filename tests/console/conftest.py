"""Console tests reuse the code fixtures (a logged-in holder with a card, POS logins)."""

from tests.codes.conftest import cashier, holder

__all__ = ["cashier", "holder"]
