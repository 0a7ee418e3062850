"""The insured-patient fixtures of the insurance tests, reused by the feedback tests."""

from tests.insurance.conftest import make_patient, policy

__all__ = ["make_patient", "policy"]
