package ingest

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are ingest's Prometheus series.
type Metrics struct {
	Events     *prometheus.CounterVec // by outcome: accepted, duplicate, rejected
	Flushes    *prometheus.CounterVec // by result: ok, error
	FlushTime  prometheus.Histogram
	FlushBatch prometheus.Histogram // requests per flush
}

// NewMetrics creates and registers ingest's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiendo_ingest_events_total",
			Help: "Events by outcome: accepted, duplicate, rejected."}, []string{"outcome"}),
		Flushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiendo_ingest_flushes_total",
			Help: "Group-commit flushes by result."}, []string{"result"}),
		FlushTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tiendo_ingest_flush_seconds",
			Help: "Time to commit one flush (ledger and ClickHouse insert).", Buckets: prometheus.ExponentialBuckets(0.002, 2, 12)}),
		FlushBatch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tiendo_ingest_flush_requests",
			Help: "Requests sharing one flush.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
	}
	reg.MustRegister(m.Events, m.Flushes, m.FlushTime, m.FlushBatch)
	return m
}

func (m *Metrics) observeFlush(requests, fresh int, err error, took time.Duration) {
	if err != nil {
		m.Flushes.WithLabelValues("error").Inc()
		return
	}
	m.Flushes.WithLabelValues("ok").Inc()
	m.FlushTime.Observe(took.Seconds())
	m.FlushBatch.Observe(float64(requests))
}
