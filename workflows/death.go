package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/dossier"
)

// DeathSteps returns the death group's procedures for the chosen bundle.
func DeathSteps(funeralAllowance, survivorBenefit bool) []dossier.StepKind {
	steps := []dossier.StepKind{dossier.StepDeathRegistration, dossier.StepResidenceCancellation}
	if funeralAllowance {
		steps = append(steps, dossier.StepFuneralAllowance)
	}
	if survivorBenefit {
		steps = append(steps, dossier.StepSurvivorBenefit)
	}
	return steps
}

// changeSurvivorBenefit guards the survivor-benefit step of the 4-procedure
// bundle: histories recorded before it never ran the step.
const changeSurvivorBenefit = "survivor-benefit-step"

// Death runs the death group (Decree 63/2024): Justice registers the death;
// then Police cancels permanent residence and, when the bundle includes them,
// Social Insurance settles the funeral allowance and decides the survivor
// benefit, all in parallel.
func Death(ctx workflow.Context, in DeathInput) (DeathResult, error) {
	m, steps, err := start(ctx, dossier.GroupDeath, in.Dossier, DeathSteps(in.FuneralAllowance, in.SurvivorBenefit))
	if err != nil {
		return DeathResult{}, err
	}

	// 1. Justice registers the death.
	death := m.run(steps, dossier.StepDeathRegistration, a.RegisterDeath, nil)
	if death != dossier.StepApproved {
		if steps.Err() == nil {
			reason := "death registration " + lower(death) + ": " + m.step(dossier.StepDeathRegistration).Reason
			m.skip(steps, reason, m.order[1:]...)
		}
		return DeathResult{Final: m.finish(ctx)}, nil
	}
	registration := m.step(dossier.StepDeathRegistration).Result["registration_number"]
	withRecord := func(in *activities.StepInput) { in.RegistrationNumber = registration }

	// 2a. Police cancels permanent residence.
	m.goStep(steps, func(c workflow.Context) {
		m.run(c, dossier.StepResidenceCancellation, a.CancelResidence, withRecord)
	})

	// 2b. Social Insurance settles the funeral allowance and stops any pension.
	if in.FuneralAllowance {
		m.goStep(steps, func(c workflow.Context) {
			m.run(c, dossier.StepFuneralAllowance, a.SettleFuneralAllowance, withRecord)
		})
	}

	// 2c. Social Insurance decides the survivor benefit, monthly or lump sum.
	if in.SurvivorBenefit && workflow.GetVersion(steps, changeSurvivorBenefit, workflow.DefaultVersion, 1) == 1 {
		m.goStep(steps, func(c workflow.Context) {
			m.run(c, dossier.StepSurvivorBenefit, a.SettleSurvivorBenefit, withRecord)
		})
	}

	return DeathResult{Final: m.finish(ctx)}, nil
}

func lower(s dossier.StepStatus) string {
	switch s {
	case dossier.StepRejected:
		return "rejected"
	case dossier.StepCancelled:
		return "cancelled"
	case dossier.StepSkipped:
		return "skipped"
	}
	return string(s)
}
