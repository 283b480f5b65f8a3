package costs

import (
	"math"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/monitoring"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/internal/costmodel"
	"github.com/tars-platform/infra/internal/netpol"
	"github.com/tars-platform/infra/internal/podsecurity"
	"github.com/tars-platform/infra/slo"
)

// Kubecost names.
const (
	KubecostRelease   = "kubecost"
	KubecostNamespace = "kubecost"
	// KubecostURL serves the allocation API (/model/) in the cluster:
	// the chart's frontend Service (port 9090) proxies it.
	KubecostURL = "http://kubecost-frontend." + KubecostNamespace + ".svc.cluster.local:9090"
)

// Prices are Kubecost's custom prices in USD (seed 003 "Pricing
// Configuration"): per core-hour, GB-hour, GPU-hour, GB-hour of storage
// and GB of internet egress.
type Prices struct {
	CPUCoreHour, RAMGBHour, GPUHour, StorageGBHour, EgressGB float64
}

// SeedPrices are seed 003's custom prices.
var SeedPrices = Prices{CPUCoreHour: 0.031611, RAMGBHour: 0.004237, GPUHour: 0.95, StorageGBHour: 0.00014, EgressGB: 0.01}

// Validate reports every price that is not positive.
func (p Prices) Validate() error {
	var pr check.Problems
	for _, f := range []struct {
		field string
		v     float64
	}{{"cpuCoreHour", p.CPUCoreHour}, {"ramGbHour", p.RAMGBHour}, {"gpuHour", p.GPUHour}, {"storageGbHour", p.StorageGBHour}, {"egressGb", p.EgressGB}} {
		if f.v <= 0 {
			pr.Addf(f.field, "(%g) must be a positive price in USD", f.v)
		}
	}
	return pr.Err()
}

// Kubecost configures the region's Kubecost.
type Kubecost struct {
	// Prices: default SeedPrices.
	Prices Prices
	// SlackWebhookURL receives the budget alerts (the alerting
	// component's webhook, so they reach its channel). Required; a secret.
	SlackWebhookURL pulumi.StringInput
	// StorageClass holds Kubecost's database and store. Required.
	StorageClass string
}

// monthly renders an hourly price as the monthly price Kubecost's custom
// pricing takes (it divides by the same 730 hours again), as a string
// (the chart quotes every price, and 1e-06 is not one), to a
// hundred-millionth of a dollar so 0.00014 × 730 reads 0.1022.
func monthly(hourly float64) string {
	return strconv.FormatFloat(math.Round(hourly*costmodel.HoursPerMonth*1e8)/1e8, 'f', -1, 64)
}

// kubecostValues are the values set on kubecost 3.2.1. Kubecost 3 has no
// Prometheus: its agent reads the kubelets through the API server and
// keeps its data in the in-cluster store, so there is no second
// Prometheus; the metrics stack's Prometheus scrapes Kubecost.
type kubecostValues struct {
	Global                 kcGlobal       `json:"global"`
	FinopsAgent            kcAgent        `json:"finopsagent"`
	Aggregator             kcAggregator   `json:"aggregator"`
	Frontend               kcResources    `json:"frontend"`
	LocalStore             kcLocalStore   `json:"localStore"`
	Forecasting            kcResources    `json:"forecasting"`
	NetworkCosts           kcNetworkCosts `json:"networkCosts"`
	CloudCost              enabled        `json:"cloudCost"`
	ClusterController      enabled        `json:"clusterController"`
	Telemetry              enabled        `json:"telemetry"`
	KubecostProductConfigs kcProduct      `json:"kubecostProductConfigs"`
}

type kcGlobal struct {
	ClusterID           string          `json:"clusterId"`
	DefaultStorageClass string          `json:"defaultStorageClass"`
	Notifications       kcNotifications `json:"notifications"`
}

type kcNotifications struct {
	AlertConfigs kcAlertConfigs `json:"alertConfigs"`
}

type kcAlertConfigs struct {
	GlobalSlackWebhookURL pulumi.StringInput `json:"globalSlackWebhookUrl"`
	Alerts                []kcAlert          `json:"alerts"`
}

// kcAlert is a Kubecost budget alert: spend over the window above the
// threshold, aggregated by cluster and filtered to this one.
type kcAlert struct {
	Type        string  `json:"type"`
	Threshold   float64 `json:"threshold"`
	Window      string  `json:"window"`
	Aggregation string  `json:"aggregation"`
	Filter      string  `json:"filter"`
}

type kcAgent struct {
	Agent     kcAgentConfig   `json:"agent"`
	Resources chart.Resources `json:"resources"`
	Metrics   kcAgentMetrics  `json:"metrics"`
}

type kcAgentConfig struct {
	Kubecost kcAgentKubecost `json:"kubecost"`
}

type kcAgentKubecost struct {
	CustomPrices kcCustomPrices `json:"customPrices"`
}

// kcCustomPrices are monthly prices (per core, GB, GPU, GB of storage) and
// per-GB egress, as strings.
type kcCustomPrices struct {
	Enabled               bool   `json:"enabled"`
	CPU                   string `json:"CPU"`
	RAM                   string `json:"RAM"`
	GPU                   string `json:"GPU"`
	Storage               string `json:"storage"`
	InternetNetworkEgress string `json:"internetNetworkEgress"`
}

type kcAgentMetrics struct {
	Enabled        bool             `json:"enabled"`
	ServiceMonitor kcAgentMonitorSM `json:"serviceMonitor"`
}

type kcAgentMonitorSM struct {
	Enabled bool              `json:"enabled"`
	Labels  map[string]string `json:"labels"`
}

type kcMonitor struct {
	Enabled          bool              `json:"enabled"`
	AdditionalLabels map[string]string `json:"additionalLabels"`
}

type kcAggregator struct {
	Resources           chart.Resources `json:"resources"`
	AggregatorDbStorage kcStorage       `json:"aggregatorDbStorage"`
	ServiceMonitor      kcMonitor       `json:"serviceMonitor"`
}

type kcStorage struct {
	StorageRequest string `json:"storageRequest"`
}

type kcResources struct {
	Resources chart.Resources `json:"resources"`
}

type kcLocalStore struct {
	Resources        chart.Resources `json:"resources"`
	PersistentVolume kcVolume        `json:"persistentVolume"`
}

type kcVolume struct {
	Size string `json:"size"`
}

type kcNetworkCosts struct {
	Enabled        bool            `json:"enabled"`
	Resources      chart.Resources `json:"resources"`
	ServiceMonitor kcMonitor       `json:"serviceMonitor"`
}

type kcProduct struct {
	LabelMappingConfigs kcLabels  `json:"labelMappingConfigs"`
	Budgets             kcBudgets `json:"budgets"`
}

// kcLabels map the labels Kubecost allocates by (namespaces need none).
type kcLabels struct {
	TeamLabel        string `json:"team_label"`
	OwnerLabel       string `json:"owner_label"`
	EnvironmentLabel string `json:"environment_label"`
}

type kcBudgets struct {
	BudgetsConfig []kcBudget `json:"budgetsConfig"`
}

type kcBudget struct {
	Name        string           `json:"name"`
	BudgetType  string           `json:"budgetType"`
	Interval    string           `json:"interval"`
	IntervalDay int              `json:"intervalDay"`
	SpendLimit  float64          `json:"spendLimit"`
	Values      kcBudgetScope    `json:"values"`
	Actions     []kcBudgetAction `json:"actions"`
}

type kcBudgetScope struct {
	Cluster []string `json:"cluster"`
}

type kcBudgetAction struct {
	Percentage    int                  `json:"percentage"`
	SlackWebhooks []pulumi.StringInput `json:"slackWebhooks"`
}

// BudgetWarnPercent warns before a budget is spent; 100 % reports it spent.
const BudgetWarnPercent = 80

// Allocation labels: pods and namespaces labelled with these are
// allocated to a team, owner and environment.
const (
	TeamLabel        = "team"
	OwnerLabel       = "owner"
	EnvironmentLabel = "environment"
)

// ReportPodLabels select the tars-report CronJobs' pods (components/reports).
var ReportPodLabels = map[string]string{"app.kubernetes.io/name": "tars-report"}

func kubecostRelease(a Args) chart.Args {
	k := a.Kubecost
	prices := k.Prices
	if prices == (Prices{}) {
		prices = SeedPrices
	}
	sm := kcMonitor{Enabled: true, AdditionalLabels: map[string]string{"release": monitoring.ReleaseName}}
	return chart.Args{
		Chart: versions.Kubecost, ReleaseName: KubecostRelease, Namespace: KubecostNamespace,
		PodSecurity: podsecurity.Policy{Level: podsecurity.Privileged, Reason: "kubecost-network-costs (DaemonSet) reads the node's conntrack table: host network, hostPath nf-conntrack and netfilter, hostPort 3001, privileged; the rest of Kubecost runs restricted"},
		// The ServiceMonitor CRD.
		DependsOn: a.DependsOn,
		Tags:      a.Tags,
		// Kubecost's parts to each other; the report CronJobs (the
		// monitoring namespace) to the frontend's API (KubecostURL, 9090);
		// Prometheus to every port (its ServiceMonitors scrape several).
		// The network-costs DaemonSet is on the host network: no policy
		// applies to it.
		NetworkPolicies: []netpol.Policy{
			{Name: "same-namespace", Rules: []netpol.Rule{{From: []netpol.Peer{netpol.Pods("", map[string]string{})}}}},
			{Name: "reports", PodLabels: map[string]string{"app.kubernetes.io/name": "frontend", "app.kubernetes.io/instance": KubecostRelease},
				Rules: []netpol.Rule{{From: []netpol.Peer{netpol.Pods(a.MonitoringNamespace, ReportPodLabels)}, Ports: []any{9090}}}},
			{Name: "prometheus", Rules: []netpol.Rule{{From: []netpol.Peer{netpol.Prometheus(a.MonitoringNamespace)}}}},
		},
		Values: kubecostValues{
			Global: kcGlobal{
				ClusterID:           a.ClusterName,
				DefaultStorageClass: k.StorageClass,
				Notifications: kcNotifications{AlertConfigs: kcAlertConfigs{
					GlobalSlackWebhookURL: k.SlackWebhookURL,
					// Kubecost budgets run weekly or monthly only: the daily
					// budget is a budget alert over one day.
					Alerts: []kcAlert{{Type: "budget", Threshold: slo.DailyBudgetUSD, Window: "1d", Aggregation: "cluster", Filter: a.ClusterName}},
				}},
			},
			FinopsAgent: kcAgent{
				Agent: kcAgentConfig{Kubecost: kcAgentKubecost{CustomPrices: kcCustomPrices{
					Enabled: true,
					CPU:     monthly(prices.CPUCoreHour), RAM: monthly(prices.RAMGBHour), GPU: monthly(prices.GPUHour),
					Storage: monthly(prices.StorageGBHour),
					// Egress is per GB, not per hour.
					InternetNetworkEgress: strconv.FormatFloat(prices.EgressGB, 'f', -1, 64),
				}}},
				Resources: chart.Burstable(chart.ResourceList{CPU: "200m", Memory: "512Mi"}, chart.ResourceList{CPU: "1", Memory: "2Gi"}),
				Metrics:   kcAgentMetrics{Enabled: true, ServiceMonitor: kcAgentMonitorSM{Enabled: true, Labels: sm.AdditionalLabels}},
			},
			Aggregator: kcAggregator{
				// The chart's 3 GiB request: the embedded database holds
				// 91 days of daily, 49 of hourly data.
				Resources:           chart.Burstable(chart.ResourceList{CPU: "100m", Memory: "3Gi"}, chart.ResourceList{CPU: "2", Memory: "6Gi"}),
				AggregatorDbStorage: kcStorage{StorageRequest: "128Gi"},
				ServiceMonitor:      sm,
			},
			Frontend:    kcResources{Resources: chart.Burstable(chart.ResourceList{CPU: "10m", Memory: "64Mi"}, chart.ResourceList{CPU: "200m", Memory: "256Mi"})},
			LocalStore:  kcLocalStore{Resources: chart.Burstable(chart.ResourceList{CPU: "50m", Memory: "128Mi"}, chart.ResourceList{CPU: "500m", Memory: "512Mi"}), PersistentVolume: kcVolume{Size: "32Gi"}},
			Forecasting: kcResources{Resources: chart.Burstable(chart.ResourceList{CPU: "200m", Memory: "300Mi"}, chart.ResourceList{CPU: "1500m", Memory: "1Gi"})},
			// Measures egress per pod, which the seed's network price
			// needs; privileged, on the host network, one per node.
			NetworkCosts: kcNetworkCosts{Enabled: true, Resources: chart.Burstable(chart.ResourceList{CPU: "50m", Memory: "32Mi"}, chart.ResourceList{CPU: "500m", Memory: "128Mi"}), ServiceMonitor: sm},
			// Cloud cost reads a cloud billing export, which the platform
			// does not set up; the cluster controller acts on the cluster
			// (turn-down, right-sizing), which is the VPA's and the
			// autoscaler's job here; telemetry phones home.
			CloudCost: enabled{}, ClusterController: enabled{}, Telemetry: enabled{},
			KubecostProductConfigs: kcProduct{
				LabelMappingConfigs: kcLabels{TeamLabel: TeamLabel, OwnerLabel: OwnerLabel, EnvironmentLabel: EnvironmentLabel},
				Budgets: kcBudgets{BudgetsConfig: []kcBudget{{
					Name: a.ClusterName + "-monthly", BudgetType: "allocations", Interval: "monthly", IntervalDay: 1,
					SpendLimit: slo.MonthlyBudgetUSD, Values: kcBudgetScope{Cluster: []string{a.ClusterName}},
					Actions: []kcBudgetAction{
						{Percentage: BudgetWarnPercent, SlackWebhooks: []pulumi.StringInput{k.SlackWebhookURL}},
						{Percentage: 100, SlackWebhooks: []pulumi.StringInput{k.SlackWebhookURL}},
					},
				}}},
			},
		},
	}
}
