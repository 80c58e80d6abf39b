package agent

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the agent's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	revision     prometheus.Gauge
	applyTime    prometheus.Histogram
	applyErrors  prometheus.Counter
	driftRepairs prometheus.Counter
	serverErrors prometheus.Counter
}

// NewMetrics registers the agent's metrics with r.
func NewMetrics(r prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		revision: prometheus.NewGauge(prometheus.GaugeOpts{Name: "palisade_agent_applied_revision",
			Help: "Revision of the desired state the kernel holds."}),
		applyTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "palisade_agent_apply_duration_seconds",
			Help: "Time to decode, compile and apply a desired state.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		applyErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "palisade_agent_apply_errors_total",
			Help: "Desired states that could not be applied; the previous rules stayed."}),
		driftRepairs: prometheus.NewCounter(prometheus.CounterOpts{Name: "palisade_agent_drift_repairs_total",
			Help: "Times the table was found changed behind the agent and applied again."}),
		serverErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "palisade_agent_server_errors_total",
			Help: "Failed requests to the server; the applied rules stayed."}),
	}
	for _, c := range []prometheus.Collector{m.revision, m.applyTime, m.applyErrors, m.driftRepairs, m.serverErrors} {
		if err := r.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) applied(rev int64, took time.Duration) {
	if m != nil {
		m.revision.Set(float64(rev))
		m.applyTime.Observe(took.Seconds())
	}
}

func (m *Metrics) setRevision(rev int64) {
	if m != nil {
		m.revision.Set(float64(rev))
	}
}

func (m *Metrics) applyError() {
	if m != nil {
		m.applyErrors.Inc()
	}
}

func (m *Metrics) driftRepaired() {
	if m != nil {
		m.driftRepairs.Inc()
	}
}

func (m *Metrics) serverError() {
	if m != nil {
		m.serverErrors.Inc()
	}
}
