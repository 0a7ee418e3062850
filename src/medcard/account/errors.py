"""Errors of the patient's own account."""

from __future__ import annotations

from medcard.errors import MedCardError
from medcard.i18n import N_


class ConsentRequired(MedCardError):
    status = 403
    code = "CONSENT_REQUIRED"
    message = N_("Please read and accept the terms, the privacy policy and the consent to process personal information")
    hint = N_("Accept them to go on with the verification")


class ConsentVersionStale(MedCardError):
    status = 409
    code = "CONSENT_VERSION_STALE"
    message = N_("The agreements changed; read the current version and accept it")
    hint = N_("Reload the page to see the current version")


class DeletionNotConfirmed(MedCardError):
    status = 400
    code = "DELETION_NOT_CONFIRMED"
    message = N_("Type DELETE to delete the account")
    hint = N_("Deletion cannot be undone")
