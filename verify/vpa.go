package verify

import (
	"context"
	"errors"
)

// VPARecommendations: TODO(verify) being written.
func VPARecommendations() Check {
	return Check{ID: "vpa-recommendations", Run: func(context.Context, *Env, string) (Outcome, error) { return Outcome{}, errors.New("not built yet") }}
}
