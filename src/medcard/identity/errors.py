"""Identity errors: stable codes, zh-CN + English text and a self-help hint.

Input errors (a document number that breaks its rule) are 400 with the input ``field``;
422 stays reserved for malformed requests. Refusals of the verification itself that must
be counted (a failed face attempt, a failed bank-card check) are raised with
``keep_changes=True`` by the service so the session row keeps its attempt and failure code.
"""

from __future__ import annotations

from medcard.errors import MedCardError

HOTLINE = "12320"

# --------------------------------------------------------------------------- input rules (R-ID-01)


class DocumentInputError(MedCardError):
    """A claimed identity that breaks a document rule. ``label_zh``/``label_en`` name the document."""

    status = 400


class DocumentNumberLength(DocumentInputError):
    code = "DOCUMENT_NUMBER_LENGTH"
    message_zh = "{label_zh}应为 {expected} 位，您填写了 {actual} 位"
    message_en = "The {label_en} must have {expected} characters; {actual} were given"
    hint_zh = "请对照证件逐位填写；15 位的旧身份证号码已停用，请填写证件上的 18 位号码。"
    hint_en = "Copy the number from the document; old 15-character ID numbers are no longer accepted."


class DocumentNumberFormat(DocumentInputError):
    code = "DOCUMENT_NUMBER_FORMAT"
    message_zh = "{label_zh}格式不正确：{rule_zh}"
    message_en = "The {label_en} is not in the right form: {rule_en}"
    hint_zh = "请对照证件逐位核对。"
    hint_en = "Check the number against the document."


class DocumentChecksumMismatch(DocumentInputError):
    code = "DOCUMENT_CHECKSUM_MISMATCH"
    message_zh = "{label_zh}校验位不正确"
    message_en = "The check digit of the {label_en} does not match"
    hint_zh = "常见原因是两位数字颠倒或漏输一位，请逐位核对；最后一位 X 大小写均可。"
    hint_en = "Usually two digits are swapped or one is missing; check each digit. A final X may be lower case."


class DocumentRegionUnknown(DocumentInputError):
    code = "DOCUMENT_REGION_UNKNOWN"
    message_zh = "{label_zh}前 6 位 {region} 不是有效的行政区划代码"
    message_en = "The first 6 digits of the {label_en} ({region}) are not a known region code"
    hint_zh = "请核对号码开头的地址码。"
    hint_en = "Check the region code at the start of the number."


class DocumentBirthDateInvalid(DocumentInputError):
    code = "DOCUMENT_BIRTH_DATE_INVALID"
    message_zh = "{label_zh}中的出生日期 {digits} 不是有效日期"
    message_en = "The birth date in the {label_en} ({digits}) is not a valid date"
    hint_zh = "出生日期在号码第 7 至 14 位，请核对。"
    hint_en = "The birth date is digits 7 to 14 of the number; check them."


class DocumentBirthDateInFuture(DocumentInputError):
    code = "DOCUMENT_BIRTH_DATE_IN_FUTURE"
    message_zh = "{label_zh}中的出生日期 {birth} 晚于今天"
    message_en = "The birth date in the {label_en} ({birth}) is in the future"
    hint_zh = "出生日期在号码第 7 至 14 位，请核对。"
    hint_en = "The birth date is digits 7 to 14 of the number; check them."


class DocumentTypeMismatch(DocumentInputError):
    code = "DOCUMENT_TYPE_MISMATCH"
    message_zh = "该号码是{actual_zh}，与所选证件类型不符"
    message_en = "This number is a {actual_en}, not the document type chosen"
    hint_zh = "请重新选择证件类型。"
    hint_en = "Choose the matching document type."


class NationalityInvalid(DocumentInputError):
    code = "NATIONALITY_INVALID"
    message_zh = "国籍代码 {value} 无效"
    message_en = "The nationality code {value} is not valid"
    hint_zh = "请填写护照上的三位字母国籍代码，如 USA、GBR、JPN。"
    hint_en = "Use the three-letter code printed in the passport, e.g. USA, GBR, JPN."


class NationalityNotForeign(DocumentInputError):
    code = "NATIONALITY_NOT_FOREIGN"
    message_zh = "国籍 {value} 不能使用外国人护照认证"
    message_en = "Nationality {value} cannot verify with a foreign passport"
    hint_zh = "中国公民请使用居民身份证，港澳台居民请使用港澳台居民居住证。"
    hint_en = "Chinese citizens use the resident ID; HK/Macau/Taiwan residents use their residence permit."


class PassportNumberInvalid(DocumentInputError):
    code = "PASSPORT_NUMBER_INVALID"
    message_zh = "护照号码应为 5 至 17 位字母或数字"
    message_en = "A passport number has 5 to 17 letters or digits"
    hint_zh = "请照护照资料页填写，不含空格和符号。"
    hint_en = "Copy it from the passport's data page, without spaces or symbols."


class ResidencePermitNationalityMismatch(DocumentInputError):
    code = "RESIDENCE_PERMIT_NATIONALITY_MISMATCH"
    message_zh = "永久居留身份证上的国籍（{permit}）与所填国籍（{claimed}）不一致"
    message_en = "The nationality in the permanent resident ID ({permit}) differs from the one given ({claimed})"
    hint_zh = "请核对国籍和永久居留身份证号码。"
    hint_en = "Check the nationality and the permanent resident ID number."


class FieldRequired(DocumentInputError):
    code = "FIELD_REQUIRED"
    message_zh = "请填写{label_zh}"
    message_en = "Please fill in the {label_en}"
    hint_zh = "该项为必填项。"
    hint_en = "This field is required."


class NameInvalid(DocumentInputError):
    code = "NAME_INVALID"
    message_zh = "姓名格式不正确"
    message_en = "The name is not valid"
    hint_zh = "请填写证件上的姓名，不含数字和符号；少数民族姓名的间隔号请用“·”。"
    hint_en = "Enter the name as printed on the document, without digits or symbols."


class PhoneInvalid(DocumentInputError):
    code = "PHONE_INVALID"
    message_zh = "手机号码应为 11 位中国大陆手机号"
    message_en = "The phone number must be an 11-digit mainland China mobile number"
    hint_zh = "请填写以 1 开头的 11 位手机号码。"
    hint_en = "Enter the 11-digit number starting with 1."


class BankCardNumberInvalid(DocumentInputError):
    code = "BANK_CARD_NUMBER_INVALID"
    message_zh = "银行卡号不正确"
    message_en = "The bank card number is not valid"
    hint_zh = "请核对卡号（12 至 19 位数字）；卡号校验未通过，可能有数字输错。"
    hint_en = "Check the card number (12 to 19 digits); its check digit does not match."


class BirthCertificateNumberInvalid(DocumentInputError):
    code = "BIRTH_CERTIFICATE_NUMBER_INVALID"
    message_zh = "出生医学证明编号应为 1 位字母加 9 位数字"
    message_en = "A birth certificate number is one letter followed by 9 digits"
    hint_zh = "编号印在出生医学证明右上角，如 P110123456。"
    hint_en = "The number is printed at the top right of the certificate, e.g. P110123456."


class BirthCertificateNumberRequired(DocumentInputError):
    code = "BIRTH_CERTIFICATE_NUMBER_REQUIRED"
    message_zh = "未满 14 周岁的儿童须填写出生医学证明编号"
    message_en = "A child under 14 needs the birth certificate number"
    hint_zh = "编号印在出生医学证明右上角，如 P110123456。"
    hint_en = "The number is printed at the top right of the certificate, e.g. P110123456."


# --------------------------------------------------------------------------- verification sessions (R-ID-02…04)


class AccountAlreadyVerified(MedCardError):
    status = 409
    code = "ACCOUNT_ALREADY_VERIFIED"
    message_zh = "您的账号已完成实名认证"
    message_en = "Your account is already verified"
    hint_zh = "无需重复认证；重置支付密码、解冻或新设备二次验证时，请从相应页面发起重新认证。"
    hint_en = (
        "There is nothing more to do; to reset the payment password, reactivate or verify a new device, "
        "start the re-verification from that page."
    )


class ReverificationNeedsIdentity(MedCardError):
    status = 403
    code = "REVERIFICATION_NEEDS_IDENTITY"
    message_zh = "请先完成实名认证"
    message_en = "Please verify your identity first"
    hint_zh = "重新认证只用于已实名的账号；请先完成实名认证。"
    hint_en = "A re-verification is for a verified account; verify your identity first."


class ReverificationMethodNotAllowed(MedCardError):
    status = 400
    code = "REVERIFICATION_METHOD_NOT_ALLOWED"
    message_zh = "此方式不能用于重新认证"
    message_en = "This method cannot be used to verify again"
    hint_zh = "请用人脸识别、银行卡验证，或实名登记手机号的短信验证码。"
    hint_en = "Use face recognition, the bank card, or an SMS code to the phone on your verified identity."


class ReverificationIdentityMismatch(MedCardError):
    status = 403
    code = "REVERIFICATION_IDENTITY_MISMATCH"
    message_zh = "重新认证须使用本账号已实名的身份"
    message_en = "A re-verification must prove the identity this account holds"
    hint_zh = "请填写本人（{holder}）的证件号码和姓名；他人的证件不能用于本账号的安全验证。"
    hint_en = "Enter the account holder's ({holder}) document number and name; nobody else's document can be used."


class VerificationMethodMismatch(MedCardError):
    status = 409
    code = "VERIFICATION_METHOD_MISMATCH"
    message_zh = "本次认证方式不支持此操作"
    message_en = "This step does not belong to the method of this verification"
    hint_zh = "请按页面提示完成当前方式，或重新选择认证方式。"
    hint_en = "Finish the chosen method, or start again with another one."


class VerificationExpired(MedCardError):
    status = 410
    code = "VERIFICATION_SESSION_EXPIRED"
    message_zh = "本次认证已超时"
    message_en = "This verification has timed out"
    hint_zh = "认证须在 {minutes} 分钟内完成，请重新发起。"
    hint_en = "A verification must be finished within {minutes} minutes; please start again."


class VerificationFailed(MedCardError):
    status = 409
    code = "VERIFICATION_SESSION_FAILED"
    message_zh = "本次认证未通过，不能继续尝试"
    message_en = "This verification failed and cannot be continued"
    hint_zh = "请重新发起认证，或改用银行卡、短信验证码、医保信息等其他方式。"
    hint_en = "Start again, or choose another method: bank card, SMS code or insurance record."


class VerificationCompleted(MedCardError):
    status = 409
    code = "VERIFICATION_SESSION_COMPLETED"
    message_zh = "本次认证已完成"
    message_en = "This verification is already complete"
    hint_zh = "无需重复操作。"
    hint_en = "There is nothing more to do."


class FaceCheckFailed(MedCardError):
    status = 400
    code = "FACE_CHECK_FAILED"
    message_zh = "人脸核验未通过，还可尝试 {attempts_left} 次"
    message_en = "The face check did not pass; {attempts_left} attempt(s) left"
    hint_zh = "请在光线充足处正对镜头，摘下帽子和墨镜；不要翻拍照片或屏幕。"
    hint_en = "Face the camera in good light without hat or sunglasses; do not photograph a photo or a screen."


class FaceAttemptsExhausted(MedCardError):
    status = 409
    code = "FACE_ATTEMPTS_EXHAUSTED"
    message_zh = "人脸核验已失败 {max_attempts} 次，本次认证未通过"
    message_en = "The face check failed {max_attempts} times; this verification has failed"
    hint_zh = "请重新发起认证，或改用银行卡、短信验证码、医保信息等其他方式。"
    hint_en = "Start again, or choose another method: bank card, SMS code or insurance record."


class NameNumberMismatch(MedCardError):
    status = 400
    code = "NAME_NUMBER_MISMATCH"
    message_zh = "姓名与证件号码不一致，本次认证未通过"
    message_en = "The name does not match the document number; this verification has failed"
    hint_zh = "请核对姓名和证件号码后重新发起认证；姓名含生僻字时请致电服务热线 " + HOTLINE + "。"
    hint_en = "Check the name and number, then start again; for rare characters in the name call " + HOTLINE + "."


class BankCardCheckFailed(MedCardError):
    status = 400
    code = "BANK_CARD_CHECK_FAILED"
    message_zh = "银行卡四要素核验未通过，本次认证未通过"
    message_en = "The bank card check did not pass; this verification has failed"
    hint_zh = "请确认银行卡为本人名下、预留手机号与所填一致后重新发起，或改用其他认证方式。"
    hint_en = (
        "Make sure the card is yours and the phone is the one the bank holds, then start again or use another method."
    )


class InsuranceRecordNotFound(MedCardError):
    status = 400
    code = "INSURANCE_RECORD_NOT_FOUND"
    message_zh = "未查到与您身份一致的医保参保记录，本次认证未通过"
    message_en = "No insurance record matches your identity; this verification has failed"
    hint_zh = "新参保人员 1 至 2 个工作日后才能查到；也可改用人脸或银行卡认证。"
    hint_en = "New enrolments appear after 1 to 2 working days; you can also use face or bank card."


class IdentityHeldByAnotherAccount(MedCardError):
    status = 409
    code = "IDENTITY_HELD_BY_ANOTHER_ACCOUNT"
    message_zh = "该身份已绑定在另一个账号上"
    message_en = "This identity is already held by another account"
    hint_zh = "一个身份只能绑定一个账号。如非本人操作，请致电服务热线 " + HOTLINE + " 申诉。"
    hint_en = "One identity belongs to one account. If that was not you, call the hotline " + HOTLINE + "."


# --------------------------------------------------------------------------- children and guardians (R-ID-07)


class MinorNeedsGuardian(MedCardError):
    status = 403
    code = "ID_MINOR_NEEDS_GUARDIAN"
    message_zh = "未满 14 周岁不能本人实名认证"
    message_en = "Under 14, a child cannot verify on his own account"
    hint_zh = "请由父母或其他监护人在其账号中“添加子女”，代为认证和申领电子健康卡。"
    hint_en = "A parent or guardian adds the child on the guardian's own account and applies for the card there."


class GuardianNotVerified(MedCardError):
    status = 403
    code = "GUARDIAN_NOT_VERIFIED"
    message_zh = "请先完成本人实名认证"
    message_en = "Verify your own identity first"
    hint_zh = "监护人须先完成实名认证，才能为子女办理。"
    hint_en = "A guardian must be verified before adding a child."


class GuardianNotAdult(MedCardError):
    status = 403
    code = "GUARDIAN_NOT_ADULT"
    message_zh = "监护人须年满 18 周岁"
    message_en = "A guardian must be at least 18 years old"
    hint_zh = "请由年满 18 周岁的父母或其他法定监护人办理。"
    hint_en = "A parent or legal guardian aged 18 or over must do this."


class WardNotMinor(MedCardError):
    status = 400
    code = "WARD_NOT_MINOR"
    message_zh = "被监护人已年满 18 周岁"
    message_en = "The person is 18 or older"
    hint_zh = "成年人请用本人账号完成实名认证。"
    hint_en = "Adults verify with their own account."


class WardIsSelf(MedCardError):
    status = 400
    code = "WARD_IS_SELF"
    message_zh = "不能把本人添加为被监护人"
    message_en = "You cannot add yourself as your own ward"
    hint_zh = "请填写儿童的证件信息。"
    hint_en = "Enter the child's document."


class WardAlreadyAdded(MedCardError):
    status = 409
    code = "WARD_ALREADY_ADDED"
    message_zh = "该儿童已在您的监护列表中"
    message_en = "This child is already in your list"
    hint_zh = "无需重复添加。"
    hint_en = "There is nothing more to do."


class WardIdentityMismatch(MedCardError):
    status = 400
    code = "WARD_IDENTITY_MISMATCH"
    message_zh = "儿童的姓名与证件号码不一致"
    message_en = "The child's name does not match the document number"
    hint_zh = "请对照户口本或出生医学证明核对儿童的姓名和证件号码。"
    hint_en = "Check the child's name and number against the household register or birth certificate."


class GuardianIdentityMismatch(MedCardError):
    status = 400
    code = "GUARDIAN_IDENTITY_MISMATCH"
    message_zh = "监护人身份核验未通过"
    message_en = "The guardian's identity check did not pass"
    hint_zh = "请致电服务热线 " + HOTLINE + " 核实您的实名信息。"
    hint_en = "Call the hotline " + HOTLINE + " to check your verified identity."


class GuardianshipNotProven(MedCardError):
    status = 400
    code = "GUARDIANSHIP_NOT_PROVEN"
    message_zh = "监护关系核验未通过"
    message_en = "The guardianship could not be confirmed"
    hint_zh = "请上传清晰的户口本（户主页和儿童页）或出生医学证明照片，并核对儿童的证件信息。"
    hint_en = "Upload a clear photo of the household register or birth certificate and check the child's document."


# --------------------------------------------------------------------------- SMS codes (R-ID-05)


class SmsCodeInvalid(MedCardError):
    status = 400
    code = "SMS_CODE_INVALID"
    message_zh = "验证码不正确或已失效"
    message_en = "The code is wrong or no longer valid"
    hint_zh = "请核对短信中的 6 位验证码；验证码 5 分钟内有效且只能使用一次，可重新获取。"
    hint_en = "Check the 6-digit code in the message; a code is valid for 5 minutes and works once. Ask for a new one."


class SmsCodeWrong(SmsCodeInvalid):
    """A wrong code with tries left on it: say how many (issue 9)."""

    message_zh = "验证码不正确，还可尝试 {attempts_left} 次"
    message_en = "The code is wrong; {attempts_left} tries left"
    hint_zh = "请核对短信中的 6 位验证码；也可以重新获取。"
    hint_en = "Check the 6-digit code in the message, or ask for a new one."


class SmsCodeNotSent(MedCardError):
    """A code entered for a phone no code was sent to (for this purpose)."""

    status = 400
    code = "SMS_CODE_NOT_SENT"
    message_zh = "请先获取验证码"
    message_en = "Ask for a code first"
    hint_zh = "点击“获取验证码”，收到短信后再填写。"
    hint_en = "Tap “Send me a code” and enter the code from the message."


class SmsRateLimited(MedCardError):
    status = 429
    code = "SMS_RATE_LIMITED"
    message_zh = "获取验证码过于频繁"
    message_en = "Too many codes requested"
    hint_zh = "请 {retry_after} 秒后再试。"
    hint_en = "Try again in {retry_after} seconds."


# --------------------------------------------------------------------------- the verified person's phone (R-ID-05)


class PhoneNeedsIdentity(MedCardError):
    status = 403
    code = "PHONE_NEEDS_IDENTITY"
    message_zh = "请先完成实名认证，再添加手机号码"
    message_en = "Verify your identity before adding a phone number"
    hint_zh = "手机号码登记在实名身份上。"
    hint_en = "The phone number belongs to your verified identity."
