"""The binding error taxonomy (R-INS-09): every refusal has a stable code, zh-CN and English
text and a self-help hint (what to do, where to go). ``category`` groups codes on the
dashboard (R-OPS-01)."""

from __future__ import annotations

from typing import ClassVar

from medcard.errors import MedCardError


class InsuranceError(MedCardError):
    """A refused binding step, counted on the dashboard by ``category``."""

    status = 409
    category: ClassVar[str] = "other"


class NotVerified(InsuranceError):
    status = 403
    code = "INS_NOT_VERIFIED"
    category = "prerequisite"
    message_zh = "请先完成实名认证"
    message_en = "Verify your real name first"
    hint_zh = "在“我的”→“实名认证”中完成认证后再绑定医保。"
    hint_en = "Finish real-name verification under Me → Verify, then bind."


class RegionNotSupported(InsuranceError):
    code = "INS_REGION_NOT_SUPPORTED"
    category = "region"
    message_zh = "{region}暂未开通医保电子凭证线上绑定"
    message_en = "{region_en} does not support binding the e-voucher online yet"
    hint_zh = "请携带社保卡到医院医保窗口办理，或关注当地医保局开通通知。"
    hint_en = "Bring your social security card to the hospital's insurance desk, or wait for your city to join."


class RegionMismatch(InsuranceError):
    code = "INS_REGION_MISMATCH"
    category = "region"
    message_zh = "社保卡参保地与当前所在地不一致"
    message_en = "Your card was issued in another region than where you are"
    hint_zh = "请在参保地绑定；在外地就医请先办理异地就医备案。"
    hint_en = "Bind in the region where you are insured; for care elsewhere, file an out-of-region filing."


class ClientTooOld(InsuranceError):
    code = "INS_CLIENT_TOO_OLD"
    category = "prerequisite"
    message_zh = "客户端版本过低（最低 {minimum}）"
    message_en = "Your app version is too old (minimum {minimum})"
    hint_zh = "请在应用商店升级到最新版本后重试。"
    hint_en = "Update the app from the app store and try again."


class MinorNeedsGuardian(InsuranceError):
    code = "INS_MINOR_NEEDS_GUARDIAN"
    category = "prerequisite"
    message_zh = "未满 {age} 周岁需由监护人代为绑定"
    message_en = "Under {age}, a guardian must bind for you"
    hint_zh = "请监护人在“家庭成员”中添加您后代为绑定。"
    hint_en = "Ask your guardian to add you as a family member and bind for you."


class MinorNotAllowed(InsuranceError):
    code = "INS_MINOR_NOT_ALLOWED"
    category = "prerequisite"
    message_zh = "本地区仅支持年满 {age} 周岁的参保人线上绑定"
    message_en = "Here only insured people aged {age} or over can bind online"
    hint_zh = "未成年人请由监护人携带户口本到医保窗口办理。"
    hint_en = "For a minor, a guardian brings the household register to the insurance desk."


class HmtNotSupported(InsuranceError):
    code = "INS_HMT_NOT_SUPPORTED"
    category = "prerequisite"
    message_zh = "本地区暂不支持港澳台居民线上绑定"
    message_en = "Residents of Hong Kong, Macao and Taiwan cannot bind online here"
    hint_zh = "请持港澳台居民居住证到医保窗口办理。"
    hint_en = "Bring your residence permit for HK/Macao/Taiwan residents to the insurance desk."


class PhoneRequired(InsuranceError):
    code = "INS_PHONE_REQUIRED"
    category = "prerequisite"
    message_zh = "需要可接收短信的手机号"
    message_en = "A phone number that receives SMS is needed"
    hint_zh = "请在“我的 → 手机号码”添加并用短信验证码确认手机号，然后重新绑定。"
    hint_en = "Add your phone under “Me → Phone number”, confirm it with the texted code, then bind again."


class InvalidCardNumber(InsuranceError):
    code = "INS_INVALID_CARD_NUMBER"
    category = "card_number"
    message_zh = "社保卡号不正确"
    message_en = "The social security card number is not valid"
    hint_zh = "卡号为 1–2 位字母加 7–10 位数字，印在社保卡正面“卡号”处；请核对后重新输入。"
    hint_en = "The number is 1–2 letters and 7–10 digits, printed as 卡号 on the front of the card."


class InsuranceTypeMismatch(InsuranceError):
    code = "INS_TYPE_MISMATCH"
    category = "card_number"
    message_zh = "所选险种与参保登记不一致"
    message_en = "The chosen scheme is not the one you are insured under"
    hint_zh = "请选择您实际参保的险种（职工、居民或新农合）。"
    hint_en = "Choose the scheme you are actually insured under."


class NotInsured(InsuranceError):
    status = 404
    code = "INS_NOT_INSURED"
    category = "not_insured"
    message_zh = "未查询到您的参保信息"
    message_en = "No insurance record was found for you"
    hint_zh = "请确认已参保；如有疑问请拨打 12393 医保服务热线。"
    hint_en = "Check that you are insured; call the 12393 insurance hotline if unsure."


class NewlyInsured(InsuranceError):
    code = "INS_NEWLY_INSURED"
    category = "newly_insured"
    message_zh = "新参保信息需 1–2 个工作日同步"
    message_en = "New insurance records take 1–2 working days to appear"
    hint_zh = "请于 {retry_on} 之后再试。"
    hint_en = "Please try again from {retry_on}."


class InfoNotSynced(InsuranceError):
    code = "INS_INFO_NOT_SYNCED"
    category = "info_sync"
    message_zh = "个人信息变更后尚未同步到医保系统"
    message_en = "Your changed personal details have not reached the insurance system yet"
    hint_zh = "请携带身份证到参保地医保经办机构更新信息，更新后次日再试。"
    hint_en = "Bring your ID card to your insurance office to update them, then try the next day."


class RareCharacterName(InsuranceError):
    code = "INS_RARE_CHARACTER_NAME"
    category = "rare_name"
    message_zh = "姓名含生僻字，医保系统无法匹配"
    message_en = "Your name contains a rare character the insurance system cannot match"
    hint_zh = "请到医保经办窗口登记生僻字后再绑定。"
    hint_en = "Have the character registered at the insurance office, then bind."


class SchemeNotSupported(InsuranceError):
    code = "INS_SCHEME_NOT_SUPPORTED"
    category = "special_scheme"
    message_zh = "离休、公费医疗人员暂不支持线上绑定"
    message_en = "Retired-cadre and public-medical schemes cannot bind online"
    hint_zh = "请到医院医保窗口持原有证件结算。"
    hint_en = "Settle at the hospital's insurance desk with your existing documents."


class CardGenerationTooOld(InsuranceError):
    code = "INS_CARD_GENERATION"
    category = "card_status"
    message_zh = "本地区需要第 {generation} 代及以上社保卡"
    message_en = "This region needs a generation {generation} or newer social security card"
    hint_zh = "请到社保卡服务网点换领新卡。"
    hint_en = "Exchange your card for a new one at a social security card service point."


class CardNotActivated(InsuranceError):
    code = "INS_CARD_NOT_ACTIVATED"
    category = "card_status"
    message_zh = "社保卡金融功能未激活"
    message_en = "The bank function of your social security card is not activated"
    hint_zh = "请携带社保卡和身份证到合作银行网点激活金融功能。"
    hint_en = "Activate it at a partner bank branch with the card and your ID card."


class OfflineCheckRequired(InsuranceError):
    code = "INS_OFFLINE_CHECK_REQUIRED"
    category = "prerequisite"
    message_zh = "首次绑定前需到线下完成一次身份核验"
    message_en = "One in-person identity check is needed before the first binding"
    hint_zh = "请携带身份证到医保经办窗口或医院自助机完成一次线下核验。"
    hint_en = "Do one in-person check at an insurance office or a hospital kiosk with your ID card."


class FaceFailed(InsuranceError):
    code = "INS_FACE_FAILED"
    category = "face"
    message_zh = "人脸核验未通过"
    message_en = "The face check did not pass"
    hint_zh = "请在光线充足处正对镜头、摘下眼镜和帽子后重试。"
    hint_en = "Face the camera in good light without glasses or hat, and try again."


class AlreadyBound(InsuranceError):
    code = "INS_ALREADY_BOUND"
    category = "other"
    message_zh = "该就诊卡已绑定医保"
    message_en = "This card already has an insurance binding"
    hint_zh = "如需更换，请先解绑。"
    hint_en = "Unbind it first to bind another."


class BindingNotActive(MedCardError):
    status = 409
    code = "INS_BINDING_NOT_ACTIVE"
    message_zh = "该医保绑定已解除"
    message_en = "This insurance binding has been removed"
    hint_zh = "请重新绑定医保。"
    hint_en = "Bind your insurance again."


class FilingNotNeeded(MedCardError):
    status = 409
    code = "INS_FILING_NOT_NEEDED"
    message_zh = "{region}与参保地同属一个协同区域，无需备案"
    message_en = "No filing is needed: {region_en} is in the same cooperation zone as your insured region"
    hint_zh = "可直接在该地就医并使用医保结算。"
    hint_en = "You can use your insurance there directly."


class FilingExists(MedCardError):
    status = 409
    code = "INS_FILING_EXISTS"
    message_zh = "已有一份有效的备案"
    message_en = "An active filing for this region already exists"
    hint_zh = "如需修改，请先取消原备案。"
    hint_en = "Cancel the existing filing first to change it."


class FilingNotActive(MedCardError):
    status = 409
    code = "INS_FILING_NOT_ACTIVE"
    message_zh = "该备案已取消"
    message_en = "This filing is already cancelled"
    hint_zh = "如需在外地就医，请重新备案。"
    hint_en = "File again if you need care there."


class ApplicationAlreadyReviewed(MedCardError):
    status = 409
    code = "INS_APPLICATION_REVIEWED"
    message_zh = "该申请已审核"
    message_en = "This application has already been reviewed"
    hint_zh = "审核结果不可更改；如有异议请重新申请。"
    hint_en = "A review cannot be changed; apply again if you disagree."


class UnknownDisease(MedCardError):
    status = 422
    code = "INS_UNKNOWN_DISEASE"
    message_zh = "不在特殊病种目录中"
    message_en = "Not in the list of special diseases"
    hint_zh = "请从列表中选择病种。"
    hint_en = "Pick a disease from the list."


class VoucherCodeUnavailable(MedCardError):
    status = 503
    code = "INS_VOUCHER_CODE_UNAVAILABLE"
    message_zh = "暂时无法获取医保码"
    message_en = "The insurance code is not available right now"
    hint_zh = "医保平台暂时未返回医保码，请稍后刷新；也可在窗口出示社保卡。"
    hint_en = (
        "The insurance platform gave no code; refresh in a moment, or show the social-security card at the window."
    )


class MaterialsCount(MedCardError):
    status = 422
    code = "INS_MATERIALS_COUNT"
    message_zh = "请上传 1 至 {limit} 份申请材料"
    message_en = "Upload 1 to {limit} materials"
    hint_zh = "上传诊断证明和病历（PDF、JPEG 或 PNG），多页材料可合并为一个 PDF。"
    hint_en = "Upload the diagnosis and records (PDF, JPEG or PNG); merge many pages into one PDF."


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
