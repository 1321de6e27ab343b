package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are ingest's Prometheus series.
type Metrics struct {
	Events         *prometheus.CounterVec // by outcome: accepted, duplicate, rejected, rate_limited, refused_disk
	Commits        *prometheus.CounterVec // spool group commits by result
	CommitTime     prometheus.Histogram
	CommitRequests prometheus.Histogram // requests sharing one commit
	Flushes        *prometheus.CounterVec
	FlushTime      prometheus.Histogram
	FlushEvents    prometheus.Histogram
	SpoolCorrupt   prometheus.Counter
	LedgerPruned   prometheus.Counter // ledger keys pruned past the retention window
}

// NewMetrics creates and registers ingest's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiendo_ingest_events_total",
			Help: "Events by outcome: accepted, duplicate, rejected (bad input), rate_limited (over the token's events per second), refused_disk (below the free-disk watermark)."}, []string{"outcome"}),
		Commits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiendo_spool_commits_total",
			Help: "Group commits into the spool by result."}, []string{"result"}),
		CommitTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tiendo_spool_commit_seconds",
			Help: "Time of one spool group commit (dedupe, append, fsync).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		CommitRequests: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tiendo_spool_commit_requests",
			Help: "Requests sharing one spool commit.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		Flushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiendo_flushes_total",
			Help: "Flushes from the spool into ClickHouse by result."}, []string{"result"}),
		FlushTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tiendo_flush_seconds",
			Help: "Time of one flush into ClickHouse.", Buckets: prometheus.ExponentialBuckets(0.002, 2, 14)}),
		FlushEvents: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tiendo_flush_events",
			Help: "Events per flush into ClickHouse.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		SpoolCorrupt: prometheus.NewCounter(prometheus.CounterOpts{Name: "tiendo_spool_corrupt_records_total",
			Help: "Spool records that failed their checksum and were set aside."}),
		LedgerPruned: prometheus.NewCounter(prometheus.CounterOpts{Name: "tiendo_ledger_pruned_total",
			Help: "Ids of accepted events pruned from the ledger past its retention window (later retries are checked against ClickHouse)."}),
	}
	reg.MustRegister(m.Events, m.Commits, m.CommitTime, m.CommitRequests, m.Flushes, m.FlushTime, m.FlushEvents, m.SpoolCorrupt, m.LedgerPruned)
	return m
}
