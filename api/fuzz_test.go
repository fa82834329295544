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
			if b := req.Form.Bundle; b != enginev1.DeathBundle_DEATH_BUNDLE_TWO && b != enginev1.DeathBundle_DEATH_BUNDLE_THREE {
				t.Fatalf("accepted bundle %v", b)
			}
		}
		_, _ = LateDeathDays(req.GetForm(), testNow)
	})
}
