"""Refusals of the request guards (CSRF / origin check, body size), before any route runs."""

from __future__ import annotations

from medcard.errors import MedCardError
from medcard.i18n import N_


class CsrfRefused(MedCardError):
    """An unsafe request without proof that it came from one of our own pages (R-SEC-05/08)."""

    status = 403
    code = "CSRF_REFUSED"
    message = N_("The request did not come from this site's own page and was refused")
    hint = N_(
        "Go back to the page on this site, reload it and submit again. If you did not do this, another site may have "
        "tried to act with your login; no change was made."
    )


class BodyTooLarge(MedCardError):
    """A request body over the route's limit, refused before it is read in full."""

    status = 413
    code = "BODY_TOO_LARGE"
    message = N_("The request body is too large (limit {limit_kib} KB)")
    hint = N_("Send less data (for example, compress the photo) and try again.")
