"""The binding error taxonomy (R-INS-09): every refusal has a stable code, zh-CN and English
text and a self-help hint (what to do, where to go). ``category`` groups codes on the
dashboard (R-OPS-01)."""

from __future__ import annotations

from typing import ClassVar

from medcard.errors import MedCardError
from medcard.i18n import N_


class InsuranceError(MedCardError):
    """A refused binding step, counted on the dashboard by ``category``."""

    status = 409
    category: ClassVar[str] = "other"


class NotVerified(InsuranceError):
    status = 403
    code = "INS_NOT_VERIFIED"
    category = "prerequisite"
    message = N_("Verify your real name first")
    hint = N_("Finish real-name verification under Me → Verify, then bind.")


class RegionNotSupported(InsuranceError):
    code = "INS_REGION_NOT_SUPPORTED"
    category = "region"
    message = N_("{region_en} does not support binding the e-voucher online yet")
    hint = N_("Bring your social security card to the hospital's insurance desk, or wait for your city to join.")


class RegionMismatch(InsuranceError):
    code = "INS_REGION_MISMATCH"
    category = "region"
    message = N_("Your card was issued in another region than where you are")
    hint = N_("Bind in the region where you are insured; for care elsewhere, file an out-of-region filing.")


class ClientTooOld(InsuranceError):
    code = "INS_CLIENT_TOO_OLD"
    category = "prerequisite"
    message = N_("Your app version is too old (minimum {minimum})")
    hint = N_("Update the app from the app store and try again.")


class MinorNeedsGuardian(InsuranceError):
    code = "INS_MINOR_NEEDS_GUARDIAN"
    category = "prerequisite"
    message = N_("Under {age}, a guardian must bind for you")
    hint = N_("Ask your guardian to add you as a family member and bind for you.")


class MinorNotAllowed(InsuranceError):
    code = "INS_MINOR_NOT_ALLOWED"
    category = "prerequisite"
    message = N_("Here only insured people aged {age} or over can bind online")
    hint = N_("For a minor, a guardian brings the household register to the insurance desk.")


class HmtNotSupported(InsuranceError):
    code = "INS_HMT_NOT_SUPPORTED"
    category = "prerequisite"
    message = N_("Residents of Hong Kong, Macao and Taiwan cannot bind online here")
    hint = N_("Bring your residence permit for HK/Macao/Taiwan residents to the insurance desk.")


class PhoneRequired(InsuranceError):
    code = "INS_PHONE_REQUIRED"
    category = "prerequisite"
    message = N_("A phone number that receives SMS is needed")
    hint = N_("Add your phone under “Me → Phone number”, confirm it with the texted code, then bind again.")


class InvalidCardNumber(InsuranceError):
    code = "INS_INVALID_CARD_NUMBER"
    category = "card_number"
    message = N_("The social security card number is not valid")
    hint = N_("The number is 1–2 letters and 7–10 digits, printed as 卡号 on the front of the card.")


class InsuranceTypeMismatch(InsuranceError):
    code = "INS_TYPE_MISMATCH"
    category = "card_number"
    message = N_("The chosen scheme is not the one you are insured under")
    hint = N_("Choose the scheme you are actually insured under.")


class NotInsured(InsuranceError):
    status = 404
    code = "INS_NOT_INSURED"
    category = "not_insured"
    message = N_("No insurance record was found for you")
    hint = N_("Check that you are insured; call the 12393 insurance hotline if unsure.")


class NewlyInsured(InsuranceError):
    code = "INS_NEWLY_INSURED"
    category = "newly_insured"
    message = N_("New insurance records take 1–2 working days to appear")
    hint = N_("Please try again from {retry_on}.")


class InfoNotSynced(InsuranceError):
    code = "INS_INFO_NOT_SYNCED"
    category = "info_sync"
    message = N_("Your changed personal details have not reached the insurance system yet")
    hint = N_("Bring your ID card to your insurance office to update them, then try the next day.")


class RareCharacterName(InsuranceError):
    code = "INS_RARE_CHARACTER_NAME"
    category = "rare_name"
    message = N_("Your name contains a rare character the insurance system cannot match")
    hint = N_("Have the character registered at the insurance office, then bind.")


class SchemeNotSupported(InsuranceError):
    code = "INS_SCHEME_NOT_SUPPORTED"
    category = "special_scheme"
    message = N_("Retired-cadre and public-medical schemes cannot bind online")
    hint = N_("Settle at the hospital's insurance desk with your existing documents.")


class CardGenerationTooOld(InsuranceError):
    code = "INS_CARD_GENERATION"
    category = "card_status"
    message = N_("This region needs a generation {generation} or newer social security card")
    hint = N_("Exchange your card for a new one at a social security card service point.")


class CardNotActivated(InsuranceError):
    code = "INS_CARD_NOT_ACTIVATED"
    category = "card_status"
    message = N_("The bank function of your social security card is not activated")
    hint = N_("Activate it at a partner bank branch with the card and your ID card.")


class OfflineCheckRequired(InsuranceError):
    code = "INS_OFFLINE_CHECK_REQUIRED"
    category = "prerequisite"
    message = N_("One in-person identity check is needed before the first binding")
    hint = N_("Do one in-person check at an insurance office or a hospital kiosk with your ID card.")


class FaceFailed(InsuranceError):
    code = "INS_FACE_FAILED"
    category = "face"
    message = N_("The face check did not pass")
    hint = N_("Face the camera in good light without glasses or hat, and try again.")


class AlreadyBound(InsuranceError):
    code = "INS_ALREADY_BOUND"
    category = "other"
    message = N_("This card already has an insurance binding")
    hint = N_("Unbind it first to bind another.")


class BindingNotActive(MedCardError):
    status = 409
    code = "INS_BINDING_NOT_ACTIVE"
    message = N_("This insurance binding has been removed")
    hint = N_("Bind your insurance again.")


class FilingNotNeeded(MedCardError):
    status = 409
    code = "INS_FILING_NOT_NEEDED"
    message = N_("No filing is needed: {region_en} is in the same cooperation zone as your insured region")
    hint = N_("You can use your insurance there directly.")


class FilingExists(MedCardError):
    status = 409
    code = "INS_FILING_EXISTS"
    message = N_("An active filing for this region already exists")
    hint = N_("Cancel the existing filing first to change it.")


class FilingNotActive(MedCardError):
    status = 409
    code = "INS_FILING_NOT_ACTIVE"
    message = N_("This filing is already cancelled")
    hint = N_("File again if you need care there.")


class ApplicationAlreadyReviewed(MedCardError):
    status = 409
    code = "INS_APPLICATION_REVIEWED"
    message = N_("This application has already been reviewed")
    hint = N_("A review cannot be changed; apply again if you disagree.")


class UnknownDisease(MedCardError):
    status = 422
    code = "INS_UNKNOWN_DISEASE"
    message = N_("Not in the list of special diseases")
    hint = N_("Pick a disease from the list.")


class VoucherCodeUnavailable(MedCardError):
    status = 503
    code = "INS_VOUCHER_CODE_UNAVAILABLE"
    message = N_("The insurance code is not available right now")
    hint = N_(
        "The insurance platform gave no code; refresh in a moment, or show the social-security card at the window."
    )


class MaterialsCount(MedCardError):
    status = 422
    code = "INS_MATERIALS_COUNT"
    message = N_("Upload 1 to {limit} materials")
    hint = N_("Upload the diagnosis and records (PDF, JPEG or PNG); merge many pages into one PDF.")


CODE_FOR_RULE: dict[str, type[InsuranceError]] = {
    "REGION_NOT_SUPPORTED": RegionNotSupported,
    "CLIENT_TOO_OLD": ClientTooOld,
    "MINOR_NEEDS_GUARDIAN": MinorNeedsGuardian,
    "MINOR_NOT_ALLOWED": MinorNotAllowed,
    "HMT_NOT_SUPPORTED": HmtNotSupported,
    "PHONE_REQUIRED": PhoneRequired,
    "CARD_GENERATION_TOO_OLD": CardGenerationTooOld,
    "CARD_NOT_ACTIVATED": CardNotActivated,
    "OFFLINE_CHECK_REQUIRED": OfflineCheckRequired,
}
TAXONOMY: list[type[InsuranceError]] = [
    *CODE_FOR_RULE.values(),
    NotVerified,
    RegionMismatch,
    InvalidCardNumber,
    InsuranceTypeMismatch,
    NotInsured,
    NewlyInsured,
    InfoNotSynced,
    RareCharacterName,
    SchemeNotSupported,
    FaceFailed,
    AlreadyBound,
]
