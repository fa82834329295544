package api

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// The fuzz targets vary the free-text and coded fields of a valid request.
// Seeds live in testdata/fuzz; run longer with
//
//	go test ./api -run '^$' -fuzz FuzzValidateBirth -fuzztime 1m

// checkViolations holds for every answer: each violation names a field of
// the request and says what is wrong, and an accepted request is one the
// handler can store without a second check.
func checkViolations(t *testing.T, vs []dossier.FieldViolation, again []dossier.FieldViolation) {
	t.Helper()
	if len(vs) != len(again) {
		t.Fatalf("validation is not deterministic: %v then %v", vs, again)
	}
	for _, v := range vs {
		if v.Field == "" || v.Description == "" {
			t.Fatalf("violation without field or description: %+v", v)
		}
		if v.Field != "request_id" && v.Field != "commune_code" && v.Field != "form" && !strings.HasPrefix(v.Field, "form.") {
			t.Fatalf("violation names no request field: %+v", v)
		}
	}
}

func FuzzValidateBirth(f *testing.F) {
	f.Add("r-1", "00004", "Nguyễn Minh An", int64(-48), "001090123456", "1990-05-12", "001192654321", "1992-08-20", "0912 345 678", "binh@example.vn", int32(1))
	f.Fuzz(func(t *testing.T, requestID, commune, childName string, birthHours int64, fatherID, fatherBirth, motherID, motherBirth, phone, email string, delivery int32) {
		req := validBirth(testNow, requestID)
		req.CommuneCode = commune
		req.Form.Child.FullName = childName
		req.Form.Child.BirthTime = timestamppb.New(testNow.Add(time.Duration(birthHours) * time.Hour))
		req.Form.Father.IdNumber, req.Form.Father.BirthDate = fatherID, fatherBirth
		req.Form.Mother.IdNumber, req.Form.Mother.BirthDate = motherID, motherBirth
		req.Form.Requester.Phone, req.Form.Requester.Email = phone, email
		req.Form.Delivery = enginev1.Delivery(delivery)

		vs := ValidateBirth(req, testNow)
		checkViolations(t, vs, ValidateBirth(req, testNow))
		if len(vs) == 0 {
			if _, err := civil.NormalizePhone(phone); err != nil {
				t.Fatalf("accepted a phone the handler cannot normalise: %q", phone)
			}
			if _, ok := civil.LookupCommune(commune); !ok {
				t.Fatalf("accepted an unknown commune %q", commune)
			}
		}
	})
}

func FuzzValidateDeath(f *testing.F) {
	f.Add("r-1", "00004", "001", "Lê Văn Cường", "001050246810", "1950-03-15", int64(-72), "+84 987 654 321", int32(3), int32(1), "VCB", "0011004455667")
	f.Fuzz(func(t *testing.T, requestID, commune, province, name, id, birth string, deathHours int64, phone string, bundle, payment int32, bankCode, bankAccount string) {
		req := validDeath(testNow, requestID)
		req.Form.CommuneCode, req.Form.ProvinceCode = commune, province
		req.Form.Deceased.FullName, req.Form.Deceased.IdNumber, req.Form.Deceased.BirthDate = name, id, birth
		req.Form.Deceased.DeathTime = timestamppb.New(testNow.Add(time.Duration(deathHours) * time.Hour))
		req.Form.Declarant.Phone = phone
		req.Form.Bundle = enginev1.DeathBundle(bundle)
		req.Form.Recipient.PaymentMethod = enginev1.PaymentMethod(payment)
		req.Form.Recipient.BankCode, req.Form.Recipient.BankAccount = bankCode, bankAccount

		vs := ValidateDeath(req, testNow)
		checkViolations(t, vs, ValidateDeath(req, testNow))
		if len(vs) == 0 {
			if _, err := civil.NormalizePhone(phone); err != nil {
				t.Fatalf("accepted a phone the handler cannot normalise: %q", phone)
			}
			// Bundle FOUR also needs the survivor-benefit claim this request lacks.
			if b := req.Form.Bundle; b != enginev1.DeathBundle_DEATH_BUNDLE_TWO && b != enginev1.DeathBundle_DEATH_BUNDLE_THREE {
				t.Fatalf("accepted bundle %v", b)
			}
		}
		_, _ = LateDeathDays(req.GetForm(), testNow)
	})
}

// FuzzValidateSurvivors varies one relative of a bundle-FOUR claim. Whatever
// the validator accepts, Social Insurance must be able to decide: the ID
// number gives the sex, and the rules cover the date of death.
func FuzzValidateSurvivors(f *testing.F) {
	f.Add("Phạm Thị Lan", "001152123456", "1952-09-01", int32(2), int32(0), int64(-72))
	f.Fuzz(func(t *testing.T, name, id, birth string, relationship, loss int32, deathHours int64) {
		req := validDeathFour(testNow, "r-1")
		req.Form.Deceased.DeathTime = timestamppb.New(testNow.Add(time.Duration(deathHours) * time.Hour))
		s := req.Form.SurvivorBenefit.Survivors[0]
		s.FullName, s.IdNumber, s.BirthDate = name, id, birth
		s.Relationship, s.WorkingCapacityLossPercent = enginev1.SurvivorRelationship(relationship), loss

		vs := ValidateDeath(req, testNow)
		checkViolations(t, vs, ValidateDeath(req, testNow))
		if len(vs) > 0 {
			return
		}
		parsed, err := civil.ParseIDNumber(id)
		if err != nil {
			t.Fatalf("accepted an ID number that does not parse: %q", id)
		}
		born, err := time.ParseInLocation(time.DateOnly, birth, civil.Zone)
		if err != nil || parsed.BirthYear != born.Year() {
			t.Fatalf("accepted %q born %q", id, birth)
		}
		if loss < 0 || loss > 100 {
			t.Fatalf("accepted a loss of %d%%", loss)
		}
		if _, err := civil.SurvivorBenefit(civil.SurvivorClaim{
			DeathDate: req.Form.Deceased.DeathTime.AsTime(), Contributions: civil.Contributions{CompulsoryMonths: 200},
			Relatives: []civil.Relative{{Relationship: civil.RelationshipChild, Sex: parsed.Sex, BirthDate: born, LossPercent: int(loss)}},
		}); err != nil {
			t.Fatalf("accepted a claim the rules cannot decide: %v", err)
		}
	})
}
