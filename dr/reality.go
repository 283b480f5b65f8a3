package dr

import (
	"context"
	"time"
)

// Reality is what a region is actually doing, as opposed to what its stack
// file says or what its last `pulumi up` deployed: the CloudNativePG
// Cluster's status and the Route 53 health check. Live reads it with
// client-go and the AWS SDK; the engine tier's tests fake it (the stand-in
// providers cannot know an operator's status).
type Reality interface {
	// Postgres reads the region's Cluster. An unreachable region is an
	// error wrapping ErrUnreachable.
	Postgres(ctx context.Context, region string) (Postgres, error)
	// DNS reads the region's Route 53 health check and its record of the
	// failover name.
	DNS(ctx context.Context, region string) (DNS, error)
	// WriteMarker inserts a row carrying id on the region's primary.
	WriteMarker(ctx context.Context, region, id string) error
	// ReadMarker reports whether the row carrying id is visible in the
	// region's database (on a replica: replicated).
	ReadMarker(ctx context.Context, region, id string) (bool, error)
	// DeleteMarker removes the row (on the primary).
	DeleteMarker(ctx context.Context, region, id string) error
	// DeleteCluster deletes the region's Cluster object (a diverged old
	// primary before a rebuild). Its claims go with it; their volumes stay
	// Released (the Retain class).
	DeleteCluster(ctx context.Context, region string) error
}

// Postgres is the status of a region's CloudNativePG Cluster.
type Postgres struct {
	// Cluster is the Cluster's name, e.g. tars-pg-us-east; empty when the
	// region has none.
	Cluster string `json:"cluster"`
	// Phase is .status.phase ("Cluster in healthy state" when healthy).
	Phase string `json:"phase"`
	// Primary: the Cluster accepts writes (not in replica mode).
	Primary bool `json:"primary"`
	// Following is the Cluster this one replicates from (its
	// .spec.replica.primary when not primary).
	Following string `json:"following,omitempty"`
	// ReadyInstances of Instances are ready.
	ReadyInstances int `json:"readyInstances"`
	Instances      int `json:"instances"`
	// DemotionToken is .status.demotionToken: set once a demoted primary
	// has archived its shutdown checkpoint.
	DemotionToken string `json:"demotionToken,omitempty"`
	// Timeline is .status.timelineID.
	Timeline int `json:"timeline"`
	// Lag is the replication lag (cnpg_pg_replication_lag) when
	// LagKnown; a primary has none.
	Lag      time.Duration `json:"lag"`
	LagKnown bool          `json:"lagKnown"`
	// LastBackup is the newest successful base backup.
	LastBackup time.Time `json:"lastBackup"`
	// LastArchivedWAL and its time: the newest WAL segment in the store.
	LastArchivedWAL     string    `json:"lastArchivedWal"`
	LastArchivedWALTime time.Time `json:"lastArchivedWalTime"`
}

// Healthy: every instance ready and the operator says healthy.
func (p Postgres) Healthy() bool {
	return p.Cluster != "" && p.Phase == PhaseHealthy && p.Instances > 0 && p.ReadyInstances == p.Instances
}

// PhaseHealthy is CloudNativePG's PhaseHealthy.
const PhaseHealthy = "Cluster in healthy state"

// DNS is the Route 53 view of a region.
type DNS struct {
	// HealthCheckID is the region's health check.
	HealthCheckID string `json:"healthCheckId"`
	// Healthy: Route 53 considers the region's endpoint healthy.
	Healthy bool `json:"healthy"`
	// Weight of the region's record of the failover name: 100 for the
	// DNS primary, 0 for the other (answered only when the primary is
	// unhealthy). -1 when the record is missing.
	Weight int64 `json:"weight"`
}
