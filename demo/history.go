package demo

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/demo/internal/demodb"
	"github.com/lienthong/lienthong/dossier"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// HistoryPrefix starts the request id of every seeded past dossier; one such
// id in engine.dossiers means the history is there.
const HistoryPrefix = "demo-history-"

// HistoryActor is who the seeded past dossiers were created by.
const HistoryActor = "demo history"

// Legal limits, as the engine applies them at receipt (working days).
const (
	birthGroupDays = 3
	deathGroupDays = 5
)

// stepDays are the steps' limits in working days (0: the same working day).
var stepDays = map[dossier.StepKind]int{
	dossier.StepBirthRegistration:     0,
	dossier.StepIDNumber:              0,
	dossier.StepResidenceRegistration: 2,
	dossier.StepChildCard:             2,
	dossier.StepDeathRegistration:     0,
	dossier.StepResidenceCancellation: 2,
	dossier.StepFuneralAllowance:      5,
}

// HistoryOptions shape the past dossiers; zero fields take the defaults.
type HistoryOptions struct {
	// Dossiers is how many (HistoryDossiers), received over the Days (HistoryDays) before Now.
	Dossiers int
	Days     int
	// Now ends the history; zero means time.Now().
	Now time.Time
	// Rand seeds the draws; the same seed and Now give the same history.
	Rand     uint64
	Calendar *calendar.Calendar
}

// HistorySummary is what SeedHistory wrote, or found.
type HistorySummary struct {
	// Seeded is false when the history was already there and nothing was written.
	Seeded    bool
	Dossiers  int
	Provinces int
	Communes  int
	ByStatus  map[dossier.Status]int
	// Late dossiers finished after their legal due time.
	Late int
}

// seedLock serialises seeders of one database.
const seedLock = 6301_0001

// SeedHistory writes the past dossiers in one transaction, unless a dossier
// with HistoryPrefix is already stored.
func SeedHistory(ctx context.Context, pool *pgxpool.Pool, p *people, o HistoryOptions) (HistorySummary, error) {
	if o.Dossiers <= 0 {
		o.Dossiers = HistoryDossiers
	}
	if o.Days <= 0 {
		o.Days = HistoryDays
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Calendar == nil {
		o.Calendar = calendar.Default()
	}
	if o.Rand == 0 {
		o.Rand = 63
	}
	var sum HistorySummary
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := demodb.New(tx)
		if err := q.LockSeeding(ctx, seedLock); err != nil {
			return err
		}
		n, err := q.CountDossiersLike(ctx, HistoryPrefix+"%")
		if err != nil {
			return err
		}
		if n > 0 {
			sum.Dossiers = int(n)
			return nil
		}
		g := &generator{rng: rand.New(rand.NewPCG(o.Rand, 2024)), cal: o.Calendar, now: o.Now, days: o.Days, people: p,
			used: map[string]int{}}
		ds, err := g.generate(o.Dossiers)
		if err != nil {
			return err
		}
		if err := write(ctx, q, ds); err != nil {
			return err
		}
		sum = summarise(ds)
		sum.Seeded = true
		return nil
	})
	if err != nil {
		return HistorySummary{}, fmt.Errorf("demo history: %w", err)
	}
	return sum, nil
}

func summarise(ds []*past) HistorySummary {
	s := HistorySummary{Dossiers: len(ds), ByStatus: map[dossier.Status]int{}}
	provinces, communes := map[string]bool{}, map[string]bool{}
	for _, d := range ds {
		s.ByStatus[d.snap.Status]++
		provinces[d.snap.ProvinceCode], communes[d.snap.CommuneCode] = true, true
		if d.snap.CompletedAt != nil && d.snap.CompletedAt.After(d.snap.DueAt) {
			s.Late++
		}
	}
	s.Provinces, s.Communes = len(provinces), len(communes)
	return s
}

// ---- one past dossier ------------------------------------------------------

// past is one seeded dossier: what was received, and every version it went through.
type past struct {
	requestID   string
	requestHash []byte
	phoneHash   string
	form        []byte
	snap        dossier.Snapshot
	started     time.Time
	history     []version
	events      []dossier.Event
}

type version struct {
	version            int64
	status             dossier.Status
	step               dossier.StepKind
	stepStatus         dossier.StepStatus
	at, synced, portal time.Time
	decided            *time.Time
}

// change is one transition of a plan: at its time it changes the snapshot
// and makes a new version, as a workflow's commit does.
type change struct {
	at      time.Time
	seq     int
	step    dossier.StepKind
	decided *time.Time
	apply   func(s *dossier.Snapshot)
	events  []dossier.Event
	// more makes events from the state the change left.
	more func(s *dossier.Snapshot) []dossier.Event
}

// plan collects a dossier's transitions before they are played in order.
type plan struct {
	changes []change
}

func (p *plan) add(at time.Time, step dossier.StepKind, decided *time.Time, apply func(*dossier.Snapshot), evs ...dossier.Event) *change {
	p.changes = append(p.changes, change{at: at, seq: len(p.changes), step: step, decided: decided, apply: apply, events: evs})
	return &p.changes[len(p.changes)-1]
}

func setStatus(st *dossier.Step, s dossier.StepStatus, at time.Time) {
	if st.Status != s {
		st.Status, st.StatusSince = s, at
	}
}

// play applies the plan's changes in time order to d.snap, recording each
// version and event.
func (g *generator) play(d *past, p *plan) {
	sort.SliceStable(p.changes, func(i, j int) bool {
		if !p.changes[i].at.Equal(p.changes[j].at) {
			return p.changes[i].at.Before(p.changes[j].at)
		}
		return p.changes[i].seq < p.changes[j].seq
	})
	s := &d.snap
	key := 0
	for _, c := range p.changes {
		c.apply(s)
		if c.step != "" {
			s.Step(c.step).UpdatedAt = c.at
		}
		s.Status = s.DerivedStatus()
		s.CurrentStep, s.CurrentAgency = s.Current()
		s.Version++
		s.At = c.at
		v := version{version: s.Version, status: s.Status, step: c.step, at: c.at, decided: c.decided,
			synced: c.at.Add(time.Duration(40+g.rng.IntN(600)) * time.Millisecond),
			portal: c.at.Add(time.Duration(300+g.rng.IntN(2500)) * time.Millisecond)}
		if st := s.Step(c.step); st != nil {
			v.stepStatus = st.Status
		}
		d.history = append(d.history, v)
		evs := c.events
		if c.more != nil {
			evs = append(slices.Clone(evs), c.more(s)...)
		}
		for _, ev := range evs {
			key++
			ev.Code, ev.Key = s.Code, fmt.Sprintf("%s/%d", s.Code, key)
			if ev.At.IsZero() {
				ev.At = c.at
			}
			if ev.Actor == "" {
				ev.Actor = "system"
			}
			d.events = append(d.events, ev)
		}
	}
}

// ---- the generator ---------------------------------------------------------

type generator struct {
	rng    *rand.Rand
	cal    *calendar.Calendar
	now    time.Time
	days   int
	people *people
	// used counts the people each commune's history has taken, by group.
	used map[string]int
}

// commune weights: the cities' wards are busier than the rural communes.
func (g *generator) weights(communes []civil.Commune) []float64 {
	w := make([]float64, len(communes))
	for i, c := range communes {
		base := 1.0
		switch c.ProvinceCode {
		case "001":
			base = 1.3
		case "079":
			base = 1.2
		case "040":
			base = 0.8
		}
		if strings.HasPrefix(c.Name, "Xã") || strings.HasPrefix(c.Name, "Đặc khu") {
			base *= 0.5
		}
		w[i] = base * (0.6 + 0.8*g.rng.Float64())
	}
	return w
}

func (g *generator) pick(w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	r := g.rng.Float64() * total
	for i, x := range w {
		if r < x {
			return i
		}
		r -= x
	}
	return len(w) - 1
}

// person takes the next unused person of commune for the group, or false.
func (g *generator) person(commune string, birth bool) (int, bool) {
	list := g.people.history(commune, birth)
	k := commune + "/" + strconv.FormatBool(birth)
	if g.used[k] >= len(list) {
		return 0, false
	}
	g.used[k]++
	return list[g.used[k]-1], true
}

func (g *generator) generate(n int) ([]*past, error) {
	communes := civil.Communes()
	w := g.weights(communes)
	var out []*past
	for i := range n {
		birth := g.rng.Float64() < 0.7
		var idx int
		var commune civil.Commune
		found := false
		for try := 0; try < 50 && !found; try++ {
			commune = communes[g.pick(w)]
			idx, found = g.person(commune.Code, birth)
		}
		if !found {
			return nil, fmt.Errorf("the population has too few people for %d past dossiers", n)
		}
		d, err := g.dossier(i, birth, idx, commune)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ---- working time ----------------------------------------------------------

const (
	dayStart = 8 * time.Hour
	dayEnd   = 17 * time.Hour
)

func midnight(t time.Time) time.Time {
	t = t.In(civil.Zone)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, civil.Zone)
}

// work adds d of office time to t: officers decide on working days, 08:00 to 17:00.
func (g *generator) work(t time.Time, d time.Duration) time.Time {
	t = t.In(civil.Zone)
	for {
		day := midnight(t)
		if !g.cal.IsWorkingDay(t) || t.Sub(day) >= dayEnd {
			t = g.cal.NextWorkingDay(t).Add(dayStart)
			continue
		}
		if t.Sub(day) < dayStart {
			t = day.Add(dayStart)
		}
		left := day.Add(dayEnd).Sub(t)
		if d <= left {
			return t.Add(d)
		}
		d -= left
		t = day.Add(dayEnd)
	}
}

// officeTime is how much office time lies between from and to.
func (g *generator) officeTime(from, to time.Time) time.Duration {
	var total time.Duration
	t := from.In(civil.Zone)
	for t.Before(to) {
		day := midnight(t)
		if g.cal.IsWorkingDay(t) {
			lo, hi := maxTime(t, day.Add(dayStart)), minTime(to, day.Add(dayEnd))
			if hi.After(lo) {
				total += hi.Sub(lo)
			}
		}
		t = day.AddDate(0, 0, 1)
	}
	return total
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (g *generator) minutes(lo, hi float64) time.Duration {
	return time.Duration((lo + g.rng.Float64()*(hi-lo)) * float64(time.Minute))
}

// decideBy draws when an officer decides a step started at start: within
// its due time, or, when late, some office hours after it.
func (g *generator) decideBy(start, due time.Time, late bool, typical time.Duration) time.Time {
	if late {
		return g.work(due, g.minutes(30, 900)).Add(time.Duration(g.rng.IntN(60)) * time.Second)
	}
	room := g.officeTime(start, due)
	d := time.Duration(float64(typical) * (0.2 + 1.6*g.rng.Float64()))
	if limit := time.Duration(float64(room) * 0.95); d > limit {
		d = time.Duration(float64(limit) * (0.3 + 0.7*g.rng.Float64()))
	}
	d = max(d, 3*time.Minute)
	t := g.work(start, d).Add(time.Duration(g.rng.IntN(60)) * time.Second)
	if t.After(due) {
		t = due.Add(-time.Duration(1+g.rng.IntN(20)) * time.Minute)
	}
	return t
}

// receivedAt draws a moment a one-stop desk received a dossier: mostly
// working days, office hours leaning to the morning.
func (g *generator) receivedAt() time.Time {
	back := 3 + g.rng.IntN(g.days-2)
	day := midnight(g.now).AddDate(0, 0, -back)
	if !g.cal.IsWorkingDay(day) && g.rng.Float64() < 0.9 {
		day = g.cal.NextWorkingDay(day)
	}
	u := g.rng.Float64()
	offset := 7*time.Hour + 30*time.Minute + time.Duration((1-math.Sqrt(1-u))*float64(9*time.Hour))
	if !g.cal.IsWorkingDay(day) {
		// Saturday-morning desks.
		offset = 7*time.Hour + 30*time.Minute + time.Duration(u*float64(4*time.Hour))
	}
	return day.Add(offset).Add(time.Duration(g.rng.IntN(60)) * time.Second)
}

// ---- scenarios -------------------------------------------------------------

// fate is what happens to one dossier.
type fate struct {
	rejected   bool             // the registration is refused
	partial    dossier.StepKind // this later step is refused
	cancelled  bool
	late       dossier.StepKind // this step is decided late
	lateGroup  bool             // so late that the dossier misses its own due time
	supplement dossier.StepKind // this step asks for a supplement first
	lateID     bool
	failures   map[dossier.StepKind]int
}

func (g *generator) fate(steps []dossier.StepKind, birth bool) fate {
	f := fate{failures: map[dossier.StepKind]int{}}
	r := g.rng.Float64()
	later := steps[1:]
	if birth {
		later = steps[2:]
	}
	switch {
	case r < 0.03:
		f.cancelled = true
	case r < 0.11:
		f.rejected = true
	case r < 0.20:
		f.partial = later[g.rng.IntN(len(later))]
	}
	if r := g.rng.Float64(); r < 0.18 {
		f.late = later[g.rng.IntN(len(later))]
		if f.rejected || g.rng.Float64() < 0.2 {
			f.late = steps[0]
		}
		f.lateGroup = r < 0.12
	}
	if g.rng.Float64() < 0.07 {
		f.supplement = steps[g.rng.IntN(len(steps))]
		if f.supplement == dossier.StepIDNumber {
			f.supplement = dossier.StepBirthRegistration
		}
	}
	f.lateID = birth && g.rng.Float64() < 0.12
	for _, k := range steps {
		if g.rng.Float64() < 0.06 {
			f.failures[k] = 1 + g.rng.IntN(3)
		}
	}
	return f
}

var (
	birthRejections = []string{
		"the hospital birth certificate (giấy chứng sinh) does not match the facility's records",
		"the parents' marriage could not be confirmed in the civil register",
		"the child's name contains characters the civil register does not allow",
	}
	deathRejections = []string{
		"the death notice (giấy báo tử) does not match its issuer's records",
		"the deceased's identity could not be confirmed with the population database",
	}
	partialReasons = map[dossier.StepKind][]string{
		dossier.StepResidenceRegistration: {"the household head did not consent to the registration in person", "the address could not be verified with the commune police"},
		dossier.StepChildCard:             {"the child's record could not be matched with the electronic birth extract"},
		dossier.StepResidenceCancellation: {"the death record could not be matched to the population record"},
		dossier.StepFuneralAllowance:      {"not eligible: fewer than 12 months of compulsory contributions and fewer than 60 voluntary", "the recipient's relationship to the deceased could not be established"},
	}
	supplementAsks = map[dossier.StepKind][2]string{
		dossier.StepBirthRegistration:     {"a legible copy of the hospital birth certificate is needed", "birth_certificate"},
		dossier.StepDeathRegistration:     {"a legible copy of the death notice is needed", "death_notice"},
		dossier.StepResidenceRegistration: {"proof of the household's lawful residence at the address is needed", "residence_proof"},
		dossier.StepChildCard:             {"the electronic birth extract could not be read; send it again", "birth_extract"},
		dossier.StepResidenceCancellation: {"a copy of the death extract is needed", "death_extract"},
		dossier.StepFuneralAllowance:      {"proof of the recipient's relationship to the deceased is needed", "relationship_proof"},
	}
	cancelReasons = []string{
		"the family asked to withdraw the application",
		"submitted twice by mistake; the other dossier continues",
		"the family will register in the commune of the mother's residence",
	}
	attemptErrors = []struct{ code, msg string }{
		{"UNAVAILABLE", "UNAVAILABLE: the agency's service did not answer"},
		{"UNAUTHENTICATED", "UNAUTHENTICATED: the national login rejected the service token"},
		{"DEADLINE_EXCEEDED", "DEADLINE_EXCEEDED: no answer within 15s"},
	}
)

func (g *generator) one(list []string) string { return list[g.rng.IntN(len(list))] }

// caseID is the agencies' case id for a step, as they derive it.
func caseID(agency, code string, k dossier.StepKind) string {
	sum := sha256.Sum256([]byte(agency + "\x00" + code + "/" + string(k)))
	return strings.ToUpper(agency[:3]) + "-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:10]))
}

// dossier draws one past dossier until its whole life fits before now.
func (g *generator) dossier(i int, birth bool, idx int, commune civil.Commune) (*past, error) {
	for try := 0; ; try++ {
		received := g.receivedAt()
		if try > 20 {
			received = g.work(midnight(g.now).AddDate(0, 0, -g.days+g.rng.IntN(7)), g.minutes(0, 400))
		}
		d, err := g.draw(i, birth, idx, commune, received)
		if err != nil {
			return nil, err
		}
		if d.snap.CompletedAt != nil && d.snap.CompletedAt.Before(g.now.Add(-time.Hour)) {
			return d, nil
		}
		if try > 40 {
			return nil, errors.New("could not fit a past dossier before now")
		}
	}
}

func (g *generator) draw(i int, birth bool, idx int, commune civil.Commune, received time.Time) (*past, error) {
	d := &past{requestID: fmt.Sprintf("%s%04d", HistoryPrefix, i)}
	var steps []dossier.StepKind
	var due time.Time
	var regYear = received.In(civil.Zone).Year()
	var result map[dossier.StepKind]map[string]string
	if birth {
		req := g.people.forms.Birth(idx, received, d.requestID)
		norm := proto.CloneOf(req)
		phone, _ := civil.NormalizePhone(norm.GetForm().GetRequester().GetPhone())
		norm.Form.Requester.Phone = phone
		norm.RequestId = ""
		if err := d.encode(norm, norm.GetForm(), phone); err != nil {
			return nil, err
		}
		steps = []dossier.StepKind{dossier.StepBirthRegistration, dossier.StepIDNumber, dossier.StepResidenceRegistration, dossier.StepChildCard}
		due = g.cal.AddWorkingDays(received, birthGroupDays)
		child := norm.GetForm().GetChild()
		sex := civil.SexMale
		if child.GetSex() == enginev1.Sex_SEX_FEMALE {
			sex = civil.SexFemale
		}
		born := child.GetBirthTime().AsTime().In(civil.Zone)
		id, err := civil.NewIDNumber(commune.ProvinceCode, sex, born.Year(), g.rng.IntN(1_000_000))
		if err != nil {
			return nil, err
		}
		si, err := civil.NewSocialInsuranceCode(commune.ProvinceCode, int64(1_000_000+i))
		if err != nil {
			return nil, err
		}
		from, to := civil.ChildCardValidity(born)
		result = map[dossier.StepKind]map[string]string{
			dossier.StepBirthRegistration:     registration(commune.Code, regYear, "KS", 1+g.rng.IntN(900)),
			dossier.StepIDNumber:              {"id_number": id},
			dossier.StepResidenceRegistration: {"registered_at": ""},
			dossier.StepChildCard: {"card_code": civil.ChildCardObjectCode + strconv.Itoa(civil.ChildCardBenefitLevel) + commune.ProvinceCode[1:] + si,
				"social_insurance_code": si, "object": civil.ChildCardObjectCode, "benefit_level": strconv.Itoa(civil.ChildCardBenefitLevel),
				"valid_from": from.Format(time.DateOnly), "valid_to": to.Format(time.DateOnly), "facility_code": norm.GetForm().GetFacilityCode()},
		}
	} else {
		allowance := g.rng.Float64() < 0.5
		req := g.people.forms.Death(idx, received, d.requestID, allowance)
		norm := proto.CloneOf(req)
		phone, _ := civil.NormalizePhone(norm.GetForm().GetDeclarant().GetPhone())
		norm.Form.Declarant.Phone = phone
		if norm.GetForm().GetBundle() != enginev1.DeathBundle_DEATH_BUNDLE_THREE {
			norm.Form.Recipient = nil
		}
		norm.RequestId = ""
		if err := d.encode(norm, norm.GetForm(), phone); err != nil {
			return nil, err
		}
		steps = []dossier.StepKind{dossier.StepDeathRegistration, dossier.StepResidenceCancellation}
		if allowance {
			steps = append(steps, dossier.StepFuneralAllowance)
		}
		due = g.cal.AddWorkingDays(received, deathGroupDays)
		died := norm.GetForm().GetDeceased().GetDeathTime().AsTime()
		amount, _ := civil.FuneralAllowance(died)
		result = map[dossier.StepKind]map[string]string{
			dossier.StepDeathRegistration:     registration(commune.Code, regYear, "KT", 1+g.rng.IntN(400)),
			dossier.StepResidenceCancellation: {"cancelled_at": ""},
			dossier.StepFuneralAllowance: {"amount_vnd": strconv.FormatInt(amount, 10),
				"base_salary_vnd": strconv.FormatInt(amount/civil.FuneralAllowanceMultiple, 10), "basis": "compulsory contributions of 12 months or more"},
		}
	}
	d.snap = dossier.Snapshot{
		Group: dossier.GroupBirth, CommuneCode: commune.Code, ProvinceCode: commune.ProvinceCode,
		ReceivedAt: received, DueAt: due, AppointmentAt: due, Status: dossier.StatusReceived, At: received,
	}
	if !birth {
		d.snap.Group = dossier.GroupDeath
	}
	for _, k := range steps {
		d.snap.Steps = append(d.snap.Steps, dossier.Step{Kind: k, Agency: k.Agency(), Status: dossier.StepPending, StatusSince: received, UpdatedAt: received})
	}
	d.events = append(d.events, dossier.Event{At: received, Kind: dossier.EventSubmitted, Actor: HistoryActor, Detail: "group " + string(d.snap.Group)})

	f := g.fate(steps, birth)
	p := &plan{}
	s := &stepper{g: g, p: p, f: f, result: result, code: func() string { return d.snap.Code }, commune: commune.Code, due: due}
	finish := s.run(birth, steps, received)

	// The dossier's own deadline.
	if finish.After(due) {
		p.add(due, "", nil, func(s *dossier.Snapshot) { s.Overdue = true },
			dossier.Event{Kind: dossier.EventOverdue, Outcome: "dossier overdue",
				Detail: "legal time limit passed at " + due.In(civil.Zone).Format("2006-01-02 15:04")})
	}
	end := finish.Add(time.Duration(200+g.rng.IntN(1500)) * time.Millisecond)
	if f.cancelled {
		// A clerk withdraws the dossier part-way; nothing after that happens.
		cut := received.Add(time.Duration(float64(finish.Sub(received)) * (0.15 + 0.6*g.rng.Float64())))
		kept := p.changes[:0]
		for _, c := range p.changes {
			if c.at.Before(cut) {
				kept = append(kept, c)
			}
		}
		p.changes = kept
		reason := g.one(cancelReasons)
		actor := "clerk:clerk-" + commune.Code
		end = cut.Add(time.Duration(300+g.rng.IntN(1500)) * time.Millisecond)
		var withdrawn []dossier.Event
		p.add(end, "", nil, func(s *dossier.Snapshot) {
			for i := range s.Steps {
				st := &s.Steps[i]
				if st.Status.Terminal() {
					continue
				}
				if st.CaseID != "" {
					withdrawn = append(withdrawn, dossier.Event{Kind: dossier.EventCancelled, Step: st.Kind,
						Outcome: "case withdrawn", Detail: "dossier cancelled: " + reason})
				}
				st.Reason = "dossier cancelled: " + reason
				setStatus(st, dossier.StepCancelled, end)
				st.UpdatedAt = end
			}
			s.Status, s.OutcomeReason, s.CompletedAt = dossier.StatusCancelled, reason, &end
		}, dossier.Event{At: cut, Kind: dossier.EventCancelled, Actor: actor, Outcome: "dossier cancelled", Detail: reason}).more =
			func(*dossier.Snapshot) []dossier.Event {
				return append(withdrawn, dossier.Event{Kind: dossier.EventCompleted, Outcome: string(dossier.StatusCancelled), Detail: reason})
			}
	} else {
		p.add(end, "", nil, func(s *dossier.Snapshot) {
			status, reason := s.Settle(s.Steps[0].Kind)
			s.Status, s.OutcomeReason, s.CompletedAt = status, reason, &end
		}).more = func(s *dossier.Snapshot) []dossier.Event {
			return []dossier.Event{{Kind: dossier.EventCompleted, Outcome: string(s.Status), Detail: s.OutcomeReason}}
		}
	}
	g.play(d, p)
	d.started = received.Add(time.Duration(300+g.rng.IntN(700)) * time.Millisecond)
	return d, nil
}

func registration(commune string, year int, kind string, entry int) map[string]string {
	book := fmt.Sprintf("%s-%d-%s", commune, year, kind)
	return map[string]string{"registration_number": book + "/" + strconv.Itoa(entry), "registration_book": book,
		"registration_entry": strconv.Itoa(entry)}
}

// encode stores the form as the API does: the normalised request hashed, the
// form's deterministic bytes, the applicant's phone hashed.
func (d *past) encode(norm, form proto.Message, phone string) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(norm)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	d.requestHash = sum[:]
	if d.form, err = (proto.MarshalOptions{Deterministic: true}).Marshal(form); err != nil {
		return err
	}
	d.phoneHash = civil.PhoneHash(phone)
	return nil
}

// ---- the step machine, in the past tense ------------------------------------

type stepper struct {
	g      *generator
	p      *plan
	f      fate
	result map[dossier.StepKind]map[string]string
	code   func() string
	// commune is where the dossier was received.
	commune string
	// due is the dossier's own due time.
	due time.Time
}

func (s *stepper) ms(lo, hi int) time.Duration {
	return time.Duration(lo+s.g.rng.IntN(hi-lo)) * time.Millisecond
}

// typical office time each agency takes for a step.
var typical = map[dossier.StepKind]time.Duration{
	dossier.StepBirthRegistration:     90 * time.Minute,
	dossier.StepDeathRegistration:     80 * time.Minute,
	dossier.StepResidenceRegistration: 7 * time.Hour,
	dossier.StepChildCard:             6 * time.Hour,
	dossier.StepResidenceCancellation: 6 * time.Hour,
	dossier.StepFuneralAllowance:      16 * time.Hour,
}

// send starts step k at t: failed attempts, then the agency holds the case.
// It returns the step's due time and when the case was received.
func (s *stepper) send(k dossier.StepKind, t time.Time) (due, sent time.Time) {
	g, p := s.g, s.p
	due = g.cal.AddWorkingDays(t, stepDays[k])
	start := t
	p.add(start, k, nil, func(sn *dossier.Snapshot) {
		st := sn.Step(k)
		st.StartedAt, st.DueAt = &start, &due
		setStatus(st, dossier.StepSending, start)
	})
	at := t
	attempts := 0
	backoff := time.Second
	for range s.f.failures[k] {
		attempts++
		at = at.Add(s.ms(80, 900))
		failed, n := attemptErrors[g.rng.IntN(len(attemptErrors))], attempts
		p.add(at, k, nil, func(sn *dossier.Snapshot) {
			st := sn.Step(k)
			st.Attempts, st.LastError, st.LastErrorCode = n, failed.msg, failed.code
		}, dossier.Event{Kind: dossier.EventAttemptFailed, Step: k, Error: failed.msg, LatencyMs: int64(80 + g.rng.IntN(900)), Attempt: n})
		at = at.Add(backoff)
		backoff = min(backoff*4, 5*time.Minute)
	}
	attempts++
	at = at.Add(s.ms(60, 700))
	if k == dossier.StepIDNumber && !s.f.lateID {
		return due, at
	}
	n, id := attempts, caseID(k.Agency(), s.code(), k)
	p.add(at, k, nil, func(sn *dossier.Snapshot) {
		st := sn.Step(k)
		st.Attempts, st.LastError, st.LastErrorCode, st.CaseID = n, "", "", caseID(k.Agency(), sn.Code, k)
		setStatus(st, dossier.StepAwaitingAgency, at)
	}, dossier.Event{Kind: dossier.EventSent, Step: k, Outcome: string(dossier.CaseReceived), LatencyMs: int64(60 + g.rng.IntN(700)),
		Attempt: n, Detail: "case " + id})
	return due, at
}

// decide records the agency's decision on k at t, pushed a moment later.
func (s *stepper) decide(k dossier.StepKind, t time.Time, approve bool, reason string) time.Time {
	arrived := t.Add(s.ms(30, 900))
	decided := t
	res := s.result[k]
	outcome := dossier.CaseApproved
	if !approve {
		outcome = dossier.CaseRejected
	}
	s.p.add(arrived, k, &decided, func(sn *dossier.Snapshot) {
		st := sn.Step(k)
		st.DecidedAt = &decided
		if approve {
			st.Result = fill(res, decided)
			st.Reason, st.Missing = "", nil
			setStatus(st, dossier.StepApproved, arrived)
		} else {
			st.Reason = reason
			setStatus(st, dossier.StepRejected, arrived)
		}
	}, dossier.Event{Kind: dossier.EventDecision, Step: k, Actor: "agency:" + k.Agency(), Outcome: string(outcome),
		Detail: strings.TrimSpace(reason + " (via push)")})
	return arrived
}

func fill(res map[string]string, at time.Time) map[string]string {
	out := map[string]string{}
	for k, v := range res {
		if v == "" && strings.HasSuffix(k, "_at") {
			v = at.In(civil.Zone).Format(time.RFC3339)
		}
		out[k] = v
	}
	return out
}

// officer runs a step an officer decides: sent at t, perhaps a supplement,
// a decision in time or late. It returns when the step ended.
func (s *stepper) officer(k dossier.StepKind, t time.Time, refuse bool, reason string) time.Time {
	g, p := s.g, s.p
	due, sent := s.send(k, t)
	if k == s.f.late {
		s.overdue(k, due)
	}
	at := sent
	if k == s.f.supplement {
		ask := supplementAsks[k]
		asked := g.decideBy(sent, due, false, typical[k]/3)
		arrived := asked.Add(s.ms(30, 900))
		p.add(arrived, k, &asked, func(sn *dossier.Snapshot) {
			st := sn.Step(k)
			st.Reason, st.Missing = ask[0], []string{ask[1]}
			setStatus(st, dossier.StepNeedsSupplement, arrived)
		}, dossier.Event{Kind: dossier.EventDecision, Step: k, Actor: "agency:" + k.Agency(), Outcome: string(dossier.CaseNeedsSupplement),
			Detail: ask[0] + " (via push)"})
		supplied := g.work(arrived, g.minutes(40, 420))
		p.add(supplied, k, nil, func(sn *dossier.Snapshot) {
			st := sn.Step(k)
			st.Reason, st.Missing = "", nil
			setStatus(st, dossier.StepAwaitingAgency, supplied)
		}, dossier.Event{Kind: dossier.EventSupplement, Step: k, Actor: "clerk:clerk-" + s.commune, Outcome: "delivered", Detail: "1 field(s)"})
		at = supplied
	}
	late := k == s.f.late
	var when time.Time
	if late {
		after := maxTime(due, at)
		if s.f.lateGroup {
			after = maxTime(after, s.due)
		}
		when = g.decideBy(at, after, true, typical[k])
	} else {
		when = g.decideBy(at, maxTime(due, at.Add(time.Hour)), false, typical[k])
		if when.After(due) {
			// A supplement pushed it past the due time: the watch fired.
			s.overdue(k, due)
		}
	}
	return s.decide(k, when, !refuse, reason)
}

// overdue is the deadline watch firing on k at due: the step is flagged and escalated.
func (s *stepper) overdue(k dossier.StepKind, due time.Time) {
	s.p.add(due, k, nil, func(sn *dossier.Snapshot) { sn.Step(k).Overdue = true },
		dossier.Event{Kind: dossier.EventOverdue, Step: k, Outcome: "step overdue",
			Detail: fmt.Sprintf("%s did not decide by %s", k.Title(), due.In(civil.Zone).Format("2006-01-02 15:04"))},
		dossier.Event{Kind: dossier.EventEscalated, Step: k, Outcome: "escalated to " + k.Agency(),
			Detail: "overdue since " + due.In(civil.Zone).Format(time.RFC3339)})
}

// skip marks steps that will not run because the registration failed.
func (s *stepper) skip(at time.Time, reason string, kinds ...dossier.StepKind) time.Time {
	for _, k := range kinds {
		at = at.Add(s.ms(5, 60))
		t := at
		s.p.add(t, k, nil, func(sn *dossier.Snapshot) {
			st := sn.Step(k)
			if st.Status.Terminal() {
				return
			}
			st.Reason = reason
			setStatus(st, dossier.StepSkipped, t)
		})
	}
	return at
}

// run plans the whole group from t and returns when its last step ended.
func (s *stepper) run(birth bool, steps []dossier.StepKind, t time.Time) time.Time {
	g, f := s.g, s.f
	first := steps[0]
	refuseFirst := ""
	if f.rejected {
		refuseFirst = g.one(deathRejections)
		if birth {
			refuseFirst = g.one(birthRejections)
		}
	}
	partial := ""
	if f.partial != "" {
		partial = g.one(partialReasons[f.partial])
	}
	if !birth {
		end := s.officer(first, t.Add(s.ms(500, 3000)), f.rejected, refuseFirst)
		if f.rejected {
			return s.skip(end, "death registration rejected: "+refuseFirst, steps[1:]...)
		}
		last := end
		for _, k := range steps[1:] {
			reason := ""
			if k == f.partial {
				reason = partial
			}
			last = maxTime(last, s.officer(k, end.Add(s.ms(50, 400)), k == f.partial, reason))
		}
		return last
	}

	// Birth: the ID number first; the registration waits up to 30 s for it.
	idStart := t.Add(s.ms(500, 3000))
	_, idSent := s.send(dossier.StepIDNumber, idStart)
	var idAt time.Time
	if f.lateID {
		s.p.add(idSent.Add(s.ms(2, 30)), dossier.StepIDNumber, nil, func(*dossier.Snapshot) {},
			dossier.Event{Kind: dossier.EventIDNumberLate, Step: dossier.StepIDNumber, Outcome: "pending",
				Detail: "the population database will push the number later"})
		late := g.minutes(10, 240)
		if g.rng.Float64() < 0.3 {
			late = g.minutes(240, 2400)
		}
		idDue := g.cal.AddWorkingDays(idStart, 0)
		idAt = idSent.Add(late)
		if idAt.After(idDue) {
			s.overdue(dossier.StepIDNumber, idDue)
		}
	} else {
		// Issued at once: the send's answer carries the number.
		decided := idSent
		res := s.result[dossier.StepIDNumber]
		s.p.add(idSent, dossier.StepIDNumber, &decided, func(sn *dossier.Snapshot) {
			st := sn.Step(dossier.StepIDNumber)
			st.Attempts, st.LastError, st.LastErrorCode = st.Attempts+1, "", ""
			st.CaseID = caseID(dossier.AgencyPolice, sn.Code, dossier.StepIDNumber)
			st.DecidedAt, st.Result = &decided, fill(res, decided)
			setStatus(st, dossier.StepApproved, idSent)
		}, dossier.Event{Kind: dossier.EventSent, Step: dossier.StepIDNumber, Outcome: string(dossier.CaseApproved),
			LatencyMs: int64(40 + g.rng.IntN(300)), Attempt: 1 + f.failures[dossier.StepIDNumber], Detail: "case " + caseID(dossier.AgencyPolice, s.code(), dossier.StepIDNumber)},
			dossier.Event{Kind: dossier.EventDecision, Step: dossier.StepIDNumber, Actor: "agency:police", Outcome: string(dossier.CaseApproved), Detail: "(via send)"})
		idAt = idSent
	}
	regStart := idStart.Add(30 * time.Second)
	if !f.lateID {
		regStart = idAt.Add(s.ms(20, 200))
	}
	regEnd := s.officer(first, regStart, f.rejected, refuseFirst)
	if f.rejected {
		later := []dossier.StepKind{dossier.StepResidenceRegistration, dossier.StepChildCard}
		end := regEnd
		if f.lateID && idAt.After(regEnd) {
			// The number will not be needed: its case is withdrawn.
			s.p.add(regEnd.Add(s.ms(5, 40)), "", nil, func(*dossier.Snapshot) {},
				dossier.Event{Kind: dossier.EventCancelled, Step: dossier.StepIDNumber, Outcome: "case withdrawn",
					Detail: "birth registration rejected: " + refuseFirst})
			later = append([]dossier.StepKind{dossier.StepIDNumber}, later...)
		} else if f.lateID {
			s.decide(dossier.StepIDNumber, idAt, true, "")
		}
		return s.skip(end, "birth registration rejected: "+refuseFirst, later...)
	}
	if f.lateID {
		idAt = s.decide(dossier.StepIDNumber, idAt, true, "")
		attach := maxTime(idAt, regEnd).Add(s.ms(100, 900))
		num := s.result[dossier.StepIDNumber]["id_number"]
		s.p.add(attach, dossier.StepBirthRegistration, nil, func(sn *dossier.Snapshot) {
			st := sn.Step(dossier.StepBirthRegistration)
			if st.Result == nil {
				st.Result = map[string]string{}
			}
			st.Result["id_number"] = num
		}, dossier.Event{Kind: dossier.EventIDNumberAttached, Step: dossier.StepBirthRegistration, Outcome: "attached",
			Detail: "the birth record and extract now carry the ID number"})
	}
	last := regEnd
	for _, k := range []dossier.StepKind{dossier.StepResidenceRegistration, dossier.StepChildCard} {
		start := regEnd.Add(s.ms(50, 400))
		if idAt.After(regEnd) {
			w := start
			s.p.add(w, k, nil, func(sn *dossier.Snapshot) { setStatus(sn.Step(k), dossier.StepWaitingIDNumber, w) })
			start = idAt.Add(s.ms(50, 400))
		}
		reason := ""
		if k == f.partial {
			reason = partial
		}
		last = maxTime(last, s.officer(k, start, k == f.partial, reason))
	}
	return maxTime(last, idAt)
}

// ---- writing ---------------------------------------------------------------

// write stores the dossiers with their codes, steps, history and trace.
func write(ctx context.Context, q *demodb.Queries, ds []*past) error {
	// Codes: {commune}-{YYMMDD}-{seq}, from the same daily sequences the API uses.
	type dayKey struct{ commune, day string }
	byDay := map[dayKey][]*past{}
	for _, d := range ds {
		k := dayKey{d.snap.CommuneCode, d.snap.ReceivedAt.In(civil.Zone).Format("2006-01-02")}
		byDay[k] = append(byDay[k], d)
	}
	keys := make([]dayKey, 0, len(byDay))
	for k := range byDay {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b dayKey) int { return strings.Compare(a.commune+a.day, b.commune+b.day) })
	for _, k := range keys {
		list := byDay[k]
		slices.SortFunc(list, func(a, b *past) int { return a.snap.ReceivedAt.Compare(b.snap.ReceivedAt) })
		taken, err := q.TakeDossierSequence(ctx, demodb.TakeDossierSequenceParams{CommuneCode: k.commune, Day: k.day, N: int32(len(list))})
		if err != nil {
			return err
		}
		last := int(taken)
		day, _ := time.Parse("2006-01-02", k.day)
		for i, d := range list {
			d.setCode(fmt.Sprintf("%s-%s-%04d", k.commune, day.Format("060102"), last-len(list)+i+1))
		}
	}

	var dossiers []demodb.CopyDossiersParams
	var steps []demodb.CopyStepsParams
	var history []demodb.CopyStatusHistoryParams
	var events []demodb.CopyEventsParams
	for _, d := range ds {
		s := d.snap
		started := d.started
		dossiers = append(dossiers, demodb.CopyDossiersParams{
			Code: s.Code, RequestID: d.requestID, RequestHash: d.requestHash, Grp: string(s.Group), CommuneCode: s.CommuneCode,
			ProvinceCode: s.ProvinceCode, Status: string(s.Status), Version: s.Version, ReceivedAt: s.ReceivedAt, DueAt: s.DueAt,
			AppointmentAt: s.AppointmentAt, CompletedAt: s.CompletedAt, OutcomeReason: s.OutcomeReason, Overdue: s.Overdue,
			CurrentStep: string(s.CurrentStep), CurrentAgency: s.CurrentAgency, PhoneHash: d.phoneHash, Form: d.form,
			CreatedBy: HistoryActor, WorkflowStartedAt: &started, UpdatedAt: s.At,
		})
		for _, st := range s.Steps {
			res := st.Result
			if res == nil {
				res = map[string]string{}
			}
			b, err := json.Marshal(res)
			if err != nil {
				return err
			}
			missing := st.Missing
			if missing == nil {
				missing = []string{}
			}
			steps = append(steps, demodb.CopyStepsParams{
				Code: s.Code, Step: string(st.Kind), Agency: st.Agency, Status: string(st.Status), StatusSince: st.StatusSince,
				StartedAt: st.StartedAt, DueAt: st.DueAt, DecidedAt: st.DecidedAt, Overdue: st.Overdue, Attempts: int32(st.Attempts),
				LastError: st.LastError, LastErrorCode: st.LastErrorCode, Reason: st.Reason, Missing: missing,
				AgencyCaseID: st.CaseID, Result: b, NewAppointmentAt: st.NewAppointmentAt, UpdatedAt: st.UpdatedAt,
			})
		}
		for _, h := range d.history {
			portal := h.portal
			history = append(history, demodb.CopyStatusHistoryParams{
				Code: s.Code, Version: h.version, Status: string(h.status), Step: string(h.step), StepStatus: string(h.stepStatus),
				At: h.at, DecidedAt: h.decided, SyncedAt: h.synced, PortalSyncedAt: &portal,
			})
		}
		for _, ev := range d.events {
			var key *string
			if ev.Key != "" {
				k := ev.Key
				key = &k
			}
			events = append(events, demodb.CopyEventsParams{
				Code: s.Code, At: ev.At, Kind: ev.Kind, Actor: ev.Actor, Step: string(ev.Step), Outcome: ev.Outcome, Error: ev.Error,
				LatencyMs: ev.LatencyMs, Attempt: int32(ev.Attempt), Detail: ev.Detail, DedupeKey: key,
			})
		}
	}
	if _, err := q.CopyDossiers(ctx, dossiers); err != nil {
		return fmt.Errorf("writing engine.dossiers: %w", err)
	}
	if _, err := q.CopySteps(ctx, steps); err != nil {
		return fmt.Errorf("writing engine.steps: %w", err)
	}
	if _, err := q.CopyStatusHistory(ctx, history); err != nil {
		return fmt.Errorf("writing engine.status_history: %w", err)
	}
	if _, err := q.CopyEvents(ctx, events); err != nil {
		return fmt.Errorf("writing engine.events: %w", err)
	}
	return nil
}

// setCode names the dossier, its cases and its trace once its code is known.
func (d *past) setCode(code string) {
	old := d.snap.Code
	d.snap.Code = code
	for i := range d.snap.Steps {
		st := &d.snap.Steps[i]
		if st.CaseID != "" {
			st.CaseID = caseID(st.Agency, code, st.Kind)
		}
	}
	for i := range d.events {
		ev := &d.events[i]
		ev.Code = code
		if ev.Key != "" {
			ev.Key = code + strings.TrimPrefix(ev.Key, old)
		}
		if strings.HasPrefix(ev.Detail, "case ") {
			ev.Detail = "case " + caseID(ev.Step.Agency(), code, ev.Step)
		}
	}
}
