package graph

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
)

// recordingBudget counts what drive requests spend and the throttling
// reported to it.
type recordingBudget struct {
	spent     atomic.Int64
	mu        sync.Mutex
	throttled []time.Duration
}

func (b *recordingBudget) Spend(_ context.Context, units int) error {
	b.spent.Add(int64(units))
	return nil
}

func (b *recordingBudget) Throttled(d time.Duration) {
	b.mu.Lock()
	b.throttled = append(b.throttled, d)
	b.mu.Unlock()
}

// chargedUnits sums the x-ms-resource-unit headers SharePoint (here the
// simulator) answers drive requests with: what it charged.
func chargedUnits(total *atomic.Int64) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(&unitsWriter{ResponseWriter: w, total: total}, r)
		})
	}
}

type unitsWriter struct {
	http.ResponseWriter
	total   *atomic.Int64
	counted bool
}

func (w *unitsWriter) WriteHeader(code int) {
	if !w.counted {
		w.counted = true
		if n, err := strconv.Atoi(w.Header().Get("x-ms-resource-unit")); err == nil {
			w.total.Add(int64(n))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *unitsWriter) Write(p []byte) (int, error) {
	if !w.counted {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// The budget is charged what SharePoint charges: deltas with and without a
// token, permission calls, downloads.
func TestDriveBudgetSpendsWhatSharePointCharges(t *testing.T) {
	var charged atomic.Int64
	e := newDriveEnv(t, driveTenant, chargedUnits(&charged), nil)
	b := &recordingBudget{}
	c := e.client(func(cfg *Config) { cfg.PageSize = 17; cfg.DriveBudget = b })
	driveID := e.user(0).DriveID
	items, _, pages := driveDelta(t, c, driveID, "")
	if pages < 3 {
		t.Fatalf("%d pages", pages)
	}
	files := 0
	for _, it := range items {
		if it.Folder || it.Root || files == 5 {
			continue
		}
		files++
		if _, err := readAllFile(t, c, driveID, it); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DrivePermissions(context.Background(), driveID, it.ID); err != nil {
			t.Fatal(err)
		}
	}
	// The first page costs 2, each next page 1, each download at least 1
	// and each permission call 5.
	if min := int64(2 + (pages - 1) + files*(1+5)); charged.Load() < min {
		t.Fatalf("the simulator charged %d units, less than the %d expected", charged.Load(), min)
	}
	if got, want := b.spent.Load(), charged.Load(); got != want {
		t.Errorf("the budget was charged %d units, SharePoint %d", got, want)
	}
	if len(b.throttled) != 0 {
		t.Errorf("throttling reported without any: %v", b.throttled)
	}
}

// A throttled drive request is reported, with its Retry-After, so that
// the fleet can pause.
func TestDriveBudgetHearsOfThrottling(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, func(o *graphsim.Options) {
		o.Throttle = graphsim.ThrottleOptions{DriveResourceUnits: 3, RetryAfter: time.Second}
	})
	b := &recordingBudget{}
	c := e.client(func(cfg *Config) { cfg.PageSize = 17; cfg.DriveBudget = b })
	// Each page costs 2 or 1; the budget of 3 is gone by the third page,
	// and the simulator's clock stands still.
	link := ""
	for range 3 {
		p, err := c.DriveDeltaPage(context.Background(), e.user(0).DriveID, link)
		if err != nil {
			break
		}
		link = p.NextLink
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.throttled) == 0 || b.throttled[0] != time.Second {
		t.Fatalf("throttling reported: %v", b.throttled)
	}
}
