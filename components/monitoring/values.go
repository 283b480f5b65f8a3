package monitoring

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
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
}

type prometheusValues struct {
	PrometheusSpec prometheusSpec `json:"prometheusSpec"`
}

// prometheusSpec is the Prometheus custom resource the chart writes.
type prometheusSpec struct {
	// Replicas, Retention and ScrapeInterval are the seed's numbers, from
	// the slo catalog the alert timing is computed against.
	Replicas           int    `json:"replicas"`
	Retention          string `json:"retention"`
	ScrapeInterval     string `json:"scrapeInterval"`
	EvaluationInterval string `json:"evaluationInterval"`
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

// promDuration writes a duration as Prometheus spells it ("30d", "15s").
func promDuration(d time.Duration) string { return model.Duration(d).String() }

// kubePrometheusStack is the chart block's args for the release.
func kubePrometheusStack(a Args, ns pulumi.Resource) chart.Args {
	return chart.Args{
		Chart:             versions.KubePrometheusStack,
		ReleaseName:       ReleaseName,
		Namespace:         a.Namespace,
		NamespaceResource: ns,
		Values: kubePrometheusStackValues{
			Prometheus: prometheusValues{PrometheusSpec: prometheusSpec{
				Replicas:                                slo.PrometheusReplicas,
				Retention:                               promDuration(slo.PrometheusRetention),
				ScrapeInterval:                          promDuration(slo.ScrapeInterval),
				EvaluationInterval:                      promDuration(slo.EvaluationInterval),
				RuleSelectorNilUsesHelmValues:           false,
				ServiceMonitorSelectorNilUsesHelmValues: false,
				PodMonitorSelectorNilUsesHelmValues:     false,
				ProbeSelectorNilUsesHelmValues:          false,
				ExternalLabels:                          map[string]string{"region": a.Region},
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
