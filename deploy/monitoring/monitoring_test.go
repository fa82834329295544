package monitoring_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/deploy/monitoring"
)

func TestAlertsParse(t *testing.T) {
	t.Parallel()
	groups, err := monitoring.LoadAlerts()
	require.NoError(t, err)
	alerts := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert.Value] = true
			require.NotEmpty(t, r.Annotations["summary"], r.Alert.Value)
			require.NotEmpty(t, r.Labels["severity"], r.Alert.Value)
		}
	}
	for _, want := range []string{
		"LienthongStatusSyncLagHigh", "LienthongStuckStepsRising", "LienthongAgencyFailing",
		"LienthongActivityScheduleToStartSlow", "LienthongWorkflowTaskScheduleToStartSlow",
	} {
		require.True(t, alerts[want], "alert %s", want)
	}
}

func TestDashboardParses(t *testing.T) {
	t.Parallel()
	d, err := monitoring.LoadDashboard()
	require.NoError(t, err)
	require.NotEmpty(t, d.UID)
	ids := map[int]bool{}
	for _, p := range d.Panels {
		require.False(t, ids[p.ID], "panel id %d is used twice", p.ID)
		ids[p.ID] = true
		require.NotEmpty(t, p.Targets, p.Title)
		require.Equal(t, "${datasource}", p.Datasource.UID, p.Title)
		require.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, "%s is wider than the grid", p.Title)
	}
}

func TestEveryQueryParses(t *testing.T) {
	t.Parallel()
	names, err := monitoring.MetricNames()
	require.NoError(t, err)
	// The signals are all drawn or alerted on.
	for _, want := range []string{
		"lienthong_status_sync_lag_seconds", "lienthong_agency_calls_total", "lienthong_steps_stuck_by_rule",
		"lienthong_dossiers", "temporal_activity_schedule_to_start_latency", "temporal_workflow_task_schedule_to_start_latency",
	} {
		require.Contains(t, names, want)
	}
}
