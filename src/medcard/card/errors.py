"""Card errors: stable codes, zh-CN + English text and a self-help hint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from medcard.card.rules import FIELD_LABELS, FieldProblem
from medcard.errors import MedCardError


class CardFieldInvalid(MedCardError):
    """One or more form fields break a rule; every problem is listed, the first one named by ``field``."""

    status = 400
    code = "CARD_FIELD_INVALID"
    message_zh = "{field_zh}：{reason_zh}"
    message_en = "{field_en}: {reason_en}"
    hint_zh = "请核对并修改{field_zh}后重试。"
    hint_en = "Check and correct the {field_en}, then try again."

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
    message_zh = "{field_zh}与实名认证信息不一致"
    message_en = "The {field_en} does not match the verified identity"
    hint_zh = "身份信息以实名认证为准；如照片是他人证件，请上传本人（或被监护人）的证件照片。"
    hint_en = "Identity data comes from the real-name verification; upload a photo of the right person's ID."


class CardAccountNotVerified(MedCardError):
    status = 403
    code = "CARD_ACCOUNT_NOT_VERIFIED"
    message_zh = "请先完成实名认证"
    message_en = "Verify your identity first"
    hint_zh = "办理电子健康卡需要实名认证，请在“我的”页面完成认证后再申领。"
    hint_en = "A health card needs a real-name verified account; verify on the Me page, then apply."


class CardMinorNeedsGuardian(MedCardError):
    """R-ID-07: a person under 14 gets a card only through a guardian's account."""

    status = 403
    code = "CARD_MINOR_NEEDS_GUARDIAN"
    message_zh = "未满 14 周岁须由监护人代为申领"
    message_en = "Under 14, the card is applied for by a guardian"
    hint_zh = "请由父母或其他监护人在其账号中“添加子女”后，为子女申领电子健康卡。"
    hint_en = "A parent or guardian adds the child on the guardian's own account and applies there."


class CardPhotoUnreadable(MedCardError):
    status = 400
    code = "CARD_PHOTO_UNREADABLE"
    message_zh = "无法识别证件照片"
    message_en = "The ID photo could not be read"
    hint_zh = "请在光线均匀处重拍：避免反光和阴影，证件四角完整入镜，文字清晰；也可以手动填写。"
    hint_en = (
        "Retake it in even light: no glare or shadow, all four corners of the card in frame, text sharp. "
        "Or type the fields."
    )


class CardAlreadyIssued(MedCardError):
    status = 409
    code = "CARD_ALREADY_ISSUED"
    message_zh = "已在{scope_zh}办理过电子健康卡"
    message_en = "There is already a health card for this person at {scope_en}"
    hint_zh = "一人在同一医院（区域）只能有一张卡，请在“我的就诊卡”中查看。"
    hint_en = "One card per person per hospital (or region); find it under My cards."


class CardNumberOccupied(MedCardError):
    status = 409
    code = "CARD_NUMBER_OCCUPIED"
    message_zh = "卡号已被占用：您在{hospital_zh}已有就诊档案"
    message_en = "Card number already occupied: you already have a patient record at {hospital_en}"
    hint_zh = "请使用“老用户绑定”，通过短信验证关联已有档案，无需重新建档。"
    hint_en = "Use existing-patient binding: confirm by SMS code and your existing record is linked, no new record."


class CardExistingRecordNotFound(MedCardError):
    status = 404
    code = "CARD_EXISTING_RECORD_NOT_FOUND"
    message_zh = "{hospital_zh}没有您的就诊档案"
    message_en = "{hospital_en} has no patient record for you"
    hint_zh = "无需老用户绑定，请直接申领新卡。"
    hint_en = "No binding needed: apply for a new card."


class CardExistingRecordMismatch(MedCardError):
    status = 409
    code = "CARD_EXISTING_RECORD_MISMATCH"
    message_zh = "医院档案中的姓名与实名信息不一致"
    message_en = "The name in the hospital's record does not match the verified identity"
    hint_zh = "请携带身份证到医院收费窗口核对并更正档案后再绑定。"
    hint_en = "Bring your ID to the hospital's cashier window to correct the record, then bind again."


class CardHisUnavailable(MedCardError):
    status = 503
    code = "CARD_HIS_UNAVAILABLE"
    message_zh = "医院系统暂时无法访问"
    message_en = "The hospital system is not answering"
    hint_zh = "您填写的内容已保存，请稍后再提交。"
    hint_en = "Your form is saved; submit again in a few minutes."


class CardFieldImmutable(MedCardError):
    status = 403
    code = "CARD_FIELD_IMMUTABLE"
    message_zh = "{field_zh}提交后不能自行修改"
    message_en = "The {field_en} cannot be changed by you after submission"
    hint_zh = "如需变更，请携带身份证件到医院收费窗口办理，或拨打服务热线。"
    hint_en = "To change it, bring your ID to the hospital's cashier window or call the hotline."


class CardNumberInvalid(MedCardError):
    status = 400
    code = "CARD_NUMBER_INVALID"
    message_zh = "卡号格式不正确或校验位不符"
    message_en = "The card number is malformed or its check digit is wrong"
    hint_zh = "卡号为 16 位数字，请逐位核对（常见错误：相邻数字颠倒、少输一位）。"
    hint_en = "A card number has 16 digits; check each digit (swapped neighbours, a missing digit)."


class CardQrInvalid(MedCardError):
    status = 400
    code = "CARD_QR_INVALID"
    message_zh = "无效的电子健康卡二维码"
    message_en = "Not a valid health card QR code"
    hint_zh = "请让患者打开电子健康卡页面重新出示二维码。"
    hint_en = "Ask the patient to open the card page and show the QR code again."


class CardQrStale(MedCardError):
    status = 410
    code = "CARD_QR_STALE"
    message_zh = "二维码已失效（个人信息已更新）"
    message_en = "This QR code is no longer valid (personal information was updated)"
    hint_zh = "个人信息变更后旧二维码立即失效，请刷新电子健康卡页面出示新二维码。"
    hint_en = (
        "A change of personal information retires the old code at once; refresh the card page and show the new one."
    )


class CardNotActive(MedCardError):
    status = 409
    code = "CARD_NOT_ACTIVE"
    message_zh = "该卡当前不可用（状态：{status_zh}）"
    message_en = "This card cannot be used now (status: {status_en})"
    hint_zh = "待激活的卡请在自助机持身份证原件激活；冻结或注销的卡请到窗口办理。"
    hint_en = "Activate a pending card at a kiosk with the original ID; for a frozen or cancelled card go to a window."


class CardDocumentTaken(MedCardError):
    status = 409
    code = "CARD_DOCUMENT_TAKEN"
    message_zh = "该证件号码已有另一张卡"
    message_en = "Another card already holds this document number"
    hint_zh = "请核对证件号码；同一证件在同一医院只能有一张卡。"
    hint_en = "Check the number; one document has one card per hospital."
