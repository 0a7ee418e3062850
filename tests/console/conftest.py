"""Console tests reuse the code fixtures (a logged-in holder with a card, POS logins)."""

from tests.codes.conftest import cashier, holder
from tests.insurance.conftest import make_patient, policy

__all__ = ["cashier", "holder", "make_patient", "policy"]
