package api

import (
	"github.com/lienthong/lienthong/civil"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/dossier"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// testNow is a fixed submission time: Tuesday 3 March 2026, 10:00 in Hà Nội.
var testNow = time.Date(2026, 3, 3, 10, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// validBirth is a birth submission that passes every rule at now.
func validBirth(now time.Time, requestID string) *enginev1.SubmitBirthRequest {
	return &enginev1.SubmitBirthRequest{
		RequestId:   requestID,
		CommuneCode: "00004",
		Form: &enginev1.BirthForm{
			Child: &enginev1.Child{
				FullName:               "Nguyễn Minh An",
				Sex:                    enginev1.Sex_SEX_MALE,
				BirthTime:              timestamppb.New(now.Add(-48 * time.Hour)),
				PlaceOfBirth:           "Bệnh viện Đa khoa Xanh Pôn",
				Ethnicity:              "Kinh",
				Nationality:            "VN",
				BirthCertificateNumber: "CS-2026-000123",
			},
			Father: &enginev1.Parent{FullName: "Nguyễn Văn Bình", BirthDate: "1990-05-12", Ethnicity: "Kinh", Nationality: "VN", IdNumber: "001090123456", Sex: enginev1.Sex_SEX_MALE},
			Mother: &enginev1.Parent{FullName: "Trần Thị Hoa", BirthDate: "1992-08-20", Ethnicity: "Kinh", Nationality: "VN", IdNumber: "001192654321"},
			Residence: &enginev1.Residence{
				ProvinceCode: "001", CommuneCode: "00004", StreetAddress: "12 phố Đội Cấn",
				HouseholdHeadIdNumber: "001090123456", HouseholdHeadConsent: true,
			},
			FacilityCode: "01001",
			Requester:    &enginev1.Requester{FullName: "Nguyễn Văn Bình", IdNumber: "001090123456", Relationship: "cha", Phone: "0912 345 678", Email: "binh@example.vn"},
			Delivery:     enginev1.Delivery_DELIVERY_ELECTRONIC,
		},
	}
}

// validDeath is a bundle-THREE death submission that passes every rule at now.
func validDeath(now time.Time, requestID string) *enginev1.SubmitDeathRequest {
	return &enginev1.SubmitDeathRequest{
		RequestId: requestID,
		Form: &enginev1.DeathForm{
			CommuneCode:  "00004",
			ProvinceCode: "001",
			Deceased: &enginev1.Deceased{
				FullName: "Lê Văn Cường", IdNumber: "001050246810", BirthDate: "1950-03-15", Sex: enginev1.Sex_SEX_MALE,
				DeathTime: timestamppb.New(now.Add(-72 * time.Hour)), PlaceOfDeath: "Bệnh viện Bạch Mai",
				CauseOfDeath: "Bệnh tuổi già", DeathNoticeNumber: "GBT-2026-0042", DeathNoticeIssuer: "Bệnh viện Bạch Mai",
			},
			Declarant: &enginev1.Declarant{FullName: "Lê Thị Mai", IdNumber: "001178135790", Relationship: "con gái", Phone: "+84 987 654 321"},
			Recipient: &enginev1.AllowanceRecipient{
				FullName: "Lê Thị Mai", IdNumber: "001178135790", Relationship: "con gái",
				PaymentMethod: enginev1.PaymentMethod_PAYMENT_METHOD_BANK, BankCode: "VCB", BankAccount: "0011004455667",
			},
			Bundle:   enginev1.DeathBundle_DEATH_BUNDLE_THREE,
			Delivery: enginev1.Delivery_DELIVERY_PAPER_AT_COMMUNE,
		},
	}
}

// validDeathFour is a bundle-FOUR death submission, with a widow and a child
// claimed for the survivor benefit, that passes every rule at now.
func validDeathFour(now time.Time, requestID string) *enginev1.SubmitDeathRequest {
	r := validDeath(now, requestID)
	r.Form.Bundle = enginev1.DeathBundle_DEATH_BUNDLE_FOUR
	r.Form.SurvivorBenefit = &enginev1.SurvivorClaim{Survivors: []*enginev1.Survivor{
		{FullName: "Phạm Thị Lan", IdNumber: "001152123456", BirthDate: "1952-09-01",
			Relationship: enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_SPOUSE},
		{FullName: "Lê Văn Hùng", IdNumber: "001210654321", BirthDate: "2010-04-02",
			Relationship: enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_CHILD, WorkingCapacityLossPercent: 0},
	}}
	return r
}

// requireViolation asserts vs names field with a description containing
// want, and a Vietnamese message for the console.
func requireViolation(t *testing.T, vs []dossier.FieldViolation, field, want string) {
	t.Helper()
	var found *dossier.FieldViolation
	for i := range vs {
		if vs[i].Field == field {
			found = &vs[i]
		}
	}
	require.NotNil(t, found, "want a violation of %s, got %v", field, vs)
	require.Contains(t, found.Description, want)
	require.NotEmpty(t, found.Vietnamese, "the console shows every violation in Vietnamese: add %q to viFormats", found.Description)
}

func fields(vs []dossier.FieldViolation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Field
	}
	return out
}

func TestValidateBirth(t *testing.T) {
	t.Parallel()
	require.Empty(t, ValidateBirth(validBirth(testNow, "r-1"), testNow), "the base request must be valid")

	cases := []struct {
		name  string
		edit  func(r *enginev1.SubmitBirthRequest)
		field string
		// want is part of the description, when the rule's wording matters.
		want string
	}{
		{"missing request id", func(r *enginev1.SubmitBirthRequest) { r.RequestId = "" }, "request_id", "required"},
		{"unknown commune", func(r *enginev1.SubmitBirthRequest) { r.CommuneCode = "99999" }, "commune_code", "not a known commune"},
		{"missing form", func(r *enginev1.SubmitBirthRequest) { r.Form = nil }, "form", "required"},
		{"missing child", func(r *enginev1.SubmitBirthRequest) { r.Form.Child = nil }, "form.child", "required"},
		{"empty child name", func(r *enginev1.SubmitBirthRequest) { r.Form.Child.FullName = "" }, "form.child.full_name", "empty"},
		{"child name not NFC", func(r *enginev1.SubmitBirthRequest) { r.Form.Child.FullName = "Nguye\u0302\u0303n An" }, "form.child.full_name", "NFC"},
		{"child sex missing", func(r *enginev1.SubmitBirthRequest) { r.Form.Child.Sex = enginev1.Sex_SEX_UNSPECIFIED }, "form.child.sex", "required"},
		{"child sex unknown value", func(r *enginev1.SubmitBirthRequest) { r.Form.Child.Sex = 42 }, "form.child.sex", "not a known"},
		{"birth in the future", func(r *enginev1.SubmitBirthRequest) {
			r.Form.Child.BirthTime = timestamppb.New(testNow.Add(24 * time.Hour))
		}, "form.child.birth_time", "future"},
		{"birth time missing", func(r *enginev1.SubmitBirthRequest) { r.Form.Child.BirthTime = nil }, "form.child.birth_time", "required"},
		{"child six or older", func(r *enginev1.SubmitBirthRequest) {
			r.Form.Child.BirthTime = timestamppb.New(testNow.AddDate(-6, 0, -1))
		}, "form.child.birth_time", "6 or older"},
		{"place of birth missing", func(r *enginev1.SubmitBirthRequest) { r.Form.Child.PlaceOfBirth = " " }, "form.child.place_of_birth", "required"},
		{"certificate number missing", func(r *enginev1.SubmitBirthRequest) { r.Form.Child.BirthCertificateNumber = "" }, "form.child.birth_certificate_number", "required"},
		{"no parent", func(r *enginev1.SubmitBirthRequest) { r.Form.Father, r.Form.Mother = nil, nil }, "form.mother", "at least one parent"},
		{"father ID wrong shape", func(r *enginev1.SubmitBirthRequest) { r.Form.Father.IdNumber = "00109012345" }, "form.father.id_number", "12 ASCII digits"},
		{"father ID disagrees with birth year", func(r *enginev1.SubmitBirthRequest) { r.Form.Father.BirthDate = "1991-05-12" }, "form.father.id_number", "year of birth"},
		{"mother ID disagrees with sex", func(r *enginev1.SubmitBirthRequest) { r.Form.Mother.IdNumber = "001092654321" }, "form.mother.id_number", "sex"},
		{"father recorded as female", func(r *enginev1.SubmitBirthRequest) { r.Form.Father.Sex = enginev1.Sex_SEX_FEMALE }, "form.father.sex", "male"},
		{"vietnamese parent without ID", func(r *enginev1.SubmitBirthRequest) { r.Form.Mother.IdNumber = "" }, "form.mother.id_number", "required"},
		{"foreign parent without ID or passport", func(r *enginev1.SubmitBirthRequest) {
			r.Form.Father.Nationality, r.Form.Father.IdNumber = "FR", ""
		}, "form.father.passport_number", "passport"},
		{"bad passport", func(r *enginev1.SubmitBirthRequest) {
			r.Form.Father.Nationality, r.Form.Father.IdNumber, r.Form.Father.PassportNumber = "FR", "", "12"
		}, "form.father.passport_number", "6 to 20"},
		{"parent born after the child", func(r *enginev1.SubmitBirthRequest) { r.Form.Mother.BirthDate = "2026-03-02" }, "form.mother.birth_date", "before the child"},
		{"parent birth date malformed", func(r *enginev1.SubmitBirthRequest) { r.Form.Mother.BirthDate = "20/08/1992" }, "form.mother.birth_date", "YYYY-MM-DD"},
		{"unknown residence province", func(r *enginev1.SubmitBirthRequest) { r.Form.Residence.ProvinceCode = "999" }, "form.residence.province_code", "not a known province"},
		{"commune outside the province", func(r *enginev1.SubmitBirthRequest) { r.Form.Residence.CommuneCode = "16681" }, "form.residence.commune_code", "is in province 040"},
		{"household head ID wrong shape", func(r *enginev1.SubmitBirthRequest) { r.Form.Residence.HouseholdHeadIdNumber = "abc" }, "form.residence.household_head_id_number", "digits"},
		{"no household consent", func(r *enginev1.SubmitBirthRequest) { r.Form.Residence.HouseholdHeadConsent = false }, "form.residence.household_head_consent", "consent"},
		{"unknown facility", func(r *enginev1.SubmitBirthRequest) { r.Form.FacilityCode = "99999" }, "form.facility_code", "not a known"},
		{"missing requester", func(r *enginev1.SubmitBirthRequest) { r.Form.Requester = nil }, "form.requester", "required"},
		{"landline phone", func(r *enginev1.SubmitBirthRequest) { r.Form.Requester.Phone = "024 3825 1234" }, "form.requester.phone", "Vietnamese mobile"},
		{"phone not a mobile", func(r *enginev1.SubmitBirthRequest) { r.Form.Requester.Phone = "0212345678" }, "form.requester.phone", "mobile"},
		{"phone with letters", func(r *enginev1.SubmitBirthRequest) { r.Form.Requester.Phone = "0912abc678" }, "form.requester.phone", "digits"},
		{"bad email", func(r *enginev1.SubmitBirthRequest) { r.Form.Requester.Email = "binh@" }, "form.requester.email", "e-mail"},
		{"email with a display name", func(r *enginev1.SubmitBirthRequest) { r.Form.Requester.Email = "Bình <binh@example.vn>" }, "form.requester.email", "e-mail"},
		{"delivery unspecified", func(r *enginev1.SubmitBirthRequest) { r.Form.Delivery = enginev1.Delivery_DELIVERY_UNSPECIFIED }, "form.delivery", "required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := validBirth(testNow, "r-1")
			tc.edit(req)
			vs := ValidateBirth(req, testNow)
			require.NotEmpty(t, vs)
			var found *dossier.FieldViolation
			for i := range vs {
				if vs[i].Field == tc.field {
					found = &vs[i]
				}
			}
			require.NotNil(t, found, "want a violation of %s, got %v", tc.field, vs)
			require.Contains(t, found.Description, tc.want)
			require.NotEmpty(t, found.Vietnamese, "the console shows every violation in Vietnamese: add %q to viFormats", found.Description)
		})
	}
}

func TestValidateBirthAcceptsForeignParentWithPassport(t *testing.T) {
	t.Parallel()
	req := validBirth(testNow, "r-1")
	req.Form.Father = &enginev1.Parent{FullName: "Pierre Martin", BirthDate: "1988-01-02", Ethnicity: "Pháp", Nationality: "FR", PassportNumber: "18AB12345"}
	require.Empty(t, ValidateBirth(req, testNow))

	req.Form.Father = nil // one parent is enough
	require.Empty(t, ValidateBirth(req, testNow))
}

func TestValidateDeath(t *testing.T) {
	t.Parallel()
	require.Empty(t, ValidateDeath(validDeath(testNow, "r-1"), testNow), "the base request must be valid")

	cases := []struct {
		name  string
		edit  func(r *enginev1.SubmitDeathRequest)
		field string
		want  string
	}{
		{"missing request id", func(r *enginev1.SubmitDeathRequest) { r.RequestId = "" }, "request_id", "required"},
		{"request id with spaces", func(r *enginev1.SubmitDeathRequest) { r.RequestId = "a b" }, "request_id", "printable"},
		{"missing form", func(r *enginev1.SubmitDeathRequest) { r.Form = nil }, "form", "required"},
		{"unknown province", func(r *enginev1.SubmitDeathRequest) { r.Form.ProvinceCode = "000" }, "form.province_code", "not a known"},
		{"unknown commune", func(r *enginev1.SubmitDeathRequest) { r.Form.CommuneCode = "12345" }, "form.commune_code", "not a known"},
		{"commune outside the province", func(r *enginev1.SubmitDeathRequest) { r.Form.CommuneCode = "25747" }, "form.commune_code", "province 079"},
		{"missing deceased", func(r *enginev1.SubmitDeathRequest) { r.Form.Deceased = nil }, "form.deceased", "required"},
		{"deceased name not NFC", func(r *enginev1.SubmitDeathRequest) { r.Form.Deceased.FullName = "Le\u0302 Văn" }, "form.deceased.full_name", "NFC"},
		{"deceased ID wrong shape", func(r *enginev1.SubmitDeathRequest) { r.Form.Deceased.IdNumber = "0010502468" }, "form.deceased.id_number", "12 ASCII"},
		{"deceased ID disagrees with sex", func(r *enginev1.SubmitDeathRequest) { r.Form.Deceased.Sex = enginev1.Sex_SEX_FEMALE }, "form.deceased.id_number", "sex"},
		{"deceased ID disagrees with year", func(r *enginev1.SubmitDeathRequest) { r.Form.Deceased.BirthDate = "1951-03-15" }, "form.deceased.id_number", "year"},
		{"death in the future", func(r *enginev1.SubmitDeathRequest) {
			r.Form.Deceased.DeathTime = timestamppb.New(testNow.Add(2 * time.Hour))
		}, "form.deceased.death_time", "future"},
		{"death before birth", func(r *enginev1.SubmitDeathRequest) {
			r.Form.Deceased.DeathTime = timestamppb.New(time.Date(1949, 1, 1, 0, 0, 0, 0, time.UTC))
		}, "form.deceased.death_time", "before the date of birth"},
		{"death notice missing", func(r *enginev1.SubmitDeathRequest) { r.Form.Deceased.DeathNoticeNumber = "" }, "form.deceased.death_notice_number", "required"},
		{"missing declarant", func(r *enginev1.SubmitDeathRequest) { r.Form.Declarant = nil }, "form.declarant", "required"},
		{"declarant phone", func(r *enginev1.SubmitDeathRequest) { r.Form.Declarant.Phone = "12345" }, "form.declarant.phone", "Vietnamese mobile"},
		{"declarant email", func(r *enginev1.SubmitDeathRequest) { r.Form.Declarant.Email = "mai@" }, "form.declarant.email", "e-mail"},
		{"bundle unspecified", func(r *enginev1.SubmitDeathRequest) { r.Form.Bundle = enginev1.DeathBundle_DEATH_BUNDLE_UNSPECIFIED }, "form.bundle", "required"},
		{"bundle four without a claim", func(r *enginev1.SubmitDeathRequest) { r.Form.Bundle = enginev1.DeathBundle_DEATH_BUNDLE_FOUR }, "form.survivor_benefit", "required"},
		{"allowance without recipient", func(r *enginev1.SubmitDeathRequest) { r.Form.Recipient = nil }, "form.recipient", "required"},
		{"bank payment without bank code", func(r *enginev1.SubmitDeathRequest) { r.Form.Recipient.BankCode = "" }, "form.recipient.bank_code", "required"},
		{"bank payment without account", func(r *enginev1.SubmitDeathRequest) { r.Form.Recipient.BankAccount = "" }, "form.recipient.bank_account", "required"},
		{"bank account with letters", func(r *enginev1.SubmitDeathRequest) { r.Form.Recipient.BankAccount = "12AB3456" }, "form.recipient.bank_account", "digits"},
		{"payment method missing", func(r *enginev1.SubmitDeathRequest) {
			r.Form.Recipient.PaymentMethod = enginev1.PaymentMethod_PAYMENT_METHOD_UNSPECIFIED
		}, "form.recipient.payment_method", "required"},
		{"delivery unspecified", func(r *enginev1.SubmitDeathRequest) { r.Form.Delivery = 0 }, "form.delivery", "required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := validDeath(testNow, "r-1")
			tc.edit(req)
			requireViolation(t, ValidateDeath(req, testNow), tc.field, tc.want)
		})
	}
}

func TestValidateDeathSurvivorBenefit(t *testing.T) {
	t.Parallel()
	require.Empty(t, ValidateDeath(validDeathFour(testNow, "r-1"), testNow), "the base request must be valid")

	survivor := func(r *enginev1.SubmitDeathRequest, i int) *enginev1.Survivor {
		return r.Form.SurvivorBenefit.Survivors[i]
	}
	cases := []struct {
		name  string
		edit  func(r *enginev1.SubmitDeathRequest)
		field string
		want  string
	}{
		{"no claim", func(r *enginev1.SubmitDeathRequest) { r.Form.SurvivorBenefit = nil }, "form.survivor_benefit", "required"},
		{"no relatives", func(r *enginev1.SubmitDeathRequest) { r.Form.SurvivorBenefit.Survivors = nil }, "form.survivor_benefit.survivors", "at least one"},
		{"too many relatives", func(r *enginev1.SubmitDeathRequest) {
			for range 10 {
				r.Form.SurvivorBenefit.Survivors = append(r.Form.SurvivorBenefit.Survivors, survivor(r, 1))
			}
		}, "form.survivor_benefit.survivors", "at most 10"},
		{"no recipient for the payments", func(r *enginev1.SubmitDeathRequest) { r.Form.Recipient = nil }, "form.recipient", "required"},
		{"relative's name", func(r *enginev1.SubmitDeathRequest) { survivor(r, 0).FullName = "" }, "form.survivor_benefit.survivors[0].full_name", "empty"},
		{"relative's ID missing", func(r *enginev1.SubmitDeathRequest) { survivor(r, 1).IdNumber = "" }, "form.survivor_benefit.survivors[1].id_number", "required"},
		{"relative's ID disagrees with the year of birth", func(r *enginev1.SubmitDeathRequest) { survivor(r, 1).BirthDate = "2011-04-02" },
			"form.survivor_benefit.survivors[1].id_number", "year"},
		{"the deceased claimed as a relative", func(r *enginev1.SubmitDeathRequest) {
			survivor(r, 0).IdNumber, survivor(r, 0).BirthDate = r.Form.Deceased.IdNumber, r.Form.Deceased.BirthDate
		}, "form.survivor_benefit.survivors[0].id_number", "deceased's own"},
		{"the same relative twice", func(r *enginev1.SubmitDeathRequest) {
			survivor(r, 1).IdNumber, survivor(r, 1).BirthDate = survivor(r, 0).IdNumber, "1952-09-01"
		},
			"form.survivor_benefit.survivors[1].id_number", "twice"},
		{"relative born in the future", func(r *enginev1.SubmitDeathRequest) { survivor(r, 1).BirthDate = "2027-01-01" },
			"form.survivor_benefit.survivors[1].birth_date", "future"},
		{"relationship missing", func(r *enginev1.SubmitDeathRequest) {
			survivor(r, 0).Relationship = enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_UNSPECIFIED
		}, "form.survivor_benefit.survivors[0].relationship", "required"},
		{"relationship unknown", func(r *enginev1.SubmitDeathRequest) { survivor(r, 0).Relationship = 42 },
			"form.survivor_benefit.survivors[0].relationship", "not a known"},
		{"loss over 100%", func(r *enginev1.SubmitDeathRequest) { survivor(r, 0).WorkingCapacityLossPercent = 101 },
			"form.survivor_benefit.survivors[0].working_capacity_loss_percent", "0 to 100"},
		{"loss negative", func(r *enginev1.SubmitDeathRequest) { survivor(r, 0).WorkingCapacityLossPercent = -1 },
			"form.survivor_benefit.survivors[0].working_capacity_loss_percent", "0 to 100"},
		{"a death the rules do not cover", func(r *enginev1.SubmitDeathRequest) {
			r.Form.Deceased.DeathTime = timestamppb.New(time.Date(2019, 5, 20, 10, 0, 0, 0, time.UTC))
		}, "form.bundle", "before 2019-06-01"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := validDeathFour(testNow, "r-1")
			tc.edit(req)
			requireViolation(t, ValidateDeath(req, testNow), tc.field, tc.want)
		})
	}
}

func TestValidateDeathBundles(t *testing.T) {
	t.Parallel()
	t.Run("two needs no recipient", func(t *testing.T) {
		req := validDeath(testNow, "r-1")
		req.Form.Bundle, req.Form.Recipient = enginev1.DeathBundle_DEATH_BUNDLE_TWO, nil
		require.Empty(t, ValidateDeath(req, testNow))
	})
	t.Run("cash needs no bank", func(t *testing.T) {
		req := validDeath(testNow, "r-1")
		req.Form.Recipient.PaymentMethod = enginev1.PaymentMethod_PAYMENT_METHOD_CASH
		req.Form.Recipient.BankCode, req.Form.Recipient.BankAccount = "", ""
		require.Empty(t, ValidateDeath(req, testNow))
	})
}

func TestLateDeathIsAcceptedAndNoted(t *testing.T) {
	t.Parallel()
	req := validDeath(testNow, "r-1")
	req.Form.Deceased.DeathTime = timestamppb.New(testNow.AddDate(0, 0, -20))
	require.Empty(t, ValidateDeath(req, testNow), "a late registration is not refused")
	days, late := LateDeathDays(req.GetForm(), testNow)
	require.True(t, late)
	require.Equal(t, 20, days)

	_, late = LateDeathDays(validDeath(testNow, "r-1").GetForm(), testNow)
	require.False(t, late)
}

func TestValidatorsCollectEveryField(t *testing.T) {
	t.Parallel()
	vs := ValidateBirth(&enginev1.SubmitBirthRequest{Form: &enginev1.BirthForm{Child: &enginev1.Child{}}}, testNow)
	got := strings.Join(fields(vs), " ")
	for _, f := range []string{"request_id", "commune_code", "form.child.full_name", "form.child.sex", "form.child.birth_time",
		"form.mother", "form.residence", "form.facility_code", "form.requester", "form.delivery"} {
		require.Contains(t, got, f)
	}
	require.NotEmpty(t, ValidateDeath(&enginev1.SubmitDeathRequest{}, testNow))
	require.NotEmpty(t, ValidateBirth(nil, testNow))
	require.NotEmpty(t, ValidateDeath(nil, testNow))
}

func TestRequestHashIgnoresRequestIDAndPhoneFormat(t *testing.T) {
	t.Parallel()
	hash := func(r *enginev1.SubmitBirthRequest) []byte {
		n := proto.CloneOf(r)
		n.RequestId = ""
		n.Form.Requester.Phone, _ = civil.NormalizePhone(n.Form.Requester.Phone)
		h, err := requestHash(n)
		require.NoError(t, err)
		return h
	}
	a := validBirth(testNow, "a")
	b := validBirth(testNow, "b")
	b.Form.Requester.Phone = "+84912345678"
	require.Equal(t, hash(a), hash(b))
	b.Form.Child.FullName = "Nguyễn Minh Anh"
	require.NotEqual(t, hash(a), hash(b))
}
