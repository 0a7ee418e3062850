"""Authentication errors."""

from __future__ import annotations

from medcard.errors import MedCardError
from medcard.i18n import N_


class InvalidCredentials(MedCardError):
    status = 401
    code = "AUTH_INVALID_CREDENTIALS"
    message = N_("Wrong username or password")
    hint = N_("Check and try again; ask an administrator if it keeps failing.")


class OAuthCodeRejected(MedCardError):
    status = 401
    code = "AUTH_OAUTH_CODE_INVALID"
    message = N_("The authorisation has expired")
    hint = N_("Tap “Log in with WeChat” again.")


class AccountFrozen(MedCardError):
    status = 403
    code = "ACCOUNT_FROZEN"
    message = N_("The account is frozen")
    hint = N_("To unfreeze it, bring your ID to a service window or call the hotline.")


class StaffNotFound(MedCardError):
    status = 404
    code = "STAFF_NOT_FOUND"
    message = N_("No such staff account")
    hint = N_("Check the username; you can unlock staff accounts of your own hospital only.")
