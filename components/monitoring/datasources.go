package monitoring

import (
	"fmt"

	"github.com/tars-platform/infra/slo"
)

// Data source uids: fixed, so dashboards, alerts' links and the trace ↔
// log links name them; the alerting component's dashboards use
// PrometheusUID.
const (
	// PrometheusUID is Thanos query (through query-frontend): both
	// replicas deduplicated, 30 days from the sidecars and 90 from the
	// bucket. The default data source.
	PrometheusUID = "prometheus"
	// PrometheusLocalUID is one replica's Prometheus directly: recent data
	// when Thanos is unavailable.
	PrometheusLocalUID = "prometheus-local"
	AlertmanagerUID    = "alertmanager"
	LokiUID            = "loki"
	JaegerUID          = "jaeger"
)

// Release names of the logs and traces stacks in the same namespace; the
// data sources point at their services.
const (
	LokiReleaseName   = "loki"
	JaegerReleaseName = "jaeger"
	// JaegerQueryPort is Jaeger v2's query HTTP port.
	JaegerQueryPort = 16686
)

// AlertmanagerPort is the kube-prometheus-stack Alertmanager Service's port.
const AlertmanagerPort = 9093

// AlertmanagerURL is the region's Alertmanager inside the cluster: Grafana
// reads it, Loki's ruler sends to it.
func AlertmanagerURL(namespace string) string {
	return fmt.Sprintf("http://%s-alertmanager.%s.svc.cluster.local:%d", ReleaseName, namespace, AlertmanagerPort)
}

// datasourcesFile is a Grafana provisioning file.
type datasourcesFile struct {
	APIVersion  int          `json:"apiVersion"`
	Datasources []datasource `json:"datasources"`
}

type datasource struct {
	Name      string         `json:"name"`
	UID       string         `json:"uid"`
	Type      string         `json:"type"`
	Access    string         `json:"access"`
	URL       string         `json:"url"`
	IsDefault bool           `json:"isDefault"`
	Editable  bool           `json:"editable"`
	JSONData  datasourceJSON `json:"jsonData"`
}

// datasourceJSON holds the settings of every type used; each type reads
// its own and omitempty drops the rest.
type datasourceJSON struct {
	// Prometheus: the scrape interval (the smallest step worth asking
	// for), the server flavour, POST for long queries.
	TimeInterval   string `json:"timeInterval,omitempty"`
	PrometheusType string `json:"prometheusType,omitempty"`
	HTTPMethod     string `json:"httpMethod,omitempty"`
	// Alertmanager.
	Implementation             string `json:"implementation,omitempty"`
	HandleGrafanaManagedAlerts *bool  `json:"handleGrafanaManagedAlerts,omitempty"`
	// Loki: a log line's trace id opens the trace in Jaeger.
	MaxLines      int            `json:"maxLines,omitempty"`
	DerivedFields []derivedField `json:"derivedFields,omitempty"`
	// Jaeger: a span opens its service's logs around the span's time.
	TracesToLogsV2 *tracesToLogs `json:"tracesToLogsV2,omitempty"`
}

type derivedField struct {
	Name          string `json:"name"`
	MatcherRegex  string `json:"matcherRegex"`
	DatasourceUID string `json:"datasourceUid"`
	// URL is the internal link's query; "$$" is a literal "$" in a
	// provisioning file.
	URL string `json:"url"`
}

type tracesToLogs struct {
	DatasourceUID      string     `json:"datasourceUid"`
	SpanStartTimeShift string     `json:"spanStartTimeShift"`
	SpanEndTimeShift   string     `json:"spanEndTimeShift"`
	FilterByTraceID    bool       `json:"filterByTraceID"`
	Tags               []traceTag `json:"tags"`
}

type traceTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// provisionedDatasources are Grafana's data sources in namespace ns.
func provisionedDatasources(ns string) datasourcesFile {
	no := false
	svc := func(name string, port int) string {
		return fmt.Sprintf("http://%s.%s.svc.cluster.local:%d", name, ns, port)
	}
	scrape := promDuration(slo.ScrapeInterval)
	return datasourcesFile{APIVersion: 1, Datasources: []datasource{
		{Name: "Thanos", UID: PrometheusUID, Type: "prometheus", Access: "proxy", URL: QueryFrontendURL(ns), IsDefault: true,
			JSONData: datasourceJSON{TimeInterval: scrape, PrometheusType: "Thanos", HTTPMethod: "POST"}},
		{Name: "Prometheus (this replica, 30 d)", UID: PrometheusLocalUID, Type: "prometheus", Access: "proxy", URL: svc(ReleaseName+"-prometheus", 9090),
			JSONData: datasourceJSON{TimeInterval: scrape, PrometheusType: "Prometheus", HTTPMethod: "POST"}},
		{Name: "Alertmanager", UID: AlertmanagerUID, Type: "alertmanager", Access: "proxy", URL: AlertmanagerURL(ns),
			JSONData: datasourceJSON{Implementation: "prometheus", HandleGrafanaManagedAlerts: &no}},
		{Name: "Loki", UID: LokiUID, Type: "loki", Access: "proxy", URL: svc(LokiReleaseName+"-gateway", 80),
			JSONData: datasourceJSON{MaxLines: 1000, DerivedFields: []derivedField{{
				Name: "TraceID", MatcherRegex: `(?:trace_id|traceID)[=:]"?(\w+)`, DatasourceUID: JaegerUID, URL: "$${__value.raw}",
			}}}},
		{Name: "Jaeger", UID: JaegerUID, Type: "jaeger", Access: "proxy", URL: svc(JaegerReleaseName, JaegerQueryPort),
			JSONData: datasourceJSON{TracesToLogsV2: &tracesToLogs{
				DatasourceUID: LokiUID, SpanStartTimeShift: "-5m", SpanEndTimeShift: "5m", FilterByTraceID: true,
				Tags: []traceTag{{Key: "service.name", Value: "service_name"}},
			}}},
	}}
}
