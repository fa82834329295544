package scale

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
)

// The shape of a national year. The shares are estimates, not statistics:
// they are what the scenario needs to be realistic (most dossiers closed,
// a tail of open, late and stuck ones), and easy to change here.
const (
	// communeCount is about the number of communes since July 2025.
	communeCount = 3321
	birthShare   = 0.70
	// lateShare of the closed dossiers were closed after their deadline.
	lateShare = 0.07
)

// Death bundles: 2 procedures, 3 (with the funeral allowance) or 4 (and the
// survivor benefit), as cumulative shares.
var bundleShares = []float64{0.40, 0.85, 1}

// outcomes are a dossier's statuses as of the end of the year, by how old it
// is then; each row's shares add up to 1.
type outcomeRow struct {
	maxAge time.Duration
	shares []share
}

type share struct {
	status dossier.Status
	p      float64
}

var outcomes = []outcomeRow{
	{maxAge: 24 * time.Hour, shares: []share{
		{dossier.StatusReceived, 0.06}, {dossier.StatusInProgress, 0.50}, {dossier.StatusNeedsSupplement, 0.04},
		{dossier.StatusCompleted, 0.38}, {dossier.StatusRejected, 0.01}, {dossier.StatusPartiallyCompleted, 0.01},
	}},
	{maxAge: 14 * 24 * time.Hour, shares: []share{
		{dossier.StatusInProgress, 0.10}, {dossier.StatusNeedsSupplement, 0.04}, {dossier.StatusCompleted, 0.79},
		{dossier.StatusPartiallyCompleted, 0.03}, {dossier.StatusRejected, 0.03}, {dossier.StatusCancelled, 0.01},
	}},
	// Older and still open is stuck: an agency that never answered, retries
	// that keep failing, a supplement the applicant never brought.
	{maxAge: math.MaxInt64, shares: []share{
		{dossier.StatusInProgress, 0.006}, {dossier.StatusNeedsSupplement, 0.004}, {dossier.StatusCompleted, 0.91},
		{dossier.StatusPartiallyCompleted, 0.035}, {dossier.StatusRejected, 0.03}, {dossier.StatusCancelled, 0.015},
	}},
}

// place is a commune and how busy it is.
type place struct {
	commune, province string
}

// year draws the dossiers of one national year, in the order they were
// received. It is deterministic for a seed.
type year struct {
	r     *rand.Rand
	cal   *calendar.Calendar
	now   time.Time
	total int

	places  []place
	placeCW []float64 // cumulative weights of places
	days    []time.Time
	perDay  []int
	seq     map[string]int
	drawn   int
	dayIdx  int
	summary Summary
}

// Summary is what a seeded year holds, counted while it is drawn, so that a
// test can check the store's answers against it.
type Summary struct {
	Dossiers                              int
	ByGroupStatus                         map[dossier.Group]map[dossier.Status]int64
	ByCommune                             map[string]int
	Steps, History, Events, Notifications int
	// SupplementSteps are the steps waiting for the applicant in open dossiers.
	SupplementSteps int64
	// Samples are dossiers spread over the year, for look-ups and listings.
	Samples []Sample
}

// Sample is one seeded dossier the measurements ask for.
type Sample struct {
	Code, Commune, Province        string
	Steps, Versions, Notifications int
}

func newYear(total int, now time.Time, seed uint64) *year {
	y := &year{
		r:     rand.New(rand.NewPCG(seed, seed^0x5ca1e)),
		cal:   calendar.Default(),
		now:   now,
		total: total,
		seq:   map[string]int{},
		summary: Summary{ByGroupStatus: map[dossier.Group]map[dossier.Status]int64{
			dossier.GroupBirth: {}, dossier.GroupDeath: {},
		}, ByCommune: map[string]int{}},
	}
	y.places, y.placeCW = drawPlaces(y.r)
	y.days, y.perDay = spreadOverYear(y.r, y.cal, now, total)
	return y
}

// drawPlaces returns every commune with a weight. The communes civil knows
// are real; the others are made up in each province, with codes no real
// commune of civil's list uses, so that a year spreads over the country
// (about 3,300 communes) and not over the handful civil lists. Provinces and
// communes differ in size: the two big cities have four times the communes'
// share, and a commune's volume varies log-normally.
func drawPlaces(r *rand.Rand) ([]place, []float64) {
	real := civil.Communes()
	used := map[string]bool{}
	var out []place
	var weights []float64
	for _, c := range real {
		used[c.Code] = true
		out = append(out, place{commune: c.Code, province: c.ProvinceCode})
		weights = append(weights, 1.5)
	}
	provinces := civil.Provinces()
	pw := make([]float64, len(provinces))
	var sum float64
	for i, p := range provinces {
		pw[i] = 0.5 + r.Float64()
		if p.Code == "001" || p.Code == "079" {
			pw[i] *= 4
		}
		sum += pw[i]
	}
	next := 10
	for i, p := range provinces {
		n := int(math.Round(float64(communeCount-len(real)) * pw[i] / sum))
		for range n {
			code := fmt.Sprintf("%05d", next)
			for used[code] {
				next += 3
				code = fmt.Sprintf("%05d", next)
			}
			used[code] = true
			next += 3
			out = append(out, place{commune: code, province: p.Code})
			weights = append(weights, math.Exp(r.NormFloat64()*0.6))
		}
	}
	cw := make([]float64, len(weights))
	var acc float64
	for i, w := range weights {
		acc += w
		cw[i] = acc
	}
	return out, cw
}

// spreadOverYear gives each of the 365 days before now its share of total:
// working days the most, Saturdays a little (some one-stop desks open in the
// morning), Sundays and holidays almost nothing.
func spreadOverYear(r *rand.Rand, cal *calendar.Calendar, now time.Time, total int) ([]time.Time, []int) {
	today := dayStart(now)
	var days []time.Time
	var weights []float64
	var sum float64
	for i := 364; i >= 0; i-- {
		d := today.AddDate(0, 0, -i)
		w := 1.0
		switch {
		case !cal.IsWorkingDay(d.Add(12 * time.Hour)):
			w = 0.03
			if d.Weekday() == time.Saturday {
				w = 0.15
			}
		}
		w *= 0.85 + 0.3*r.Float64()
		days = append(days, d)
		weights = append(weights, w)
		sum += w
	}
	per := make([]int, len(days))
	given := 0
	for i, w := range weights {
		per[i] = int(float64(total) * w / sum)
		given += per[i]
	}
	for i := len(per) - 1; given < total; i-- {
		per[i]++
		given++
	}
	return days, per
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.In(civil.Zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, civil.Zone)
}

// next draws the next n dossiers received, oldest first; fewer at the end.
func (y *year) next(n int) []seeded {
	var out []seeded
	for len(out) < n && y.dayIdx < len(y.days) {
		count := y.perDay[y.dayIdx]
		day := y.days[y.dayIdx]
		times := make([]time.Time, count)
		for i := range times {
			// The desks are open from 07:30 to 17:00.
			times[i] = day.Add(7*time.Hour + 30*time.Minute + time.Duration(y.r.Int64N(int64(9*time.Hour+30*time.Minute))))
			if times[i].After(y.now) {
				times[i] = y.now.Add(-time.Duration(y.r.Int64N(int64(2 * time.Hour))))
			}
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		for _, t := range times {
			out = append(out, y.dossier(t))
		}
		y.dayIdx++
	}
	return out
}

// seeded is one dossier and every row it has in the engine's tables.
type seeded struct {
	dossier       []any
	steps         [][]any
	history       [][]any
	events        [][]any
	contact       []any
	notifications [][]any
	feed          []any
}

// plan is one step of a dossier as the year left it.
type plan struct {
	kind      dossier.StepKind
	status    dossier.StepStatus
	since     time.Time
	started   *time.Time
	due       *time.Time
	decided   *time.Time
	attempts  int
	lastError string
	reason    string
	missing   []string
}

// transition is one version of a dossier: one step changed.
type transition struct {
	at      time.Time
	step    dossier.StepKind
	status  dossier.StepStatus
	decided bool
}

func (y *year) pick(shares []share) dossier.Status {
	x := y.r.Float64()
	for _, s := range shares {
		if x < s.p {
			return s.status
		}
		x -= s.p
	}
	return shares[len(shares)-1].status
}

func (y *year) between(from, to time.Time, lo, hi float64) time.Time {
	if !to.After(from) {
		return from
	}
	f := lo + (hi-lo)*y.r.Float64()
	return from.Add(time.Duration(float64(to.Sub(from)) * f))
}

func ptr(t time.Time) *time.Time { return &t }

// dossier draws one dossier received at t.
func (y *year) dossier(t time.Time) seeded {
	r := y.r
	pl := y.places[sort.SearchFloat64s(y.placeCW, r.Float64()*y.placeCW[len(y.placeCW)-1])]
	day := t.In(civil.Zone).Format("060102")
	key := pl.commune + day
	y.seq[key]++
	code := fmt.Sprintf("%s-%s-%04d", pl.commune, day, y.seq[key])

	group, groupDays := dossier.GroupDeath, 5
	kinds := []dossier.StepKind{dossier.StepDeathRegistration, dossier.StepResidenceCancellation}
	if r.Float64() < birthShare {
		group, groupDays = dossier.GroupBirth, 3
		kinds = []dossier.StepKind{dossier.StepBirthRegistration, dossier.StepIDNumber, dossier.StepResidenceRegistration, dossier.StepChildCard}
	} else {
		x := r.Float64()
		if x >= bundleShares[0] {
			kinds = append(kinds, dossier.StepFuneralAllowance)
		}
		if x >= bundleShares[1] {
			kinds = append(kinds, dossier.StepSurvivorBenefit)
		}
	}
	due := y.cal.AddWorkingDays(t, groupDays)
	age := y.now.Sub(t)
	var status dossier.Status
	for _, row := range outcomes {
		if age < row.maxAge {
			status = y.pick(row.shares)
			break
		}
	}
	steps, trans, closedAt := y.steps(group, kinds, status, t, due)

	// Versions in time order; the last one carries a closed dossier's status.
	slices.SortStableFunc(trans, func(a, b transition) int { return a.at.Compare(b.at) })
	terminal := status.Terminal()
	overdue := (terminal && closedAt.After(due)) || (!terminal && y.now.After(due))
	curStep, curAgency := "", ""
	if !terminal {
		for _, p := range steps {
			if p.status != dossier.StepApproved && p.status != dossier.StepPending {
				curStep, curAgency = string(p.kind), p.kind.Agency()
				break
			}
		}
	}
	var completedAt *time.Time
	updated := t
	if terminal {
		completedAt = ptr(closedAt)
	}
	if len(trans) > 0 {
		updated = trans[len(trans)-1].at
	}
	var started *time.Time
	if status != dossier.StatusReceived || age > 10*time.Minute || r.Float64() < 0.9 {
		started = ptr(t.Add(time.Second))
	}
	phone := fmt.Sprintf("+849%08d", r.IntN(100_000_000))
	late := "[]"
	if group == dossier.GroupDeath && r.Float64() < 0.05 {
		b, _ := json.Marshal([]dossier.LateRegistration{{Step: dossier.StepDeathRegistration, Days: 16 + r.IntN(200),
			LimitDays: 15, CountedFrom: dossier.LateFromDeath}})
		late = string(b)
	}
	reason := ""
	switch status {
	case dossier.StatusRejected:
		reason = "registration refused: the supporting documents do not match"
	case dossier.StatusCancelled:
		reason = "withdrawn at the applicant's request"
	case dossier.StatusPartiallyCompleted:
		reason = "one procedure was refused"
	}
	version := int64(len(trans))
	form := make([]byte, 400+r.IntN(400))
	for i := range form {
		form[i] = byte(r.Uint32())
	}
	reqHash := sha256.Sum256([]byte(code))
	traceID := ""
	if r.Float64() < 0.5 {
		traceID = fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
	}
	var s seeded
	s.dossier = []any{code, "req-" + code, reqHash[:], string(group), pl.commune, pl.province, string(status), version,
		t, due, due, completedAt, reason, overdue, curStep, curAgency, civil.PhoneHash(phone), form,
		"clerk:" + pl.commune + "-" + strconv.Itoa(1+r.IntN(4)), started, updated, traceID, late}

	for _, p := range steps {
		result := "{}"
		caseID := ""
		if p.started != nil {
			caseID = fmt.Sprintf("%s-%s", p.kind.Agency(), hex.EncodeToString(reqHash[4:10]))
		}
		if p.status == dossier.StepApproved {
			result = resultOf(p.kind, r)
		}
		missing := p.missing
		if missing == nil {
			missing = []string{}
		}
		stepOverdue := p.due != nil && ((p.decided != nil && p.decided.After(*p.due)) || (p.decided == nil && !terminal && y.now.After(*p.due)))
		s.steps = append(s.steps, []any{code, string(p.kind), p.kind.Agency(), string(p.status), p.since, p.started, p.due,
			p.decided, stepOverdue, p.attempts, p.lastError, p.reason, missing, caseID, result, nil, p.since})
	}

	seqN := 0
	event := func(at time.Time, kind, actor string, step dossier.StepKind, outcome, errMsg string, latency int64, attempt int, detail string) {
		var key *string
		if kind != dossier.EventSubmitted {
			seqN++
			k := code + "/" + strconv.Itoa(seqN)
			key = &k
		}
		s.events = append(s.events, []any{code, at, kind, actor, string(step), outcome, errMsg, latency, attempt, detail, key})
	}
	event(t, dossier.EventSubmitted, "clerk:"+pl.commune, "", "", "", 0, 0, "group "+string(group))
	for i, tr := range trans {
		v := int64(i + 1)
		dstatus := dossier.StatusInProgress
		if tr.status == dossier.StepNeedsSupplement {
			dstatus = dossier.StatusNeedsSupplement
		}
		if terminal && i == len(trans)-1 {
			dstatus = status
		}
		var decidedAt *time.Time
		if tr.decided {
			decidedAt = ptr(tr.at)
		}
		synced := tr.at.Add(time.Duration(80+r.IntN(300)) * time.Millisecond)
		portal := ptr(synced.Add(time.Duration(100+r.IntN(500)) * time.Millisecond))
		s.history = append(s.history, []any{code, v, string(dstatus), string(tr.step), string(tr.status), tr.at, decidedAt, synced, portal})
		switch {
		case tr.decided:
			event(tr.at, dossier.EventDecision, "agency:"+tr.step.Agency(), tr.step, string(tr.status), "", int64(40+r.IntN(900)), 1, "")
		case tr.status == dossier.StepAwaitingAgency:
			event(tr.at, dossier.EventSent, "system", tr.step, string(tr.status), "", int64(30+r.IntN(400)), 1, "")
		}
	}
	for _, p := range steps {
		for a := 1; a < p.attempts && a <= 3; a++ {
			event(p.since.Add(time.Duration(a)*time.Minute), dossier.EventAttemptFailed, "system", p.kind, "", p.lastError, 0, a, "")
		}
	}
	if overdue {
		event(due, dossier.EventOverdue, "system", "", "dossier overdue", "", 0, 0, "")
	}
	if terminal {
		event(closedAt, dossier.EventCompleted, "system", "", string(status), "", 0, 0, reason)
	}

	s.contact = []any{code, phone, ""}
	note := func(v int64, kind string, at time.Time, body string) {
		state, sent := "sent", ptr(at.Add(2*time.Second))
		if y.now.Sub(at) < time.Minute {
			state, sent = "pending", nil
		}
		s.notifications = append(s.notifications, []any{code, v, kind, "", "sms", "", body, at, state, 1, at, "", sent})
	}
	note(0, "receipt", t, "Ho so "+code+" da duoc tiep nhan. Hen tra ket qua "+due.In(civil.Zone).Format("02/01/2006")+".")
	if status == dossier.StatusNeedsSupplement {
		note(version, "supplement", updated, "Ho so "+code+" can bo sung giay to. Vui long lien he bo phan mot cua.")
	}
	if terminal {
		note(version, "end", closedAt, "Ho so "+code+" da co ket qua. Moi ong/ba den nhan.")
	}
	s.feed = []any{code, version, version, updated}

	y.summary.Dossiers++
	y.summary.ByGroupStatus[group][status]++
	y.summary.ByCommune[pl.commune]++
	y.summary.Steps += len(s.steps)
	y.summary.History += len(s.history)
	y.summary.Events += len(s.events)
	y.summary.Notifications += len(s.notifications)
	if !terminal {
		for _, p := range steps {
			if p.status == dossier.StepNeedsSupplement {
				y.summary.SupplementSteps++
			}
		}
	}
	y.drawn++
	if y.drawn%997 == 1 {
		y.summary.Samples = append(y.summary.Samples, Sample{Code: code, Commune: pl.commune, Province: pl.province,
			Steps: len(s.steps), Versions: len(s.history), Notifications: len(s.notifications)})
	}
	return s
}

// steps plays a dossier's steps until the end of the year or until it
// closed as status says. The first phase (the registration, and for a birth
// the ID number beside it) runs before the second (the rest, in parallel).
func (y *year) steps(group dossier.Group, kinds []dossier.StepKind, status dossier.Status, t, due time.Time) ([]plan, []transition, time.Time) {
	r := y.r
	first := 1
	if group == dossier.GroupBirth {
		first = 2
	}
	steps := make([]plan, len(kinds))
	for i, k := range kinds {
		steps[i] = plan{kind: k, status: dossier.StepPending, since: t}
	}
	var trans []transition
	send := func(i int, at time.Time) {
		p := &steps[i]
		p.started, p.status, p.since, p.attempts = ptr(at), dossier.StepAwaitingAgency, at, 1
		limit := 0
		if i >= first {
			limit = 2
		}
		p.due = ptr(y.cal.AddWorkingDays(at, limit))
		trans = append(trans, transition{at: at, step: p.kind, status: dossier.StepAwaitingAgency})
	}
	decide := func(i int, at time.Time, st dossier.StepStatus) {
		p := &steps[i]
		p.status, p.since, p.decided = st, at, ptr(at)
		trans = append(trans, transition{at: at, step: p.kind, status: st, decided: true})
	}
	end := func(i int, at time.Time, st dossier.StepStatus, why string) {
		p := &steps[i]
		p.status, p.since, p.reason = st, at, why
		trans = append(trans, transition{at: at, step: p.kind, status: st})
	}
	sendFirst := func() {
		// The ID number is asked for first; the registration goes ahead 30 s on.
		for i := range first {
			send(i, t.Add(time.Duration(2+30*i)*time.Second))
		}
	}

	if status.Terminal() {
		closed := y.between(t, due, 0.05, 0.9)
		if r.Float64() < lateShare {
			closed = due.Add(time.Hour + time.Duration(r.Int64N(int64(6*24*time.Hour))))
		}
		if closed.After(y.now) {
			closed = y.between(t, y.now, 0.5, 1)
		}
		sendFirst()
		firstDone := y.between(t.Add(time.Minute), closed, 0.05, 0.3)
		switch status {
		case dossier.StatusRejected:
			for i := range first {
				st := dossier.StepApproved
				if i == 0 {
					st = dossier.StepRejected
					steps[i].reason = "registration refused: the supporting documents do not match"
				}
				decide(i, y.between(steps[i].since, closed, 0.5, 1), st)
			}
			for i := first; i < len(steps); i++ {
				end(i, closed, dossier.StepSkipped, "registration refused")
			}
			return steps, trans, closed
		case dossier.StatusCancelled:
			for i := range first {
				decide(i, firstDone, dossier.StepApproved)
			}
			for i := first; i < len(steps); i++ {
				send(i, firstDone.Add(time.Second))
				end(i, closed, dossier.StepCancelled, "withdrawn at the applicant's request")
			}
			return steps, trans, closed
		}
		for i := range first {
			decide(i, y.between(steps[i].since, firstDone, 0.3, 1), dossier.StepApproved)
		}
		refused := -1
		if status == dossier.StatusPartiallyCompleted {
			refused = first + r.IntN(len(steps)-first)
		}
		last := first + r.IntN(len(steps)-first)
		for i := first; i < len(steps); i++ {
			send(i, firstDone.Add(time.Second))
			at := y.between(firstDone.Add(time.Second), closed, 0.2, 0.99)
			if i == last {
				at = closed
			}
			st := dossier.StepApproved
			if i == refused {
				st = dossier.StepRejected
				steps[i].reason = "the agency's rules refuse this procedure"
			}
			decide(i, at, st)
		}
		return steps, trans, closed
	}

	if status == dossier.StatusReceived {
		return steps, trans, time.Time{}
	}
	// Open: one step holds the dossier; the phases before it are done.
	sendFirst()
	firstDone := y.between(t.Add(time.Minute), y.now, 0.02, 0.3)
	if group == dossier.GroupBirth && status == dossier.StatusInProgress && r.Float64() < 0.2 {
		// The ID number is late: registration goes ahead without it, and
		// residence and card wait for it.
		decide(0, firstDone, dossier.StepApproved)
		for i := first; i < len(steps); i++ {
			steps[i].status, steps[i].since = dossier.StepWaitingIDNumber, firstDone
			trans = append(trans, transition{at: firstDone, step: steps[i].kind, status: dossier.StepWaitingIDNumber})
		}
		return steps, trans, time.Time{}
	}
	blocked := r.IntN(len(steps))
	phaseEnd := first
	if blocked >= first {
		phaseEnd = len(steps)
		for i := range first {
			decide(i, y.between(steps[i].since, firstDone, 0.3, 1), dossier.StepApproved)
		}
		for i := first; i < len(steps); i++ {
			send(i, firstDone.Add(time.Second))
		}
	}
	lo := first
	if blocked < first {
		lo = 0
	}
	for i := lo; i < phaseEnd; i++ {
		if i == blocked {
			continue
		}
		if r.Float64() < 0.6 {
			decide(i, y.between(steps[i].since, y.now, 0.1, 0.9), dossier.StepApproved)
		}
	}
	p := &steps[blocked]
	switch {
	case status == dossier.StatusNeedsSupplement:
		at := y.between(p.since, y.now, 0.1, 0.9)
		p.status, p.since, p.reason = dossier.StepNeedsSupplement, at, "a supporting document is missing"
		p.missing = []string{"residence_proof"}
		trans = append(trans, transition{at: at, step: p.kind, status: dossier.StepNeedsSupplement})
	case r.Float64() < 0.15:
		// The agency keeps failing: the step is being sent again and again.
		p.status, p.attempts = dossier.StepSending, 3+r.IntN(6)
		p.lastError = p.kind.Agency() + ": unavailable: connection refused"
	}
	return steps, trans, time.Time{}
}

// resultOf is a small result an approving agency returns, shaped as theirs.
func resultOf(k dossier.StepKind, r *rand.Rand) string {
	switch k {
	case dossier.StepIDNumber:
		return fmt.Sprintf(`{"id_number":"0%011d"}`, r.Int64N(1e11))
	case dossier.StepBirthRegistration, dossier.StepDeathRegistration:
		return fmt.Sprintf(`{"register_no":"%d/%d","extract_no":"TL-%07d"}`, 1+r.IntN(900), 2026, r.IntN(1e7))
	case dossier.StepChildCard:
		return fmt.Sprintf(`{"card_no":"TE1%012d"}`, r.Int64N(1e12))
	case dossier.StepFuneralAllowance, dossier.StepSurvivorBenefit:
		return fmt.Sprintf(`{"amount_vnd":"%d"}`, 1000000*(1+r.IntN(30)))
	}
	return "{}"
}
