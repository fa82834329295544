package embedded_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/internal/freeport"
	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/measure/loadgen"
	"github.com/lienthong/lienthong/stack"
	"github.com/lienthong/lienthong/stack/embedded"
)

// The load generator against the whole system on its embedded Temporal,
// reading completion from PostgreSQL, through the API with minted tokens,
// and with one clerk's token. It lives here rather than in loadgen so that
// loadgen's own tests link no Temporal server.
func TestLoadgen(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.DataDir, cfg.DatabaseURL = t.TempDir(), pgtest.NewURL(t)
	stack.OnLoopback(&cfg, freeport.Port(t))
	cfg.LogLevel, cfg.SeedPeople = "warn", 10000
	cfg.AgencyMinDelay, cfg.AgencyMaxDelay = 20*time.Millisecond, 80*time.Millisecond
	running, err := stack.Start(ctx, cfg, io.Discard, stack.DevOptions{Temporal: embedded.Temporal}, 3*time.Minute)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, running.Stop(time.Minute)) })
	s := running.Addrs
	pool, err := pgxpool.New(ctx, s.Config.DatabaseURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	creds, err := stack.APICredentials(s.Config)
	require.NoError(t, err)
	base := loadgen.Config{
		Addr: s.API, Transport: creds, TokenKey: s.Config.TokenKeyBytes(),
		Population: population.Generate(s.Config.AgencySeed, s.Config.SeedPeople),
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
		c.DB = pool
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
		c.Token = s.Tokens["clerk clerk-badinh"]
		c.Dossiers, c.BirthShare, c.Offset = 4, 1, 2
		rep, err := loadgen.Run(ctx, c)
		require.NoError(t, err)
		check(t, rep)
		for _, code := range rep.Codes {
			require.Regexp(t, `^00004-`, code, "a clerk submits for their own commune")
		}
	})
}
