"""Identity errors: stable codes, zh-CN + English text and a self-help hint.

Input errors (a document number that breaks its rule) are 400 with the input ``field``;
422 stays reserved for malformed requests. Refusals of the verification itself that must
be counted (a failed face attempt, a failed bank-card check) are raised with
``keep_changes=True`` by the service so the session row keeps its attempt and failure code.
"""

from __future__ import annotations

from typing import Any, ClassVar

from medcard.errors import MedCardError
from medcard.i18n import N_, NC_

HOTLINE = "12320"

# --------------------------------------------------------------------------- input rules (R-ID-01)


class DocumentInputError(MedCardError):
    """A claimed identity that breaks a document rule. ``label_zh``/``label_en`` name the document."""

    status = 400


class DocumentNumberLength(DocumentInputError):
    code = "DOCUMENT_NUMBER_LENGTH"
    message = N_("The {label_en} must have {expected} characters; {actual} were given")
    hint = N_("Copy the number from the document; old 15-character ID numbers are no longer accepted.")


class DocumentNumberFormat(DocumentInputError):
    code = "DOCUMENT_NUMBER_FORMAT"
    message = N_("The {label_en} is not in the right form: {rule_en}")
    hint = N_("Check the number against the document.")


class DocumentChecksumMismatch(DocumentInputError):
    code = "DOCUMENT_CHECKSUM_MISMATCH"
    message = N_("The check digit of the {label_en} does not match")
    hint = N_("Usually two digits are swapped or one is missing; check each digit. A final X may be lower case.")


class DocumentRegionUnknown(DocumentInputError):
    code = "DOCUMENT_REGION_UNKNOWN"
    message = N_("The first 6 digits of the {label_en} ({region}) are not a known region code")
    hint = N_("Check the region code at the start of the number.")


class DocumentBirthDateInvalid(DocumentInputError):
    code = "DOCUMENT_BIRTH_DATE_INVALID"
    message = N_("The birth date in the {label_en} ({digits}) is not a valid date")
    hint = N_("The birth date is digits 7 to 14 of the number; check them.")


class DocumentBirthDateInFuture(DocumentInputError):
    code = "DOCUMENT_BIRTH_DATE_IN_FUTURE"
    message = N_("The birth date in the {label_en} ({birth}) is in the future")
    hint = N_("The birth date is digits 7 to 14 of the number; check them.")


class DocumentTypeMismatch(DocumentInputError):
    code = "DOCUMENT_TYPE_MISMATCH"
    message = N_("This number is a {actual_en}, not the document type chosen")
    hint = N_("Choose the matching document type.")


class NationalityInvalid(DocumentInputError):
    code = "NATIONALITY_INVALID"
    message = N_("The nationality code {value} is not valid")
    hint = N_("Use the three-letter code printed in the passport, e.g. USA, GBR, JPN.")


class NationalityNotForeign(DocumentInputError):
    code = "NATIONALITY_NOT_FOREIGN"
    message = N_("Nationality {value} cannot verify with a foreign passport")
    hint = N_("Chinese citizens use the resident ID; HK/Macau/Taiwan residents use their residence permit.")


class PassportNumberInvalid(DocumentInputError):
    code = "PASSPORT_NUMBER_INVALID"
    message = N_("A passport number has 5 to 17 letters or digits")
    hint = N_("Copy it from the passport's data page, without spaces or symbols.")


class ResidencePermitNationalityMismatch(DocumentInputError):
    code = "RESIDENCE_PERMIT_NATIONALITY_MISMATCH"
    message = N_("The nationality in the permanent resident ID ({permit}) differs from the one given ({claimed})")
    hint = N_("Check the nationality and the permanent resident ID number.")


class FieldRequired(DocumentInputError):
    code = "FIELD_REQUIRED"
    message = N_("Please fill in the {label_en}")
    hint = N_("This field is required.")


class NameInvalid(DocumentInputError):
    code = "NAME_INVALID"
    message = N_("The name is not valid")
    hint = N_("Enter the name as printed on the document, without digits or symbols.")


class PhoneInvalid(DocumentInputError):
    code = "PHONE_INVALID"
    message = N_("The phone number must be an 11-digit mainland China mobile number")
    hint = N_("Enter the 11-digit number starting with 1.")


class BankCardNumberInvalid(DocumentInputError):
    code = "BANK_CARD_NUMBER_INVALID"
    message = N_("The bank card number is not valid")
    hint = N_("Check the card number (12 to 19 digits); its check digit does not match.")


class BirthCertificateNumberInvalid(DocumentInputError):
    code = "BIRTH_CERTIFICATE_NUMBER_INVALID"
    message = N_("A birth certificate number is one letter followed by 9 digits")
    hint = N_("The number is printed at the top right of the certificate, e.g. P110123456.")


class BirthCertificateNumberRequired(DocumentInputError):
    code = "BIRTH_CERTIFICATE_NUMBER_REQUIRED"
    message = N_("A child under 14 needs the birth certificate number")
    hint = N_("The number is printed at the top right of the certificate, e.g. P110123456.")


# --------------------------------------------------------------------------- verification sessions (R-ID-02…04)


class AccountAlreadyVerified(MedCardError):
    status = 409
    code = "ACCOUNT_ALREADY_VERIFIED"
    message = N_("Your account is already verified")
    hint = N_(
        "There is nothing more to do; to reset the payment password, reactivate or verify a new device, start the "
        "re-verification from that page."
    )


class ReverificationNeedsIdentity(MedCardError):
    status = 403
    code = "REVERIFICATION_NEEDS_IDENTITY"
    message = N_("Please verify your identity first")
    hint = N_("A re-verification is for a verified account; verify your identity first.")


class ReverificationMethodNotAllowed(MedCardError):
    status = 400
    code = "REVERIFICATION_METHOD_NOT_ALLOWED"
    message = N_("This method cannot be used to verify again")
    hint = N_("Use face recognition, the bank card, or an SMS code to the phone on your verified identity.")


class ReverificationIdentityMismatch(MedCardError):
    status = 403
    code = "REVERIFICATION_IDENTITY_MISMATCH"
    message = N_("A re-verification must prove the identity this account holds")
    hint = N_("Enter the account holder's ({holder}) document number and name; nobody else's document can be used.")


class VerificationMethodMismatch(MedCardError):
    status = 409
    code = "VERIFICATION_METHOD_MISMATCH"
    message = N_("This step does not belong to the method of this verification")
    hint = N_("Finish the chosen method, or start again with another one.")


class VerificationExpired(MedCardError):
    status = 410
    code = "VERIFICATION_SESSION_EXPIRED"
    message = N_("This verification has timed out")
    hint = N_("A verification must be finished within {minutes} minutes; please start again.")


class VerificationFailed(MedCardError):
    status = 409
    code = "VERIFICATION_SESSION_FAILED"
    message = N_("This verification failed and cannot be continued")
    hint = N_("Start again, or choose another method: bank card, SMS code or insurance record.")


class VerificationCompleted(MedCardError):
    status = 409
    code = "VERIFICATION_SESSION_COMPLETED"
    message = N_("This verification is already complete")
    hint = N_("There is nothing more to do.")


class FaceCheckFailed(MedCardError):
    status = 400
    code = "FACE_CHECK_FAILED"
    message = N_("The face check did not pass; {attempts_left} attempt(s) left")
    hint = N_("Face the camera in good light without hat or sunglasses; do not photograph a photo or a screen.")


class FaceAttemptsExhausted(MedCardError):
    status = 409
    code = "FACE_ATTEMPTS_EXHAUSTED"
    message = N_("The face check failed {max_attempts} times; this verification has failed")
    hint = N_("Start again, or choose another method: bank card, SMS code or insurance record.")


class NameNumberMismatch(MedCardError):
    status = 400
    code = "NAME_NUMBER_MISMATCH"
    message = N_("The name does not match the document number; this verification has failed")
    hint = N_("Check the name and number, then start again; for rare characters in the name call {hotline}.")
    defaults: ClassVar[dict[str, Any]] = {"hotline": HOTLINE}


class BankCardCheckFailed(MedCardError):
    status = 400
    code = "BANK_CARD_CHECK_FAILED"
    message = N_("The bank card check did not pass; this verification has failed")
    hint = N_(
        "Make sure the card is yours and the phone is the one the bank holds, then start again or use another method."
    )


class InsuranceRecordNotFound(MedCardError):
    status = 400
    code = "INSURANCE_RECORD_NOT_FOUND"
    message = N_("No insurance record matches your identity; this verification has failed")
    hint = N_("New enrolments appear after 1 to 2 working days; you can also use face or bank card.")


class IdentityHeldByAnotherAccount(MedCardError):
    status = 409
    code = "IDENTITY_HELD_BY_ANOTHER_ACCOUNT"
    message = N_("This identity is already held by another account")
    hint = N_("One identity belongs to one account. If that was not you, call the hotline {hotline}.")
    defaults: ClassVar[dict[str, Any]] = {"hotline": HOTLINE}


# --------------------------------------------------------------------------- children and guardians (R-ID-07)


class MinorNeedsGuardian(MedCardError):
    status = 403
    code = "ID_MINOR_NEEDS_GUARDIAN"
    message = N_("Under 14, a child cannot verify on his own account")
    hint = N_("A parent or guardian adds the child on the guardian's own account and applies for the card there.")


class GuardianNotVerified(MedCardError):
    status = 403
    code = "GUARDIAN_NOT_VERIFIED"
    message = N_("Verify your own identity first")
    hint = N_("A guardian must be verified before adding a child.")


class GuardianNotAdult(MedCardError):
    status = 403
    code = "GUARDIAN_NOT_ADULT"
    message = N_("A guardian must be at least 18 years old")
    hint = N_("A parent or legal guardian aged 18 or over must do this.")


class WardNotMinor(MedCardError):
    status = 400
    code = "WARD_NOT_MINOR"
    message = N_("The person is 18 or older")
    hint = N_("Adults verify with their own account.")


class WardIsSelf(MedCardError):
    status = 400
    code = "WARD_IS_SELF"
    message = N_("You cannot add yourself as your own ward")
    hint = N_("Enter the child's document.")


class WardAlreadyAdded(MedCardError):
    status = 409
    code = "WARD_ALREADY_ADDED"
    message = N_("This child is already in your list")
    hint = NC_("WARD_ALREADY_ADDED", "There is nothing more to do.")


class WardIdentityMismatch(MedCardError):
    status = 400
    code = "WARD_IDENTITY_MISMATCH"
    message = N_("The child's name does not match the document number")
    hint = N_("Check the child's name and number against the household register or birth certificate.")


class GuardianIdentityMismatch(MedCardError):
    status = 400
    code = "GUARDIAN_IDENTITY_MISMATCH"
    message = N_("The guardian's identity check did not pass")
    hint = N_("Call the hotline {hotline} to check your verified identity.")
    defaults: ClassVar[dict[str, Any]] = {"hotline": HOTLINE}


class GuardianshipNotProven(MedCardError):
    status = 400
    code = "GUARDIANSHIP_NOT_PROVEN"
    message = N_("The guardianship could not be confirmed")
    hint = N_("Upload a clear photo of the household register or birth certificate and check the child's document.")


# --------------------------------------------------------------------------- SMS codes (R-ID-05)


class SmsCodeInvalid(MedCardError):
    status = 400
    code = "SMS_CODE_INVALID"
    message = N_("The code is wrong or no longer valid")
    hint = N_("Check the 6-digit code in the message; a code is valid for 5 minutes and works once. Ask for a new one.")


class SmsCodeWrong(SmsCodeInvalid):
    """A wrong code with tries left on it: say how many (issue 9)."""

    message = N_("The code is wrong; {attempts_left} tries left")
    hint = N_("Check the 6-digit code in the message, or ask for a new one.")


class SmsCodeNotSent(MedCardError):
    """A code entered for a phone no code was sent to (for this purpose)."""

    status = 400
    code = "SMS_CODE_NOT_SENT"
    message = N_("Ask for a code first")
    hint = N_("Tap “Send me a code” and enter the code from the message.")


class SmsRateLimited(MedCardError):
    status = 429
    code = "SMS_RATE_LIMITED"
    message = N_("Too many codes requested")
    hint = N_("Try again in {retry_after} seconds.")


# --------------------------------------------------------------------------- the verified person's phone (R-ID-05)


class PhoneNeedsIdentity(MedCardError):
    status = 403
    code = "PHONE_NEEDS_IDENTITY"
    message = N_("Verify your identity before adding a phone number")
    hint = N_("The phone number belongs to your verified identity.")
