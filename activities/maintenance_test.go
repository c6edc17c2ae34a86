package activities

import (
	"errors"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/workflows"
)

// Maintenance run under any workflow but the repository's own could
// overlap another run: it is refused before anything is opened.
func TestMaintainRepositoryRunsOnlyInTheRepositorysWorkflow(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	m := &RepoMaintenance{Repos: &Repositories{}}
	env.RegisterActivity(m.MaintainRepository)
	_, err := env.ExecuteActivity(m.MaintainRepository, workflows.RepoMaintenanceInput{
		Repo:         workflows.RepoRef{Storage: workflows.Storage{Provider: workflows.ProviderFilesystem, Path: "/tmp/repo"}},
		RepositoryID: "0123456789abcdef0123456789abcdef", Mode: workflows.MaintenanceFull,
	})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != workflows.ErrTypeInvalidInput || !appErr.NonRetryable() ||
		!strings.Contains(appErr.Message(), "corso-maintenance-0123456789abcdef0123456789abcdef") {
		t.Fatalf("want a non-retryable refusal naming the repository's workflow, got %v", err)
	}
}
