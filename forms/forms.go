// Package forms draws realistic birth and death submissions from the
// population the mock agencies seed, deterministically by index, so that the
// agencies know every person a form names: the console's samples, the demo
// data, the load generator and the tests use them.
//
// It holds data only: it may import the population, civil and the generated
// contracts, and no other lienthong package.
package forms

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/civil"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// Forms draws applications from a population, deterministically by index.
type Forms struct {
	pop     *population.Population
	couples []population.Couple
	dying   []int
}

// NewForms prepares a generator over pop.
func NewForms(pop *population.Population) *Forms {
	return &Forms{pop: pop, couples: pop.Couples(), dying: pop.DeathCandidates()}
}

// Births is how many distinct couples births are drawn from.
func (f *Forms) Births() int { return len(f.couples) }

// Deaths is how many people can die, each once.
func (f *Forms) Deaths() int { return len(f.dying) }

var givenNames = map[civil.Sex][]string{
	civil.SexMale:   {"Minh Khôi", "Gia Huy", "Đức Anh", "Bảo Long", "Quốc Bảo", "Hoàng Phúc", "Tuấn Kiệt", "Nhật Minh"},
	civil.SexFemale: {"Ngọc Hân", "Bảo Ngọc", "Khánh Linh", "Minh Thư", "Gia Hân", "Thảo Vy", "Phương Anh", "Diệu Linh"},
}

var hospitals = []string{"Bệnh viện Phụ sản Trung ương", "Bệnh viện Đa khoa tỉnh", "Trạm Y tế xã", "Bệnh viện Từ Dũ"}

func familyName(full string) string {
	for i, r := range full {
		if r == ' ' {
			return full[:i]
		}
	}
	return full
}

func sexProto(s civil.Sex) enginev1.Sex {
	if s == civil.SexFemale {
		return enginev1.Sex_SEX_FEMALE
	}
	return enginev1.Sex_SEX_MALE
}

func parent(p population.Person) *enginev1.Parent {
	return &enginev1.Parent{
		FullName: p.FullName, BirthDate: p.BirthDate.Format("2006-01-02"), Ethnicity: "Kinh",
		Nationality: "Việt Nam", IdNumber: p.IDNumber, Sex: sexProto(p.Sex),
	}
}

func facilityIn(province string) string {
	for _, fac := range civil.Facilities() {
		if fac.ProvinceCode == province {
			return fac.Code
		}
	}
	return ""
}

// Birth is the i-th birth application, for a child born a day before now.
func (f *Forms) Birth(i int, now time.Time, requestID string) *enginev1.SubmitBirthRequest {
	c := f.couples[i%len(f.couples)]
	father, mother := f.pop.Person(c.Father), f.pop.Person(c.Mother)
	h, _ := f.pop.Household(c.HouseholdID)
	sex := civil.SexMale
	if i%2 == 1 {
		sex = civil.SexFemale
	}
	names := givenNames[sex]
	born := now.Add(-26 * time.Hour).Truncate(time.Minute)
	return &enginev1.SubmitBirthRequest{
		RequestId:   requestID,
		CommuneCode: h.CommuneCode,
		Form: &enginev1.BirthForm{
			Child: &enginev1.Child{
				FullName:               familyName(father.FullName) + " " + names[(i/2)%len(names)],
				Sex:                    sexProto(sex),
				BirthTime:              timestamppb.New(born),
				PlaceOfBirth:           hospitals[i%len(hospitals)],
				Ethnicity:              "Kinh",
				Nationality:            "Việt Nam",
				BirthCertificateNumber: fmt.Sprintf("CS-%s-%06d", h.CommuneCode, i),
			},
			Father: parent(father),
			Mother: parent(mother),
			Residence: &enginev1.Residence{
				ProvinceCode: h.Province, CommuneCode: h.CommuneCode, StreetAddress: h.Address,
				HouseholdHeadIdNumber: h.HeadIDNumber, HouseholdHeadConsent: true,
			},
			FacilityCode: facilityIn(h.Province),
			Requester: &enginev1.Requester{
				FullName: father.FullName, IdNumber: father.IDNumber, Relationship: "cha",
				Phone: father.Phone, Email: fmt.Sprintf("phuhuynh%d@example.vn", i),
			},
			Delivery: enginev1.Delivery_DELIVERY_ELECTRONIC,
		},
	}
}

// Death is the i-th death application. Each index is a different person, so
// a person dies once; withAllowance picks the three-procedure bundle.
func (f *Forms) Death(i int, now time.Time, requestID string, withAllowance bool) *enginev1.SubmitDeathRequest {
	p := f.pop.Person(f.dying[i%len(f.dying)])
	h, _ := f.pop.Household(p.HouseholdID)
	declarant := f.pop.Person(h.Members[0])
	for _, m := range h.Members {
		if m != p.Index {
			declarant = f.pop.Person(m)
			break
		}
	}
	bundle := enginev1.DeathBundle_DEATH_BUNDLE_TWO
	var recipient *enginev1.AllowanceRecipient
	if withAllowance {
		bundle = enginev1.DeathBundle_DEATH_BUNDLE_THREE
		recipient = &enginev1.AllowanceRecipient{
			FullName: declarant.FullName, IdNumber: declarant.IDNumber, Relationship: "con",
			PaymentMethod: enginev1.PaymentMethod_PAYMENT_METHOD_BANK, BankCode: "VCB", BankAccount: fmt.Sprintf("0011%08d", i),
		}
	}
	died := now.Add(-30 * time.Hour).Truncate(time.Minute)
	return &enginev1.SubmitDeathRequest{
		RequestId: requestID,
		Form: &enginev1.DeathForm{
			CommuneCode:  p.CommuneCode,
			ProvinceCode: p.Province,
			Deceased: &enginev1.Deceased{
				FullName: p.FullName, IdNumber: p.IDNumber, BirthDate: p.BirthDate.Format("2006-01-02"),
				Sex: sexProto(p.Sex), DeathTime: timestamppb.New(died), PlaceOfDeath: h.Address,
				CauseOfDeath: "bệnh", DeathNoticeNumber: fmt.Sprintf("BT-%s-%06d", p.CommuneCode, i),
				DeathNoticeIssuer: "Trạm Y tế " + p.CommuneCode,
			},
			Declarant: &enginev1.Declarant{FullName: declarant.FullName, IdNumber: declarant.IDNumber, Relationship: "con", Phone: declarant.Phone},
			Recipient: recipient,
			Bundle:    bundle,
			Delivery:  enginev1.Delivery_DELIVERY_ELECTRONIC,
		},
	}
}

// DeathWithSurvivors is the i-th death application in the four-procedure
// bundle: the household's other members are claimed for the survivor
// benefit, each by the relationship the household records. It reports false
// when the deceased lived alone, so no one can be claimed for.
func (f *Forms) DeathWithSurvivors(i int, now time.Time, requestID string) (*enginev1.SubmitDeathRequest, bool) {
	req := f.Death(i, now, requestID, true)
	req.Form.Bundle = enginev1.DeathBundle_DEATH_BUNDLE_FOUR
	p := f.pop.Person(f.dying[i%len(f.dying)])
	h, _ := f.pop.Household(p.HouseholdID)
	claim := &enginev1.SurvivorClaim{}
	for _, m := range h.Members {
		r := f.pop.Person(m)
		rel := survivorRelationship(p.Relation, r.Relation)
		if m == p.Index || rel == enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_UNSPECIFIED || len(claim.Survivors) == 4 {
			continue
		}
		claim.Survivors = append(claim.Survivors, &enginev1.Survivor{
			FullName: r.FullName, IdNumber: r.IDNumber, BirthDate: r.BirthDate.Format("2006-01-02"), Relationship: rel,
		})
	}
	if d, ok := f.pop.ByIDNumber(req.GetForm().GetDeclarant().GetIdNumber()); ok && len(claim.Survivors) == 0 && d.Index != p.Index {
		// A household member the relations above do not place (a sibling, a
		// grandchild) declared the death: the family claims for them as a dependant.
		claim.Survivors = append(claim.Survivors, &enginev1.Survivor{FullName: d.FullName, IdNumber: d.IDNumber,
			BirthDate: d.BirthDate.Format("2006-01-02"), Relationship: enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_DEPENDANT})
	}
	req.Form.SurvivorBenefit = claim
	return req, len(claim.Survivors) > 0
}

// survivorRelationship reads a relative's relationship to the deceased off
// both people's places in their household (the head's spouse, children and
// parents); unspecified when it cannot.
func survivorRelationship(deceased, relative population.Relation) enginev1.SurvivorRelationship {
	type pair struct{ deceased, relative population.Relation }
	return map[pair]enginev1.SurvivorRelationship{
		{population.RelationHead, population.RelationSpouse}:   enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_SPOUSE,
		{population.RelationHead, population.RelationChild}:    enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_CHILD,
		{population.RelationHead, population.RelationParent}:   enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_PARENT,
		{population.RelationSpouse, population.RelationHead}:   enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_SPOUSE,
		{population.RelationSpouse, population.RelationChild}:  enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_CHILD,
		{population.RelationSpouse, population.RelationParent}: enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_PARENT_IN_LAW,
		{population.RelationParent, population.RelationHead}:   enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_CHILD,
	}[pair{deceased, relative}]
}

// DeathIndex returns the first death index from start whose deceased
// matches, for tests that need a particular contribution record.
func (f *Forms) DeathIndex(start int, match func(population.Person) bool) (int, bool) {
	for i := start; i < len(f.dying); i++ {
		if match(f.pop.Person(f.dying[i])) {
			return i, true
		}
	}
	return 0, false
}

// IndexIn returns the first birth and death indexes whose dossiers belong to
// commune, or 0 when the population has none there.
func (f *Forms) IndexIn(commune string) (birth, death int) {
	birth, death = -1, -1
	for i, c := range f.couples {
		if h, _ := f.pop.Household(c.HouseholdID); h.CommuneCode == commune {
			birth = i
			break
		}
	}
	for i, p := range f.dying {
		if f.pop.Person(p).CommuneCode == commune {
			death = i
			break
		}
	}
	return max(birth, 0), max(death, 0)
}
