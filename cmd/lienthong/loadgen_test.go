package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/loadgen"
)

// The load generator against a running stack, reading completion from
// PostgreSQL, through the API with minted tokens, and with one clerk's token.
func TestLoadgen(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	s := startStack(t, devOptions{})
	ctx := context.Background()
	creds, err := apiCredentials(s.cfg)
	require.NoError(t, err)
	base := loadgen.Config{
		Addr: s.addrs.API, Transport: creds, TokenKey: s.cfg.TokenKeyBytes(),
		Population: population.Generate(s.cfg.AgencySeed, s.cfg.SeedPeople),
		Dossiers:   8, BirthShare: 0.5, AllowanceShare: 0.5, Concurrency: 4, Seed: 3, Timeout: 3 * time.Minute,
	}
	check := func(t *testing.T, rep loadgen.Report) {
		t.Helper()
		require.Equal(t, rep.Dossiers, rep.Accepted)
		require.Equal(t, rep.Accepted, rep.Finished)
		require.Zero(t, rep.Unfinished)
		require.Len(t, rep.Codes, rep.Accepted)
		require.Equal(t, rep.Accepted, rep.SubmitLatency.Count)
		require.Equal(t, rep.Finished, rep.EndToEnd.Count)
		require.Positive(t, rep.Throughput)
		require.Empty(t, rep.Errors)
		require.NotEmpty(t, rep.PeakRSS)
		require.Positive(t, rep.PeakRSS[0].Bytes)
		var b bytes.Buffer
		require.NoError(t, rep.WriteText(&b))
		require.Contains(t, b.String(), "dossiers/s end to end")
	}

	t.Run("completion and lag from PostgreSQL", func(t *testing.T) {
		c := base
		c.DB = s.pool
		rep, err := loadgen.Run(ctx, c)
		require.NoError(t, err)
		check(t, rep)
		require.Equal(t, "postgresql", rep.Source)
		require.Empty(t, rep.LagNote)
		require.Positive(t, rep.ReadModelLag.Count, "every decision's lag is measured")
		require.Positive(t, rep.PortalLag.Count)
	})
	t.Run("completion through the API", func(t *testing.T) {
		c := base
		c.Offset = 20
		rep, err := loadgen.Run(ctx, c)
		require.NoError(t, err)
		check(t, rep)
		require.Equal(t, "api", rep.Source)
		require.Contains(t, rep.LagNote, "--database-url")
	})
	t.Run("one clerk's token", func(t *testing.T) {
		c := base
		c.TokenKey = nil
		c.Token = s.addrs.Tokens["clerk clerk-badinh"]
		c.Dossiers, c.BirthShare, c.Offset = 4, 1, 2
		rep, err := loadgen.Run(ctx, c)
		require.NoError(t, err)
		check(t, rep)
		for _, code := range rep.Codes {
			require.Regexp(t, `^00004-`, code, "a clerk submits for their own commune")
		}
	})
}
