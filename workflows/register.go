package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Register registers both groups' workflows under their stable names.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Birth, workflow.RegisterOptions{Name: WorkflowBirth})
	r.RegisterWorkflowWithOptions(Death, workflow.RegisterOptions{Name: WorkflowDeath})
}
