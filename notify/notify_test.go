package notify_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/notify"
	"github.com/lienthong/lienthong/workflows"
)

var received = time.Date(2026, 3, 2, 9, 0, 0, 0, civil.Zone) // a Monday

// birth is a birth dossier at version v, every step pending.
func birth(v int64) dossier.Snapshot {
	s := dossier.Snapshot{
		Code: "00004-260302-0001", Group: dossier.GroupBirth, Status: dossier.StatusReceived, Version: v,
		CommuneCode: "00004", ProvinceCode: "001", ReceivedAt: received,
		DueAt: received.Add(56 * time.Hour), AppointmentAt: time.Date(2026, 3, 5, 17, 0, 0, 0, civil.Zone),
	}
	for _, k := range workflows.BirthSteps {
		s.Steps = append(s.Steps, dossier.Step{Kind: k, Agency: k.Agency(), Status: dossier.StepPending, StatusSince: received})
	}
	return s
}

// with returns s at version v with changes applied.
func with(s dossier.Snapshot, v int64, change func(*dossier.Snapshot)) dossier.Snapshot {
	s.Version = v
	s.Steps = append([]dossier.Step(nil), s.Steps...)
	change(&s)
	return s
}

func step(k dossier.StepKind, st dossier.StepStatus) func(*dossier.Snapshot) {
	return func(s *dossier.Snapshot) {
		p := s.Step(k)
		p.Status, p.StatusSince = st, received.Add(time.Hour)
		s.Status = s.DerivedStatus()
	}
}

type derived struct {
	kind notify.Kind
	step dossier.StepKind
}

func kinds(ns []notify.Notice) []derived {
	out := []derived{}
	for _, n := range ns {
		out = append(out, derived{n.Kind, n.Step})
	}
	return out
}

func TestDerive(t *testing.T) {
	t.Parallel()
	cal := calendar.Default()
	v1 := birth(1)
	sending := with(v1, 2, step(dossier.StepIDNumber, dossier.StepSending))
	later := v1.AppointmentAt.Add(48 * time.Hour)

	for _, tc := range []struct {
		name       string
		prev, next dossier.Snapshot
		want       []derived
	}{
		{"the first version is the receipt", birth(0), v1, []derived{{notify.KindReceipt, ""}}},
		{"a step on its way says nothing", v1, sending, []derived{}},
		{"the same version again says nothing", sending, sending, []derived{}},
		{"an older version says nothing", sending, v1, []derived{}},
		{"a supplement request", sending, with(sending, 3, step(dossier.StepIDNumber, dossier.StepNeedsSupplement)),
			[]derived{{notify.KindSupplement, dossier.StepIDNumber}}},
		{"still waiting for the supplement says nothing",
			with(sending, 3, step(dossier.StepIDNumber, dossier.StepNeedsSupplement)),
			with(sending, 4, func(s *dossier.Snapshot) {
				step(dossier.StepIDNumber, dossier.StepNeedsSupplement)(s)
				s.Overdue = true
			}), []derived{}},
		{"an approval", sending, with(sending, 3, step(dossier.StepIDNumber, dossier.StepApproved)),
			[]derived{{notify.KindStepResult, dossier.StepIDNumber}}},
		{"a rejection after a supplement request",
			with(sending, 3, step(dossier.StepIDNumber, dossier.StepNeedsSupplement)),
			with(sending, 4, step(dossier.StepIDNumber, dossier.StepRejected)),
			[]derived{{notify.KindStepResult, dossier.StepIDNumber}}},
		{"a skipped step is told by the end, not alone", sending, with(sending, 3, step(dossier.StepChildCard, dossier.StepSkipped)), []derived{}},
		{"results gained by an approved step say nothing",
			with(sending, 3, step(dossier.StepBirthRegistration, dossier.StepApproved)),
			with(sending, 4, func(s *dossier.Snapshot) {
				step(dossier.StepBirthRegistration, dossier.StepApproved)(s)
				s.Step(dossier.StepBirthRegistration).Result = map[string]string{"id_number": "001226000123"}
			}), []derived{}},
		{"a decided step has had its result told",
			with(sending, 3, step(dossier.StepChildCard, dossier.StepRejected)),
			with(sending, 4, step(dossier.StepChildCard, dossier.StepApproved)), []derived{}},
		{"a later appointment", sending, with(sending, 3, func(s *dossier.Snapshot) { s.AppointmentAt = later }),
			[]derived{{notify.KindAppointment, ""}}},
		{"an earlier appointment says nothing", sending, with(sending, 3, func(s *dossier.Snapshot) { s.AppointmentAt = received }), []derived{}},
		{"two steps decided in one version, in step order, then the new date",
			sending, with(sending, 3, func(s *dossier.Snapshot) {
				step(dossier.StepChildCard, dossier.StepRejected)(s)
				step(dossier.StepResidenceRegistration, dossier.StepApproved)(s)
				s.AppointmentAt = later
			}),
			[]derived{{notify.KindStepResult, dossier.StepResidenceRegistration}, {notify.KindStepResult, dossier.StepChildCard}, {notify.KindAppointment, ""}}},
		{"the end", sending, with(sending, 3, func(s *dossier.Snapshot) { s.Status = dossier.StatusCompleted }),
			[]derived{{notify.KindEnd, ""}}},
		{"a cancellation ends it without a result per step", sending, with(sending, 3, func(s *dossier.Snapshot) {
			for i := range s.Steps {
				s.Steps[i].Status = dossier.StepCancelled
			}
			s.Status = dossier.StatusCancelled
		}), []derived{{notify.KindEnd, ""}}},
		{"an ended dossier ends once", with(v1, 5, func(s *dossier.Snapshot) { s.Status = dossier.StatusRejected }),
			with(v1, 6, func(s *dossier.Snapshot) { s.Status = dossier.StatusRejected }), []derived{}},
		{"a first batch that is already the end: receipt, result, end", birth(0),
			with(v1, 1, func(s *dossier.Snapshot) {
				step(dossier.StepBirthRegistration, dossier.StepRejected)(s)
				s.Status = dossier.StatusRejected
			}),
			[]derived{{notify.KindReceipt, ""}, {notify.KindStepResult, dossier.StepBirthRegistration}, {notify.KindEnd, ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, kinds(notify.Derive(tc.prev, tc.next, cal)))
		})
	}
}

func TestSupplementDeadlineIsTheWorkflows(t *testing.T) {
	t.Parallel()
	require.Equal(t, workflows.DefaultLimits().SupplementDays, notify.SupplementDays,
		"the texts date the supplement deadline with the workflow's window")
	v1 := birth(1)
	ns := notify.Derive(v1, with(v1, 2, step(dossier.StepBirthRegistration, dossier.StepNeedsSupplement)), calendar.Default())
	require.Len(t, ns, 1)
	// Asked Mon 2 Mar 2026 10:00: 7 working days is Wed 11 Mar.
	require.Contains(t, ns[0].SMS, "11/03/2026")
}

func TestTexts(t *testing.T) {
	t.Parallel()
	cal := calendar.Default()
	v1 := birth(1)
	ns := notify.Derive(birth(0), v1, cal)
	require.Len(t, ns, 1)
	require.Equal(t, "Hồ sơ 00004-260302-0001 (liên thông khai sinh) đã được tiếp nhận. Ngày hẹn trả kết quả: 05/03/2026.", ns[0].SMS)
	require.Equal(t, "Hồ sơ 00004-260302-0001: đã tiếp nhận", ns[0].Subject)
	require.Equal(t, "Kính gửi ông/bà,\n\n"+ns[0].SMS+"\n\nMã hồ sơ: 00004-260302-0001\nNhóm thủ tục: liên thông khai sinh\n"+
		"Ngày tiếp nhận: 02/03/2026\nNgày hẹn trả kết quả: 05/03/2026\n\n"+
		"Ông/bà có thể tra cứu hồ sơ bằng mã hồ sơ và số điện thoại đã đăng ký, tại bộ phận một cửa hoặc trên trang tra cứu.\n"+
		"Thư này được gửi tự động, xin đừng trả lời.", ns[0].Body, "the e-mail in paragraphs")

	sup := with(v1, 2, func(s *dossier.Snapshot) {
		step(dossier.StepResidenceRegistration, dossier.StepNeedsSupplement)(s)
		s.Step(dossier.StepResidenceRegistration).Missing = []string{"residence_proof", "household_head_consent", "parent_id_card"}
		s.Step(dossier.StepResidenceRegistration).Reason = "proof of the household's lawful residence is needed"
	})
	ns = notify.Derive(v1, sup, cal)
	require.Len(t, ns, 1)
	require.Contains(t, ns[0].SMS, "giấy tờ chứng minh chỗ ở hợp pháp và 2 giấy tờ khác")
	require.Contains(t, ns[0].Body, "căn cước của cha, mẹ", "the e-mail names every item")
	require.Contains(t, ns[0].Body, "Lý do: proof of the household's lawful residence is needed")
}

// worst is every kind of notice with its longest inputs: the longest step
// name, three items with the longest names, a partial end.
func worst(t *testing.T) []notify.Notice {
	t.Helper()
	cal := calendar.Default()
	d := birth(1)
	d.Code = "99999-261231-9999"
	d.Group = dossier.GroupDeath
	longest := dossier.StepIDNumber
	for _, k := range append(workflows.BirthSteps, workflows.DeathSteps(true, true)...) {
		if len([]rune(notify.StepName(k))) > len([]rune(notify.StepName(longest))) {
			longest = k
		}
	}
	d.Steps = append(d.Steps, dossier.Step{Kind: longest, Status: dossier.StepPending})
	out := notify.Derive(birth(0), d, cal)
	for _, st := range []dossier.StepStatus{dossier.StepApproved, dossier.StepRejected} {
		out = append(out, notify.Derive(d, with(d, 2, step(longest, st)), cal)...)
	}
	out = append(out, notify.Derive(d, with(d, 2, func(s *dossier.Snapshot) {
		step(longest, dossier.StepNeedsSupplement)(s)
		s.Step(longest).Missing = []string{"relationship_proof", "residence_proof", "bank_account"}
	}), cal)...)
	out = append(out, notify.Derive(d, with(d, 2, func(s *dossier.Snapshot) { s.AppointmentAt = s.AppointmentAt.Add(240 * time.Hour) }), cal)...)
	for _, st := range []dossier.Status{dossier.StatusCompleted, dossier.StatusPartiallyCompleted, dossier.StatusRejected, dossier.StatusCancelled} {
		out = append(out, notify.Derive(d, with(d, 2, func(s *dossier.Snapshot) { s.Status = st }), cal)...)
	}
	require.Len(t, out, 1+2+1+1+4)
	return out
}

func TestSMSLength(t *testing.T) {
	t.Parallel()
	for _, n := range worst(t) {
		enc, segs := notify.Segments(n.SMS)
		t.Logf("%-12s %-30s %3d UTF-16 units, %s, %d segment(s): %s", n.Kind, n.Step, len([]rune(n.SMS)), enc, segs, n.SMS)
		require.Equal(t, notify.EncodingUCS2, enc, "Vietnamese with diacritics travels as UCS-2")
		limit := 3
		if n.Kind == notify.KindReceipt {
			limit = 2
		}
		require.LessOrEqual(t, segs, limit, "%s: %q", n.Kind, n.SMS)
	}
}

func TestSegments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text     string
		encoding string
		segments int
	}{
		{"", notify.EncodingGSM7, 1},
		{strings.Repeat("a", 160), notify.EncodingGSM7, 1},
		{strings.Repeat("a", 161), notify.EncodingGSM7, 2},
		{strings.Repeat("a", 306), notify.EncodingGSM7, 2},
		{strings.Repeat("a", 307), notify.EncodingGSM7, 3},
		{strings.Repeat("€", 80), notify.EncodingGSM7, 1},
		{strings.Repeat("€", 81), notify.EncodingGSM7, 2},
		{"Ho so da duoc tiep nhan", notify.EncodingGSM7, 1},
		{strings.Repeat("ồ", 70), notify.EncodingUCS2, 1},
		{strings.Repeat("ồ", 71), notify.EncodingUCS2, 2},
		{strings.Repeat("a", 133) + "ồ", notify.EncodingUCS2, 2},
		{strings.Repeat("a", 134) + "ồ", notify.EncodingUCS2, 3},
	} {
		enc, n := notify.Segments(tc.text)
		require.Equal(t, tc.encoding, enc, "%q", tc.text)
		require.Equal(t, tc.segments, n, "%d characters of %q", len([]rune(tc.text)), []rune(tc.text + " ")[0])
	}
}

// nineDigits is an ID number however it is grouped: nine or more digits
// with at most spaces or dots between them.
var nineDigits = regexp.MustCompile(`\d(?:[ .]?\d){8,}`)

func TestNoIDNumberInAnyText(t *testing.T) {
	t.Parallel()
	cal := calendar.Default()
	ids := []string{"001226000123", "001 226 000 124", "038195001234", "123456789", "C1234567"}
	v1 := birth(1)
	// Agencies' results carry ID numbers, their reasons and typed items may.
	for i := range v1.Steps {
		v1.Steps[i].Result = map[string]string{"id_number": ids[0], "card_code": "TE1010012260001", "registration_number": "00004-2026-KS/12"}
	}
	next := with(v1, 2, func(s *dossier.Snapshot) {
		step(dossier.StepBirthRegistration, dossier.StepRejected)(s)
		s.Step(dossier.StepBirthRegistration).Reason = "the father's ID number " + ids[1] + " disagrees with his year of birth; mother " + ids[2]
		step(dossier.StepIDNumber, dossier.StepApproved)(s)
		step(dossier.StepResidenceRegistration, dossier.StepNeedsSupplement)(s)
		s.Step(dossier.StepResidenceRegistration).Missing = []string{"the household head's card " + ids[3], "passport " + ids[4]}
		s.Step(dossier.StepResidenceRegistration).Reason = "household head " + ids[0] + " unknown"
		s.Status = dossier.StatusPartiallyCompleted
	})
	ns := append(notify.Derive(birth(0), v1, cal), notify.Derive(v1, next, cal)...)
	ns = append(ns, worst(t)...)
	require.Len(t, ns, 1+4+9)
	for _, n := range ns {
		for _, text := range []string{n.SMS, n.Subject, n.Body} {
			require.NotRegexp(t, nineDigits, text, "%s %s", n.Kind, n.Step)
			for _, id := range ids {
				require.NotContains(t, text, id)
			}
			require.NotContains(t, text, "TE1010012260001", "agency results are never sent")
		}
	}
	// The reasons do reach the e-mail, with the numbers hidden.
	var rejected notify.Notice
	for _, n := range ns[1:5] {
		if n.Kind == notify.KindStepResult && n.Step == dossier.StepBirthRegistration {
			rejected = n
		}
	}
	require.Contains(t, rejected.Body, "Lý do: the father's ID number *** disagrees")
}

func TestMessageIDs(t *testing.T) {
	t.Parallel()
	k := notify.Key{Code: "00004-260302-0001", Version: 3, Kind: notify.KindStepResult, Step: dossier.StepChildCard, Channel: notify.ChannelEmail}
	require.Equal(t, "00004-260302-0001/3/step_result/child_card/email", k.MessageID())
	require.Equal(t, "<00004-260302-0001.v3.step_result.child_card.email@lienthong.local>", k.MailMessageID("lienthong.local"))
	k.Step = ""
	require.Equal(t, "<00004-260302-0001.v3.step_result.dossier.email@lienthong.local>", k.MailMessageID("lienthong.local"))
	require.Equal(t, []notify.Channel{notify.ChannelSMS, notify.ChannelEmail}, notify.Contact{Phone: "+84912345678", Email: "a@b.vn"}.Channels())
	require.Equal(t, []notify.Channel{notify.ChannelEmail}, notify.Contact{Email: "a@b.vn"}.Channels(), "opted out of SMS")
	require.Empty(t, notify.Contact{}.Channels())
}

// A late agency's apology moves the appointment: the applicant is told the
// new date, and the e-mail carries the slip's number and its reason, with
// any ID number in the reason hidden.
func TestAppointmentCarriesTheApology(t *testing.T) {
	t.Parallel()
	cal := calendar.Default()
	v1 := birth(1)
	newDate := v1.AppointmentAt.Add(72 * time.Hour)
	issued := newDate.Add(-48 * time.Hour)
	next := with(v1, 2, func(s *dossier.Snapshot) {
		s.AppointmentAt = newDate
		st := s.Step(dossier.StepResidenceRegistration)
		st.NewAppointmentAt = &newDate
		st.Apology = &dossier.Apology{RequestedAt: issued, MissedDueAt: issued, IssuedAt: &issued, Number: "POL-2026-000007/PXL",
			Reason: "chưa xác minh được chủ hộ 001226000123", NewAppointmentAt: &newDate, IssuedBy: "congan-1"}
	})
	ns := notify.Derive(v1, next, cal)
	var got *notify.Notice
	for i := range ns {
		if ns[i].Kind == notify.KindAppointment {
			got = &ns[i]
		}
	}
	require.NotNil(t, got, "a later appointment is told")
	require.Contains(t, got.SMS, "xin lỗi")
	require.Contains(t, got.Body, "POL-2026-000007/PXL")
	require.Contains(t, got.Body, "Lý do chậm: chưa xác minh được chủ hộ ***")
	require.NotContains(t, got.Body, "001226000123")
}
