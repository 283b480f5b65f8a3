package verify

import (
	"context"
	"errors"
)

// PrometheusTargets: TODO(verify) being written.
func PrometheusTargets() Check {
	return Check{ID: "prometheus-targets", Run: func(context.Context, *Env, string) (Outcome, error) { return Outcome{}, errors.New("not built yet") }}
}

// PrometheusRules: TODO(verify) being written.
func PrometheusRules() Check {
	return Check{ID: "prometheus-rules", Run: func(context.Context, *Env, string) (Outcome, error) { return Outcome{}, errors.New("not built yet") }}
}

// Alerts: TODO(verify) being written.
func Alerts() Check {
	return Check{ID: "alerts", Run: func(context.Context, *Env, string) (Outcome, error) { return Outcome{}, errors.New("not built yet") }}
}
