package alerting

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tars-platform/infra/slo"
	"gopkg.in/yaml.v3"
)

// Receiver names; the route tests and the policy pack refer to them.
const (
	ReceiverPagerDutyCritical = "pagerduty-critical"
	ReceiverPagerDutyHigh     = "pagerduty-high"
	// ReceiverPagerDutyModerate exists when the on-call wiring gives a P2
	// key (tars:pagerduty.enabled): the tars-production-moderate service.
	ReceiverPagerDutyModerate = "pagerduty-moderate"
	ReceiverSlack             = "slack-alerts"
	ReceiverEmail             = "email-oncall"
	ReceiverNull              = "null"
	// ReceiverDeadMansSwitch gets the always-firing Watchdog alert; the
	// external service pages when it stops arriving (Alertmanager or its
	// Prometheus is down, or the path between them is broken).
	ReceiverDeadMansSwitch = "dead-mans-switch"
)

// Severities of kube-prometheus-stack's default rules: critical routes
// like P1, warning like P3, info and none (Watchdog, InfoInhibitor) nowhere.
const (
	chartCritical = "critical"
	chartWarning  = "warning"
	chartInfo     = "info"
)

// ChartSeverities are the plan severities the routes below give the
// charts' own severities (tarsctl verify ranks a firing chart alert by it).
var ChartSeverities = map[string]slo.Severity{chartCritical: slo.P1, chartWarning: slo.P3, chartInfo: slo.P4}

// watchdogRepeat is how often the Watchdog is re-sent to the dead-man's
// switch; the switch should page after a few missed beats.
const watchdogRepeat = time.Minute

// Notify is where non-paging notifications go (plain settings).
type Notify struct {
	// SlackChannel receives P0–P3, e.g. "#tars-alerts". Required.
	SlackChannel string `json:"slackChannel"`
	// SMTPSmarthost is host:port of the mail relay. Required.
	SMTPSmarthost string `json:"smtpSmarthost"`
	SMTPFrom      string `json:"smtpFrom"`
	SMTPUsername  string `json:"smtpUsername"`
	// EmailTo receives P0 and P1 (the on-call list). Required.
	EmailTo string `json:"emailTo"`
	// RunbookBaseURL is where the runbooks (runbooks/<slug>.md) are served:
	// every alert's runbook_url is this plus its runbook's slug. An https
	// URL ending in "/". Default slo.RunbookBase.
	RunbookBaseURL string `json:"runbookBaseUrl,omitempty"`
}

// Credentials are the secret parts of the routing; they only ever exist
// inside a Pulumi secret.
type Credentials struct {
	PagerDutyCriticalKey string
	PagerDutyHighKey     string
	// PagerDutyModerateKey is the P2 service's key; empty: P2 goes to
	// Slack only (the hand-set secrets path has no P2 service).
	PagerDutyModerateKey string
	// PagingDeferred: there are no PagerDuty keys yet (the on-call owner's
	// stack has not deployed); the config has no PagerDuty receiver, and
	// P0 and P1 reach e-mail and Slack only.
	PagingDeferred  bool
	SlackWebhookURL string
	SMTPPassword    string
	// DeadMansSwitchURL receives the Watchdog heartbeat (a dead-man's-switch
	// service's https endpoint, its token in the URL).
	DeadMansSwitchURL string
}

type amConfig struct {
	Global       amGlobal     `yaml:"global"`
	Route        amRoute      `yaml:"route"`
	InhibitRules []amInhibit  `yaml:"inhibit_rules"`
	Receivers    []amReceiver `yaml:"receivers"`
}

type amInhibit struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

// inhibitRules: a firing alert silences every less severe alert of the
// same signal in the same region (the 10 % error rate pages once, as
// CriticalErrorRate, not also as HighErrorRate, ElevatedErrorRate and
// High5xxErrorRate). Every catalog alert carries a signal label, its own
// name when it shares no signal, so an alert never inhibits an unrelated one.
func inhibitRules() []amInhibit {
	ladder := []slo.Severity{slo.P0, slo.P1, slo.P2, slo.P3, slo.P4}
	var out []amInhibit
	for i, hi := range ladder[:len(ladder)-1] {
		out = append(out, amInhibit{
			SourceMatchers: []string{severityIs(hi)},
			TargetMatchers: []string{severityIs(ladder[i+1:]...)},
			Equal:          []string{"signal", "region"},
		})
	}
	// A region whose services are all down raises one page, not one per
	// service and symptom.
	return append(out, amInhibit{
		SourceMatchers: []string{fmt.Sprintf(`alertname="%s"`, slo.RegionDownAlert)},
		TargetMatchers: []string{fmt.Sprintf(`alertname!="%s"`, slo.RegionDownAlert)},
		Equal:          []string{"region"},
	})
}

type amGlobal struct {
	ResolveTimeout   string `yaml:"resolve_timeout"`
	SMTPSmarthost    string `yaml:"smtp_smarthost"`
	SMTPFrom         string `yaml:"smtp_from"`
	SMTPAuthUsername string `yaml:"smtp_auth_username,omitempty"`
	SMTPAuthPassword string `yaml:"smtp_auth_password"`
	SMTPRequireTLS   bool   `yaml:"smtp_require_tls"`
	SlackAPIURL      string `yaml:"slack_api_url"`
}

type amRoute struct {
	Receiver       string    `yaml:"receiver"`
	GroupBy        []string  `yaml:"group_by,omitempty"`
	GroupWait      string    `yaml:"group_wait,omitempty"`
	GroupInterval  string    `yaml:"group_interval,omitempty"`
	RepeatInterval string    `yaml:"repeat_interval,omitempty"`
	Matchers       []string  `yaml:"matchers,omitempty"`
	Continue       bool      `yaml:"continue,omitempty"`
	Routes         []amRoute `yaml:"routes,omitempty"`
}

type amWebhook struct {
	URL          string `yaml:"url"`
	SendResolved bool   `yaml:"send_resolved"`
}

type amReceiver struct {
	Name             string        `yaml:"name"`
	PagerDutyConfigs []amPagerDuty `yaml:"pagerduty_configs,omitempty"`
	WebhookConfigs   []amWebhook   `yaml:"webhook_configs,omitempty"`
	SlackConfigs     []amSlack     `yaml:"slack_configs,omitempty"`
	EmailConfigs     []amEmail     `yaml:"email_configs,omitempty"`
}

// PagerDutySummary is the summary of every PagerDuty event: never empty,
// whatever the grouped alerts say (the Events API refuses an event without
// one, and the common summary is empty as soon as two grouped alerts
// differ). Groups are by alertname and severity; region is the external
// label every Prometheus adds.
const PagerDutySummary = `[{{ .CommonLabels.severity }}] {{ .GroupLabels.alertname }}: ` +
	`{{ .Alerts.Firing | len }} firing in {{ or .CommonLabels.region "an unknown region" }}` +
	`{{ with .CommonAnnotations.summary }} - {{ . }}{{ end }}`

type amPagerDuty struct {
	RoutingKey   string `yaml:"routing_key"`
	Severity     string `yaml:"severity"`
	Description  string `yaml:"description"`
	SendResolved bool   `yaml:"send_resolved"`
}

type amSlack struct {
	Channel      string `yaml:"channel"`
	Title        string `yaml:"title"`
	Text         string `yaml:"text"`
	SendResolved bool   `yaml:"send_resolved"`
}

type amEmail struct {
	To           string `yaml:"to"`
	SendResolved bool   `yaml:"send_resolved"`
}

func dur(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	if d%time.Minute == 0 {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// severityIn matches any of the severities, catalog or chart.
func severityIn(s ...string) string {
	return fmt.Sprintf(`severity=~"%s"`, strings.Join(s, "|"))
}

func severityIs(s ...slo.Severity) string {
	if len(s) == 1 {
		return fmt.Sprintf(`severity="%s"`, s[0])
	}
	re := ""
	for i, x := range s {
		if i > 0 {
			re += "|"
		}
		re += string(x)
	}
	return fmt.Sprintf(`severity=~"%s"`, re)
}

// AlertmanagerConfig renders alertmanager.yaml: alerts grouped by alertname
// and severity (group_wait 30s, group_interval 5m, repeat 4h); P0 pages
// PagerDuty's critical service and P1 its high one, both continuing to the
// on-call e-mail and to Slack; P2 pages the moderate service when there is
// one (tars:pagerduty) and goes to Slack, as P3 does; P4 is logged only.
func AlertmanagerConfig(n Notify, c Credentials) (string, error) {
	// Alertmanager (and the operator before it) refuses a config whose
	// Slack URL is not a URL: no Alertmanager would run at all. The value is
	// a secret, so the message does not show it.
	for _, u := range []struct{ key, value, what string }{
		{"tars:slackWebhookUrl", c.SlackWebhookURL, "the Slack incoming-webhook URL"},
		{"tars:deadMansSwitchUrl", c.DeadMansSwitchURL, "the dead-man's-switch endpoint"},
	} {
		if p, err := url.Parse(u.value); err != nil || p.Scheme != "https" || p.Host == "" {
			return "", fmt.Errorf("%s: must be an https:// URL (%s; the value is a secret and not shown)", u.key, u.what)
		}
	}
	for _, k := range []struct{ key, value string }{
		{"tars:pagerdutyCriticalRoutingKey", c.PagerDutyCriticalKey}, {"tars:pagerdutyHighRoutingKey", c.PagerDutyHighKey},
	} {
		if strings.TrimSpace(k.value) == "" && !c.PagingDeferred {
			return "", fmt.Errorf("%s: must not be empty", k.key)
		}
	}
	text := `{{ range .Alerts }}*{{ .Annotations.summary }}*` + "\n" +
		`{{ .Annotations.description }}` + "\n" + `Runbook: {{ .Annotations.runbook_url }} | Dashboard: {{ .Annotations.dashboard }}` + "\n" + `{{ end }}`
	cfg := amConfig{
		Global: amGlobal{
			ResolveTimeout: "5m", SMTPSmarthost: n.SMTPSmarthost, SMTPFrom: n.SMTPFrom, SMTPAuthUsername: n.SMTPUsername,
			SMTPAuthPassword: c.SMTPPassword, SMTPRequireTLS: true, SlackAPIURL: c.SlackWebhookURL,
		},
		Route: amRoute{
			Receiver:       ReceiverSlack,
			GroupBy:        []string{"alertname", "severity"},
			GroupWait:      dur(slo.GroupWait),
			GroupInterval:  dur(slo.GroupInterval),
			RepeatInterval: dur(slo.RepeatInterval),
			Routes: []amRoute{
				{Matchers: []string{`alertname="Watchdog"`}, Receiver: ReceiverDeadMansSwitch, GroupWait: "0s", GroupInterval: dur(watchdogRepeat), RepeatInterval: dur(watchdogRepeat)},
				{Matchers: []string{severityIs(slo.P0)}, Receiver: ReceiverPagerDutyCritical, Continue: true},
				{Matchers: []string{severityIn(string(slo.P1), chartCritical)}, Receiver: ReceiverPagerDutyHigh, Continue: true},
				{Matchers: []string{severityIn(string(slo.P0), string(slo.P1), chartCritical)}, Receiver: ReceiverEmail, Continue: true},
				{Matchers: []string{severityIs(slo.P2)}, Receiver: ReceiverPagerDutyModerate, Continue: true},
				{Matchers: []string{severityIn(string(slo.P4), chartInfo, "none")}, Receiver: ReceiverNull},
				{Matchers: []string{severityIn(string(slo.P0), string(slo.P1), string(slo.P2), string(slo.P3), chartCritical, chartWarning)}, Receiver: ReceiverSlack},
			},
		},
		InhibitRules: inhibitRules(),
		Receivers: []amReceiver{
			{Name: ReceiverPagerDutyCritical, PagerDutyConfigs: []amPagerDuty{{RoutingKey: c.PagerDutyCriticalKey, Severity: "critical", Description: PagerDutySummary, SendResolved: true}}},
			{Name: ReceiverPagerDutyHigh, PagerDutyConfigs: []amPagerDuty{{RoutingKey: c.PagerDutyHighKey, Severity: "error", Description: PagerDutySummary, SendResolved: true}}},
			{Name: ReceiverPagerDutyModerate, PagerDutyConfigs: []amPagerDuty{{RoutingKey: c.PagerDutyModerateKey, Severity: "warning", Description: PagerDutySummary, SendResolved: true}}},
			{Name: ReceiverEmail, EmailConfigs: []amEmail{{To: n.EmailTo, SendResolved: true}}},
			{Name: ReceiverSlack, SlackConfigs: []amSlack{{Channel: n.SlackChannel, Title: `[{{ .CommonLabels.severity }}] {{ .CommonLabels.alertname }}`, Text: text, SendResolved: true}}},
			{Name: ReceiverNull},
			{Name: ReceiverDeadMansSwitch, WebhookConfigs: []amWebhook{{URL: c.DeadMansSwitchURL}}},
		},
	}
	drop := func(name string) {
		cfg.Route.Routes = slices.DeleteFunc(cfg.Route.Routes, func(r amRoute) bool { return r.Receiver == name })
		cfg.Receivers = slices.DeleteFunc(cfg.Receivers, func(r amReceiver) bool { return r.Name == name })
	}
	if strings.TrimSpace(c.PagerDutyModerateKey) == "" || c.PagingDeferred {
		drop(ReceiverPagerDutyModerate)
	}
	if c.PagingDeferred {
		drop(ReceiverPagerDutyCritical)
		drop(ReceiverPagerDutyHigh)
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("alertmanager config: %w", err)
	}
	return string(b), nil
}
