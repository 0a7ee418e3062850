"""Family-account errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from medcard.errors import MedCardError


class FamilyHolderNotVerified(MedCardError):
    status = 403
    code = "FAMILY_HOLDER_NOT_VERIFIED"
    message_zh = "添加家庭成员前，请先完成本人实名认证"
    message_en = "Verify your own identity before adding family members"
    hint_zh = "代办人须已实名认证（R-FAM-02）。"
    hint_en = "Whoever acts for a relative must be real-name verified."


class FamilyHolderNotAdult(MedCardError):
    status = 403
    code = "FAMILY_HOLDER_NOT_ADULT"
    message_zh = "年满 18 周岁才能为家人代办"
    message_en = "You must be 18 or over to act for a relative"
    hint_zh = "请由年满 18 周岁的家人操作。"
    hint_en = "An adult relative must do this."


class FamilyLimitReached(MedCardError):
    status = 409
    code = "FAMILY_LIMIT_REACHED"
    message_zh = "一个账号最多管理 {max_patients} 位就诊人（含本人），已达上限"
    message_en = "One account manages at most {max_patients} patients (yourself included); the limit is reached"
    hint_zh = "请先解除一位家庭成员，再添加新的成员。"
    hint_en = "Remove a family member first, then add the new one."


class FamilyMemberIsSelf(MedCardError):
    status = 400
    code = "FAMILY_MEMBER_IS_SELF"
    message_zh = "不能把本人添加为家庭成员"
    message_en = "You cannot add yourself as a family member"
    hint_zh = "请填写家人的证件号码。"
    hint_en = "Enter your relative's document number."


class FamilyMemberAlreadyAdded(MedCardError):
    status = 409
    code = "FAMILY_MEMBER_ALREADY_ADDED"
    message_zh = "该家人已在您的家庭成员中"
    message_en = "This relative is already one of your family members"
    hint_zh = "可在家庭成员列表中查看审核状态。"
    hint_en = "See the family member list for its status."


class FamilyRelationImplausible(MedCardError):
    status = 400
    code = "FAMILY_RELATION_IMPLAUSIBLE"
    message_zh = "关系与年龄不符：{reason_zh}"
    message_en = "The relation does not fit the ages: {reason_en}"
    hint_zh = "请核对所选关系和家人的证件号码。"
    hint_en = "Check the relation and your relative's document number."


class FamilyProofKindInvalid(MedCardError):
    status = 400
    code = "FAMILY_PROOF_KIND_INVALID"
    message_zh = "该关系需要户口本、出生证明、结婚证或监护证明中相应的一种"
    message_en = "This relation needs a matching proof (household register or a certificate)"
    hint_zh = "父母子女可用户口本或出生证明，配偶用结婚证，监护人用监护证明。"
    hint_en = (
        "Parents and children: household register or birth certificate; spouse: marriage certificate; "
        "guardian: guardianship certificate."
    )


class FamilyProofMissing(MedCardError):
    status = 400
    code = "FAMILY_PROOF_MISSING"
    message_zh = "缺少证明材料：{documents_zh}"
    message_en = "Proof documents missing: {documents_en}"
    hint_zh = "监护人绑定需上传双方身份证照片、关系证明和监护人手持身份证照片（R-FAM-02）。"
    hint_en = "A guardian binding needs both ID photos, the proof and a photo of the guardian holding his ID."


class FamilyPatientIdentityMismatch(MedCardError):
    status = 400
    code = "FAMILY_PATIENT_IDENTITY_MISMATCH"
    message_zh = "家人的姓名与证件号码核验未通过"
    message_en = "Your relative's name and document number did not match"
    hint_zh = "请对照证件核对姓名和号码。"
    hint_en = "Check the name and number against the document."


class FamilyDissolveTooYoung(MedCardError):
    status = 403
    code = "FAMILY_DISSOLVE_TOO_YOUNG"
    message_zh = "年满 16 周岁才能自行解除代办关系"
    message_en = "You can end a proxy relationship yourself from the age of 16"
    hint_zh = "未满 16 周岁请由监护人解除。"
    hint_en = "Under 16, your guardian can end it."


class FamilyNotPendingReview(MedCardError):
    status = 409
    code = "FAMILY_NOT_PENDING_REVIEW"
    message_zh = "该家庭成员申请不在待审核状态"
    message_en = "This family binding is not waiting for review"
    hint_zh = "刷新审核列表。"
    hint_en = "Reload the review list."


class FamilyRelationEnded(MedCardError):
    status = 409
    code = "FAMILY_RELATION_ENDED"
    message_zh = "该代办关系已结束"
    message_en = "This proxy relationship has already ended"
    hint_zh = "如需继续代办，请重新添加家庭成员。"
    hint_en = "Add the family member again to act for him."


class FamilyConfirmationNotAwaited(MedCardError):
    status = 409
    code = "FAMILY_CONFIRMATION_NOT_AWAITED"
    message_zh = "该订单不需要或已完成监护人确认"
    message_en = "This payment does not wait for a guardian's confirmation"
    hint_zh = "刷新待确认列表查看订单状态。"
    hint_en = "Reload the confirmation list to see the order's state."


class MutualAidRegionNotAllowed(MedCardError):
    status = 409
    code = "MUTUAL_AID_REGION_NOT_ALLOWED"
    message_zh = "您参保地的医保政策暂不支持家庭共济"
    message_en = "Your insured region's policy does not offer family mutual aid"
    hint_zh = "家庭共济仅在政策允许的地区开通（如广东省各市，R-FAM-08）。"
    hint_en = "Family mutual aid is open only where the regional policy allows it (e.g. Guangdong)."


class MutualAidSchemeNotEligible(MedCardError):
    status = 409
    code = "MUTUAL_AID_SCHEME_NOT_ELIGIBLE"
    message_zh = "仅职工医保参保人可使用个人账户家庭共济"
    message_en = "Only employees' insurance with a personal account can share it with family"
    hint_zh = "请先绑定职工医保（险种 310）电子凭证。"
    hint_en = "Bind an employees' insurance (scheme 310) e-voucher first."


class MutualAidRelationNotCurrent(MedCardError):
    status = 409
    code = "MUTUAL_AID_RELATION_NOT_CURRENT"
    message_zh = "只能为当前有效的家庭成员开通共济"
    message_en = "Mutual aid is only for a current, active family member"
    hint_zh = "请等待家庭关系审核通过，或重新添加该家庭成员。"
    hint_en = "Wait for the relation's review, or add the family member again."


class MutualAidLimitReached(MedCardError):
    status = 409
    code = "MUTUAL_AID_LIMIT_REACHED"
    message_zh = "家庭共济最多绑定 {max_members} 位家庭成员，已达上限"
    message_en = "Family mutual aid binds at most {max_members} family members; the limit is reached"
    hint_zh = "请先解除一位共济成员。"
    hint_en = "Revoke one member's mutual aid first."


class MutualAidNotActive(MedCardError):
    status = 409
    code = "MUTUAL_AID_NOT_ACTIVE"
    message_zh = "该家庭共济已解除"
    message_en = "This family mutual aid has been revoked"
    hint_zh = "如需继续使用，请参保人重新开通。"
    hint_en = "The insured person can bind it again."


class MutualAidLimitInvalid(MedCardError):
    status = 400
    code = "MUTUAL_AID_LIMIT_INVALID"
    message_zh = "限额请填写金额（元），如 200 或 200.50，留空表示不限"
    message_en = "Enter a limit in yuan, e.g. 200 or 200.50; leave it empty for no limit"
    hint_zh = "金额须在 0 至 100 万元之间。"
    hint_en = "A limit is between 0 and 1,000,000 yuan."
