// Package harness runs the Pulumi program in-process under pulumi.WithMocks
// with a stack's real config (Pulumi.yaml defaults overlaid by
// Pulumi.<stack>.yaml, secrets replaced by marked placeholders) and records
// every registered resource, so tests and `tarsctl plan` can look at the
// whole graph after the run returns. Nothing here reaches a cloud.
package harness

import (
	"errors"
	"fmt"
	"github.com/tars-platform/infra/components/chromadb"
	"github.com/tars-platform/infra/tests/fakecloud"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/postgres"
	"github.com/tars-platform/infra/internal/pki"
	"github.com/tars-platform/infra/stacks"
)

// Option adjusts a run.
type Option func(*runOptions)

type runOptions struct {
	dir     string
	edits   []func(*StackConfig) error
	program pulumi.RunFunc
	// custom: WithProgram replaced the platform's program (and its keys).
	custom   bool
	peer     map[string]any
	peerSecs []string
	update   bool
	// peeringPending: the peer has not requested the VPC peering yet.
	peeringPending bool
}

// WithProjectDir runs against the Pulumi.yaml in dir instead of the nearest one.
func WithProjectDir(dir string) Option { return func(o *runOptions) { o.dir = dir } }

// WithConfig sets a config value at a path ("tars:cluster.nodeGroups[0].maxSize").
func WithConfig(path string, value any) Option {
	return WithConfigEdit(func(c *StackConfig) error { return c.Set(path, value) })
}

// WithoutConfig removes a config key or field.
func WithoutConfig(path string) Option {
	return WithConfigEdit(func(c *StackConfig) error { return c.Delete(path) })
}

// WithSecretConfig sets a config key as a secret, as `pulumi config set --secret` would.
func WithSecretConfig(key string, value any) Option {
	return WithConfigEdit(func(c *StackConfig) error {
		c.Secret[key] = true
		return c.Set(key, value)
	})
}

// WithConfigEdit applies an arbitrary edit to the stack config before the run.
func WithConfigEdit(edit func(*StackConfig) error) Option {
	return func(o *runOptions) { o.edits = append(o.edits, edit) }
}

// WithProgram runs fn instead of stacks.Deploy, with the same config and
// mocks: use it to test one component on its own.
func WithProgram(fn pulumi.RunFunc) Option {
	return func(o *runOptions) { o.program, o.custom = fn, true }
}

// WithUpdate runs the program as `pulumi up` runs it (ctx.DryRun false)
// instead of as a preview.
func WithUpdate() Option { return func(o *runOptions) { o.update = true } }

// WithPeeringNotRequested runs the stack as if its peer had not requested
// the VPC peering yet (the accepter's first deployment).
func WithPeeringNotRequested() Option { return func(o *runOptions) { o.peeringPending = true } }

// WithPeerOutputs replaces the peer stack's outputs the StackReference returns.
func WithPeerOutputs(outputs map[string]any, secret ...string) Option {
	return func(o *runOptions) { o.peer, o.peerSecs = outputs, secret }
}

// Run runs the program for stack and returns its graph. A program error is
// returned together with the graph recorded up to that point.
func Run(stack string, opts ...Option) (*Graph, error) {
	o := runOptions{program: stacks.Deploy}
	for _, opt := range opts {
		opt(&o)
	}
	if o.dir == "" {
		d, err := ProjectDir()
		if err != nil {
			return nil, err
		}
		o.dir = d
	}
	base, err := LoadStackConfig(o.dir, stack)
	if err != nil {
		return nil, err
	}
	cfg := base.Clone()
	for _, edit := range o.edits {
		if err := edit(cfg); err != nil {
			return nil, err
		}
	}
	// What the platform's program checks through PULUMI_CONFIG under
	// `pulumi up`: no key in the project's namespace it does not read.
	if !o.custom {
		if err := stacks.CheckConfigKeys(slices.Collect(maps.Keys(cfg.Values))); err != nil {
			return nil, fmt.Errorf("stack %s: invalid config:\n%w", stack, err)
		}
	}
	values, secrets, err := cfg.runtimeConfig()
	if err != nil {
		return nil, err
	}
	if o.peer == nil {
		o.peer, o.peerSecs, err = mockPeerOutputs(o.dir, cfg)
		if err != nil {
			return nil, err
		}
	}
	region, _ := values["aws:region"]
	m := &mocks{project: cfg.Project, stack: stack, awsRegion: region, peerOutputs: o.peer, peerSecrets: o.peerSecs,
		requestedPeering: requestedPeering(cfg, o.peeringPending)}
	g := &Graph{Stack: stack, Config: cfg}
	program := o.program
	start := time.Now()
	runErr := pulumi.RunErr(func(ctx *pulumi.Context) error {
		err := program(ctx)
		for k := range ctx.GetCurrentExportMap() {
			g.Exports = append(g.Exports, k)
		}
		return err
	}, pulumi.WithMocks(cfg.Project, stack, m), func(info *pulumi.RunInfo) {
		info.Config = values
		info.ConfigSecretKeys = secrets
		// A plan is a preview; WithUpdate runs it as `pulumi up` would.
		info.DryRun = !o.update
	})
	g.ProgramTime = time.Since(start)
	slices.Sort(g.Exports)
	m.mu.Lock()
	g.Resources = slices.Clone(m.resources)
	g.Invokes = slices.Clone(m.invokes)
	g.InvokeArgs = slices.Clone(m.invokeArgs)
	m.mu.Unlock()
	g.index()
	if runErr != nil {
		return g, programError(stack, runErr)
	}
	return g, nil
}

// requestedPeering is the peering connection the peer stack requested to
// this one, with the ID the requester's own mock gives it; none when this
// stack requests (or the peer has not yet).
func requestedPeering(cfg *StackConfig, pending bool) fakecloud.Peering {
	topo, _ := cfg.Values["tars:topology"].(map[string]any)
	cl, _ := cfg.Values["tars:cluster"].(map[string]any)
	region, _ := topo["region"].(string)
	peer, _ := topo["peerRegion"].(string)
	if pending || peer == "" || region < peer {
		return fakecloud.Peering{}
	}
	peerCidr, _ := topo["peerVpcCidr"].(string)
	cidr, _ := cl["vpcCidr"].(string)
	return fakecloud.Peering{
		ID:            mockID("aws:ec2/vpcPeeringConnection:VpcPeeringConnection", peer+"-to-"+region),
		RequesterCidr: peerCidr, AccepterCidr: cidr,
	}
}

// PeerOutputs returns the outputs the mocks give stack's peer by default
// (from the peer's own stack file), to edit and pass to WithPeerOutputs.
func PeerOutputs(stack string) (map[string]any, error) {
	dir, err := ProjectDir()
	if err != nil {
		return nil, err
	}
	cfg, err := LoadStackConfig(dir, stack)
	if err != nil {
		return nil, err
	}
	out, _, err := mockPeerOutputs(dir, cfg)
	return out, err
}

// mockPeerOutputs builds the outputs the peer stack would export, from the
// peer's own stack file (its region, AWS region, VPC block and AZ count), so
// the owner stack's peering sees realistic, consistent facts.
func mockPeerOutputs(dir string, cfg *StackConfig) (map[string]any, []string, error) {
	topo, _ := cfg.Values["tars:topology"].(map[string]any)
	peerStack, _ := topo["peerStack"].(string)
	if peerStack == "" {
		return map[string]any{}, nil, nil
	}
	peer, err := LoadStackConfig(dir, peerStack)
	if err != nil {
		// A peer that only exists on Pulumi Cloud ("org/tars/us-west") has no
		// local file: the peer facts then come from WithPeerOutputs.
		return map[string]any{}, nil, nil
	}
	peerTopo, _ := peer.Values["tars:topology"].(map[string]any)
	peerCluster, _ := peer.Values["tars:cluster"].(map[string]any)
	awsRegion, _ := peer.Values["aws:region"].(string)
	zones := mockZones[awsRegion]
	n := 3
	if v, ok := peerCluster["availabilityZones"].(int); ok {
		n = v
	}
	if len(zones) < n {
		return nil, nil, fmt.Errorf("harness: peer stack %s wants %d AZs, mock region %q has %d", peerStack, n, awsRegion, len(zones))
	}
	routeTables := map[string]any{}
	for _, z := range zones[:n] {
		routeTables[z] = mockID("aws:ec2/routeTable:RouteTable", z)
	}
	name, _ := peerCluster["name"].(string)
	// The CA the peer's program creates (internal/pki, as the tls fake computes it).
	peerRegion := fmt.Sprint(peerTopo["region"])
	peerCA, err := fakecloud.CACertPEM(peerRegion+"-postgres-server-ca", postgres.ServerCACommonName(peerRegion), pki.Organization, pki.ValidityHours)
	if err != nil {
		return nil, nil, fmt.Errorf("harness: the peer's server CA: %w", err)
	}
	values := map[string]any{
		stacks.OutRegion:               peerTopo["region"],
		stacks.OutAwsRegion:            awsRegion,
		stacks.OutAccountID:            MockAccountID,
		stacks.OutVpcID:                mockID("aws:ec2/vpc:Vpc", peerStack),
		stacks.OutVpcCidr:              peerCluster["vpcCidr"],
		stacks.OutPrivateRouteTableIDs: routeTables,
		stacks.OutClusterName:          name,
		stacks.OutClusterEndpoint:      "https://" + name + ".eks.amazonaws.com",
		stacks.OutOIDCProviderArn:      "arn:aws:iam::" + MockAccountID + ":oidc-provider/oidc.eks." + awsRegion + ".amazonaws.com/id/" + name,
		stacks.OutKubeconfig:           "{}",
		stacks.OutPostgresBucket:       postgres.BucketName(MockAccountID, awsRegion),
		stacks.OutPostgresEndpoint:     "internal-" + postgres.ClusterName(fmt.Sprint(peerTopo["region"])) + ".elb." + awsRegion + ".amazonaws.com",
		stacks.OutPostgresCluster:      postgres.ClusterName(fmt.Sprint(peerTopo["region"])),
		stacks.OutPostgresServerCA:     peerCA,
		stacks.OutAPIEndpoint:          "k8s-tars-tarsapip-" + fmt.Sprint(peerTopo["region"]) + "." + awsRegion + ".elb.amazonaws.com",
		stacks.OutCloudflarePool:       "",
		stacks.OutChromaBucket:         chromadb.BucketName(MockAccountID, awsRegion),
		stacks.OutHealthCheckID:        mockID("aws:route53/healthCheck:HealthCheck", peerStack),
		stacks.OutDNSZoneID:            "Z0MOCKZONE",
		stacks.OutJWTSecret:            "mock-jwt-secret-of-the-peer-0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
		stacks.OutDNSFailoverName:      "api-failover.tars.example.com",
		stacks.OutTopology: map[string]any{"singletonsOwner": peerTopo["singletonsOwner"], "postgresPrimary": peerTopo["postgresPrimary"],
			"dnsPrimary": peerTopo["dnsPrimary"], "promotionToken": false},
	}
	for _, k := range stacks.RegionOutputs {
		if _, ok := values[k]; !ok {
			return nil, nil, fmt.Errorf("harness: no mock value for peer output %q (stacks/contract.go); add one in mockPeerOutputs", k)
		}
	}
	return values, []string{stacks.OutKubeconfig}, nil
}

// programError unwraps the multierror pulumi.RunErr wraps a program's error
// in, and names the stack unless the program already did.
func programError(stack string, err error) error {
	var multi interface{ WrappedErrors() []error }
	if errors.As(err, &multi) && len(multi.WrappedErrors()) == 1 {
		err = multi.WrappedErrors()[0]
	}
	if strings.HasPrefix(err.Error(), "stack "+stack+":") {
		return err
	}
	return fmt.Errorf("stack %s: %w", stack, err)
}
