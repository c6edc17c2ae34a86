package main

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// sdkSeries holds the series emitted through the Temporal SDK's metrics
// handler: the SDK's own (temporal_*) and those activities record with
// activity.GetMetricsHandler (corso_*). The SDK tags one metric
// differently at different call sites, so this is an unchecked collector
// that creates each series on first use.
type sdkSeries struct {
	mu     sync.Mutex
	series map[string]prometheus.Metric
}

// corsoLabels are the only tags a corso_* series keeps: the SDK adds its
// routing tags (namespace, task queue, workflow and activity type) to
// everything an activity records, and a corso metric is about the data,
// not about which activity moved it.
var corsoLabels = []string{"service", "tenant"}

// timerBuckets spans a fast RPC to a long activity, in seconds.
var timerBuckets = prometheus.ExponentialBuckets(0.005, 4, 10)

func newSDKSeries() *sdkSeries { return &sdkSeries{series: map[string]prometheus.Metric{}} }

// Describe sends nothing: the series are not known in advance.
func (s *sdkSeries) Describe(chan<- *prometheus.Desc) {}

func (s *sdkSeries) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.series {
		ch <- m
	}
}

// handler returns the SDK's view of the series.
func (s *sdkSeries) handler() client.MetricsHandler { return sdkHandler{s: s} }

// get returns the series of name and tags, made by mk on first use.
func (s *sdkSeries) get(name string, tags map[string]string, mk func(prometheus.Labels) prometheus.Metric) prometheus.Metric {
	labels := prometheus.Labels{}
	for k, v := range tags {
		if strings.HasPrefix(name, "corso_") && !slices.Contains(corsoLabels, k) {
			continue
		}
		labels[labelName(k)] = v
	}
	var key strings.Builder
	key.WriteString(name)
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		key.WriteString("\xff" + k + "=" + labels[k])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.series[key.String()]
	if !ok {
		m = mk(labels)
		s.series[key.String()] = m
	}
	return m
}

// labelName makes a tag key a valid Prometheus label name.
func labelName(k string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, k)
}

// sdkHandler is client.MetricsHandler over sdkSeries, with Prometheus
// names: counters end in _total, timers are histograms in _seconds.
type sdkHandler struct {
	s    *sdkSeries
	tags map[string]string
}

func (h sdkHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return sdkHandler{s: h.s, tags: merged}
}

func (h sdkHandler) Counter(name string) client.MetricsCounter {
	if !strings.HasSuffix(name, "_total") {
		name += "_total"
	}
	c := h.s.get(name, h.tags, func(l prometheus.Labels) prometheus.Metric {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help(name), ConstLabels: l})
	}).(prometheus.Counter)
	return counterFunc(func(d int64) {
		if d > 0 {
			c.Add(float64(d))
		}
	})
}

func (h sdkHandler) Gauge(name string) client.MetricsGauge {
	g := h.s.get(name, h.tags, func(l prometheus.Labels) prometheus.Metric {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help(name), ConstLabels: l})
	}).(prometheus.Gauge)
	return gaugeFunc(g.Set)
}

func (h sdkHandler) Timer(name string) client.MetricsTimer {
	name += "_seconds"
	o := h.s.get(name, h.tags, func(l prometheus.Labels) prometheus.Metric {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help(name), ConstLabels: l, Buckets: timerBuckets})
	}).(prometheus.Histogram)
	return timerFunc(func(d time.Duration) { o.Observe(d.Seconds()) })
}

// help describes a series: corso's own have their help in corsoHelp, the
// SDK's are documented by Temporal.
func help(name string) string {
	if h, ok := corsoHelp[name]; ok {
		return h
	}
	return "Temporal Go SDK metric " + name + " (see Temporal's SDK metrics reference)"
}

// corsoHelp documents the series activities record.
var corsoHelp = map[string]string{
	"corso_backup_items_total": "Items (messages, contacts, events, files) downloaded from Microsoft 365 and stored in the repository, by service.",
	"corso_backup_bytes_total": "Bytes of the items counted by corso_backup_items_total, by service.",
}

type (
	counterFunc func(int64)
	gaugeFunc   func(float64)
	timerFunc   func(time.Duration)
)

func (f counterFunc) Inc(d int64)          { f(d) }
func (f gaugeFunc) Update(v float64)       { f(v) }
func (f timerFunc) Record(d time.Duration) { f(d) }
