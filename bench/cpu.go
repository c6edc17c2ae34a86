package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/corso-temporal/corso/localstack"
)

// process is one process whose processor time a section measures.
type process struct {
	name string
	pid  int
}

// cpuMeter measures the processor time a few processes use over a span of
// wall time: what the machine spent where while a section ran.
type cpuMeter struct {
	procs []process
	start []time.Duration
	began time.Time
}

func meterCPU(procs ...process) *cpuMeter {
	m := &cpuMeter{procs: procs, began: time.Now()}
	for _, p := range procs {
		t, _ := localstack.CPUTime(p.pid)
		m.start = append(m.start, t)
	}
	return m
}

// cpuUse is each process's processor time over a span.
type cpuUse struct {
	procs []process
	used  []time.Duration
	wall  time.Duration
}

func (m *cpuMeter) stop() cpuUse {
	u := cpuUse{procs: m.procs, wall: time.Since(m.began)}
	for i, p := range m.procs {
		t, _ := localstack.CPUTime(p.pid)
		u.used = append(u.used, t-m.start[i])
	}
	return u
}

// of is the processor time of the named processes together.
func (u cpuUse) of(names ...string) time.Duration {
	var sum time.Duration
	for i, p := range u.procs {
		for _, n := range names {
			if p.name == n {
				sum += u.used[i]
			}
		}
	}
	return sum
}

// String reads as cores busy on average: "worker 0.91, S3 + Temporal 0.45
// cores of 2".
func (u cpuUse) String() string {
	parts := make([]string, len(u.procs))
	for i, p := range u.procs {
		parts[i] = fmt.Sprintf("%s %.2f", p.name, u.used[i].Seconds()/u.wall.Seconds())
	}
	return fmt.Sprintf("%s cores of %d", strings.Join(parts, ", "), runtime.NumCPU())
}
