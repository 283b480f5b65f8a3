package stacks

import (
	"fmt"
	"github.com/tars-platform/infra/components/chromadb"
	"github.com/tars-platform/infra/internal/pki"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/postgres"
)

// peerStack reads the peer region's stack outputs, only those its role
// declares in PeerReads.
type peerStack struct {
	name    string
	ref     *pulumi.StackReference
	allowed []string
}

func newPeerStack(ctx *pulumi.Context, cfg *Config) (*peerStack, error) {
	ref, err := pulumi.NewStackReference(ctx, cfg.Topology.PeerStack, nil)
	if err != nil {
		return nil, fmt.Errorf("peer stack %s: %w", cfg.Topology.PeerStack, err)
	}
	return &peerStack{name: cfg.Topology.PeerStack, ref: ref, allowed: PeerReads[cfg.PeeringRole()]}, nil
}

// read awaits one output of the peer stack. It is plain (not an Output)
// because the peer's facts decide the shape of this stack (one route per
// peer route table).
func (p *peerStack) read(key string) (any, error) {
	if !slices.Contains(p.allowed, key) {
		return nil, fmt.Errorf("peer stack %s: output %q is not in this role's PeerReads (stacks/contract.go)", p.name, key)
	}
	d, err := p.ref.GetOutputDetails(key)
	if err != nil {
		return nil, fmt.Errorf("peer stack %s: read %s: %w", p.name, key, err)
	}
	v := d.Value
	if v == nil {
		v = d.SecretValue
	}
	if v == nil {
		return nil, fmt.Errorf("peer stack %s does not export %q; run `pulumi up -s %s` first (README: deploy order)", p.name, key, p.name)
	}
	return v, nil
}

// secretString reads a secret output of the peer, kept a Pulumi secret;
// ok is false while the peer does not export it.
func (p *peerStack) secretString(key string) (out pulumi.StringOutput, ok bool, err error) {
	if !slices.Contains(p.allowed, key) {
		return out, false, fmt.Errorf("peer stack %s: output %q is not in this role's PeerReads (stacks/contract.go)", p.name, key)
	}
	d, err := p.ref.GetOutputDetails(key)
	if err != nil {
		return out, false, fmt.Errorf("peer stack %s: read %s: %w", p.name, key, err)
	}
	if d.Value == nil && d.SecretValue == nil {
		return out, false, nil
	}
	return pulumi.ToSecret(p.ref.GetStringOutput(pulumi.String(key))).(pulumi.StringOutput), true, nil
}

func (p *peerStack) readString(key string) (string, error) {
	v, err := p.read(key)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("peer stack %s: output %q is %T %v, want a non-empty string", p.name, key, v, v)
	}
	return s, nil
}

// peerNetwork is what the peering needs from the peer region.
type peerNetwork struct {
	Region, AwsRegion, AccountID, VpcID, VpcCidr string
}

func (p *peerStack) network() (*peerNetwork, error) {
	var n peerNetwork
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{
		{OutRegion, &n.Region}, {OutAwsRegion, &n.AwsRegion}, {OutAccountID, &n.AccountID},
		{OutVpcID, &n.VpcID}, {OutVpcCidr, &n.VpcCidr},
	} {
		if *f.dst, err = p.readString(f.key); err != nil {
			return nil, err
		}
	}
	return &n, nil
}

// postgres reads the peer's database outputs.
func (p *peerStack) postgres() (*postgres.Peer, error) {
	var peer postgres.Peer
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{
		{OutAwsRegion, &peer.AwsRegion}, {OutAccountID, &peer.AccountID},
		{OutPostgresBucket, &peer.Bucket}, {OutPostgresEndpoint, &peer.Endpoint}, {OutPostgresServerCA, &peer.ServerCA},
	} {
		if *f.dst, err = p.readString(f.key); err != nil {
			return nil, err
		}
	}
	if err := pki.ParseCACert(peer.ServerCA); err != nil {
		return nil, fmt.Errorf("peer stack %s: output %q %v", p.name, OutPostgresServerCA, err)
	}
	// "" is a valid value: the peer has not created its database yet.
	v, err := p.read(OutPostgresCluster)
	if err != nil {
		return nil, err
	}
	if peer.Cluster, _ = v.(string); peer.Cluster == "" && v != "" {
		return nil, fmt.Errorf("peer stack %s: output %q is %T %v, want a string", p.name, OutPostgresCluster, v, v)
	}
	return &peer, nil
}

// chromadb reads where the peer keeps its ChromaDB snapshots.
func (p *peerStack) chromadb() (*chromadb.Peer, error) {
	region, err := p.readString(OutAwsRegion)
	if err != nil {
		return nil, err
	}
	bucket, err := p.readString(OutChromaBucket)
	if err != nil {
		return nil, err
	}
	return &chromadb.Peer{AwsRegion: region, Bucket: bucket}, nil
}
