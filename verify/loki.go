package verify

import (
	"context"
	"errors"
)

// LokiLogs: TODO(verify) being written.
func LokiLogs() Check {
	return Check{ID: "loki-logs", Run: func(context.Context, *Env, string) (Outcome, error) { return Outcome{}, errors.New("not built yet") }}
}
