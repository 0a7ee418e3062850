"""Kiosk refusals, each with a stable code, zh-CN and English text and a hint for the kiosk.

A forged, stale or frozen/cancelled card's display code is refused by the card core
(``CARD_QR_INVALID``, ``CARD_QR_STALE``, ``CARD_NOT_ACTIVE``) before these apply."""

from __future__ import annotations

from medcard.errors import MedCardError, NotFound
from medcard.i18n import N_, NC_


class CardNotFound(NotFound):
    """No card of this kiosk's hospital matches (also when it belongs to another hospital)."""

    code = "CARD_NOT_FOUND"
    message = N_("No health card of this hospital matches")
    hint = N_("Check that the patient shows this hospital's health card.")


class CardPendingActivation(MedCardError):
    """R-ID-06: the hospital wants the holder seen in person with the original ID card first."""

    status = 409
    code = "CARD_PENDING_ACTIVATION"
    message = N_("This card is not activated yet")
    hint = N_("This hospital requires in-person activation: place the original ID card on the reader first.")


class CardAlreadyActive(MedCardError):
    status = 409
    code = "CARD_ALREADY_ACTIVE"
    message = N_("This card is already active")
    hint = N_("You can issue the physical card or use other services right away.")


class ActivationDocumentMismatch(MedCardError):
    """R-ID-06: the ID card on the reader is not the card holder's."""

    status = 403
    code = "ACTIVATION_DOCUMENT_MISMATCH"
    message = N_("The ID card does not match the health card's document number")
    hint = N_("The card holder must place their own original ID card; if it was replaced, go to a service window.")


class ReissueReasonRequired(MedCardError):
    """R-CARD-08: one physical card per e-card; replacing it needs a reason."""

    status = 409
    code = "PHYSICAL_CARD_REISSUE_REASON_REQUIRED"
    message = N_("A physical card was already issued; a replacement needs a reason")
    hint = N_("Choose why it is replaced (lost, damaged, details changed, other); the old card stops working.")


class PhysicalCardRequired(MedCardError):
    """R-CARD-11: printing records, special exams and the insurance fee list need the physical card."""

    status = 409
    code = "PHYSICAL_CARD_REQUIRED"
    message = N_("“{service_en}” needs a physical card")
    hint = N_("Issue a physical card first with “Issue physical card”, then try again.")


class KioskServiceUnknown(NotFound):
    # Slugs in the hint are what an API client sends; the kiosk page only offers the three.
    code = "KIOSK_SERVICE_UNKNOWN"
    message = N_("The kiosk offers no such service")
    hint = N_("Available: print_records, special_exam_registration, print_insurance_fee_list.")


class FeePaymentRequired(MedCardError):
    status = 422
    code = "CARD_FEE_PAYMENT_REQUIRED"
    message = N_("Choose how the card fee is paid first")
    hint = NC_(
        "CARD_FEE_PAYMENT_REQUIRED",
        "Pay by the payment channel, from the deposit, or choose to pay at the window; the card is issued after that.",
    )
