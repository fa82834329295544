package api

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lienthong/lienthong/civil"
)

// The console is Vietnamese first, so every field violation also carries a
// Vietnamese message (google.rpc.BadRequest's localized_message, locale
// vi-VN). The English text stays the description, for API callers and logs.
// Messages are looked up by the format string a violation is made with,
// which is a constant at each call site; no message is ever parsed.

// violationLocale is the locale of the localized messages.
const violationLocale = "vi-VN"

// viFormats translates the formats field violations are made with. A format
// missing here leaves the violation without a Vietnamese message; a test
// makes sure the validators' formats are all here.
var viFormats = map[string]string{ //nolint:gosec // G101: messages about tokens, not credentials
	"%s is not a stuck rule":                                   "%s không phải là một quy tắc hồ sơ tồn đọng",
	"a %s is recorded as %s":                                   "%s được ghi nhận là %s",
	"a cancellation needs a reason":                            "cần nêu lý do hủy hồ sơ",
	"a foreign parent needs an ID number or a passport number": "cha hoặc mẹ là người nước ngoài cần số định danh hoặc số hộ chiếu",
	"a supplement needs at least one field or a note":          "cần bổ sung ít nhất một giấy tờ hoặc ghi chú",
	"at least one parent is required":                          "cần thông tin của ít nhất cha hoặc mẹ",
	"commune %s is in province %s, not %s":                     "xã %s thuộc tỉnh %s, không phải %s",
	"is before 1900":                                           "trước năm 1900",
	"is before the date of birth":                              "trước ngày sinh",
	"is in the future":                                         "là một ngày trong tương lai",
	"is not a case id of justice, police or insurance":         "không phải mã hồ sơ của Tư pháp, Công an hay Bảo hiểm xã hội",
	"is not a dossier code":                                    "không phải mã hồ sơ",
	"is not a known bundle":                                    "không phải nhóm thủ tục đã biết",
	"is not a known commune code":                              "mã xã không tồn tại",
	"is not a known health-care facility code":                 "mã cơ sở khám chữa bệnh không tồn tại",
	"is not a known province code":                             "mã tỉnh không tồn tại",
	"is not a known step":                                      "không phải bước xử lý đã biết",
	"is not a known value":                                     "giá trị không hợp lệ",
	"is not a step of %s":                                      "không phải bước xử lý của %s",
	"is not a step of any procedure group":                     "không thuộc nhóm thủ tục nào",
	"is not a token this API returned":                         "mã trang không hợp lệ",
	"is not a valid time":                                      "thời điểm không hợp lệ",
	"is not one of this stack's demo users":                    "không phải người dùng thử của hệ thống này",
	"is required (YYYY-MM-DD)":                                 "bắt buộc (năm-tháng-ngày)",
	"is required for a Vietnamese parent (a passport number is accepted for foreign parents)": "bắt buộc với công dân Việt Nam (người nước ngoài có thể dùng số hộ chiếu)",
	"is required for payment by bank":                             "bắt buộc khi nhận qua tài khoản ngân hàng",
	"is required to ask for a supplement":                         "cần nêu lý do yêu cầu bổ sung",
	"is required to reject: the applicant is told why":            "cần nêu lý do từ chối: người nộp hồ sơ sẽ được thông báo",
	"is required: the applicant is told why the agency is late":   "cần nêu lý do chậm: người nộp hồ sơ sẽ được thông báo",
	"is required: the date the applicant will get the result":     "cần hẹn ngày trả kết quả mới",
	"is required with the funeral allowance (DEATH_BUNDLE_THREE)": "bắt buộc khi đề nghị trợ cấp mai táng",
	"is required": "bắt buộc",
	"is required: AGENCY_MODE_AUTO or AGENCY_MODE_MANUAL":                                                           "bắt buộc: tự động hoặc thủ công",
	"is required: DEATH_BUNDLE_TWO (registration and residence) or DEATH_BUNDLE_THREE (also the funeral allowance)": "bắt buộc: chọn nhóm 2 thủ tục (khai tử, xóa thường trú) hoặc 3 thủ tục (thêm trợ cấp mai táng)",
	"is required: DELIVERY_ELECTRONIC, DELIVERY_PAPER_AT_COMMUNE or DELIVERY_POST":                                  "bắt buộc: chọn nhận kết quả điện tử, tại xã hoặc qua bưu chính",
	"is required: PAYMENT_METHOD_BANK or PAYMENT_METHOD_CASH":                                                       "bắt buộc: chọn nhận qua ngân hàng hoặc tiền mặt",
	"is required: SEX_MALE or SEX_FEMALE":                                                                           "bắt buộc: chọn nam hoặc nữ",
	"is required: a client-chosen id that makes a retried submission return the same dossier":                       "bắt buộc: mã yêu cầu giúp gửi lại không tạo hồ sơ thứ hai",
	"is required: approve, reject or request a supplement":                                                          "bắt buộc: phê duyệt, từ chối hoặc yêu cầu bổ sung",
	"is required: justice, police or insurance":                                                                     "bắt buộc: Tư pháp, Công an hoặc Bảo hiểm xã hội",
	"is required: paste or upload the extract, or open its QR link":                                                 "bắt buộc: dán hoặc tải lên bản trích lục, hoặc mở liên kết mã QR",
	"is required: say why, for the trace and the audit":                                                             "bắt buộc: nêu lý do để lưu vết",
	"is required: the applicant looks the dossier up with it":                                                       "bắt buộc: người nộp dùng số này để tra cứu hồ sơ",
	"is required: the applicant's phone number given at submission":                                                 "bắt buộc: số điện thoại đã khai khi nộp hồ sơ",
	"is required: the dossier code on the receipt":                                                                  "bắt buộc: mã hồ sơ ghi trên giấy tiếp nhận",
	"is required: the initial health-care facility for the child's card":                                            "bắt buộc: nơi đăng ký khám chữa bệnh ban đầu cho thẻ BHYT của trẻ",
	"is required: the step whose agency asked for the supplement":                                                   "bắt buộc: bước xử lý có yêu cầu bổ sung",
	"is too long to be an extract":                                                                                  "quá dài, không phải một bản trích lục",
	"must be 2 to 11 letters and digits (a bank's short code or BIC)":                                               "phải gồm 2 đến 11 chữ cái và chữ số (mã ngân hàng)",
	"must be 6 to 20 digits":                                                                                        "phải gồm 6 đến 20 chữ số",
	"must be 6 to 20 letters and digits":                                                                            "phải gồm 6 đến 20 chữ cái và chữ số",
	"must be a date as YYYY-MM-DD":                                                                                  "phải là ngày dạng năm-tháng-ngày",
	"must be a plain e-mail address such as ten@example.vn":                                                         "phải là địa chỉ thư điện tử, ví dụ ten@example.vn",
	"must be after from":                                    "phải sau thời điểm bắt đầu",
	"must be at most %d characters":                         "tối đa %d ký tự",
	"must be before the child's birth":                      "phải trước ngày sinh của trẻ",
	"must be between 0 (ends an outage) and 24h":            "phải từ 0 (kết thúc sự cố) đến 24 giờ",
	"must be in the future":                                 "phải là một thời điểm trong tương lai",
	"must be a working day":                                 "phải là một ngày làm việc",
	"must be justice, police or insurance":                  "phải là Tư pháp, Công an hoặc Bảo hiểm xã hội",
	"must be justice, police, insurance, portal or sms":     "phải là Tư pháp, Công an, Bảo hiểm xã hội, Cổng dịch vụ công hoặc cổng tin nhắn SMS",
	"must be printable ASCII without spaces":                "chỉ gồm ký tự ASCII in được, không có dấu cách",
	"must name at most %d dossiers":                         "tối đa %d hồ sơ",
	"must be valid UTF-8":                                   "phải là văn bản UTF-8 hợp lệ",
	"must name at least one item the applicant must supply": "cần nêu ít nhất một giấy tờ người nộp phải bổ sung",
	"must name case states":                                 "cần nêu trạng thái hồ sơ",
	"must not be empty":                                     "không được để trống",
	"must not be negative":                                  "không được là số âm",
	"must not contain control characters":                   "không được chứa ký tự điều khiển",
	"survivor benefit is not offered yet: choose DEATH_BUNDLE_TWO or DEATH_BUNDLE_THREE":                                                                           "chưa hỗ trợ trợ cấp tuất: chọn nhóm 2 hoặc 3 thủ tục",
	"is required with the funeral allowance (DEATH_BUNDLE_THREE or DEATH_BUNDLE_FOUR)":                                                                             "bắt buộc khi đề nghị trợ cấp mai táng",
	"is required with the survivor benefit (DEATH_BUNDLE_FOUR)":                                                                                                    "bắt buộc khi đề nghị trợ cấp tuất",
	"is required: DEATH_BUNDLE_TWO (registration and residence), DEATH_BUNDLE_THREE (also the funeral allowance) or DEATH_BUNDLE_FOUR (also the survivor benefit)": "bắt buộc: chọn nhóm 2 thủ tục (khai tử, xóa thường trú), 3 thủ tục (thêm trợ cấp mai táng) hoặc 4 thủ tục (thêm trợ cấp tuất)",
	"is required: child, spouse, parent, parent-in-law or dependant":                                                                                               "bắt buộc: con, vợ hoặc chồng, cha mẹ đẻ, cha mẹ của vợ hoặc chồng, hoặc người mà người chết có nghĩa vụ nuôi dưỡng",
	"the survivor benefit cannot be decided for a death before %s":                                                                                                 "không thể giải quyết trợ cấp tuất cho người chết trước ngày %s",
	"name at least one relative the benefit is claimed for":                                                                                                        "cần khai ít nhất một thân nhân đề nghị hưởng trợ cấp tuất",
	"must name at most %d relatives":                                                                                                                               "tối đa %d thân nhân",
	"is the deceased's own ID number":                                                                                                                              "trùng số định danh của người chết",
	"names the same relative twice":                                                                                                                                "thân nhân này đã được khai",
	"must be a percentage from 0 to 100":                                                                                                                           "phải là tỷ lệ phần trăm từ 0 đến 100",
	"the child is 6 or older: the linked birth procedures, and the child's health-insurance card, are for children under 6":                                        "trẻ đã đủ 6 tuổi: nhóm thủ tục liên thông khai sinh và thẻ BHYT chỉ dành cho trẻ dưới 6 tuổi",
	"the household head must consent to the child joining the household":                                                                                           "chủ hộ phải đồng ý cho trẻ nhập hộ khẩu",
	"the portal has no officers: it only publishes statuses":                                                                                                       "Cổng dịch vụ công không có cán bộ xử lý: chỉ công bố trạng thái",
	"the SMS gateway has no officers: it only sends messages":                                                                                                      "Cổng tin nhắn SMS không có cán bộ xử lý: chỉ gửi tin nhắn",
}

// viErrors translates the civil package's rule errors, which validators pass
// through as "%s".
var viErrors = []struct {
	err error
	vi  string
}{
	{civil.ErrIDShape, "số định danh cá nhân phải gồm đúng 12 chữ số"},
	{civil.ErrIDProvince, "số định danh có mã tỉnh nơi đăng ký khai sinh không tồn tại"},
	{civil.ErrIDSex, "chữ số thế kỷ và giới tính trong số định danh không khớp"},
	{civil.ErrIDYear, "năm sinh trong số định danh không khớp"},
	{civil.ErrNameEmpty, "không được để trống"},
	{civil.ErrNameTooLong, "tối đa 100 ký tự"},
	{civil.ErrNameNotNFC, "phải viết ở dạng Unicode dựng sẵn (NFC)"},
	{civil.ErrNameSpaces, "không được có dấu cách ở đầu, cuối hoặc hai dấu cách liền nhau"},
	{civil.ErrNameCharacters, "chỉ được gồm chữ cái và dấu cách"},
}

// vietnameseFor is a violation's Vietnamese message, or "" when its format
// has none. A phone number the civil package refuses gets one message,
// whatever the English reason.
func vietnameseFor(field, format string, args ...any) string {
	if vi := vietnamese(format, args...); vi != "" {
		return vi
	}
	if format == "%s" && isPhoneField(field) {
		return phoneVietnamese
	}
	return ""
}

// vietnamese renders a format's Vietnamese message, or "" when it has none.
func vietnamese(format string, args ...any) string {
	if format == "%s" && len(args) == 1 {
		if err, ok := args[0].(error); ok {
			for _, e := range viErrors {
				if errors.Is(err, e.err) {
					return e.vi
				}
			}
		}
		return ""
	}
	vi, ok := viFormats[format]
	if !ok {
		return ""
	}
	return fmt.Sprintf(vi, args...)
}

// phoneVietnamese is the one message for a phone number the civil package
// refuses; its English reasons vary, the advice does not.
const phoneVietnamese = "phải là số điện thoại di động Việt Nam, ví dụ 0912 345 678 hoặc +84 912 345 678"

// isPhoneField says whether a field path names a phone number.
func isPhoneField(field string) bool { return strings.HasSuffix(field, "phone") }
