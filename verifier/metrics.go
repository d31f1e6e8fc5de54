package verifier

import (
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	reg       *prometheus.Registry
	created   prometheus.Counter
	outcomes  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	batchSize prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		created: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "zkcred_verifier_requests_created_total",
			Help: "Presentation requests issued.",
		}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zkcred_verifier_presentations_total",
			Help: "Presentations checked, by endpoint and outcome (verified or the rejection code).",
		}, []string{"endpoint", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "zkcred_verifier_check_seconds",
			Help:    "Time to check one presentation (or one batch), store included.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}, []string{"endpoint"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "zkcred_verifier_batch_size",
			Help:    "Presentations per batch call.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
	}
	m.reg.MustRegister(m.created, m.outcomes, m.latency, m.batchSize,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) count(endpoint, code string, err error) {
	outcome := wire.StatusVerified
	if err != nil {
		outcome = code
		if outcome == "" {
			_, outcome, _ = Code(err)
		}
	}
	m.outcomes.WithLabelValues(endpoint, outcome).Inc()
}

func (m *metrics) observe(endpoint string, err error, d time.Duration) {
	m.count(endpoint, "", err)
	m.latency.WithLabelValues(endpoint).Observe(d.Seconds())
}

func (m *metrics) batch(n int, d time.Duration) {
	m.batchSize.Observe(float64(n))
	m.latency.WithLabelValues("batch").Observe(d.Seconds())
}
