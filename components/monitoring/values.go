package monitoring

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/slo"
)

// kubePrometheusStackValues are the values this program sets on
// kube-prometheus-stack (values.yaml of 88.5.3); the rest keeps the chart
// defaults (its CRDs, the default Kubernetes rules and dashboards, Grafana
// with the dashboard sidecar, kube-state-metrics, node-exporter).
type kubePrometheusStackValues struct {
	Prometheus   prometheusValues   `json:"prometheus"`
	Alertmanager alertmanagerValues `json:"alertmanager"`
	Grafana      grafanaToggle      `json:"grafana"`
	// The control-plane scrapes are off: EKS runs kube-controller-manager,
	// kube-scheduler and etcd outside the cluster (no endpoints to
	// scrape), and the EKS kube-proxy add-on serves its metrics on
	// 127.0.0.1:10249 only. Left on, their ServiceMonitors have no target
	// up (tarsctl verify's prometheus-targets fails) and the chart's
	// KubeSchedulerDown, KubeControllerManagerDown and KubeProxyDown
	// (absent(up{job=…})) fire forever; the chart drops those rules with
	// the scrapes.
	KubeControllerManager enabledFlag `json:"kubeControllerManager"`
	KubeScheduler         enabledFlag `json:"kubeScheduler"`
	KubeEtcd              enabledFlag `json:"kubeEtcd"`
	KubeProxy             enabledFlag `json:"kubeProxy"`
}

// grafanaToggle: Grafana is its own release (grafana.go), installed after
// its database; the chart still ships its default dashboards as
// ConfigMaps for that Grafana's sidecar.
type grafanaToggle struct {
	Enabled               bool `json:"enabled"`
	ForceDeployDashboards bool `json:"forceDeployDashboards"`
}

type prometheusValues struct {
	PrometheusSpec prometheusSpec `json:"prometheusSpec"`
	// ThanosService is the headless service of the sidecars' gRPC ports
	// Thanos query discovers them by; ThanosServiceMonitor scrapes them.
	ThanosService        enabledFlag `json:"thanosService"`
	ThanosServiceMonitor enabledFlag `json:"thanosServiceMonitor"`
}

type enabledFlag struct {
	Enabled bool `json:"enabled"`
}

// prometheusSpec is the Prometheus custom resource the chart writes.
type prometheusSpec struct {
	// Replicas, Retention and ScrapeInterval are the seed's numbers, from
	// the slo catalog the alert timing is computed against.
	Replicas  int    `json:"replicas"`
	Retention string `json:"retention"`
	// RetentionSize caps the TSDB (blocks, WAL, head chunks) below the
	// volume, so a burst of series deletes old blocks instead of filling
	// the disk; they are in the bucket already.
	RetentionSize string `json:"retentionSize"`
	// ReplicaExternalLabelName is the label that tells the replicas apart
	// (Thanos deduplicates on it); the operator sets it on each replica.
	ReplicaExternalLabelName string `json:"replicaExternalLabelName"`
	// EnforcedSampleLimit is the series guard: a target exposing more
	// samples than this fails its scrape (and kube-prometheus-stack's
	// PrometheusScrapeSampleLimitHit fires) instead of one runaway
	// exporter taking the whole Prometheus towards its ceiling.
	EnforcedSampleLimit int        `json:"enforcedSampleLimit"`
	Thanos              thanosSpec `json:"thanos"`
	ScrapeInterval      string     `json:"scrapeInterval"`
	EvaluationInterval  string     `json:"evaluationInterval"`
	// The *NilUsesHelmValues switches off make Prometheus select every
	// PrometheusRule, ServiceMonitor, PodMonitor and Probe in every
	// namespace, not only those labelled with this release: the program's
	// own rules and monitors and other charts' are all picked up.
	RuleSelectorNilUsesHelmValues           bool              `json:"ruleSelectorNilUsesHelmValues"`
	ServiceMonitorSelectorNilUsesHelmValues bool              `json:"serviceMonitorSelectorNilUsesHelmValues"`
	PodMonitorSelectorNilUsesHelmValues     bool              `json:"podMonitorSelectorNilUsesHelmValues"`
	ProbeSelectorNilUsesHelmValues          bool              `json:"probeSelectorNilUsesHelmValues"`
	ExternalLabels                          map[string]string `json:"externalLabels"`
	Resources                               chart.Resources   `json:"resources"`
	StorageSpec                             storageSpec       `json:"storageSpec"`
	antiAffinity
}

// thanosSpec is the Prometheus custom resource's Thanos sidecar.
type thanosSpec struct {
	ObjectStorageConfig objectStorageConfig `json:"objectStorageConfig"`
	Resources           chart.Resources     `json:"resources"`
}

type objectStorageConfig struct {
	ExistingSecret secretKey `json:"existingSecret"`
}

type secretKey struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

type alertmanagerValues struct {
	AlertmanagerSpec alertmanagerSpec `json:"alertmanagerSpec"`
}

// alertmanagerSpec is the Alertmanager custom resource the chart writes.
type alertmanagerSpec struct {
	Replicas int `json:"replicas"`
	// ConfigSecret is the alerting component's Secret; UseExistingSecret
	// stops the chart from writing a default configuration of its own.
	ConfigSecret      string          `json:"configSecret"`
	UseExistingSecret bool            `json:"useExistingSecret"`
	Resources         chart.Resources `json:"resources"`
	Storage           storageSpec     `json:"storage"`
	antiAffinity
}

// antiAffinity spreads the operator's pods over zones (the chart writes
// the selector from the pods' own labels), preferring rather than
// requiring, so a replica still starts while a zone is down.
type antiAffinity struct {
	PodAntiAffinity            string `json:"podAntiAffinity"`
	PodAntiAffinityTopologyKey string `json:"podAntiAffinityTopologyKey"`
}

func zoneAntiAffinity() antiAffinity {
	return antiAffinity{PodAntiAffinity: "soft", PodAntiAffinityTopologyKey: chart.ZoneLabel}
}

// storageSpec is a StatefulSet volume claim template.
type storageSpec struct {
	VolumeClaimTemplate volumeClaimTemplate `json:"volumeClaimTemplate"`
}

type volumeClaimTemplate struct {
	Spec claimSpec `json:"spec"`
}

type claimSpec struct {
	StorageClassName string         `json:"storageClassName"`
	AccessModes      []string       `json:"accessModes"`
	Resources        claimResources `json:"resources"`
}

type claimResources struct {
	Requests map[string]string `json:"requests"`
}

func volume(class string, gib int) storageSpec {
	return storageSpec{VolumeClaimTemplate: volumeClaimTemplate{Spec: claimSpec{
		StorageClassName: class,
		AccessModes:      []string{"ReadWriteOnce"},
		Resources:        claimResources{Requests: map[string]string{"storage": fmt.Sprintf("%dGi", gib)}},
	}}}
}

// RetentionFraction of the Prometheus volume the TSDB may fill before the
// oldest blocks go: the rest is headroom for compaction, which briefly
// holds a block twice.
const RetentionFraction = 0.8

// retentionSize is the size cap for a volume of gib GiB, in Prometheus's
// base-2 units ("GB" is 2^30 bytes).
func retentionSize(gib int) string { return fmt.Sprintf("%dGB", int(float64(gib)*RetentionFraction)) }

// promDuration writes a duration as Prometheus spells it ("30d", "15s").
func promDuration(d time.Duration) string { return model.Duration(d).String() }

// kubePrometheusStack is the chart block's args for the release.
func kubePrometheusStack(a Args, ns, objstore pulumi.Resource, b *cluster.PrivateBucket) chart.Args {
	return chart.Args{
		Chart:             versions.KubePrometheusStack,
		ReleaseName:       ReleaseName,
		Namespace:         a.Namespace,
		NamespaceResource: ns,
		DependsOn:         []pulumi.Resource{objstore},
		// The sidecar uploads blocks; it never deletes (the compactor does).
		IRSA: &chart.IRSA{
			OIDC: a.OIDC, Partition: a.Partition, ServiceAccount: PrometheusServiceAccount,
			Policy: bucketPolicy(a, b, false), ServiceAccountPath: []string{"prometheus", "serviceAccount"},
		},
		Tags: a.Tags,
		Values: kubePrometheusStackValues{
			Grafana: grafanaToggle{Enabled: false, ForceDeployDashboards: true},
			Prometheus: prometheusValues{ThanosService: enabledFlag{true}, ThanosServiceMonitor: enabledFlag{true}, PrometheusSpec: prometheusSpec{
				Replicas:                 slo.PrometheusReplicas,
				Retention:                promDuration(slo.PrometheusRetention),
				RetentionSize:            retentionSize(a.PrometheusStorageGiB),
				ReplicaExternalLabelName: ReplicaLabel,
				EnforcedSampleLimit:      a.ScrapeSampleLimit,
				Thanos: thanosSpec{
					ObjectStorageConfig: objectStorageConfig{ExistingSecret: secretKey{Name: ObjstoreSecret, Key: ObjstoreKey}},
					Resources:           chart.Burstable(chart.ResourceList{CPU: "50m", Memory: "128Mi"}, chart.ResourceList{CPU: "500m", Memory: "512Mi"}),
				},
				ScrapeInterval:                          promDuration(slo.ScrapeInterval),
				EvaluationInterval:                      promDuration(slo.EvaluationInterval),
				RuleSelectorNilUsesHelmValues:           false,
				ServiceMonitorSelectorNilUsesHelmValues: false,
				PodMonitorSelectorNilUsesHelmValues:     false,
				ProbeSelectorNilUsesHelmValues:          false,
				ExternalLabels:                          map[string]string{RegionLabel: a.Region},
				Resources:                               chart.Burstable(chart.ResourceList{CPU: "500m", Memory: "4Gi"}, chart.ResourceList{CPU: "2", Memory: "8Gi"}),
				StorageSpec:                             volume(a.StorageClass, a.PrometheusStorageGiB),
				antiAffinity:                            zoneAntiAffinity(),
			}},
			Alertmanager: alertmanagerValues{AlertmanagerSpec: alertmanagerSpec{
				Replicas:          slo.AlertmanagerReplicas,
				ConfigSecret:      a.AlertmanagerConfigSecret,
				UseExistingSecret: true,
				Resources:         chart.Burstable(chart.ResourceList{CPU: "50m", Memory: "128Mi"}, chart.ResourceList{CPU: "500m", Memory: "256Mi"}),
				Storage:           volume(a.StorageClass, a.AlertmanagerStorageGiB),
				antiAffinity:      zoneAntiAffinity(),
			}},
		},
	}
}
