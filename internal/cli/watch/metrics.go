package watch

import (
	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/kube"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are watch's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg      *prometheus.Registry
	events   *prometheus.CounterVec
	changes  *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	rebuilds prometheus.Counter
	synced   prometheus.Gauge
}

// latencyBuckets span 1 ms to 10 s.
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2, 14)

func newMetrics(s *session) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulkhead_watch_events_total", Help: "Object events that changed the model, by kind and op.",
		}, []string{"kind", "op"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulkhead_watch_connection_changes_total", Help: "Connection changes the events caused, by change (added, removed, changed).",
		}, []string{"change"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bulkhead_watch_latency_seconds",
			Help:    "Time from the watch delivering a batch of events to each stage: modelled, evaluated (engine updated), printed.",
			Buckets: latencyBuckets,
		}, []string{"stage"}),
		rebuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bulkhead_watch_engine_rebuilds_total", Help: "Batches the engine could not apply incrementally and rebuilt for.",
		}),
		synced: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bulkhead_watch_synced", Help: "1 once the first complete snapshot of the cluster is analyzed.",
		}),
	}
	gauge := func(name, help string, f func(*eval.Tracker) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			s.mu.RLock()
			t := s.tracker
			s.mu.RUnlock()
			if t == nil {
				return 0
			}
			return f(t)
		})
	}
	m.reg.MustRegister(m.events, m.changes, m.latency, m.rebuilds, m.synced,
		gauge("bulkhead_endpoints", "Pods and workloads in the model.", func(t *eval.Tracker) float64 {
			return float64(len(t.Snapshot().Endpoints))
		}),
		gauge("bulkhead_policies", "Policies in the model, every tier.", func(t *eval.Tracker) float64 {
			return float64(len(t.Snapshot().Policies))
		}),
		gauge("bulkhead_connections", "Endpoint pairs that can connect.", func(t *eval.Tracker) float64 {
			var n int
			t.Read(func(e *eval.Engine) { n = e.Connectivity().Count() })
			return float64(n)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bulkhead_watch_healthy", Help: "1 while every watch of the API server is live."}, func() float64 {
			if s.currentWatcher().Health().OK() {
				return 1
			}
			return 0
		}),
	)
	return m
}

func (m *metrics) observe(u kube.Update, conns []eval.ConnChange, t Timing) {
	for _, ev := range u.Events {
		m.events.WithLabelValues(ev.Object.Kind, ev.Op.String()).Inc()
	}
	for _, c := range conns {
		m.changes.WithLabelValues(c.Kind.String()).Inc()
	}
	if t.Rebuilt {
		m.rebuilds.Inc()
	}
	m.latency.WithLabelValues("modelled").Observe(t.Modelled.Sub(t.Received).Seconds())
	m.latency.WithLabelValues("evaluated").Observe(t.Evaluated.Sub(t.Received).Seconds())
	m.latency.WithLabelValues("printed").Observe(t.Printed.Sub(t.Received).Seconds())
}
