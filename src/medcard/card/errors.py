"""Card errors: stable codes, zh-CN + English text and a self-help hint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from medcard.card.rules import FIELD_LABELS, FieldProblem
from medcard.errors import MedCardError
from medcard.i18n import N_


class CardFieldInvalid(MedCardError):
    """One or more form fields break a rule; every problem is listed, the first one named by ``field``."""

    status = 400
    code = "CARD_FIELD_INVALID"
    message = N_("{field_en}: {reason_en}")
    hint = N_("Check and correct the {field_en}, then try again.")

    def __init__(self, problems: Sequence[FieldProblem], **kwargs: Any) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        label_zh, label_en = FIELD_LABELS.get(first.field, (first.field, first.field))
        super().__init__(
            field=first.field,
            field_zh=label_zh,
            field_en=label_en,
            reason_zh=first.reason_zh,
            reason_en=first.reason_en,
            **kwargs,
        )

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body = super().problem(instance)
        body["errors"] = [{"field": p.field, "message": p.reason_en, "message_zh": p.reason_zh} for p in self.problems]
        return body


class CardIdentityMismatch(MedCardError):
    status = 400
    code = "CARD_IDENTITY_MISMATCH"
    message = N_("The {field_en} does not match the verified identity")
    hint = N_("Identity data comes from the real-name verification; upload a photo of the right person's ID.")


class CardAccountNotVerified(MedCardError):
    status = 403
    code = "CARD_ACCOUNT_NOT_VERIFIED"
    message = N_("Verify your identity first")
    hint = N_("A health card needs a real-name verified account; verify on the Me page, then apply.")


class CardMinorNeedsGuardian(MedCardError):
    """R-ID-07: a person under 14 gets a card only through a guardian's account."""

    status = 403
    code = "CARD_MINOR_NEEDS_GUARDIAN"
    message = N_("Under 14, the card is applied for by a guardian")
    hint = N_("A parent or guardian adds the child on the guardian's own account and applies there.")


class CardPhotoUnreadable(MedCardError):
    status = 400
    code = "CARD_PHOTO_UNREADABLE"
    message = N_("The ID photo could not be read")
    hint = N_(
        "Retake it in even light: no glare or shadow, all four corners of the card in frame, text sharp. Or type the "
        "fields."
    )


class CardAlreadyIssued(MedCardError):
    status = 409
    code = "CARD_ALREADY_ISSUED"
    message = N_("There is already a health card for this person at {scope_en}")
    hint = N_("One card per person per hospital (or region); find it under My cards.")


class CardNumberOccupied(MedCardError):
    status = 409
    code = "CARD_NUMBER_OCCUPIED"
    message = N_("Card number already occupied: you already have a patient record at {hospital_en}")
    hint = N_("Use existing-patient binding: confirm by SMS code and your existing record is linked, no new record.")


class CardExistingRecordNotFound(MedCardError):
    status = 404
    code = "CARD_EXISTING_RECORD_NOT_FOUND"
    message = N_("{hospital_en} has no patient record for you")
    hint = N_("No binding needed: apply for a new card.")


class CardExistingRecordMismatch(MedCardError):
    status = 409
    code = "CARD_EXISTING_RECORD_MISMATCH"
    message = N_("The name in the hospital's record does not match the verified identity")
    hint = N_("Bring your ID to the hospital's cashier window to correct the record, then bind again.")


class CardHisUnavailable(MedCardError):
    status = 503
    code = "CARD_HIS_UNAVAILABLE"
    message = N_("The hospital system is not answering")
    hint = N_("Your form is saved; submit again in a few minutes.")


class CardFieldImmutable(MedCardError):
    status = 403
    code = "CARD_FIELD_IMMUTABLE"
    message = N_("The {field_en} cannot be changed by you after submission")
    hint = N_("To change it, bring your ID to the hospital's cashier window or call the hotline.")


class CardNumberInvalid(MedCardError):
    status = 400
    code = "CARD_NUMBER_INVALID"
    message = N_("The card number is malformed or its check digit is wrong")
    hint = N_("A card number has 16 digits; check each digit (swapped neighbours, a missing digit).")


class CardQrInvalid(MedCardError):
    status = 400
    code = "CARD_QR_INVALID"
    message = N_("Not a valid health card QR code")
    hint = N_("Ask the patient to open the card page and show the QR code again.")


class CardQrStale(MedCardError):
    status = 410
    code = "CARD_QR_STALE"
    message = N_("This QR code is no longer valid (personal information was updated)")
    hint = N_(
        "A change of personal information retires the old code at once; refresh the card page and show the new one."
    )


class CardNotActive(MedCardError):
    status = 409
    code = "CARD_NOT_ACTIVE"
    message = N_("This card cannot be used now (status: {status_en})")
    hint = N_("Activate a pending card at a kiosk with the original ID; for a frozen or cancelled card go to a window.")


class CardDocumentTaken(MedCardError):
    status = 409
    code = "CARD_DOCUMENT_TAKEN"
    message = N_("Another card already holds this document number")
    hint = N_("Check the number; one document has one card per hospital.")
