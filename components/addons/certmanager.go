package addons

import (
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/netpol"
	"github.com/tars-platform/infra/internal/podsecurity"
)

// cert-manager settings.
const (
	// CertManagerNamespace is cert-manager's own namespace (created).
	CertManagerNamespace = "cert-manager"
	// CertManagerReplicas runs every cert-manager Deployment twice, as its
	// chart recommends for production: the webhook answers the API server
	// for every Certificate and Issuer, so one replica is an outage on
	// every node drain. The controller and cainjector elect a leader; the
	// second replica is a warm standby.
	CertManagerReplicas = 2
)

// certManagerValues are the values this program sets on the cert-manager
// chart (values.yaml of v1.21.1); everything else keeps the chart default.
type certManagerValues struct {
	CRDs certManagerCRDs `json:"crds"`
	certManagerDeployment
	Webhook    certManagerDeployment `json:"webhook"`
	CAInjector certManagerDeployment `json:"cainjector"`
}

type certManagerCRDs struct {
	// Enabled installs the CRDs with the release (off by default in the
	// chart): the Barman Cloud plugin and the load balancer controller's
	// webhook certificates need them.
	Enabled bool `json:"enabled"`
	// Keep leaves the CRDs in place if the release is uninstalled, so an
	// uninstall never garbage-collects every Certificate in the cluster.
	Keep bool `json:"keep"`
}

// certManagerDeployment is what the chart lets us set for each of its
// three Deployments (controller at the top level, webhook, cainjector).
type certManagerDeployment struct {
	ReplicaCount              int                              `json:"replicaCount"`
	PodDisruptionBudget       enabled                          `json:"podDisruptionBudget"`
	Resources                 chart.Resources                  `json:"resources"`
	TopologySpreadConstraints []chart.TopologySpreadConstraint `json:"topologySpreadConstraints"`
}

// enabled is a chart switch: {enabled: true}.
type enabled struct {
	Enabled bool `json:"enabled"`
}

// certManager is cert-manager's release: CRDs on and kept, two replicas of
// each Deployment with a disruption budget (the chart's default
// minAvailable 1) and spread over the zones.
func certManager(a Args) chart.Args {
	// name is the app.kubernetes.io/name the chart gives each Deployment's
	// pods; with the release and the component it is the chart's selector.
	deployment := func(name, component string, res chart.Resources) certManagerDeployment {
		return certManagerDeployment{
			ReplicaCount:        CertManagerReplicas,
			PodDisruptionBudget: enabled{Enabled: true},
			Resources:           res,
			TopologySpreadConstraints: chart.ZoneSpread(map[string]string{
				"app.kubernetes.io/name":      name,
				"app.kubernetes.io/instance":  versions.CertManager.Name,
				"app.kubernetes.io/component": component,
			}),
		}
	}
	return chart.Args{
		Chart:     versions.CertManager,
		Namespace: CertManagerNamespace,
		// The controller, cainjector, webhook and startup check run as
		// non-root with the runtime's seccomp profile and no capabilities.
		PodSecurity: podsecurity.Policy{Level: podsecurity.Restricted},
		Values: certManagerValues{
			CRDs: certManagerCRDs{Enabled: true, Keep: true},
			certManagerDeployment: deployment("cert-manager", "controller",
				chart.Burstable(chart.ResourceList{CPU: "50m", Memory: "128Mi"}, chart.ResourceList{CPU: "500m", Memory: "512Mi"})),
			Webhook: deployment("webhook", "webhook",
				chart.Burstable(chart.ResourceList{CPU: "20m", Memory: "64Mi"}, chart.ResourceList{CPU: "200m", Memory: "128Mi"})),
			CAInjector: deployment("cainjector", "cainjector",
				chart.Burstable(chart.ResourceList{CPU: "20m", Memory: "128Mi"}, chart.ResourceList{CPU: "200m", Memory: "512Mi"})),
		},
		Tags: a.Tags,
		// The webhook's serving port (container port "https", 10250) from
		// the control plane; every part's metrics port from Prometheus.
		NetworkPolicies: append(netpol.Webhook("webhook", a.ControlPlane, map[string]string{
			"app.kubernetes.io/name": "webhook", "app.kubernetes.io/instance": versions.CertManager.Name, "app.kubernetes.io/component": "webhook",
		}, "https"), netpol.Scrape("metrics", monitoringNamespace(a), map[string]string{"app.kubernetes.io/instance": versions.CertManager.Name}, 9402)),
	}
}

// monitoringNamespace is a.MonitoringNamespace or "monitoring".
func monitoringNamespace(a Args) string {
	if a.MonitoringNamespace == "" {
		return "monitoring"
	}
	return a.MonitoringNamespace
}
