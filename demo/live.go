package demo

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/demo/internal/demodb"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// LivePrefix starts the request id of every live demo dossier.
const LivePrefix = "demo-live-"

// The live set's shape: how many dossiers each commune submits, and how the
// agencies are set while they run.
var liveMix = []struct {
	commune        string
	births, deaths int
}{{"00004", 6, 2}, {"00008", 4, 2}, {"16681", 4, 2}}

const (
	lateIDRatio   = 0.3
	lateIDDelay   = 15 * time.Minute
	justiceReject = 0.15
)

// seedLive sets the agencies up and, once per database, submits the live
// dossiers through the engine API. Justice's reject ratio is restored once
// the live registrations are decided.
func seedLive(ctx context.Context, o Options, p *people, log *slog.Logger) error {
	admins := o.Admins
	for _, name := range []string{dossier.AgencyJustice, dossier.AgencyPolice, dossier.AgencyInsurance} {
		if admins[name] == nil {
			return fmt.Errorf("no admin client for agency %s", name)
		}
	}

	// Insurance's officers decide by hand; Police issues some numbers late.
	if _, err := admins[dossier.AgencyInsurance].SetMode(ctx, &agencyv1.SetModeRequest{Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL}); err != nil {
		return fmt.Errorf("switching Insurance to manual mode: %w", err)
	}
	police, err := admins[dossier.AgencyPolice].GetSettings(ctx, &agencyv1.GetSettingsRequest{})
	if err != nil {
		return fmt.Errorf("reading Police's settings: %w", err)
	}
	auto := proto.CloneOf(police.GetSettings().GetAuto())
	if auto == nil {
		auto = &agencyv1.AutoDecider{}
	}
	auto.LateIdRatio, auto.LateIdDelay = lateIDRatio, durationpb.New(lateIDDelay)
	if _, err := admins[dossier.AgencyPolice].SetMode(ctx, &agencyv1.SetModeRequest{Mode: police.GetSettings().GetMode(), Auto: auto}); err != nil {
		return fmt.Errorf("making Police issue late ID numbers: %w", err)
	}
	log.Info("demo: agencies set", "insurance", "manual", "police_late_id_ratio", lateIDRatio, "police_late_id_delay", lateIDDelay)

	n, err := demodb.New(o.Pool).CountDossiersLike(ctx, LivePrefix+"%")
	if err != nil {
		return err
	}
	if n > 0 {
		log.Info("demo: live dossiers already submitted, none added", "dossiers", n)
		return nil
	}

	// Justice rejects a small share while the live registrations are decided.
	justice, err := admins[dossier.AgencyJustice].GetSettings(ctx, &agencyv1.GetSettingsRequest{})
	if err != nil {
		return fmt.Errorf("reading Justice's settings: %w", err)
	}
	original := justice.GetSettings()
	jauto := proto.CloneOf(original.GetAuto())
	if jauto == nil {
		jauto = &agencyv1.AutoDecider{}
	}
	jauto.RejectRatio = min(justiceReject, 1-jauto.GetSupplementRatio())
	if _, err := admins[dossier.AgencyJustice].SetMode(ctx, &agencyv1.SetModeRequest{Mode: original.GetMode(), Auto: jauto}); err != nil {
		return fmt.Errorf("making Justice reject some cases: %w", err)
	}
	restore := func() {
		// Restored even when the stack is stopping, so a new start finds Justice as configured.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := admins[dossier.AgencyJustice].SetMode(rctx, &agencyv1.SetModeRequest{Mode: original.GetMode(), Auto: original.GetAuto()}); err != nil {
			log.Error("demo: restoring Justice's reject ratio", "error", err)
			return
		}
		log.Info("demo: Justice's reject ratio restored", "reject_ratio", original.GetAuto().GetRejectRatio())
	}
	defer restore()

	clerk := o.Clerk

	type submitted struct{ code, commune string }
	var codes []submitted
	now := time.Now()
	for _, m := range liveMix {
		tok := o.ClerkTokens[m.commune]
		if tok == "" {
			log.Warn("demo: no clerk token for commune, skipped", "commune", m.commune)
			continue
		}
		cctx := auth.WithBearer(ctx, tok)
		births, deaths := p.live(m.commune, true), p.live(m.commune, false)
		for i := range m.births {
			if i >= len(births) {
				break
			}
			req := p.forms.Birth(births[i], now, fmt.Sprintf("%s%s-b%02d", LivePrefix, m.commune, i))
			resp, err := clerk.SubmitBirth(cctx, req)
			if err != nil {
				log.Warn("demo: submitting a live birth dossier", "commune", m.commune, "error", err)
				continue
			}
			codes = append(codes, submitted{resp.GetCode(), m.commune})
		}
		for i := range m.deaths {
			if i >= len(deaths) {
				break
			}
			req := p.forms.Death(deaths[i], now, fmt.Sprintf("%s%s-d%02d", LivePrefix, m.commune, i), i%2 == 0)
			resp, err := clerk.SubmitDeath(cctx, req)
			if err != nil {
				log.Warn("demo: submitting a live death dossier", "commune", m.commune, "error", err)
				continue
			}
			codes = append(codes, submitted{resp.GetCode(), m.commune})
		}
	}
	log.Info("demo: live dossiers submitted", "dossiers", len(codes))

	// Wait for the registrations (the first step of each group) to be decided.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		open, rejected := 0, 0
		for _, c := range codes {
			cctx := auth.WithBearer(ctx, o.ClerkTokens[c.commune])
			resp, err := clerk.GetDossier(cctx, &enginev1.GetDossierRequest{Code: c.code, View: enginev1.DossierView_DOSSIER_VIEW_STATUS})
			if err != nil {
				open++
				continue
			}
			steps := resp.GetDossier().GetSteps()
			if len(steps) == 0 {
				open++
				continue
			}
			switch steps[0].GetStatus() {
			case enginev1.StepStatus_STEP_STATUS_APPROVED:
			case enginev1.StepStatus_STEP_STATUS_REJECTED:
				rejected++
			default:
				open++
			}
		}
		if open == 0 {
			log.Info("demo: live registrations decided", "dossiers", len(codes), "rejected", rejected)
			return nil
		}
		if time.Now().After(deadline) {
			log.Warn("demo: some live registrations still undecided", "open", open)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}
