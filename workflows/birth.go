package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
)

// BirthSteps are the birth group's procedures, registration first.
var BirthSteps = []dossier.StepKind{
	dossier.StepBirthRegistration,
	dossier.StepIDNumber,
	dossier.StepResidenceRegistration,
	dossier.StepChildCard,
}

// changeResidenceWaitsForID guards the change that made residence
// registration wait for the ID number: dossiers started before it replay the
// old path. Remove the guard once none of them is open.
const changeResidenceWaitsForID = "residence-waits-for-id-number"

// changeLateResidenceFlag guards the flag a residence registration made after
// its 60-day limit puts on the dossier.
const changeLateResidenceFlag = "late-residence-flag"

// ResidenceRegistrationDays is the legal time, in days, to register a child's
// permanent residence after the birth is registered (Decree 154/2024/ND-CP).
// A later registration is made all the same and flagged.
const ResidenceRegistrationDays = 60

// idNumberGrace is how long the birth registration waits for a prompt ID
// number before it goes to Justice without one.
const idNumberGrace = 30 * time.Second

// Birth runs the birth group (Decree 63/2024): Justice registers the birth
// with the child's ID number from the Police population database; then
// Police registers permanent residence and Social Insurance issues the
// under-6 health-insurance card, in parallel.
func Birth(ctx workflow.Context, in BirthInput) (BirthResult, error) {
	m, steps, err := start(ctx, dossier.GroupBirth, in.Dossier, BirthSteps)
	if err != nil {
		return BirthResult{}, err
	}

	// 1. The population database is asked for the child's ID number. The number
	//    is often late (hours, sometimes days); the procedure does not wait for it.
	m.goStep(steps, func(c workflow.Context) { m.run(c, dossier.StepIDNumber, a.IssueIDNumber, nil) })
	m.noteLateIDNumber(steps)

	// 2. Justice registers the birth, with the number if it came promptly.
	_, _ = workflow.AwaitWithTimeout(steps, idNumberGrace, func() bool {
		return m.step(dossier.StepIDNumber).Status.Terminal()
	})
	birth := m.run(steps, dossier.StepBirthRegistration, a.RegisterBirth, func(in *activities.StepInput) {
		in.ChildIDNumber = m.step(dossier.StepIDNumber).Result["id_number"]
	})
	if birth != dossier.StepApproved {
		if steps.Err() == nil {
			m.skip(steps, "birth registration "+lower(birth)+": "+m.step(dossier.StepBirthRegistration).Reason,
				dossier.StepIDNumber, dossier.StepResidenceRegistration, dossier.StepChildCard)
		}
		return BirthResult{Final: m.finish(ctx)}, nil
	}
	registration := m.step(dossier.StepBirthRegistration).Result["registration_number"]

	// A late number is added to the birth record when it arrives.
	m.goStep(steps, func(c workflow.Context) { m.attachLateIDNumber(c) })

	// 3a. Police registers permanent residence; it needs the birth record and
	//     the child's ID number, so a late number holds it as it holds the card.
	m.goStep(steps, func(c workflow.Context) {
		if workflow.GetVersion(c, changeResidenceWaitsForID, workflow.DefaultVersion, 1) == 1 &&
			!m.awaitIDNumber(c, dossier.StepResidenceRegistration) {
			return
		}
		residence := m.run(c, dossier.StepResidenceRegistration, a.RegisterResidence, func(in *activities.StepInput) {
			in.RegistrationNumber = registration
			in.ChildIDNumber = m.step(dossier.StepIDNumber).Result["id_number"]
		})
		if residence == dossier.StepApproved {
			m.noteLateResidence(c)
		}
	})

	// 3b. Social Insurance issues the child's card. Assumption (docs/domain.md, "Birth group"):
	//     the card waits for the ID number, and the wait shows as its own state.
	m.goStep(steps, func(c workflow.Context) {
		if !m.awaitIDNumber(c, dossier.StepChildCard) {
			return
		}
		m.run(c, dossier.StepChildCard, a.IssueChildCard, func(in *activities.StepInput) {
			in.RegistrationNumber = registration
			in.ChildIDNumber = m.step(dossier.StepIDNumber).Result["id_number"]
		})
	})

	return BirthResult{Final: m.finish(ctx)}, nil
}

// noteLateIDNumber records, once, that the population database did not
// answer at once.
func (m *machine) noteLateIDNumber(ctx workflow.Context) {
	workflow.Go(ctx, func(c workflow.Context) {
		id := m.step(dossier.StepIDNumber)
		if err := workflow.Await(c, func() bool { return id.sent || id.Status.Terminal() }); err != nil {
			return
		}
		if id.Status == dossier.StepAwaitingAgency {
			m.event(c, dossier.Event{Kind: dossier.EventIDNumberLate, Step: dossier.StepIDNumber,
				Outcome: "pending", Detail: "the population database will push the number later"})
		}
	})
}

// noteLateResidence flags the dossier when Police registered the child's
// residence more than ResidenceRegistrationDays after Justice registered the
// birth. In the linked procedure both are asked for at once, so this happens
// only when supplements or outages held the residence step that long; the
// family asked in time, and the flag records the dates, not a fault.
func (m *machine) noteLateResidence(ctx workflow.Context) {
	birth, residence := m.step(dossier.StepBirthRegistration).DecidedAt, m.step(dossier.StepResidenceRegistration).DecidedAt
	if birth == nil || residence == nil {
		return
	}
	days := civil.DaysBetween(*birth, *residence)
	if days <= ResidenceRegistrationDays ||
		workflow.GetVersion(ctx, changeLateResidenceFlag, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	m.snap.LateRegistrations = append(m.snap.LateRegistrations, dossier.LateRegistration{
		Step: dossier.StepResidenceRegistration, Days: days, LimitDays: ResidenceRegistrationDays,
		CountedFrom: dossier.LateFromBirthRegistration,
	})
	m.event(ctx, dossier.Event{Kind: dossier.EventLateRegistration, Step: dossier.StepResidenceRegistration,
		Outcome: "registered late", Detail: fmt.Sprintf("residence registered %d days after the birth registration; the limit is %d days (Decree 154/2024/ND-CP)",
			days, ResidenceRegistrationDays)})
	m.commit(ctx, dossier.StepResidenceRegistration, nil)
}

// awaitIDNumber holds step k in WAITING_ID_NUMBER until the number arrives.
// It reports false, after skipping k, when no number will come.
func (m *machine) awaitIDNumber(ctx workflow.Context, k dossier.StepKind) bool {
	id := m.step(dossier.StepIDNumber)
	if !id.Status.Terminal() {
		m.transition(ctx, m.step(k), dossier.StepWaitingIDNumber, nextVersion)
		if err := workflow.Await(ctx, func() bool { return id.Status.Terminal() }); err != nil {
			return false
		}
	}
	if id.Status != dossier.StepApproved {
		m.skip(ctx, "no ID number: "+lower(id.Status)+": "+id.Reason, k)
		return false
	}
	return true
}

// attachLateIDNumber adds the number to a birth record issued without it.
func (m *machine) attachLateIDNumber(ctx workflow.Context) {
	birth := m.step(dossier.StepBirthRegistration)
	if birth.sentWithID {
		return
	}
	id := m.step(dossier.StepIDNumber)
	if err := workflow.Await(ctx, func() bool { return id.Status.Terminal() }); err != nil || id.Status != dossier.StepApproved {
		return
	}
	if birth.Result["id_number"] != "" {
		return
	}
	var res activities.CaseResult
	err := workflow.ExecuteActivity(m.persistentContext(ctx, dossier.AgencyJustice), a.AttachIDNumber, activities.AttachIDInput{
		CaseID: birth.CaseID, IDNumber: id.Result["id_number"], CallTimeout: m.timing.CallTimeout,
	}).Get(ctx, &res)
	if err != nil {
		_, msg := classify(err)
		m.event(ctx, dossier.Event{Kind: dossier.EventIDNumberAttached, Step: dossier.StepBirthRegistration, Outcome: "failed", Error: msg})
		return
	}
	m.event(ctx, dossier.Event{Kind: dossier.EventIDNumberAttached, Step: dossier.StepBirthRegistration,
		Outcome: "attached", Detail: "the birth record and extract now carry the ID number"})
	m.offer(res.Case)
	m.applyLatest(ctx, birth, viaAttach)
}
