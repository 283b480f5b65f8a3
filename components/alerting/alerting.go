// Package alerting is the region's alerting: the SLO and alert catalog
// (package slo) as PrometheusRule resources, the Alertmanager routing as a
// secret kube-prometheus-stack's Alertmanager reads, and the Grafana
// dashboards as ConfigMaps its sidecar loads.
package alerting

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"strings"

	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/slo"
	"gopkg.in/yaml.v3"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:alerting:Alerting"

// Defaults and fixed names.
const (
	// DefaultNamespace is where kube-prometheus-stack runs.
	DefaultNamespace = "monitoring"
	// RuleSelectorLabel is kube-prometheus-stack's default ruleSelector
	// (release: <release name>); the monitoring component installs the
	// chart as release "kube-prometheus-stack".
	RuleSelectorLabel = "kube-prometheus-stack"
	// ConfigSecretKey is the key Alertmanager reads from its configSecret.
	ConfigSecretKey = "alertmanager.yaml"
	// ConfigSecretName is the Secret holding alertmanager.yaml; the
	// monitoring component names it as Alertmanager's configSecret.
	ConfigSecretName = "alertmanager-tars"
	// DashboardLabel is the Grafana sidecar's default label selector.
	DashboardLabel = "grafana_dashboard"
)

// Args configures the alerting of one region.
type Args struct {
	// Region is the logical region ("us-east"), added as the region label of
	// every alert so the two regions' pages can be told apart. Required.
	Region string
	// Namespace of Prometheus and Alertmanager; it exists already (the
	// monitoring component creates it). Default DefaultNamespace.
	Namespace string
	// DependsOn is what every object of the component waits for: the
	// namespace and the release that installs prometheus-operator's CRDs
	// (monitoring.Monitoring.Ready). Required: a PrometheusRule created
	// before its CRD fails the whole `pulumi up`.
	DependsOn []pulumi.Resource
	// Notify holds the plain notification settings (stack config tars:alerting).
	Notify Notify
	// Credentials: Pulumi secrets, required.
	PagerDutyCriticalKey pulumi.StringInput
	PagerDutyHighKey     pulumi.StringInput
	// PagerDutyModerateKey (P2) is optional: the on-call wiring's third
	// service; without it P2 goes to Slack only.
	PagerDutyModerateKey pulumi.StringInput
	// PagingDeferred: no PagerDuty keys yet (the on-call wiring's owner
	// has not deployed); P0 and P1 go to e-mail and Slack only.
	PagingDeferred  bool
	SlackWebhookURL pulumi.StringInput
	// DeadMansSwitchURL receives the Watchdog heartbeat. Required (secret).
	DeadMansSwitchURL pulumi.StringInput
	SMTPPassword      pulumi.StringInput
	// GPU: the stack runs the GPU pool (tars:cluster.gpu.enabled), and so
	// NVIDIA's DCGM exporter: render the GPU alerts and panels (every rule
	// and dashboard query reading a DCGM exporter metric). Default false:
	// none of them is rendered.
	GPU bool
}

// Features are the optional catalog parts the stack renders.
func (a Args) Features() slo.Features { return slo.Features{GPU: a.GPU} }

// WithDefaults fills zero fields.
func (a Args) WithDefaults() Args {
	if a.Namespace == "" {
		a.Namespace = DefaultNamespace
	}
	if a.Notify.RunbookBaseURL == "" {
		a.Notify.RunbookBaseURL = slo.RunbookBase
	}
	return a
}

// Validate checks the plain settings; paths use the config spelling of
// tars:alerting where there is one.
func (a Args) Validate() error {
	var p check.Problems
	if u, err := url.Parse(a.Notify.RunbookBaseURL); err != nil || u.Scheme != "https" || u.Host == "" || !strings.HasSuffix(u.Path, "/") || u.RawQuery != "" {
		p.Addf("runbookBaseUrl", "(%q) must be an https:// URL ending in / (the runbook's slug is appended)", a.Notify.RunbookBaseURL)
	}
	if !check.DNSLabel(a.Region, 20) {
		p.Addf("region", "(%q) must be a short lower-case name like us-east", a.Region)
	}
	if !check.DNSLabel(a.Namespace, 63) {
		p.Addf("namespace", "(%q) must be a Kubernetes namespace name", a.Namespace)
	}
	if !strings.HasPrefix(a.Notify.SlackChannel, "#") {
		p.Addf("slackChannel", "(%q) must be a Slack channel like #tars-alerts", a.Notify.SlackChannel)
	}
	if host, port, ok := strings.Cut(a.Notify.SMTPSmarthost, ":"); !ok || host == "" || port == "" {
		p.Addf("smtpSmarthost", "(%q) must be host:port", a.Notify.SMTPSmarthost)
	}
	for _, f := range []struct{ field, value string }{{"smtpFrom", a.Notify.SMTPFrom}, {"emailTo", a.Notify.EmailTo}} {
		if !strings.Contains(f.value, "@") {
			p.Addf(f.field, "(%q) must be an e-mail address", f.value)
		}
	}
	for _, f := range []struct {
		field string
		value pulumi.StringInput
	}{
		{"pagerdutyCriticalRoutingKey", a.PagerDutyCriticalKey}, {"pagerdutyHighRoutingKey", a.PagerDutyHighKey},
		{"slackWebhookUrl", a.SlackWebhookURL}, {"smtpPassword", a.SMTPPassword}, {"deadMansSwitchUrl", a.DeadMansSwitchURL},
	} {
		if a.PagingDeferred && strings.HasPrefix(f.field, "pagerduty") {
			continue
		}
		if f.value == nil {
			p.Addf(f.field, "is required (a Pulumi secret)")
		}
	}
	return p.Err()
}

// Alerting is the component.
type Alerting struct {
	pulumi.ResourceState

	Namespace              pulumi.StringOutput      `pulumi:"namespace"`
	PrometheusRules        pulumi.StringArrayOutput `pulumi:"prometheusRules"`
	AlertmanagerSecretName pulumi.StringOutput      `pulumi:"alertmanagerSecretName"`
	Dashboards             pulumi.StringArrayOutput `pulumi:"dashboards"`
}

// New creates the alerting of a region. Pass the cluster's Kubernetes
// provider in opts (pulumi.Provider); children inherit it.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Alerting, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("alerting %s: invalid args: %w", name, err)
	}
	if len(args.DependsOn) == 0 {
		return nil, fmt.Errorf("alerting %s: invalid args: dependsOn must name what installs the namespace and prometheus-operator's CRDs", name)
	}
	groups, err := slo.AllRuleGroupsFor(context.Background(), args.Features())
	if err != nil {
		return nil, fmt.Errorf("alerting %s: rules: %w", name, err)
	}
	rendered := DashboardsFor(args.Features())
	dashboards := map[string]string{}
	for _, d := range rendered {
		if dashboards[d.UID], err = d.JSON(); err != nil {
			return nil, fmt.Errorf("alerting %s: %w", name, err)
		}
	}
	c := &Alerting{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, fmt.Errorf("alerting %s: register: %w", name, err)
	}
	c.Namespace = pulumi.String(args.Namespace).ToStringOutput()
	if c.PrometheusRules, err = c.newRules(ctx, name, args, groups); err != nil {
		return nil, fmt.Errorf("alerting %s: prometheus rules: %w", name, err)
	}
	if c.AlertmanagerSecretName, err = c.newAlertmanagerConfig(ctx, name, args); err != nil {
		return nil, fmt.Errorf("alerting %s: alertmanager config: %w", name, err)
	}
	if c.Dashboards, err = c.newDashboards(ctx, name, args, rendered, dashboards); err != nil {
		return nil, fmt.Errorf("alerting %s: dashboards: %w", name, err)
	}
	if err := c.newLogRules(ctx, name, args); err != nil {
		return nil, fmt.Errorf("alerting %s: log rules: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"namespace":              c.Namespace,
		"prometheusRules":        c.PrometheusRules,
		"alertmanagerSecretName": c.AlertmanagerSecretName,
		"dashboards":             c.Dashboards,
	}); err != nil {
		return nil, fmt.Errorf("alerting %s: register outputs: %w", name, err)
	}
	return c, nil
}

func partOf() pulumi.StringMap {
	return pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String("tars"), "app.kubernetes.io/managed-by": pulumi.String("pulumi")}
}

// k8sName turns a rule group name ("tars_rag_alerts") into an object name.
func k8sName(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }

// groupSpec renders a rule group as the PrometheusRule spec wants it, with
// the region label on every alert and its runbook under runbookBase.
func groupSpec(g rulefmt.RuleGroup, region, runbookBase string) (map[string]any, error) {
	for i := range g.Rules {
		if g.Rules[i].Alert == "" {
			continue
		}
		if u, ok := g.Rules[i].Annotations["runbook_url"]; ok {
			ann := maps.Clone(g.Rules[i].Annotations)
			ann["runbook_url"] = runbookBase + strings.TrimPrefix(u, slo.RunbookBase)
			g.Rules[i].Annotations = ann
		}
		labels := map[string]string{"region": region}
		for k, v := range g.Rules[i].Labels {
			labels[k] = v
		}
		g.Rules[i].Labels = labels
	}
	b, err := yaml.Marshal(g)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// newRules creates one PrometheusRule per rule group.
func (c *Alerting) newRules(ctx *pulumi.Context, name string, args Args, groups []rulefmt.RuleGroup) (pulumi.StringArrayOutput, error) {
	var names pulumi.StringArray
	for _, g := range groups {
		spec, err := groupSpec(g, args.Region, args.Notify.RunbookBaseURL)
		if err != nil {
			return pulumi.StringArrayOutput{}, fmt.Errorf("group %s: %w", g.Name, err)
		}
		objName := k8sName(g.Name)
		labels := partOf()
		labels["release"] = pulumi.String(RuleSelectorLabel)
		cr, err := apiextensions.NewCustomResource(ctx, name+"-"+objName, &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String("monitoring.coreos.com/v1"),
			Kind:       pulumi.String("PrometheusRule"),
			Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(objName), Namespace: pulumi.String(args.Namespace), Labels: labels},
			OtherFields: kubernetes.UntypedArgs{
				"spec": map[string]any{"groups": []any{spec}},
			},
		}, pulumi.Parent(c), pulumi.DependsOn(args.DependsOn))
		if err != nil {
			return pulumi.StringArrayOutput{}, fmt.Errorf("group %s: %w", g.Name, err)
		}
		names = append(names, cr.Metadata.Name().Elem())
	}
	return names.ToStringArrayOutput(), nil
}

// newAlertmanagerConfig renders alertmanager.yaml inside a Pulumi secret
// and stores it in the Secret that alertmanagerSpec.configSecret names.
func (c *Alerting) newAlertmanagerConfig(ctx *pulumi.Context, name string, args Args) (pulumi.StringOutput, error) {
	orEmpty := func(in pulumi.StringInput) pulumi.StringInput {
		if in == nil {
			return pulumi.String("")
		}
		return in
	}
	rendered := pulumi.All(orEmpty(args.PagerDutyCriticalKey), orEmpty(args.PagerDutyHighKey), args.SlackWebhookURL, args.SMTPPassword, args.DeadMansSwitchURL, orEmpty(args.PagerDutyModerateKey)).
		ApplyT(func(v []any) (string, error) {
			return AlertmanagerConfig(args.Notify, Credentials{
				PagerDutyCriticalKey: v[0].(string), PagerDutyHighKey: v[1].(string),
				SlackWebhookURL: v[2].(string), SMTPPassword: v[3].(string), DeadMansSwitchURL: v[4].(string),
				PagerDutyModerateKey: v[5].(string), PagingDeferred: args.PagingDeferred,
			})
		}).(pulumi.StringOutput)
	secret, err := corev1.NewSecret(ctx, name+"-alertmanager", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ConfigSecretName), Namespace: pulumi.String(args.Namespace), Labels: partOf()},
		Type:     pulumi.String("Opaque"),
		StringData: pulumi.StringMap{
			ConfigSecretKey: pulumi.ToSecret(rendered).(pulumi.StringOutput),
		},
	}, pulumi.Parent(c), pulumi.DependsOn(args.DependsOn))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return secret.Metadata.Name().Elem(), nil
}

// LogRulesConfigMap holds the log alerts as a Loki rule file; Loki's rule
// sidecar loads ConfigMaps labelled LogRuleLabel.
const (
	LogRulesConfigMap = "tars-log-alerts"
	LogRuleLabel      = "loki_rule"
)

// newLogRules renders the catalog's log alerts (slo.LokiRuleGroups), with
// the region label like the Prometheus rules, as one Loki rule file.
func (c *Alerting) newLogRules(ctx *pulumi.Context, name string, args Args) error {
	var groups []map[string]any
	for _, g := range slo.LokiRuleGroups() {
		spec, err := groupSpec(g, args.Region, args.Notify.RunbookBaseURL)
		if err != nil {
			return fmt.Errorf("group %s: %w", g.Name, err)
		}
		groups = append(groups, spec)
	}
	file, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		return err
	}
	labels := partOf()
	labels[LogRuleLabel] = pulumi.String("1")
	_, err = corev1.NewConfigMap(ctx, name+"-log-rules", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(LogRulesConfigMap), Namespace: pulumi.String(args.Namespace), Labels: labels},
		Data:     pulumi.StringMap{"tars-log-alerts.yaml": pulumi.String(string(file))},
	}, pulumi.Parent(c), pulumi.DependsOn(args.DependsOn))
	return err
}

// newDashboards creates one ConfigMap per dashboard for the Grafana sidecar.
func (c *Alerting) newDashboards(ctx *pulumi.Context, name string, args Args, rendered []Dashboard, dashboards map[string]string) (pulumi.StringArrayOutput, error) {
	var names pulumi.StringArray
	for _, d := range rendered {
		labels := partOf()
		labels[DashboardLabel] = pulumi.String("1")
		cm, err := corev1.NewConfigMap(ctx, name+"-dashboard-"+d.UID, &corev1.ConfigMapArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("dashboard-" + d.UID), Namespace: pulumi.String(args.Namespace), Labels: labels},
			Data:     pulumi.StringMap{d.UID + ".json": pulumi.String(dashboards[d.UID])},
		}, pulumi.Parent(c), pulumi.DependsOn(args.DependsOn))
		if err != nil {
			return pulumi.StringArrayOutput{}, fmt.Errorf("dashboard %s: %w", d.UID, err)
		}
		names = append(names, cm.Metadata.Name().Elem())
	}
	return names.ToStringArrayOutput(), nil
}
