"""Errors of the policy console."""

from __future__ import annotations

from medcard.errors import MedCardError
from medcard.i18n import N_


class PolicyNotFound(MedCardError):
    status = 404
    code = "POLICY_NOT_FOUND"
    message = N_("Policy not found")
    hint = N_("Pick a policy from the list.")


class PolicyInvalid(MedCardError):
    status = 422
    code = "POLICY_INVALID"
    message = N_("The policy data is not valid: {reason}")
    hint = N_("Check the JSON and the field values.")


class PolicyBackdated(MedCardError):
    status = 409
    code = "POLICY_BACKDATED"
    message = N_("The effective date cannot be in the past")
    hint = N_("Versions in force are never rewritten; choose today or a later date.")
