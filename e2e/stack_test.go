package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
)

// dev is the running dev stack plus workers shared by every test.
var dev *localstack.Stack

func TestMain(m *testing.M) {
	code, err := runWithStack(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runWithStack(m *testing.M) (code int, err error) {
	tmp, err := os.MkdirTemp("", "corso-e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	binDir, err := localstack.BuildBinaries(tmp)
	if err != nil {
		return 0, err
	}
	dev, err = localstack.Start(binDir, tmp, "--users", "2", "--items-per-user", "20")
	if err != nil {
		return 0, err
	}
	defer dev.Stop()
	tenant, err = startSimulator(graphsim.Options{Tenant: graphsim.TenantOptions{Seed: 42, Users: 3, ItemsPerUser: 80, Sites: 2}})
	if err != nil {
		return 0, err
	}
	defer tenant.Close()
	for i := 1; i <= 2; i++ {
		if _, err := dev.StartWorker(fmt.Sprintf("e2e-worker-%d", i), tenant.WorkerEnv()); err != nil {
			return 0, err
		}
	}
	code = m.Run()
	// Every CLI run and log of the suite, looked through once it is done.
	if err := scanSuiteOutput(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		if code == 0 {
			code = 1
		}
	}
	return code, nil
}

// result is one finished CLI run.
type result = localstack.Result

// corso runs the CLI with the dev stack's environment plus extra.
func corso(t *testing.T, extra map[string]string, args ...string) result {
	t.Helper()
	r, err := dev.Corso(context.Background(), extra, args...)
	if err != nil {
		t.Fatalf("run corso %v: %v", args, err)
	}
	recordCLI(extra, args, r)
	return r
}
