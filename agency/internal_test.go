package agency

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

func TestFaultSequence(t *testing.T) {
	t.Parallel()
	sequence := func(cfg *agencyv1.Faults) []codes.Code {
		f, err := newFaults(7, cfg)
		require.NoError(t, err)
		var out []codes.Code
		for range 200 {
			out = append(out, f.next(time.Now()).code)
		}
		return out
	}

	t.Run("same seed, same faults", func(t *testing.T) {
		t.Parallel()
		cfg := &agencyv1.Faults{Seed: 1, UnavailableRatio: 0.25}
		require.Equal(t, sequence(cfg), sequence(cfg))
	})

	t.Run("a zero seed falls back to the agency's", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, sequence(&agencyv1.Faults{UnavailableRatio: 0.25}), sequence(&agencyv1.Faults{Seed: 7, UnavailableRatio: 0.25}))
	})

	t.Run("ratios are roughly honoured", func(t *testing.T) {
		t.Parallel()
		n := 0
		for _, c := range sequence(&agencyv1.Faults{Seed: 3, UnavailableRatio: 0.25}) {
			if c == codes.Unavailable {
				n++
			}
		}
		require.InDelta(t, 50, n, 20)
	})

	t.Run("bursts of UNAUTHENTICATED", func(t *testing.T) {
		t.Parallel()
		got := sequence(&agencyv1.Faults{UnauthenticatedBurstEvery: 3, UnauthenticatedBurstLength: 2})
		want := []codes.Code{codes.OK, codes.OK, codes.OK, codes.Unauthenticated, codes.Unauthenticated}
		require.Equal(t, append(want, want...), got[:10])
	})

	t.Run("outage windows", func(t *testing.T) {
		t.Parallel()
		now := time.Now()
		for _, tc := range []struct {
			name        string
			from, until *timestamppb.Timestamp
			want        bool
		}{
			{"none", nil, nil, false},
			{"inside", timestamppb.New(now.Add(-time.Minute)), timestamppb.New(now.Add(time.Minute)), true},
			{"before", timestamppb.New(now.Add(time.Minute)), timestamppb.New(now.Add(2 * time.Minute)), false},
			{"after", timestamppb.New(now.Add(-2 * time.Minute)), timestamppb.New(now.Add(-time.Minute)), false},
			{"open ended", timestamppb.New(now.Add(-time.Minute)), nil, true},
			{"until only", nil, timestamppb.New(now.Add(time.Minute)), true},
		} {
			require.Equal(t, tc.want, inOutage(&agencyv1.Faults{OutageFrom: tc.from, OutageUntil: tc.until}, now), tc.name)
		}
	})

	t.Run("lost callbacks draw from their own stream", func(t *testing.T) {
		t.Parallel()
		f, err := newFaults(1, &agencyv1.Faults{UnavailableRatio: 0.5, LostCallbackRatio: 0.5})
		require.NoError(t, err)
		g, err := newFaults(1, &agencyv1.Faults{UnavailableRatio: 0.5, LostCallbackRatio: 0.5})
		require.NoError(t, err)
		for i := range 50 {
			f.loseCallback()
			require.Equal(t, f.next(time.Now()).code, g.next(time.Now()).code, "call %d", i)
		}
	})
}

func TestAutoVerdict(t *testing.T) {
	t.Parallel()
	st, err := newSettings("justice", agencyv1.DecisionMode_DECISION_MODE_AUTO, &agencyv1.AutoDecider{RejectRatio: 0.2, SupplementRatio: 0.3})
	require.NoError(t, err)
	d := newDesk(nil, "justice", 11, st, nil)
	d.kinds["k"] = kindSpec{autoReject: "no", autoSupplement: "more", autoMissing: []string{"x"}}
	_, auto := st.current()

	counts := map[agencyv1.Decision]int{}
	for i := range 2000 {
		c := &caseRecord{ID: fmt.Sprintf("JUS-%d", i), Kind: "k"}
		v := d.autoVerdict(c, auto)
		require.Equal(t, v, d.autoVerdict(c, auto), "deterministic per case")
		counts[v.decision]++
		if v.decision == agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT {
			c.Supplements = 1
			require.Equal(t, agencyv1.Decision_DECISION_APPROVE, d.autoVerdict(c, auto).decision, "one supplement only")
		}
	}
	require.InDelta(t, 400, counts[agencyv1.Decision_DECISION_REJECT], 80)
	require.InDelta(t, 600, counts[agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT], 100)
	require.InDelta(t, 1000, counts[agencyv1.Decision_DECISION_APPROVE], 120)
}

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	a, err := canonicalJSON(map[string]any{"b": 1, "a": map[string]any{"z": "Ủy ban <x>", "y": 2}})
	require.NoError(t, err)
	require.Equal(t, `{"a":{"y":2,"z":"Ủy ban <x>"},"b":1}`, string(a))
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, backoff(1), pushBackoff)
	require.Less(t, backoff(1), 2*pushBackoff)
	require.GreaterOrEqual(t, backoff(3), 4*pushBackoff)
	require.LessOrEqual(t, backoff(60), pushMaxBackoff+pushMaxBackoff/5)
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		ms, err := migrations(name)
		require.NoError(t, err, name)
		require.NotEmpty(t, ms)
		for i, m := range ms {
			require.NotContains(t, m.SQL, schemaToken, m.Name)
			if i > 0 {
				require.Greater(t, m.Version, ms[i-1].Version)
			}
		}
	}
	_, err := migrations("tax")
	require.Error(t, err)
}
