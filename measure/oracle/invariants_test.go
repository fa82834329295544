package oracle

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/dossier"
)

// consistentFacts are two finished dossiers and one waiting for a
// supplement, agreeing everywhere.
func consistentFacts() Facts {
	birth := dossier.Snapshot{Code: "B1", Group: dossier.GroupBirth, Status: dossier.StatusCompleted, Version: 5, Steps: []dossier.Step{
		{Kind: dossier.StepBirthRegistration, Agency: "justice", Status: dossier.StepApproved, CaseID: "j1"},
		{Kind: dossier.StepIDNumber, Agency: "police", Status: dossier.StepApproved, CaseID: "p1"},
		{Kind: dossier.StepResidenceRegistration, Agency: "police", Status: dossier.StepApproved, CaseID: "p2"},
		{Kind: dossier.StepChildCard, Agency: "insurance", Status: dossier.StepApproved, CaseID: "i1"},
	}}
	death := dossier.Snapshot{Code: "D1", Group: dossier.GroupDeath, Status: dossier.StatusPartiallyCompleted, Version: 4, Steps: []dossier.Step{
		{Kind: dossier.StepDeathRegistration, Agency: "justice", Status: dossier.StepApproved, CaseID: "j2"},
		{Kind: dossier.StepResidenceCancellation, Agency: "police", Status: dossier.StepRejected, CaseID: "p3"},
	}}
	waiting := dossier.Snapshot{Code: "D2", Group: dossier.GroupDeath, Status: dossier.StatusNeedsSupplement, Version: 3, Steps: []dossier.Step{
		{Kind: dossier.StepDeathRegistration, Agency: "justice", Status: dossier.StepNeedsSupplement, CaseID: "j3", Missing: []string{"death_notice_number"}},
		{Kind: dossier.StepResidenceCancellation, Agency: "police", Status: dossier.StepPending},
	}}
	rm := map[string]dossier.Snapshot{"B1": birth, "D1": death, "D2": waiting}
	wfs := map[string]WorkflowState{}
	for code, s := range rm {
		cp := s
		cp.Steps = slices.Clone(s.Steps)
		wfs[code] = WorkflowState{Running: !s.Status.Terminal(), Snapshot: cp}
	}
	return Facts{
		Accepted:  []string{"B1", "D1", "D2"},
		ReadModel: rm,
		Workflows: wfs,
		Cases: []AgencyCase{
			{Agency: "justice", CaseID: "j1", DossierCode: "B1", Step: dossier.StepBirthRegistration, Status: dossier.CaseApproved},
			{Agency: "police", CaseID: "p1", DossierCode: "B1", Step: dossier.StepIDNumber, Status: dossier.CaseApproved},
			{Agency: "police", CaseID: "p2", DossierCode: "B1", Step: dossier.StepResidenceRegistration, Status: dossier.CaseApproved},
			{Agency: "insurance", CaseID: "i1", DossierCode: "B1", Step: dossier.StepChildCard, Status: dossier.CaseApproved},
			{Agency: "justice", CaseID: "j2", DossierCode: "D1", Step: dossier.StepDeathRegistration, Status: dossier.CaseApprovedPendingID},
			{Agency: "police", CaseID: "p3", DossierCode: "D1", Step: dossier.StepResidenceCancellation, Status: dossier.CaseRejected},
			{Agency: "justice", CaseID: "j3", DossierCode: "D2", Step: dossier.StepDeathRegistration, Status: dossier.CaseNeedsSupplement},
		},
		Portal: map[string]PortalRecord{
			"B1": {Version: 5, Status: "COMPLETED"},
			"D1": {Version: 4, Status: "PARTIALLY_COMPLETED"},
			"D2": {Version: 3, Status: "NEEDS_SUPPLEMENT"},
		},
		History: map[string][]HistoryRow{
			"B1": {
				{1, dossier.StatusReceived, "", ""},
				{2, dossier.StatusInProgress, dossier.StepIDNumber, dossier.StepApproved},
				{3, dossier.StatusInProgress, dossier.StepBirthRegistration, dossier.StepApproved},
				{5, dossier.StatusCompleted, "", ""}, // out of order on purpose: the check sorts
				{4, dossier.StatusInProgress, dossier.StepChildCard, dossier.StepApproved},
			},
			"D1": {
				{1, dossier.StatusReceived, "", ""},
				{2, dossier.StatusInProgress, dossier.StepDeathRegistration, dossier.StepApproved},
				{3, dossier.StatusInProgress, dossier.StepResidenceCancellation, dossier.StepRejected},
				{4, dossier.StatusPartiallyCompleted, "", ""},
			},
			"D2": {
				{1, dossier.StatusReceived, "", ""},
				{2, dossier.StatusInProgress, dossier.StepDeathRegistration, dossier.StepAwaitingAgency},
				{3, dossier.StatusNeedsSupplement, dossier.StepDeathRegistration, dossier.StepNeedsSupplement},
			},
		},
	}
}

func TestVerifyConsistentFacts(t *testing.T) {
	t.Parallel()
	v := Verify(consistentFacts())
	require.True(t, v.OK(), "%+v", v.Violations)
	require.Len(t, v.Checks, 6)
	for _, c := range v.Checks {
		require.Positive(t, c.Checked, c.Name)
	}
	require.Equal(t, []Waiting{{Code: "D2", Reason: "death_registration waits for the applicant's supplement (missing death_notice_number)"}}, v.Waiting)
}

// Every check must be able to fail: each case breaks one fact and expects
// exactly the named invariant to report it, with a telling detail.
func TestVerifyReportsEachViolation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		breakIt   func(f *Facts)
		invariant string
		code      string
		detail    string
	}{
		{"accepted but not stored", func(f *Facts) { f.Accepted = append(f.Accepted, "X9") },
			InvNoneLost, "X9", "not in the read model"},
		{"no workflow", func(f *Facts) { delete(f.Workflows, "B1") },
			InvNoneLost, "B1", "workflow was not found"},
		{"workflow unreadable", func(f *Facts) { f.Workflows["D1"] = WorkflowState{Err: "not found"} },
			InvNoneLost, "D1", "unreadable: not found"},
		{"workflow without a dossier", func(f *Facts) { f.Workflows["W1"] = WorkflowState{Running: true} },
			InvNoneLost, "W1", "does not have"},
		{"stuck sending", func(f *Facts) {
			s := stepped(f.ReadModel["D2"], dossier.StepDeathRegistration, func(st *dossier.Step) {
				st.Status, st.Attempts, st.LastError = dossier.StepSending, 7, "UNAVAILABLE: outage"
			})
			s.Status = dossier.StatusInProgress
			f.ReadModel["D2"] = s
			f.Workflows["D2"] = WorkflowState{Running: true, Snapshot: s}
			f.Portal["D2"] = PortalRecord{Version: 3, Status: "IN_PROGRESS"}
			f.Cases[6].Status = dossier.CaseReceived
			f.History["D2"][2].Status = dossier.StatusInProgress
		}, InvSettled, "D2", "death_registration SENDING after 7 attempt(s), last error UNAVAILABLE: outage"},
		{"duplicate case", func(f *Facts) {
			f.Cases = append(f.Cases, AgencyCase{Agency: "police", CaseID: "p9", DossierCode: "B1", Step: dossier.StepResidenceRegistration, Status: dossier.CaseApproved})
		}, InvAgencyOnce, "B1", "residence_registration: 2 agency cases (police:p2, police:p9)"},
		{"missing case", func(f *Facts) { f.Cases = slices.Delete(f.Cases, 3, 4) },
			InvAgencyOnce, "B1", "recorded case i1 at insurance, which the agency does not have"},
		{"case unknown to the engine", func(f *Facts) {
			f.Cases = append(f.Cases, AgencyCase{Agency: "police", CaseID: "p7", DossierCode: "D2", Step: dossier.StepResidenceCancellation, Status: dossier.CaseReceived})
		}, InvAgencyOnce, "D2", "holds case p7, which the engine never recorded"},
		{"case for an unknown dossier", func(f *Facts) {
			f.Cases = append(f.Cases, AgencyCase{Agency: "justice", CaseID: "j8", DossierCode: "Z1", Step: dossier.StepDeathRegistration})
		}, InvAgencyOnce, "Z1", "a dossier or step the engine does not have"},
		{"approved without a case", func(f *Facts) {
			f.ReadModel["B1"] = stepped(f.ReadModel["B1"], dossier.StepChildCard, func(st *dossier.Step) { st.CaseID = "" })
			f.Workflows["B1"] = WorkflowState{Snapshot: f.ReadModel["B1"]}
			f.Cases = slices.Delete(f.Cases, 3, 4)
		}, InvAgencyOnce, "B1", "APPROVED in the engine without any agency case"},
		{"agency approved, engine did not", func(f *Facts) { f.Cases[5].Status = dossier.CaseApproved },
			InvAgencyOnce, "D1", "the agency approved case p3 but the engine shows REJECTED"},
		{"engine approved, agency did not", func(f *Facts) { f.Cases[1].Status = dossier.CaseInReview },
			InvAgencyOnce, "B1", "the engine shows APPROVED but the agency's case p1 is IN_REVIEW"},
		{"case on the wrong agency", func(f *Facts) { f.Cases[0].Agency = "police" },
			InvAgencyOnce, "B1", "case j1 is at police, the step belongs to justice"},
		{"read model status behind", func(f *Facts) {
			wf := f.Workflows["D1"]
			wf.Snapshot.Status = dossier.StatusCompleted
			f.Workflows["D1"] = wf
		}, InvReadModel, "D1", "status: read model PARTIALLY_COMPLETED, workflow COMPLETED"},
		{"read model version behind", func(f *Facts) {
			wf := f.Workflows["B1"]
			wf.Snapshot.Version = 6
			f.Workflows["B1"] = wf
		}, InvReadModel, "B1", "version: read model 5, workflow 6"},
		{"read model step differs", func(f *Facts) {
			f.Workflows["B1"] = WorkflowState{Snapshot: stepped(f.Workflows["B1"].Snapshot, dossier.StepChildCard, func(st *dossier.Step) { st.Status = dossier.StepRejected })}
		}, InvReadModel, "B1", "child_card: read model APPROVED, workflow REJECTED"},
		{"read model step missing", func(f *Facts) {
			wf := f.Workflows["D1"]
			wf.Snapshot.Steps = append(slices.Clone(wf.Snapshot.Steps), dossier.Step{Kind: dossier.StepFuneralAllowance, Status: dossier.StepPending})
			f.Workflows["D1"] = wf
		}, InvReadModel, "D1", "funeral_allowance: in the workflow, not in the read model"},
		{"portal missing", func(f *Facts) { delete(f.Portal, "D1") },
			InvPortalLatest, "D1", "the portal has no status"},
		{"portal behind", func(f *Facts) { f.Portal["B1"] = PortalRecord{Version: 4, Status: "IN_PROGRESS"} },
			InvPortalLatest, "B1", "the portal holds v4 (IN_PROGRESS), the read model v5 (COMPLETED)"},
		{"portal status differs", func(f *Facts) { f.Portal["B1"] = PortalRecord{Version: 5, Status: "REJECTED"} },
			InvPortalLatest, "B1", "v5: the portal shows REJECTED"},
		{"history gap", func(f *Facts) { f.History["D1"] = slices.Delete(slices.Clone(f.History["D1"]), 1, 2) },
			InvMonotonic, "D1", "history has v3 where v2 was expected"},
		{"history short", func(f *Facts) { f.History["D2"] = f.History["D2"][:2] },
			InvMonotonic, "D2", "history holds 2 version(s), the read model is at v3"},
		{"terminal then open", func(f *Facts) {
			f.History["D1"] = append(slices.Clone(f.History["D1"]), HistoryRow{5, dossier.StatusInProgress, "", ""})
			bump(f, "D1", 5)
		}, InvMonotonic, "D1", "status went from PARTIALLY_COMPLETED (v4) to IN_PROGRESS (v5)"},
		{"terminal then another terminal", func(f *Facts) {
			f.History["D1"] = append(slices.Clone(f.History["D1"]), HistoryRow{5, dossier.StatusCompleted, "", ""})
			bump(f, "D1", 5)
			rm := f.ReadModel["D1"]
			rm.Status = dossier.StatusCompleted
			f.ReadModel["D1"] = rm
			f.Workflows["D1"] = WorkflowState{Snapshot: rm}
			f.Portal["D1"] = PortalRecord{Version: 5, Status: "COMPLETED"}
		}, InvMonotonic, "D1", "status went from PARTIALLY_COMPLETED (v4) to COMPLETED (v5)"},
		{"step leaves a terminal status", func(f *Facts) {
			h := slices.Clone(f.History["B1"])
			h[1].StepStatus = dossier.StepRejected // v2: id_number REJECTED
			h[1], h[2] = h[2], h[1]
			h = append(h, HistoryRow{6, dossier.StatusCompleted, dossier.StepIDNumber, dossier.StepApproved})
			f.History["B1"] = h
			bump(f, "B1", 6)
		}, InvMonotonic, "B1", "id_number went from REJECTED (v2) to APPROVED (v6)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := cloneFacts(consistentFacts())
			tc.breakIt(&f)
			v := Verify(f)
			require.False(t, v.OK())
			var found bool
			for _, vi := range v.Violations {
				require.Equal(t, tc.invariant, vi.Invariant, "only %q should break: %+v", tc.invariant, vi)
				if vi.Code == tc.code && strings.Contains(vi.Detail, tc.detail) {
					found = true
				}
			}
			require.True(t, found, "want %s / %s containing %q, got %+v", tc.invariant, tc.code, tc.detail, v.Violations)
			for _, c := range v.Checks {
				if c.Name == tc.invariant {
					require.Positive(t, c.Violations)
				} else {
					require.Zero(t, c.Violations, c.Name)
				}
			}
		})
	}
}

// bump moves a dossier to version v everywhere but the history.
func bump(f *Facts, code string, v int64) {
	rm := f.ReadModel[code]
	rm.Version = v
	f.ReadModel[code] = rm
	wf := f.Workflows[code]
	wf.Snapshot.Version = v
	f.Workflows[code] = wf
	p := f.Portal[code]
	p.Version = v
	f.Portal[code] = p
}

func stepped(s dossier.Snapshot, k dossier.StepKind, fn func(*dossier.Step)) dossier.Snapshot {
	s.Steps = slices.Clone(s.Steps)
	fn(s.Step(k))
	return s
}

func cloneFacts(f Facts) Facts {
	out := f
	out.Accepted = slices.Clone(f.Accepted)
	out.Cases = slices.Clone(f.Cases)
	out.ReadModel = map[string]dossier.Snapshot{}
	for k, v := range f.ReadModel {
		v.Steps = slices.Clone(v.Steps)
		out.ReadModel[k] = v
	}
	out.Workflows = map[string]WorkflowState{}
	for k, v := range f.Workflows {
		v.Snapshot.Steps = slices.Clone(v.Snapshot.Steps)
		out.Workflows[k] = v
	}
	out.Portal = map[string]PortalRecord{}
	for k, v := range f.Portal {
		out.Portal[k] = v
	}
	out.History = map[string][]HistoryRow{}
	for k, v := range f.History {
		out.History[k] = slices.Clone(v)
	}
	return out
}

func TestWaitingReason(t *testing.T) {
	t.Parallel()
	lateID := dossier.Snapshot{Status: dossier.StatusInProgress, Steps: []dossier.Step{
		{Kind: dossier.StepBirthRegistration, Status: dossier.StepApproved},
		{Kind: dossier.StepIDNumber, Status: dossier.StepAwaitingAgency, CaseID: "p1"},
		{Kind: dossier.StepResidenceRegistration, Status: dossier.StepApproved},
		{Kind: dossier.StepChildCard, Status: dossier.StepWaitingIDNumber},
	}}
	reason, ok := WaitingReason(lateID)
	require.True(t, ok)
	require.Equal(t, "id_number: the population database will push the late ID number; child_card waits for the ID number", reason)

	stuck := stepped(lateID, dossier.StepResidenceRegistration, func(st *dossier.Step) { st.Status = dossier.StepAwaitingAgency })
	_, ok = WaitingReason(stuck)
	require.False(t, ok, "an agency that never decides is not a legitimate wait")

	neverSent := stepped(lateID, dossier.StepIDNumber, func(st *dossier.Step) { st.CaseID = "" })
	_, ok = WaitingReason(neverSent)
	require.False(t, ok, "an ID number never sent is not late, it is stuck")

	neverStarted := dossier.Snapshot{Status: dossier.StatusReceived, Steps: []dossier.Step{
		{Kind: dossier.StepDeathRegistration, Status: dossier.StepPending},
		{Kind: dossier.StepResidenceCancellation, Status: dossier.StepPending},
	}}
	_, ok = WaitingReason(neverStarted)
	require.False(t, ok, "a dossier whose steps never started waits for nothing")
}
