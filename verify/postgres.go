package verify

import (
	"context"
	"errors"
)

// PostgresStandbys: TODO(verify) being written.
func PostgresStandbys() Check {
	return Check{ID: "postgres-standbys", Run: func(context.Context, *Env, string) (Outcome, error) { return Outcome{}, errors.New("not built yet") }}
}

// PostgresReplication: TODO(verify) being written.
func PostgresReplication() Check {
	return Check{ID: "postgres-replication", Run: func(context.Context, *Env, string) (Outcome, error) { return Outcome{}, errors.New("not built yet") }}
}
