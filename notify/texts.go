package notify

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/lienthong/lienthong/dossier"
)

// The texts. An SMS names the dossier by its code and says one thing; the
// receipt fits two UCS-2 segments. An e-mail may add the reasons an agency
// gave and each procedure's state. No text ever carries an ID number, a
// name, an address or an agency's result values (the child's ID number and
// card code are results): an SMS is read on a lock screen and may go to a
// shared phone. Free text from agencies (reasons, unlisted items) only goes
// into e-mails, and through scrub first.

var stepNames = map[dossier.StepKind]string{
	dossier.StepBirthRegistration:     "Đăng ký khai sinh",
	dossier.StepIDNumber:              "Cấp số định danh cá nhân cho trẻ",
	dossier.StepResidenceRegistration: "Đăng ký thường trú",
	dossier.StepChildCard:             "Cấp thẻ BHYT cho trẻ dưới 6 tuổi",
	dossier.StepDeathRegistration:     "Đăng ký khai tử",
	dossier.StepResidenceCancellation: "Xóa đăng ký thường trú",
	dossier.StepFuneralAllowance:      "Giải quyết trợ cấp mai táng",
	dossier.StepSurvivorBenefit:       "Giải quyết trợ cấp tuất",
}

// StepName is a procedure's Vietnamese name.
func StepName(k dossier.StepKind) string { return named(stepNames, k, string(k)) }

// named is m's name for k, or def.
func named[K comparable](m map[K]string, k K, def string) string {
	if n, ok := m[k]; ok {
		return n
	}
	return def
}

func groupName(g dossier.Group) string {
	if g == dossier.GroupDeath {
		return "liên thông khai tử"
	}
	return "liên thông khai sinh"
}

// itemNames are the supplement items agencies name, as the officers' desk
// offers them (console/web/src/pages/desk/strings.ts).
var itemNames = map[string]string{
	"birth_certificate":      "giấy chứng sinh",
	"marriage_certificate":   "giấy chứng nhận kết hôn",
	"parent_id_card":         "căn cước của cha, mẹ",
	"requester_id_card":      "căn cước của người yêu cầu",
	"authorization_letter":   "văn bản ủy quyền",
	"residence_proof":        "giấy tờ chứng minh chỗ ở hợp pháp",
	"household_head_consent": "văn bản đồng ý của chủ hộ",
	"birth_extract":          "trích lục khai sinh",
	"death_notice":           "giấy báo tử",
	"death_extract":          "trích lục khai tử",
	"relationship_proof":     "giấy tờ chứng minh quan hệ với người chết",
	"bank_account":           "thông tin tài khoản nhận tiền",
}

// smsItems is how many items an SMS names before "và N giấy tờ khác".
const smsItems = 1

// items names what is missing: the known items by name, others as the
// officer typed them, scrubbed. An SMS names at most smsItems.
func items(missing []string, limit int) string {
	var names []string
	for _, m := range missing {
		if n := named(itemNames, m, strings.TrimSpace(scrub(m))); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "giấy tờ theo yêu cầu"
	}
	if limit > 0 && len(names) > limit {
		return strings.Join(names[:limit], ", ") + fmt.Sprintf(" và %d giấy tờ khác", len(names)-limit)
	}
	return strings.Join(names, ", ")
}

// idLike is what an ID number looks like in free text: nine digits or more
// (an old identity card has 9, a personal ID number 12), maybe grouped by
// spaces or dots, or a passport number (a letter and 7 or 8 digits).
// Hyphens are left alone: dossier codes and registration numbers use them.
var idLike = regexp.MustCompile(`\d(?:[ .]?\d){8,}|\b[A-Za-z]\d{7,8}\b`)

// scrub hides anything that looks like an ID number in free text.
func scrub(s string) string { return idLike.ReplaceAllString(s, "***") }

// finish makes a text safe to send: NFC (so each Vietnamese letter is one
// UCS-2 unit), without stray spaces.
func finish(s string) string { return strings.TrimSpace(norm.NFC.String(s)) }

const footer = "Ông/bà có thể tra cứu hồ sơ bằng mã hồ sơ và số điện thoại đã đăng ký, tại bộ phận một cửa hoặc trên trang tra cứu.\n" +
	"Thư này được gửi tự động, xin đừng trả lời."

func email(subject, lead string, details ...string) (string, string) {
	paragraphs := append([]string{"Kính gửi ông/bà,", "", lead, ""}, details...)
	return finish(subject), finish(strings.Join(paragraphs, "\n") + "\n\n" + footer)
}

func facts(snap dossier.Snapshot) []string {
	return []string{
		"Mã hồ sơ: " + snap.Code,
		"Nhóm thủ tục: " + groupName(snap.Group),
		"Ngày tiếp nhận: " + date(snap.ReceivedAt),
		"Ngày hẹn trả kết quả: " + date(snap.AppointmentAt),
	}
}

func receipt(snap dossier.Snapshot) Notice {
	n := Notice{Kind: KindReceipt,
		SMS: finish(fmt.Sprintf("Hồ sơ %s (%s) đã được tiếp nhận. Ngày hẹn trả kết quả: %s.",
			snap.Code, groupName(snap.Group), date(snap.AppointmentAt)))}
	n.Subject, n.Body = email("Hồ sơ "+snap.Code+": đã tiếp nhận", n.SMS, facts(snap)...)
	return n
}

func supplement(snap dossier.Snapshot, st dossier.Step, deadline time.Time) Notice {
	n := Notice{Kind: KindSupplement, Step: st.Kind,
		SMS: finish(fmt.Sprintf("Hồ sơ %s: %s cần bổ sung %s. Hạn bổ sung: %s. Xin liên hệ bộ phận một cửa.",
			snap.Code, StepName(st.Kind), items(st.Missing, smsItems), date(deadline)))}
	details := []string{"Thủ tục: " + StepName(st.Kind), "Cần bổ sung: " + items(st.Missing, 0)}
	if r := strings.TrimSpace(scrub(st.Reason)); r != "" {
		details = append(details, "Lý do: "+r)
	}
	details = append(details, "Hạn bổ sung: "+date(deadline)+
		fmt.Sprintf(" (%d ngày làm việc; quá hạn, thủ tục này sẽ không được giải quyết)", SupplementDays), "")
	n.Subject, n.Body = email("Hồ sơ "+snap.Code+": cần bổ sung giấy tờ", n.SMS, append(details, facts(snap)...)...)
	return n
}

func stepResult(snap dossier.Snapshot, st dossier.Step) Notice {
	n := Notice{Kind: KindStepResult, Step: st.Kind}
	outcome := "đã giải quyết xong"
	if st.Status == dossier.StepRejected {
		outcome = "không được giải quyết"
		n.SMS = fmt.Sprintf("Hồ sơ %s: %s không được giải quyết. Xin liên hệ bộ phận một cửa để biết lý do.", snap.Code, StepName(st.Kind))
	} else {
		n.SMS = fmt.Sprintf("Hồ sơ %s: %s đã giải quyết xong.", snap.Code, StepName(st.Kind))
	}
	n.SMS = finish(n.SMS)
	details := []string{"Thủ tục: " + StepName(st.Kind), "Kết quả: " + outcome}
	if r := strings.TrimSpace(scrub(st.Reason)); r != "" && st.Status == dossier.StepRejected {
		details = append(details, "Lý do: "+r)
	}
	n.Subject, n.Body = email("Hồ sơ "+snap.Code+": kết quả "+lower(StepName(st.Kind)), n.SMS, append(append(details, ""), facts(snap)...)...)
	return n
}

func appointment(snap dossier.Snapshot) Notice {
	n := Notice{Kind: KindAppointment,
		SMS: finish(fmt.Sprintf("Hồ sơ %s: ngày hẹn trả kết quả dời sang %s. Cơ quan giải quyết xin lỗi ông/bà vì sự chậm trễ.",
			snap.Code, date(snap.AppointmentAt)))}
	var details []string
	// The late agency's apology slip, when it is what moved the date: its
	// number and reason go to the applicant, as the rules on lateness ask.
	for _, st := range snap.Steps {
		if a := st.Apology; a.Issued() && a.NewAppointmentAt != nil && a.NewAppointmentAt.Equal(snap.AppointmentAt) {
			details = append(details, fmt.Sprintf("Phiếu xin lỗi và hẹn lại ngày trả kết quả số %s (%s). Lý do chậm: %s",
				a.Number, StepName(st.Kind), scrub(a.Reason)), "")
		}
	}
	n.Subject, n.Body = email("Hồ sơ "+snap.Code+": ngày hẹn trả kết quả mới", n.SMS, append(details, facts(snap)...)...)
	return n
}

func end(snap dossier.Snapshot) Notice {
	n := Notice{Kind: KindEnd}
	var subject string
	switch snap.Status {
	case dossier.StatusCompleted:
		subject = "đã giải quyết xong"
		n.SMS = fmt.Sprintf("Hồ sơ %s đã giải quyết xong. Mời ông/bà nhận kết quả theo hình thức đã đăng ký.", snap.Code)
	case dossier.StatusPartiallyCompleted:
		subject = "đã giải quyết xong một phần"
		n.SMS = fmt.Sprintf("Hồ sơ %s đã giải quyết xong một phần; có thủ tục không được giải quyết. Xin liên hệ bộ phận một cửa.", snap.Code)
	case dossier.StatusRejected:
		subject = "không được giải quyết"
		n.SMS = fmt.Sprintf("Hồ sơ %s không được giải quyết. Xin liên hệ bộ phận một cửa để biết lý do.", snap.Code)
	default:
		subject = "đã hủy"
		n.SMS = fmt.Sprintf("Hồ sơ %s đã bị hủy. Chi tiết tại bộ phận một cửa.", snap.Code)
	}
	n.SMS = finish(n.SMS)
	details := []string{"Các thủ tục:"}
	for _, st := range snap.Steps {
		details = append(details, "- "+StepName(st.Kind)+": "+stepState(st.Status))
	}
	n.Subject, n.Body = email("Hồ sơ "+snap.Code+": "+subject, n.SMS, append(append(details, ""), facts(snap)...)...)
	return n
}

var stepStates = map[dossier.StepStatus]string{
	dossier.StepApproved:  "đã giải quyết xong",
	dossier.StepRejected:  "không được giải quyết",
	dossier.StepSkipped:   "không thực hiện (thủ tục trước không được giải quyết)",
	dossier.StepCancelled: "đã hủy",
}

func stepState(s dossier.StepStatus) string { return named(stepStates, s, "đang giải quyết") }

// lower lowercases the first letter, for a name inside a sentence.
func lower(s string) string {
	for i, r := range s {
		return strings.ToLower(string(r)) + s[i+len(string(r)):]
	}
	return s
}
