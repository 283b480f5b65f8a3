// Package chromadb runs the T.A.R.S. vector store in each region (seed 003:
// 100 Gi per region, a 15-minute cross-region sync): one ChromaDB member on
// an encrypted gp3 volume, reachable from the application's namespace only,
// and the sync: every 15 minutes the primary region (tars:topology) copies
// the volume to its bucket and the other region restores the newest copy.
package chromadb

import (
	_ "embed"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:chromadb:ChromaDB"

// The sync scripts (tests run them with a stand-in aws CLI).
var (
	//go:embed scripts/snapshot.sh
	SnapshotScript string
	//go:embed scripts/restore.sh
	RestoreScript string
	//go:embed scripts/promote.sh
	PromoteScript string
)

// ChromaDB is one region's vector store.
type ChromaDB struct {
	pulumi.ResourceState

	// Endpoint is the in-cluster URL clients use.
	Endpoint pulumi.StringOutput `pulumi:"endpoint"`
	// Bucket is the region's snapshot bucket (what the peer restores from
	// when this region snapshots).
	Bucket pulumi.StringOutput `pulumi:"bucket"`
	// Syncing is false when the restoring region has no peer bucket yet.
	Syncing bool
}

// New creates ChromaDB, its bucket and the sync job of its role. Pass the
// cluster's Kubernetes provider in opts.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*ChromaDB, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("chromadb %s: %w", name, err)
	}
	c := &ChromaDB{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, fmt.Errorf("chromadb %s: register: %w", name, err)
	}
	bucket, err := c.newBucket(ctx, name, args)
	if err != nil {
		return nil, fmt.Errorf("chromadb %s: bucket: %w", name, err)
	}
	kube := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.DependsOn(args.DependsOn)}
	if err := c.newWorkload(ctx, name, args, kube...); err != nil {
		return nil, fmt.Errorf("chromadb %s: %w", name, err)
	}
	if err := c.newSync(ctx, name, args, bucket, kube...); err != nil {
		return nil, fmt.Errorf("chromadb %s: sync: %w", name, err)
	}
	c.Endpoint = pulumi.Sprintf("http://%s.%s.svc:%d", ServiceName, args.Namespace, Port).ToStringOutput()
	c.Bucket = pulumi.String(bucket.Name).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"endpoint": c.Endpoint, "bucket": c.Bucket}); err != nil {
		return nil, fmt.Errorf("chromadb %s: register outputs: %w", name, err)
	}
	return c, nil
}
