// Package demo owns the populated first run of `lienthong dev --demo`: four
// weeks of past, finished dossiers written straight into the engine's read
// model (backdated, with their steps, status history and trace), and a few
// live dossiers submitted through the engine API while the mock agencies are
// set to make them varied (Insurance in manual mode, late ID numbers, some
// rejections). Both parts run once per database: the history is found by its
// request-id prefix, the live set by its own.
//
// It reads and writes the engine's schema with the SQL store uses, and talks
// to the running stack over gRPC only. It may import store, dossier, civil,
// calendar, forms, the population and the generated contracts; it must not
// import api, workflows, activities or the agencies' internals.
package demo

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/forms"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// Options are what a running dev stack hands the seeder.
type Options struct {
	// Pool is the engine's PostgreSQL.
	Pool *pgxpool.Pool
	// Seed and People are the population the agencies seeded, so that the
	// live dossiers name people the agencies know.
	Seed   int64
	People int
	// Calendar counts working days; nil means calendar.Default().
	Calendar *calendar.Calendar

	// Clerk is the engine API's clerk service, connected as the stack
	// requires (TLS or not); ClerkTokens are clerk tokens by commune, for
	// LiveCommunes.
	Clerk       enginev1.ClerkServiceClient
	ClerkTokens map[string]string
	// Admins are the agencies' AdminService clients by name, connected with
	// the admin credential.
	Admins map[string]agencyv1.AdminServiceClient
	// HistoryOnly writes the finished history and leaves the agencies and
	// the live set alone (dev --demo-live=false).
	HistoryOnly bool

	Logger *slog.Logger
}

// What a seeded stack holds.
const (
	// HistoryDossiers past dossiers, over HistoryDays days.
	HistoryDossiers = 600
	HistoryDays     = 28
	// LiveDossiers submitted through the API when the stack starts.
	LiveDossiers = 20
)

// LiveCommunes are where the live dossiers are submitted: the demo clerks' communes.
var LiveCommunes = []string{"00004", "00008", "16681"}

// ReadyLines describe, for dev's ready block, what --demo puts in the stack.
func ReadyLines() []string {
	return []string{
		"history: ~600 finished dossiers of the last 4 weeks (late, rejected, partial, cancelled) in every commune of the place table",
		"live: 20 dossiers submitted now in communes 00004, 00008, 16681; Police issues ~30% of ID numbers 15 min late",
		"Social Insurance is in manual mode: its officers decide at /#/desk",
		"both are written once per data directory; progress is in the log (component=demo)",
	}
}

// Run seeds the history, then the live dossiers, logging progress. It never
// fails the stack: errors are logged and Run returns.
func Run(ctx context.Context, o Options) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.Calendar == nil {
		o.Calendar = calendar.Default()
	}
	started := time.Now()
	log.Info("demo: seeding", "history", HistoryDossiers, "live", LiveDossiers)
	forms := forms.NewForms(population.Generate(o.Seed, o.People))
	people := newPeople(forms)

	h, err := SeedHistory(ctx, o.Pool, people, HistoryOptions{Calendar: o.Calendar})
	switch {
	case err != nil:
		log.Error("demo: seeding the history", "error", err)
	case !h.Seeded:
		log.Info("demo: history already seeded, left as it is", "dossiers", h.Dossiers)
	default:
		log.Info("demo: history seeded", "dossiers", h.Dossiers, "provinces", h.Provinces, "communes", h.Communes,
			"completed", h.ByStatus["COMPLETED"], "partially_completed", h.ByStatus["PARTIALLY_COMPLETED"],
			"rejected", h.ByStatus["REJECTED"], "cancelled", h.ByStatus["CANCELLED"], "late", h.Late,
			"took", time.Since(started).Round(time.Millisecond))
	}
	if ctx.Err() != nil || o.HistoryOnly {
		return
	}
	if err := seedLive(ctx, o, people, log); err != nil && ctx.Err() == nil {
		log.Error("demo: seeding the live dossiers", "error", err)
	}
}
