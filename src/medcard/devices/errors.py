"""Device and step-up errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from medcard.errors import MedCardError
from medcard.i18n import N_


class StepUpRequired(MedCardError):
    """An abnormal login (new device, new region, impossible travel) asks for a second factor
    before sensitive actions (R-SEC-04/06)."""

    status = 403
    code = "STEP_UP_REQUIRED"
    message = N_("This login needs a second verification")
    hint = N_(
        "A new device or region was detected. Verify with fingerprint / face ID, or verify your identity again, "
        "under Security → Second verification, then try again."
    )


class StepUpFailed(MedCardError):
    status = 403
    code = "STEP_UP_FAILED"
    message = N_("The second verification failed")
    hint = N_("Try fingerprint / face ID on this device again, or verify your identity again instead.")


class AuthenticatorRegistrationFailed(MedCardError):
    status = 400
    code = "WEBAUTHN_REGISTRATION_FAILED"
    message = N_("The fingerprint / face ID could not be registered")
    hint = N_("Try again; this device needs a fingerprint or face sensor.")


class ChallengeMissing(MedCardError):
    status = 409
    code = "WEBAUTHN_CHALLENGE_MISSING"
    message = N_("The verification request has expired")
    hint = N_("Start the verification again.")


class SignCountRegressed(MedCardError):
    """The authenticator's counter went back: a cloned authenticator (R-SEC-04)."""

    status = 403
    code = "WEBAUTHN_SIGN_COUNT_REGRESSED"
    message = N_("The authenticator's counter went backwards; refused")
    hint = N_("The authenticator may have been cloned. Unbind the device and verify your identity again.")


class NoAuthenticatorOnDevice(MedCardError):
    status = 409
    code = "WEBAUTHN_NONE_ON_DEVICE"
    message = N_("No fingerprint / face ID is registered on this device")
    hint = N_("Verify your identity again (face or SMS) to complete the second verification.")
