package graphsim

import (
	"sync"
	"time"
)

// stats counts what the simulator served, for tests and benchmarks: which
// endpoint classes answered with which status, how many throttling answers
// were sent, how many bytes went out, and which items' contents were fetched.
type stats struct {
	mu        sync.Mutex
	requests  map[string]map[int]int64
	bytes     int64
	throttled map[int]int64 // 429 and 503 sent by the throttler
	faults    map[string]int64
	retries   int64 // requests carrying Retry-Attempt (SDK retries)
	fetched   map[string]map[string]int64
	drive     []DriveWindow
}

// DriveWindow is what the tenant's drive budget (ThrottleOptions'
// DriveResourceUnits) let through in one of its windows: the resource
// units and the number of the requests it let through, and how many it
// refused.
type DriveWindow struct {
	Start    time.Time `json:"start"`
	Units    int       `json:"units"`
	Requests int       `json:"requests"`
	Refused  int       `json:"refused"`
	// Open is set on the window still under way.
	Open bool `json:"open,omitempty"`
}

// maxDriveWindows bounds the drive windows kept: the latest ones.
const maxDriveWindows = 10_000

func newStats() *stats {
	st := &stats{}
	st.reset()
	return st
}

func (st *stats) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.requests = map[string]map[int]int64{}
	st.throttled = map[int]int64{}
	st.faults = map[string]int64{}
	st.fetched = map[string]map[string]int64{}
	st.bytes, st.retries = 0, 0
	st.drive = nil
}

func (st *stats) record(class string, status int, bytes int64, fetched []fetch, retry bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.requests[class]
	if m == nil {
		m = map[int]int64{}
		st.requests[class] = m
	}
	m[status]++
	st.bytes += bytes
	if retry {
		st.retries++
	}
	if status < 400 {
		for _, f := range fetched {
			k := st.fetched[f.kind]
			if k == nil {
				k = map[string]int64{}
				st.fetched[f.kind] = k
			}
			k[f.id]++
		}
	}
}

func (st *stats) throttledOne(status int) {
	st.mu.Lock()
	st.throttled[status]++
	st.mu.Unlock()
}

func (st *stats) driveWindowClosed(w DriveWindow) {
	st.mu.Lock()
	if len(st.drive) == maxDriveWindows {
		st.drive = st.drive[1:]
	}
	st.drive = append(st.drive, w)
	st.mu.Unlock()
}

func (st *stats) fault(kind string) {
	st.mu.Lock()
	st.faults[kind]++
	st.mu.Unlock()
}

// Stats is the JSON answer of GET /_sim/stats.
type Stats struct {
	Requests      map[string]map[string]int64 `json:"requests"` // class → status → count
	TotalRequests int64                       `json:"totalRequests"`
	BytesServed   int64                       `json:"bytesServed"`
	Throttled429  int64                       `json:"throttled429"`
	Throttled503  int64                       `json:"throttled503"`
	// Faults counts injected answers by kind: reset, 429, 503, a 5xx
	// status, drop (FaultOptions); persistent (special resources);
	// transient404, transient400, revokedToken (once) and
	// revokedTokenRejected (each 401 for the revoked token), see
	// transient.go.
	Faults        map[string]int64 `json:"faults"`
	RetryAttempts int64            `json:"retryAttempts"`
	// Fetched maps a content kind (message, message.mime, attachment,
	// contact, event, driveItem.content) to item id → times served.
	Fetched map[string]map[string]int64 `json:"fetched"`
	// DriveWindows are the windows of the drive budget, oldest first;
	// the last may be the open one.
	DriveWindows []DriveWindow `json:"driveWindows,omitempty"`
}

func (st *stats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := Stats{
		Requests:      map[string]map[string]int64{},
		BytesServed:   st.bytes,
		Throttled429:  st.throttled[429],
		Throttled503:  st.throttled[503],
		Faults:        map[string]int64{},
		RetryAttempts: st.retries,
		Fetched:       map[string]map[string]int64{},
		DriveWindows:  append([]DriveWindow(nil), st.drive...),
	}
	for c, m := range st.requests {
		mm := map[string]int64{}
		for code, n := range m {
			mm[itoa64(int64(code))] = n
			out.TotalRequests += n
		}
		out.Requests[c] = mm
	}
	for k, v := range st.faults {
		out.Faults[k] = v
	}
	for k, m := range st.fetched {
		mm := make(map[string]int64, len(m))
		for id, n := range m {
			mm[id] = n
		}
		out.Fetched[k] = mm
	}
	return out
}

// Stats returns a snapshot of the counters (the same data as /_sim/stats).
func (s *Server) Stats() Stats {
	st := s.stats.snapshot()
	if w, ok := s.throttle.openDriveWindow(); ok {
		st.DriveWindows = append(st.DriveWindows, w)
	}
	return st
}
