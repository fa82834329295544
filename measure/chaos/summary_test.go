package chaos

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/measure/oracle"
)

func TestWriteSummary(t *testing.T) {
	t.Parallel()
	portal := "portal holds the latest version"
	v := oracle.Verdict{
		Checks: []oracle.Check{
			{Name: "no dossier lost", Rule: "every accepted code has a dossier", Checked: 3},
			{Name: portal, Rule: "the portal has every dossier's latest version", Checked: 3, Violations: 2},
		},
		Violations: []oracle.Violation{
			{Invariant: portal, Code: "B1", Detail: "the portal has no status"},
			{Invariant: portal, Code: "D1", Detail: "the portal has no status"},
		},
		Waiting: []oracle.Waiting{{Code: "D2", Reason: "death_registration waits"}},
	}
	var b bytes.Buffer
	require.NoError(t, WriteSummary(&b, []Injection{{Fault: "worker SIGKILL", When: "+12s", Effect: "restarted in 3s"}}, v, 1))
	out := b.String()
	require.Contains(t, out, "worker SIGKILL")
	require.Contains(t, out, "restarted in 3s")
	require.Regexp(t, `portal holds the latest version\s+3\s+2\s+FAILED`, out)
	require.Regexp(t, `no dossier lost\s+3\s+0\s+ok`, out)
	require.Contains(t, out, "violation [portal holds the latest version] B1: the portal has no status")
	require.Contains(t, out, "... and 1 more [portal holds the latest version]")
	require.Contains(t, out, "waiting D2: death_registration waits")
}
