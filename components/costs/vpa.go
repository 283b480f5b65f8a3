package costs

import (
	"fmt"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/internal/netpol"
	"github.com/tars-platform/infra/internal/podsecurity"
	"k8s.io/apimachinery/pkg/api/resource"
)

// VPA names.
const (
	// VPARelease and VPANamespace: the recommender, updater and admission
	// controller (vertical-pod-autoscaler 0.11.0, VPA 1.7.1).
	VPARelease   = "vpa"
	VPANamespace = "vpa-system"
	// vpaAPIVersion is the VerticalPodAutoscaler CRD the chart installs.
	vpaAPIVersion = "autoscaling.k8s.io/v1"
)

// UpdateMode is a VerticalPodAutoscaler's spec.updatePolicy.updateMode
// (seed 003 "VPA Update Modes").
type UpdateMode string

const (
	// ModeOff only recommends; nothing is applied.
	ModeOff UpdateMode = "Off"
	// ModeInitial sets resources when a pod is created, never evicts.
	ModeInitial UpdateMode = "Initial"
	// ModeRecreate evicts pods whose resources are far from the
	// recommendation and sets them on the replacement.
	ModeRecreate UpdateMode = "Recreate"
	// ModeAuto is Recreate today (in place where the cluster allows it).
	ModeAuto UpdateMode = "Auto"
)

// evicts reports whether the mode evicts running pods.
func (m UpdateMode) evicts() bool { return m == ModeAuto || m == ModeRecreate }

// ControlledValues is what VPA changes: requests and limits in proportion,
// or requests only.
type ControlledValues string

const (
	RequestsAndLimits ControlledValues = "RequestsAndLimits"
	RequestsOnly      ControlledValues = "RequestsOnly"
)

// Workload is what a VPA sizes: a controller whose scale subresource
// selects the pods (Deployment, StatefulSet, a CloudNativePG Cluster).
type Workload struct {
	APIVersion, Kind, Namespace, Name string
	// Stateful: the pods hold data (a database, a vector store, a model
	// cache). The seed's rule is Initial for stateful workloads: an
	// eviction costs a failover or a cold cache, so VPA may size them only
	// when a pod is created anyway. Validate refuses Auto and Recreate.
	Stateful bool
}

// VPA is one VerticalPodAutoscaler object.
type VPA struct {
	// Name of the object (the seed's name).
	Name string
	// Target is the workload.
	Target Workload
	// Mode is the update mode.
	Mode UpdateMode
	// Min and Max bound every container's recommendation.
	Min, Max chart.ResourceList
	// ControlledValues: default RequestsAndLimits.
	ControlledValues ControlledValues
	// Why explains the mode and values where they are not the obvious
	// choice; it is written on the object as an annotation.
	Why string
}

// SeedTargets are the workloads of the seed's six VPA objects in this
// program. The application's (backend, UI, ChromaDB, Ollama) are deployed
// later, by the application; until they exist their VPAs recommend
// nothing and change nothing.
type SeedTargets struct {
	// AppNamespace holds the application's workloads.
	AppNamespace string
	// Postgres is the region's CloudNativePG Cluster; Redis the Redis
	// Cluster's StatefulSet. Both are stateful whatever the caller says.
	Postgres, Redis Workload
}

// SeedVPAs is seed 003's table ("VPA Configurations Created"): name, mode,
// min and max per container. Two modes differ from the seed, each for a
// reason written on the row.
func SeedVPAs(t SeedTargets) []VPA {
	app := func(kind, name string, stateful bool) Workload {
		return Workload{APIVersion: "apps/v1", Kind: kind, Namespace: t.AppNamespace, Name: name, Stateful: stateful}
	}
	rl := func(cpu, mem string) chart.ResourceList { return chart.ResourceList{CPU: cpu, Memory: mem} }
	t.Postgres.Stateful, t.Redis.Stateful = true, true
	return []VPA{
		{Name: "tars-backend", Target: app("Deployment", "tars-backend", false), Mode: ModeAuto, Min: rl("500m", "512Mi"), Max: rl("4000m", "8Gi")},
		{Name: "tars-ui", Target: app("Deployment", "tars-ui", false), Mode: ModeAuto, Min: rl("100m", "128Mi"), Max: rl("1000m", "2Gi")},
		{Name: "postgres-primary", Target: t.Postgres, Mode: ModeOff, Min: rl("1000m", "2Gi"), Max: rl("8000m", "16Gi"),
			Why: "the seed says Initial; CloudNativePG creates the instance pods itself and rolls any pod whose resources differ from the Cluster's, " +
				"so a VPA that rewrites them at admission would fight the operator. Off keeps the recommendation; apply it through postgres.cpuRequest/cpuLimit/memoryMb"},
		{Name: "redis-cluster", Target: t.Redis, Mode: ModeInitial, Min: rl("250m", "512Mi"), Max: rl("2000m", "4Gi"), ControlledValues: RequestsOnly,
			Why: "requests only: the memory limit is what maxmemory is sized against, so VPA may not lower it below maxmemory plus the AOF rewrite headroom"},
		{Name: "chromadb", Target: app("StatefulSet", "chromadb", true), Mode: ModeInitial, Min: rl("500m", "1Gi"), Max: rl("4000m", "16Gi"),
			Why: "the seed says Auto, but ChromaDB keeps its collections on its volume: the seed's own rule, Initial for stateful workloads, applies"},
		{Name: "ollama", Target: app("Deployment", "ollama", true), Mode: ModeInitial, Min: rl("1000m", "4Gi"), Max: rl("8000m", "32Gi")},
	}
}

// Validate reports every problem of one object, by field.
func (v VPA) Validate() error {
	var p check.Problems
	if !check.DNSLabel(v.Name, 63) {
		p.Addf("name", "(%q) must be a DNS label", v.Name)
	}
	t := v.Target
	if t.APIVersion == "" || t.Kind == "" {
		p.Addf("target", "needs an apiVersion and a kind")
	}
	if !check.DNSLabel(t.Namespace, 63) {
		p.Addf("target.namespace", "(%q) must be a namespace name", t.Namespace)
	}
	if !check.DNSLabel(t.Name, 63) {
		p.Addf("target.name", "(%q) must be an object name", t.Name)
	}
	switch v.Mode {
	case ModeOff, ModeInitial, ModeRecreate, ModeAuto:
	default:
		p.Addf("mode", "(%q) must be Off, Initial, Recreate or Auto", v.Mode)
	}
	if t.Stateful && v.Mode.evicts() {
		p.Addf("mode", "(%s) evicts running pods; %s %s is stateful: use Initial (or Off)", v.Mode, t.Kind, t.Name)
	}
	switch v.ControlledValues {
	case "", RequestsAndLimits, RequestsOnly:
	default:
		p.Addf("controlledValues", "(%q) must be RequestsAndLimits or RequestsOnly", v.ControlledValues)
	}
	for _, r := range []struct {
		field    string
		min, max string
	}{{"cpu", v.Min.CPU, v.Max.CPU}, {"memory", v.Min.Memory, v.Max.Memory}} {
		lo, errLo := resource.ParseQuantity(r.min)
		if errLo != nil {
			p.Addf("min."+r.field, "(%q) is not a quantity", r.min)
		}
		hi, errHi := resource.ParseQuantity(r.max)
		if errHi != nil {
			p.Addf("max."+r.field, "(%q) is not a quantity", r.max)
		}
		if errLo == nil && errHi == nil && lo.Cmp(hi) > 0 {
			p.Addf("min."+r.field, "(%s) is above max.%s (%s)", r.min, r.field, r.max)
		}
	}
	return p.Err()
}

// validateVPAs checks every object and that names are unique.
func validateVPAs(vpas []VPA) error {
	var p check.Problems
	seen := map[string]bool{}
	for _, v := range vpas {
		if err := v.Validate(); err != nil {
			p.Merge("vpas."+v.Name+".", err)
		}
		key := v.Target.Namespace + "/" + v.Name
		if seen[key] {
			p.Addf("vpas."+v.Name, "is declared twice in namespace %s", v.Target.Namespace)
		}
		seen[key] = true
	}
	return p.Err()
}

// manifest is the VerticalPodAutoscaler object's body.
func (v VPA) manifest() map[string]any {
	policy := map[string]any{
		"containerName": "*",
		"minAllowed":    map[string]any{"cpu": v.Min.CPU, "memory": v.Min.Memory},
		"maxAllowed":    map[string]any{"cpu": v.Max.CPU, "memory": v.Max.Memory},
	}
	if v.ControlledValues != "" {
		policy["controlledValues"] = string(v.ControlledValues)
	}
	return map[string]any{
		"targetRef":      map[string]any{"apiVersion": v.Target.APIVersion, "kind": v.Target.Kind, "name": v.Target.Name},
		"updatePolicy":   map[string]any{"updateMode": string(v.Mode)},
		"resourcePolicy": map[string]any{"containerPolicies": []any{policy}},
	}
}

// vpaValues are the values set on vertical-pod-autoscaler 0.11.0.
type vpaValues struct {
	// The chart's default (non-root 65534) plus what Pod Security's
	// restricted level asks, for every part.
	PodSecurityContext       chart.PodSecurityContext       `json:"podSecurityContext"`
	ContainerSecurityContext chart.ContainerSecurityContext `json:"containerSecurityContext"`
	AdmissionController      vpaAdmission                   `json:"admissionController"`
	Recommender              vpaComponent                   `json:"recommender"`
	Updater                  vpaComponent                   `json:"updater"`
}

type vpaComponent struct {
	Replicas  int             `json:"replicas"`
	Resources chart.Resources `json:"resources"`
}

type vpaAdmission struct {
	vpaComponent
	// The webhook's serving certificate comes from cert-manager (already
	// in the cluster) instead of the chart's certgen hook Jobs.
	CertGen     enabled        `json:"certGen"`
	CertManager vpaCertManager `json:"certManager"`
}

type enabled struct {
	Enabled bool `json:"enabled"`
}

type vpaCertManager struct {
	Enabled                bool    `json:"enabled"`
	CreateSelfSignedIssuer enabled `json:"createSelfSignedIssuer"`
}

// vpaReplicas: each part twice (one leads, one waits), as the chart's
// PodDisruptionBudgets (minAvailable 1) expect.
const vpaReplicas = 2

// vpaUID is the chart's default user (nobody).
const vpaUID = 65534

func vpaRelease(a Args) chart.Args {
	small := chart.Burstable(chart.ResourceList{CPU: "50m", Memory: "128Mi"}, chart.ResourceList{CPU: "500m", Memory: "512Mi"})
	return chart.Args{
		Chart: versions.VerticalPodAutoscaler, ReleaseName: VPARelease, Namespace: VPANamespace,
		PodSecurity: podsecurity.Policy{Level: podsecurity.Restricted},
		// cert-manager's CRDs and webhook serve the admission controller's certificate.
		DependsOn: a.CertManager,
		Tags:      a.Tags,
		// The control plane to the admission controller (container port
		// 8000); Prometheus to each part's "prometheus" port.
		NetworkPolicies: append(netpol.Webhook("webhook", a.ControlPlane, map[string]string{
			"app.kubernetes.io/name": "vertical-pod-autoscaler", "app.kubernetes.io/instance": VPARelease, "app.kubernetes.io/component": "admission-controller",
		}, 8000), netpol.Scrape("metrics", a.MonitoringNamespace, map[string]string{"app.kubernetes.io/instance": VPARelease}, "prometheus")),
		Values: vpaValues{
			PodSecurityContext:       chart.RestrictedPod(vpaUID),
			ContainerSecurityContext: chart.RestrictedContainer(),
			AdmissionController: vpaAdmission{
				vpaComponent: vpaComponent{Replicas: vpaReplicas, Resources: small},
				CertManager:  vpaCertManager{Enabled: true, CreateSelfSignedIssuer: enabled{Enabled: true}},
			},
			// The recommender keeps a histogram per container: it grows with
			// the pods it watches.
			Recommender: vpaComponent{Replicas: vpaReplicas, Resources: chart.Burstable(chart.ResourceList{CPU: "50m", Memory: "256Mi"}, chart.ResourceList{CPU: "1", Memory: "1Gi"})},
			Updater:     vpaComponent{Replicas: vpaReplicas, Resources: small},
		},
	}
}

// String names the object for errors.
func (v VPA) String() string { return fmt.Sprintf("%s/%s", v.Target.Namespace, v.Name) }

// whyAnnotation carries a row's reason on its object, for whoever reads
// the VPA in the cluster.
const whyAnnotation = "tars.io/why"

func vpaMetadata(v VPA) *metav1.ObjectMetaArgs {
	m := &metav1.ObjectMetaArgs{
		Name: pulumi.String(v.Name), Namespace: pulumi.String(v.Target.Namespace),
		Labels: pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String("tars"), "app.kubernetes.io/managed-by": pulumi.String("pulumi")},
	}
	if v.Why != "" {
		m.Annotations = pulumi.StringMap{whyAnnotation: pulumi.String(v.Why)}
	}
	return m
}
