package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
)

// TestWorkerServesMetricsAfterABackup starts a worker with
// --metrics-listen, backs up a small tenant through it, and scrapes what
// the backup moved: Graph requests and stored items of Exchange under the
// tenant's id. Each binary's --version names its build.
func TestWorkerServesMetricsAfterABackup(t *testing.T) {
	for _, bin := range []string{"corso", "corso-worker", "corso-dev"} {
		out, err := exec.Command(filepath.Join(dev.BinDir, bin), "--version").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), bin+" ") || !strings.Contains(string(out), runtime.Version()) {
			t.Errorf("%s --version: %v: %q", bin, err, out)
		}
	}

	sim := ownTenant(t, graphsim.TenantOptions{Seed: 31, Users: 2, ItemsPerUser: 3, Groups: -1, Mix: graphsim.ItemMix{Mail: 1}, Clean: true})
	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	queue := "e2e-metrics"
	w, err := dev.StartWorker(queue, sim.WorkerEnv(), "--task-queue", queue, "--metrics-listen", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(w) })
	a := newExchangeAdmin(t, sim, "metrics", "--task-queue", queue)
	var items int64
	for _, b := range a.backup(t, "*") {
		items += b.Items
	}
	if items == 0 {
		t.Fatal("the backup stored no items")
	}

	tenant := regexp.QuoteMeta(sim.CLIEnv("")["AZURE_TENANT_ID"])
	var text string
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			text = string(b)
		}
		if strings.Contains(text, "corso_graph_requests_total") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	value := func(series string) float64 {
		m := regexp.MustCompile(`(?m)^` + series + ` (\S+)$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no %s in\n%s", series, text)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	if n := value(`corso_graph_requests_total\{service="exchange",tenant="` + tenant + `"\}`); n <= 0 {
		t.Errorf("%v Exchange requests counted", n)
	}
	if n := value(`corso_backup_items_total\{service="exchange",tenant="` + tenant + `"\}`); n != float64(items) {
		t.Errorf("%v items counted, the backups stored %d", n, items)
	}
	if !regexp.MustCompile(`(?m)^temporal_request_total\{`).MatchString(text) {
		t.Error("no Temporal SDK metrics")
	}
}
