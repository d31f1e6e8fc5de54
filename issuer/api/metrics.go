package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/zkcred/zkcred/issuer"
)

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	issued   *prometheus.CounterVec
	offers   prometheus.Counter
	claims   *prometheus.CounterVec
	revoked  prometheus.Counter
}

func newMetrics(is *issuer.Issuer) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "zkcred_issuer_http_request_seconds", Help: "HTTP request latency by route and status.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .05, .1, .5, 1, 5, 30},
		}, []string{"route", "status"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zkcred_issuer_credentials_issued_total", Help: "Credentials issued through the API, by route (direct or claim).",
		}, []string{"via"}),
		offers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "zkcred_issuer_offers_created_total", Help: "Claim offers created through the API.",
		}),
		claims: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zkcred_issuer_claims_total", Help: "Offer claims, by outcome (delivered, delivered_again to the same holder, or the error code).",
		}, []string{"outcome"}),
		revoked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "zkcred_issuer_revocations_total", Help: "Credentials revoked through the API (repeats not counted).",
		}),
	}
	m.reg.MustRegister(m.requests, m.issued, m.offers, m.claims, m.revoked,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zkcred_issuer_credentials", Help: "Credentials in the issuer's store."},
			func() float64 {
				n, err := is.CountCredentials()
				if err != nil {
					return -1
				}
				return float64(n)
			}))
	return m
}

func (m *metrics) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// observe records each request's latency under its route pattern (never
// its path, which holds offer and credential IDs) and final status.
func (m *metrics) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(c.Response().Status)).Observe(time.Since(start).Seconds())
		return nil
	}
}

func (m *metrics) claim(again bool, err error) {
	outcome := "delivered"
	switch {
	case err != nil:
		_, outcome = status(err)
	case again:
		outcome = "delivered_again"
	}
	m.claims.WithLabelValues(outcome).Inc()
}
