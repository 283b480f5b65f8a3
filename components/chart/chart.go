// Package chart is the one building block through which the platform
// installs third-party software: a pinned Helm chart (components/versions)
// as a helm.sh/v3 Release into its namespace, with typed values and,
// optionally, an IAM role for the chart's service account (IRSA). Every
// component that installs a chart goes through New, so every release has
// the same shape: exact version from its repository, no dependency update,
// hooks run, a bounded wait, bounded history, and values the chart tier
// (tests/charts_test.go) renders and checks offline.
package chart

import (
	"fmt"
	"slices"
	"time"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/internal/netpol"
	"github.com/tars-platform/infra/internal/podsecurity"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:chart:Release"

// Defaults.
const (
	// DefaultTimeout bounds how long `pulumi up` waits for the release's
	// workloads and hooks to become ready: long enough for an image pull
	// and a rollout on a fresh node, short enough that a broken release
	// fails the run instead of hanging it.
	DefaultTimeout = 10 * time.Minute
	// MaxHistory is how many release revisions Helm keeps (one Secret each).
	MaxHistory = 10
	// roleArnAnnotation is the service-account annotation EKS's pod
	// identity webhook reads for IRSA.
	roleArnAnnotation = "eks.amazonaws.com/role-arn"
)

// DefaultServiceAccountPath is where most charts read their service
// account's settings (create, name, annotations).
var DefaultServiceAccountPath = []string{"serviceAccount"}

// builtinNamespaces exist in every cluster; the block never creates them.
var builtinNamespaces = []string{"kube-system", "kube-public", "kube-node-lease", "default"}

// Args installs one chart.
type Args struct {
	// Chart is the pinned chart (components/versions). Required.
	Chart versions.Chart
	// ReleaseName is the Helm release name; charts derive object names and
	// selector labels from it. Default Chart.Name.
	ReleaseName string
	// Namespace the release is installed into. Required. The block creates
	// it unless it is built in (kube-system …) or NamespaceResource is set.
	Namespace string
	// PodSecurity of the namespace the block creates (Pod Security
	// admission labels, and the reason below restricted). Required when
	// the block creates the namespace.
	PodSecurity podsecurity.Policy
	// NamespaceResource is the Namespace another component created and
	// owns (a namespace shared by several releases), or the release that
	// created it (its Helm field); the release waits for it and the block
	// creates none. A custom resource, as in DependsOn.
	NamespaceResource pulumi.Resource
	// Values are the chart's values: a struct whose json tags are the
	// chart's keys (see ToValues). Outputs of other resources go in
	// pulumi.Input fields.
	Values any
	// IRSA, when set, gives the chart's service account an IAM role.
	IRSA *IRSA
	// Timeout bounds the wait for the release. Default DefaultTimeout.
	Timeout time.Duration
	// DependsOn are what must exist before the release is installed: the
	// release that installs CRDs or a webhook this chart uses (its Helm
	// field). Custom resources only: the Go SDK expands a component into its
	// children when the dependent registers, concurrently with the
	// children's own registration, so a component may count none of them.
	DependsOn []pulumi.Resource
	// Tags go on the AWS resources (the IRSA role).
	Tags map[string]string
	// NetworkPolicies admit ingress to the chart's servers. When the block
	// creates the namespace it also creates its default-deny of ingress
	// (netpol.DefaultDeny), so these are all that reaches the pods.
	NetworkPolicies []netpol.Policy
}

// IRSA gives the chart's service account an IAM role. The block writes the
// service account's name and the role ARN annotation into the values, so
// the account the chart creates and the one the role trusts are the same
// by construction (the chart tier checks the rendered ServiceAccount).
type IRSA struct {
	// OIDC and Partition come from the cluster. Required.
	OIDC      cluster.OIDC
	Partition string
	// ServiceAccount is the service account's name. Required.
	ServiceAccount string
	// Policy (inline, least privilege) or ManagedPolicies (AWS-maintained
	// names): at least one is required.
	Policy          *cluster.PolicyDocument
	ManagedPolicies []string
	// ServiceAccountPath is where the chart reads create/name/annotations
	// of its service account. Default DefaultServiceAccountPath.
	ServiceAccountPath []string
}

// WithDefaults fills zero fields.
func (a Args) WithDefaults() Args {
	if a.ReleaseName == "" {
		a.ReleaseName = a.Chart.Name
	}
	if a.Timeout == 0 {
		a.Timeout = DefaultTimeout
	}
	if a.IRSA != nil && len(a.IRSA.ServiceAccountPath) == 0 {
		irsa := *a.IRSA
		irsa.ServiceAccountPath = DefaultServiceAccountPath
		a.IRSA = &irsa
	}
	return a
}

// Validate reports every problem with the args, by field.
func (a Args) Validate() error {
	var p check.Problems
	if a.Chart.Name == "" || a.Chart.Version == "" || a.Chart.Repository == "" {
		p.Addf("chart", "(%+v) must name a pinned chart from components/versions: name, version and repository", a.Chart)
	}
	// Helm refuses release names longer than 53 characters (they end up in
	// labels with suffixes).
	if !check.DNSLabel(a.ReleaseName, 53) {
		p.Addf("releaseName", "(%q) must be a DNS label of at most 53 characters", a.ReleaseName)
	}
	if !check.DNSLabel(a.Namespace, 63) {
		p.Addf("namespace", "(%q) must be a Kubernetes namespace name", a.Namespace)
	}
	for i, d := range a.DependsOn {
		if _, custom := d.(pulumi.CustomResource); !custom {
			p.Addf(fmt.Sprintf("dependsOn[%d]", i), "(%T) is not a custom resource: depend on what it creates (a chart.Release's Helm), or the release may not wait for it", d)
		}
	}
	if a.Timeout < time.Minute {
		p.Addf("timeout", "(%s) must be at least 1m", a.Timeout)
	}
	if a.NamespaceResource == nil && !slices.Contains(builtinNamespaces, a.Namespace) {
		if err := a.PodSecurity.Validate(); err != nil {
			p.Addf("podSecurity", "of namespace %s, which the block creates: %v", a.Namespace, err)
		}
	}
	if a.NamespaceResource != nil {
		if _, custom := a.NamespaceResource.(pulumi.CustomResource); !custom {
			p.Addf("namespaceResource", "(%T) is not a custom resource: pass the Namespace or the Helm release that created it", a.NamespaceResource)
		}
	}
	if a.IRSA != nil {
		i := a.IRSA
		if i.Partition == "" {
			p.Addf("irsa.partition", "is required")
		}
		if !check.DNSLabel(i.ServiceAccount, 253) {
			p.Addf("irsa.serviceAccount", "(%q) must be a Kubernetes service account name", i.ServiceAccount)
		}
		if slices.Contains(i.ServiceAccountPath, "") {
			p.Addf("irsa.serviceAccountPath", "(%q) has an empty key", i.ServiceAccountPath)
		}
		if i.Policy == nil && len(i.ManagedPolicies) == 0 {
			p.Addf("irsa.policy", "is required unless irsa.managedPolicies are given")
		}
		if i.Policy != nil {
			if err := i.Policy.ValidateLeastPrivilege(); err != nil {
				p.Addf("irsa.policy", "%v", err)
			}
		}
	}
	return p.Err()
}

// Release is an installed chart.
type Release struct {
	pulumi.ResourceState

	ReleaseName  pulumi.StringOutput `pulumi:"releaseName"`
	Namespace    pulumi.StringOutput `pulumi:"namespace"`
	ChartVersion pulumi.StringOutput `pulumi:"chartVersion"`
	// Status is Helm's release status ("deployed").
	Status pulumi.StringOutput `pulumi:"status"`
	// RoleArn is the IRSA role's ARN ("" without IRSA).
	RoleArn pulumi.StringOutput `pulumi:"roleArn"`

	// Helm is the release itself.
	Helm *helmv3.Release
}

// New installs a chart. Pass the cluster's Kubernetes provider in opts.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Release, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("chart %s: invalid args: %w", name, err)
	}
	values, err := ToValues(args.Values)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", name, err)
	}
	if args.IRSA != nil {
		if err := nameServiceAccount(values, *args.IRSA); err != nil {
			return nil, fmt.Errorf("chart %s: irsa: %w", name, err)
		}
	}
	r := &Release{}
	if err := ctx.RegisterComponentResource(TypeToken, name, r, opts...); err != nil {
		return nil, fmt.Errorf("chart %s: register: %w", name, err)
	}
	deps := slices.Clone(args.DependsOn)
	ns, err := r.namespace(ctx, name, args)
	if err != nil {
		return nil, fmt.Errorf("chart %s: namespace: %w", name, err)
	}
	if ns != nil {
		deps = append(deps, ns)
	}
	if err := r.networkPolicies(ctx, name, args, ns); err != nil {
		return nil, fmt.Errorf("chart %s: %w", name, err)
	}
	r.RoleArn = pulumi.String("").ToStringOutput()
	if args.IRSA != nil {
		if err := r.serviceAccountRole(ctx, name, args, values); err != nil {
			return nil, fmt.Errorf("chart %s: %w", name, err)
		}
	}
	c := args.Chart
	rel, err := helmv3.NewRelease(ctx, name, &helmv3.ReleaseArgs{
		Name:           pulumi.String(args.ReleaseName),
		Namespace:      pulumi.String(args.Namespace),
		Chart:          pulumi.String(c.Name),
		Version:        pulumi.String(c.Version),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(c.Repository)},
		Values:         values,
		// The archive is used as published: its dependencies are vendored
		// in it, and resolving them again would install something else.
		DependencyUpdate: pulumi.Bool(false),
		CreateNamespace:  pulumi.Bool(false),
		Timeout:          pulumi.Int(int(args.Timeout.Seconds())),
		MaxHistory:       pulumi.Int(MaxHistory),
		// A failed upgrade removes what it created instead of leaving
		// half a release behind.
		CleanupOnFail: pulumi.Bool(true),
	}, pulumi.Parent(r), pulumi.DependsOn(deps))
	if err != nil {
		return nil, fmt.Errorf("chart %s: release: %w", name, err)
	}
	r.Helm = rel
	r.ReleaseName = rel.Status.Name().Elem()
	r.Namespace = rel.Status.Namespace().Elem()
	r.ChartVersion = rel.Status.Version().Elem()
	r.Status = rel.Status.Status()
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{
		"releaseName": r.ReleaseName, "namespace": r.Namespace, "chartVersion": r.ChartVersion,
		"status": r.Status, "roleArn": r.RoleArn,
	}); err != nil {
		return nil, fmt.Errorf("chart %s: register outputs: %w", name, err)
	}
	return r, nil
}

// namespace creates the release's namespace unless it is built in or owned
// elsewhere; it returns what the release must wait for (nil for none).
func (r *Release) namespace(ctx *pulumi.Context, name string, a Args) (pulumi.Resource, error) {
	if a.NamespaceResource != nil {
		return a.NamespaceResource, nil
	}
	if slices.Contains(builtinNamespaces, a.Namespace) {
		return nil, nil
	}
	return corev1.NewNamespace(ctx, name+"-namespace", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(a.Namespace),
			Labels: pulumi.ToStringMap(podsecurity.With(a.PodSecurity.Labels(), map[string]string{
				"app.kubernetes.io/part-of": "tars", "app.kubernetes.io/managed-by": "pulumi",
			})),
			Annotations: pulumi.ToStringMap(a.PodSecurity.Annotations()),
		},
	}, pulumi.Parent(r))
}

// networkPolicies creates the default-deny of a namespace the block
// creates and the release's allows, after the namespace.
func (r *Release) networkPolicies(ctx *pulumi.Context, name string, a Args, ns pulumi.Resource) error {
	policies := a.NetworkPolicies
	if a.NamespaceResource == nil && !slices.Contains(builtinNamespaces, a.Namespace) {
		policies = append([]netpol.Policy{netpol.DefaultDeny()}, policies...)
	}
	opts := []pulumi.ResourceOption{pulumi.Parent(r)}
	if ns != nil {
		opts = append(opts, pulumi.DependsOn([]pulumi.Resource{ns}))
	}
	return netpol.New(ctx, name, a.Namespace, policies, opts...)
}

// nameServiceAccount has the chart create the service account the role
// will trust, by name. It refuses values that set either key otherwise.
func nameServiceAccount(values pulumi.Map, i IRSA) error {
	sa := i.ServiceAccountPath
	if err := setPath(values, append(slices.Clone(sa), "create"), pulumi.Bool(true)); err != nil {
		return err
	}
	if err := setPath(values, append(slices.Clone(sa), "name"), pulumi.String(i.ServiceAccount)); err != nil {
		return err
	}
	// The annotation is set once the role exists; claim its place now so a
	// clash is reported before anything is registered.
	return setPath(values, append(slices.Clone(sa), "annotations", roleArnAnnotation), pulumi.String(""))
}

// serviceAccountRole creates the IRSA role and writes its ARN into the
// service account's annotations.
func (r *Release) serviceAccountRole(ctx *pulumi.Context, name string, a Args, values pulumi.Map) error {
	i := a.IRSA
	role, err := cluster.NewIRSARole(ctx, name+"-irsa", i.OIDC, i.Partition, cluster.IRSAArgs{
		Namespace:       a.Namespace,
		ServiceAccount:  i.ServiceAccount,
		Policy:          i.Policy,
		ManagedPolicies: i.ManagedPolicies,
		Tags:            a.Tags,
	}, r)
	if err != nil {
		return err
	}
	r.RoleArn = role.Arn
	annotations := values
	for _, k := range append(slices.Clone(i.ServiceAccountPath), "annotations") {
		annotations = annotations[k].(pulumi.Map) // created by nameServiceAccount
	}
	annotations[roleArnAnnotation] = role.Arn
	return nil
}
