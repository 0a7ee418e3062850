"""Guard tests reuse the code fixtures (a logged-in holder with a card)."""

from tests.codes.conftest import holder

__all__ = ["holder"]
