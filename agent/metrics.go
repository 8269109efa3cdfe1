package agent

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bulkhead/bulkhead/nft/compile"
)

// Metrics are the agent's Prometheus metrics.
type Metrics struct {
	Registry *prometheus.Registry

	localPods, chains, rules, sets, elements prometheus.Gauge
	lastSuccess                              prometheus.Gauge
	syncs                                    prometheus.Counter
	errors                                   *prometheus.CounterVec
	drift                                    prometheus.Counter
	duration                                 prometheus.Histogram
}

// Error stages, the values of bulkhead_agent_sync_errors_total's stage
// label.
const (
	StageSource  = "source"  // the state could not be read, or is invalid
	StageCompile = "compile" // the ruleset could not be compiled
	StageApply   = "apply"   // the kernel refused the transaction
	StageCheck   = "check"   // the kernel's table could not be read back
)

// NewMetrics returns the agent's metrics in a new registry, with the Go
// runtime's and the process's.
func NewMetrics() *Metrics {
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "bulkhead", Subsystem: "agent", Name: name, Help: help})
	}
	m := &Metrics{
		Registry:    prometheus.NewRegistry(),
		localPods:   gauge("local_pods", "Local pods whose policies the ruleset enforces."),
		chains:      gauge("ruleset_chains", "Chains in the applied ruleset."),
		rules:       gauge("ruleset_rules", "Rules in the applied ruleset."),
		sets:        gauge("ruleset_sets", "Named sets and verdict maps in the applied ruleset."),
		elements:    gauge("ruleset_elements", "Set and verdict map elements in the applied ruleset."),
		lastSuccess: gauge("last_successful_sync_timestamp_seconds", "Unix time of the last sync that applied (or confirmed) the ruleset."),
		syncs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "bulkhead", Subsystem: "agent", Name: "syncs_total",
			Help: "Syncs that applied or confirmed the ruleset."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "bulkhead", Subsystem: "agent", Name: "sync_errors_total",
			Help: "Failed syncs by stage (source, compile, apply, check); the previous ruleset stays in force."}, []string{"stage"}),
		drift: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "bulkhead", Subsystem: "agent", Name: "drift_repairs_total",
			Help: "Times the kernel's table differed from the applied ruleset and was replaced."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "bulkhead", Subsystem: "agent", Name: "sync_duration_seconds",
			Help:    "Time from receiving a state to the kernel holding its ruleset (engine update, compilation, transaction).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
	}
	for _, s := range []string{StageSource, StageCompile, StageApply, StageCheck} {
		m.errors.WithLabelValues(s)
	}
	m.Registry.MustRegister(m.localPods, m.chains, m.rules, m.sets, m.elements, m.lastSuccess, m.syncs, m.errors, m.drift, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

func (m *Metrics) ruleset(st compile.Stats) {
	m.localPods.Set(float64(st.LocalPods))
	m.chains.Set(float64(st.Chains))
	m.rules.Set(float64(st.Rules))
	m.sets.Set(float64(st.Sets + st.Maps))
	m.elements.Set(float64(st.Elements()))
}
