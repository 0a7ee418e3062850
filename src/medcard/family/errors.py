"""Family-account errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from medcard.errors import MedCardError
from medcard.i18n import N_, NC_


class FamilyHolderNotVerified(MedCardError):
    status = 403
    code = "FAMILY_HOLDER_NOT_VERIFIED"
    message = NC_("FAMILY_HOLDER_NOT_VERIFIED", "Verify your own identity before adding family members")
    hint = NC_("FAMILY_HOLDER_NOT_VERIFIED", "Whoever acts for a relative must be real-name verified.")


class FamilyHolderNotAdult(MedCardError):
    status = 403
    code = "FAMILY_HOLDER_NOT_ADULT"
    message = N_("You must be 18 or over to act for a relative")
    hint = N_("An adult relative must do this.")


class FamilyLimitReached(MedCardError):
    status = 409
    code = "FAMILY_LIMIT_REACHED"
    message = NC_(
        "FAMILY_LIMIT_REACHED",
        "One account manages at most {max_patients} patients (yourself included); the limit is reached",
    )
    hint = NC_("FAMILY_LIMIT_REACHED", "Remove a family member first, then add the new one.")


class FamilyMemberIsSelf(MedCardError):
    status = 400
    code = "FAMILY_MEMBER_IS_SELF"
    message = N_("You cannot add yourself as a family member")
    hint = N_("Enter your relative's document number.")


class FamilyMemberAlreadyAdded(MedCardError):
    status = 409
    code = "FAMILY_MEMBER_ALREADY_ADDED"
    message = N_("This relative is already one of your family members")
    hint = N_("See the family member list for its status.")


class FamilyRelationImplausible(MedCardError):
    status = 400
    code = "FAMILY_RELATION_IMPLAUSIBLE"
    message = NC_("FAMILY_RELATION_IMPLAUSIBLE", "The relation does not fit the ages: {reason_en}")
    hint = N_("Check the relation and your relative's document number.")


class FamilyProofKindInvalid(MedCardError):
    status = 400
    code = "FAMILY_PROOF_KIND_INVALID"
    message = N_("This relation needs a matching proof (household register or a certificate)")
    hint = NC_(
        "FAMILY_PROOF_KIND_INVALID",
        "Parents and children: household register or birth certificate; spouse: marriage certificate; guardian: "
        "guardianship certificate.",
    )


class FamilyProofMissing(MedCardError):
    status = 400
    code = "FAMILY_PROOF_MISSING"
    message = NC_("FAMILY_PROOF_MISSING", "Proof documents missing: {documents_en}")
    hint = NC_(
        "FAMILY_PROOF_MISSING",
        "A guardian binding needs both ID photos, the proof and a photo of the guardian holding his ID.",
    )


class FamilyPatientIdentityMismatch(MedCardError):
    status = 400
    code = "FAMILY_PATIENT_IDENTITY_MISMATCH"
    message = N_("Your relative's name and document number did not match")
    hint = N_("Check the name and number against the document.")


class FamilyDissolveTooYoung(MedCardError):
    status = 403
    code = "FAMILY_DISSOLVE_TOO_YOUNG"
    message = N_("You can end a proxy relationship yourself from the age of 16")
    hint = N_("Under 16, your guardian can end it.")


class FamilyNotPendingReview(MedCardError):
    status = 409
    code = "FAMILY_NOT_PENDING_REVIEW"
    message = N_("This family binding is not waiting for review")
    hint = N_("Reload the review list.")


class FamilyRelationEnded(MedCardError):
    status = 409
    code = "FAMILY_RELATION_ENDED"
    message = N_("This proxy relationship has already ended")
    hint = NC_("FAMILY_RELATION_ENDED", "Add the family member again to act for him.")


class FamilyConfirmationNotAwaited(MedCardError):
    status = 409
    code = "FAMILY_CONFIRMATION_NOT_AWAITED"
    message = N_("This payment does not wait for a guardian's confirmation")
    hint = N_("Reload the confirmation list to see the order's state.")


class MutualAidRegionNotAllowed(MedCardError):
    status = 409
    code = "MUTUAL_AID_REGION_NOT_ALLOWED"
    message = N_("Your insured region's policy does not offer family mutual aid")
    hint = NC_(
        "MUTUAL_AID_REGION_NOT_ALLOWED",
        "Family mutual aid is open only where the regional policy allows it (e.g. Guangdong).",
    )


class MutualAidSchemeNotEligible(MedCardError):
    status = 409
    code = "MUTUAL_AID_SCHEME_NOT_ELIGIBLE"
    message = N_("Only employees' insurance with a personal account can share it with family")
    hint = NC_("MUTUAL_AID_SCHEME_NOT_ELIGIBLE", "Bind an employees' insurance (scheme 310) e-voucher first.")


class MutualAidRelationNotCurrent(MedCardError):
    status = 409
    code = "MUTUAL_AID_RELATION_NOT_CURRENT"
    message = N_("Mutual aid is only for a current, active family member")
    hint = NC_("MUTUAL_AID_RELATION_NOT_CURRENT", "Wait for the relation's review, or add the family member again.")


class MutualAidLimitReached(MedCardError):
    status = 409
    code = "MUTUAL_AID_LIMIT_REACHED"
    message = NC_(
        "MUTUAL_AID_LIMIT_REACHED", "Family mutual aid binds at most {max_members} family members; the limit is reached"
    )
    hint = N_("Revoke one member's mutual aid first.")


class MutualAidNotActive(MedCardError):
    status = 409
    code = "MUTUAL_AID_NOT_ACTIVE"
    message = N_("This family mutual aid has been revoked")
    hint = NC_("MUTUAL_AID_NOT_ACTIVE", "The insured person can bind it again.")


class MutualAidLimitInvalid(MedCardError):
    status = 400
    code = "MUTUAL_AID_LIMIT_INVALID"
    message = NC_("MUTUAL_AID_LIMIT_INVALID", "Enter a limit in yuan, e.g. 200 or 200.50; leave it empty for no limit")
    hint = N_("A limit is between 0 and 1,000,000 yuan.")
