package monitoring

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/slo"
)

// GrafanaTypeToken is the Grafana component's Pulumi type.
const GrafanaTypeToken = "tars:monitoring:Grafana"

// Grafana names.
const (
	// GrafanaReleaseName is the release; the Deployment and Service are
	// named after it.
	GrafanaReleaseName = "grafana"
	// GrafanaDatabase is the database and role on the region's Postgres.
	GrafanaDatabase = "grafana"
	// GrafanaDBConnections bounds the role's connections: two replicas
	// with Grafana's default pool, with room for a rolling update.
	GrafanaDBConnections = 20
	// Secrets the component writes from Pulumi secrets.
	GrafanaAdminSecret = "grafana-admin"
	GrafanaDBSecret    = "grafana-db"
	GrafanaOAuthSecret = "grafana-oauth"
	// DashboardLabel is what the dashboard sidecar loads ConfigMaps by, in
	// every namespace: the alerting component's and the charts' dashboards.
	DashboardLabel      = "grafana_dashboard"
	DashboardLabelValue = "1"
	// MinSecretLength of the admin password and the database password.
	MinSecretLength = 16
)

// Grafana roles an OAuth group can map to.
var GrafanaRoles = []string{"Admin", "Editor", "Viewer"}

// OAuth is Grafana's generic OAuth2 login (tars:grafana.oauth).
type OAuth struct {
	// Name is the button's label ("T.A.R.S. SSO"). Required.
	Name string `json:"name"`
	// ClientID of the application registered with the identity provider.
	// Required. The client secret is tars:grafanaOauthClientSecret.
	ClientID string `json:"clientId"`
	// AuthURL, TokenURL and APIURL (userinfo) of the provider: https. Required.
	AuthURL  string `json:"authUrl"`
	TokenURL string `json:"tokenUrl"`
	APIURL   string `json:"apiUrl"`
	// Scopes requested. Default DefaultOAuthScopes.
	Scopes []string `json:"scopes,omitempty"`
	// AllowedDomains: only users whose e-mail is in one of these may sign
	// in. Required (an open sign-up is not a default).
	AllowedDomains []string `json:"allowedDomains"`
	// GroupsAttribute is the userinfo/ID-token claim listing the user's
	// groups. Default "groups".
	GroupsAttribute string `json:"groupsAttribute,omitempty"`
	// RoleMapping gives the members of groups a Grafana role; the first
	// that matches wins, in the order Admin, Editor, Viewer. Required.
	RoleMapping []RoleMapping `json:"roleMapping"`
	// DefaultRole of a signed-in user no mapping matches: Viewer, or
	// "None" to refuse them. Default "Viewer".
	DefaultRole string `json:"defaultRole,omitempty"`
}

// RoleMapping maps identity-provider groups to a Grafana role.
type RoleMapping struct {
	// Role is Admin, Editor or Viewer.
	Role string `json:"role"`
	// Groups whose members get Role.
	Groups []string `json:"groups"`
}

// DefaultOAuthScopes are OpenID Connect's with the groups claim.
var DefaultOAuthScopes = []string{"openid", "email", "profile", "groups"}

// WithDefaults fills zero fields.
func (o OAuth) WithDefaults() OAuth {
	if len(o.Scopes) == 0 {
		o.Scopes = DefaultOAuthScopes
	}
	check.Default(&o.GroupsAttribute, "groups")
	check.Default(&o.DefaultRole, "Viewer")
	return o
}

// Validate reports every problem, by field (under the config key's path).
func (o OAuth) Validate(p *check.Problems) {
	if strings.TrimSpace(o.Name) == "" {
		p.Addf("oauth.name", "is required")
	}
	if strings.TrimSpace(o.ClientID) == "" {
		p.Addf("oauth.clientId", "is required")
	}
	for _, f := range []struct{ field, v string }{{"authUrl", o.AuthURL}, {"tokenUrl", o.TokenURL}, {"apiUrl", o.APIURL}} {
		if u, err := url.Parse(f.v); err != nil || u.Scheme != "https" || u.Host == "" {
			p.Addf("oauth."+f.field, "(%q) must be an https URL", f.v)
		}
	}
	if len(o.AllowedDomains) == 0 {
		p.Addf("oauth.allowedDomains", "is required: without it anyone the provider knows could sign in")
	}
	for i, d := range o.AllowedDomains {
		if !check.DNSName(d) {
			p.Addf(fmt.Sprintf("oauth.allowedDomains[%d]", i), "(%q) must be a domain name", d)
		}
	}
	if !jmesIdentifier(o.GroupsAttribute) {
		p.Addf("oauth.groupsAttribute", "(%q) must be a claim name (letters, digits, _)", o.GroupsAttribute)
	}
	if len(o.RoleMapping) == 0 {
		p.Addf("oauth.roleMapping", "is required: map at least the admins' group to Admin")
	}
	seen := map[string]bool{}
	for i, m := range o.RoleMapping {
		f := fmt.Sprintf("oauth.roleMapping[%d]", i)
		if !slices.Contains(GrafanaRoles, m.Role) {
			p.Addf(f+".role", "(%q) must be one of %v", m.Role, GrafanaRoles)
		} else if seen[m.Role] {
			p.Addf(f+".role", "(%q) is mapped twice; list all its groups once", m.Role)
		}
		seen[m.Role] = true
		if len(m.Groups) == 0 {
			p.Addf(f+".groups", "is empty")
		}
		for j, g := range m.Groups {
			if g == "" || strings.ContainsAny(g, `'\`) {
				p.Addf(fmt.Sprintf("%s.groups[%d]", f, j), "(%q) must be a non-empty group name without quotes or backslashes", g)
			}
		}
	}
	if o.DefaultRole != "Viewer" && o.DefaultRole != "None" {
		p.Addf("oauth.defaultRole", "(%q) must be Viewer or None", o.DefaultRole)
	}
}

func jmesIdentifier(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// RoleAttributePath is the JMESPath Grafana evaluates on the user's claims
// to pick the role: Admin's groups first, then Editor's, then Viewer's,
// else DefaultRole (with None the login is refused: role_attribute_strict).
func (o OAuth) RoleAttributePath() string {
	var parts []string
	for _, role := range GrafanaRoles {
		i := slices.IndexFunc(o.RoleMapping, func(m RoleMapping) bool { return m.Role == role })
		if i < 0 {
			continue
		}
		var any []string
		for _, g := range o.RoleMapping[i].Groups {
			any = append(any, fmt.Sprintf("contains(%s[*], '%s')", o.GroupsAttribute, g))
		}
		cond := strings.Join(any, " || ")
		if len(any) > 1 {
			cond = "(" + cond + ")"
		}
		parts = append(parts, fmt.Sprintf("%s && '%s'", cond, role))
	}
	if o.DefaultRole != "None" {
		parts = append(parts, "'"+o.DefaultRole+"'")
	}
	return strings.Join(parts, " || ")
}

// GrafanaArgs configures the region's Grafana.
type GrafanaArgs struct {
	// Namespace of the metrics stack (Monitoring.Namespace). Default DefaultNamespace.
	Namespace string
	// RootURL is the public URL users open (OAuth redirects to it). Required.
	RootURL string
	// OAuth is the login. Required.
	OAuth OAuth
	// OAuthClientSecret, AdminPassword and DBPassword are Pulumi secrets.
	// Required. The admin account is the break-glass login when the
	// identity provider is down.
	OAuthClientSecret pulumi.StringInput
	AdminPassword     pulumi.StringInput
	DBPassword        pulumi.StringInput
	// DBHost is the Postgres primary Grafana writes to (postgres
	// Database.PrimaryHost); DBPort its port. Required.
	DBHost string
	DBPort int
	// DependsOn: the database (its Database object) and the monitoring
	// stack's release. Custom resources only.
	DependsOn []pulumi.Resource
	// NamespaceResource is the monitoring namespace. Required.
	NamespaceResource pulumi.Resource
	// Zone is the public hosted zone RootURL's host is in (tars:dns.zone). Required.
	Zone string
	// AllowedCidrs may reach the load balancer. Default DefaultGrafanaAllowedCidrs.
	AllowedCidrs []string
	// IngressDependsOn: the load balancer controller's release.
	IngressDependsOn []pulumi.Resource
	// Tags go on the AWS resources (certificate, load balancer).
	Tags map[string]string
}

// WithDefaults fills zero fields.
func (a GrafanaArgs) WithDefaults() GrafanaArgs {
	check.Default(&a.Namespace, DefaultNamespace)
	a.OAuth = a.OAuth.WithDefaults()
	if len(a.AllowedCidrs) == 0 {
		a.AllowedCidrs = DefaultGrafanaAllowedCidrs
	}
	return a
}

// ValidateConfig checks what the stack config decides: the URL and the login.
func (a GrafanaArgs) ValidateConfig() error {
	var p check.Problems
	a.validateConfig(&p)
	return p.Err()
}

func (a GrafanaArgs) validateConfig(p *check.Problems) {
	if u, err := url.Parse(a.RootURL); err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Port() != "" {
		p.Addf("rootUrl", "(%q) must be the https URL users open Grafana at (no port)", a.RootURL)
	} else if host := u.Hostname(); !strings.HasSuffix(host, "."+a.Zone) || !check.DNSName(host) {
		p.Addf("rootUrl", "(%q) must be a name in the zone %s (tars:dns.zone), where its certificate is validated", a.RootURL, a.Zone)
	}
	for i, c := range a.AllowedCidrs {
		if _, err := check.IPv4Prefix(c); err != nil {
			p.Addf(fmt.Sprintf("allowedCidrs[%d]", i), "(%q) must be an IPv4 CIDR block: %v", c, err)
		}
	}
	a.OAuth.Validate(p)
}

// Validate reports every problem, by field.
func (a GrafanaArgs) Validate() error {
	var p check.Problems
	if !check.DNSLabel(a.Namespace, 63) {
		p.Addf("namespace", "(%q) must be a Kubernetes namespace name", a.Namespace)
	}
	a.validateConfig(&p)
	if a.OAuthClientSecret == nil || a.AdminPassword == nil || a.DBPassword == nil {
		p.Addf("oauthClientSecret", "adminPassword and dbPassword are required (Pulumi secrets)")
	}
	if a.DBHost == "" {
		p.Addf("dbHost", "is required: the region's Postgres primary")
	}
	if a.DBPort < 1 || a.DBPort > 65535 {
		p.Addf("dbPort", "(%d) must be a port", a.DBPort)
	}
	if a.NamespaceResource == nil {
		p.Addf("namespaceResource", "is required")
	}
	return p.Err()
}

// Grafana is the component.
type Grafana struct {
	pulumi.ResourceState

	// URL is RootURL.
	URL pulumi.StringOutput `pulumi:"url"`
}

// NewGrafana creates the region's Grafana. Pass the cluster's Kubernetes
// provider in opts.
func NewGrafana(ctx *pulumi.Context, name string, args GrafanaArgs, opts ...pulumi.ResourceOption) (*Grafana, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("grafana %s: invalid args: %w", name, err)
	}
	g := &Grafana{}
	if err := ctx.RegisterComponentResource(GrafanaTypeToken, name, g, opts...); err != nil {
		return nil, fmt.Errorf("grafana %s: register: %w", name, err)
	}
	secrets, err := g.newSecrets(ctx, name, args)
	if err != nil {
		return nil, fmt.Errorf("grafana %s: secrets: %w", name, err)
	}
	rel := grafanaRelease(args)
	rel.DependsOn = append(append(rel.DependsOn, args.DependsOn...), secrets...)
	release, err := chart.New(ctx, name+"-release", rel, pulumi.Parent(g))
	if err != nil {
		return nil, fmt.Errorf("grafana %s: %w", name, err)
	}
	if err := g.newEdge(ctx, name, args, release.Helm); err != nil {
		return nil, fmt.Errorf("grafana %s: edge: %w", name, err)
	}
	g.URL = pulumi.String(args.RootURL).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(g, pulumi.Map{"url": g.URL}); err != nil {
		return nil, fmt.Errorf("grafana %s: register outputs: %w", name, err)
	}
	return g, nil
}

// newSecrets writes the three credentials; the passwords are checked for
// length when their values are known.
func (g *Grafana) newSecrets(ctx *pulumi.Context, name string, a GrafanaArgs) ([]pulumi.Resource, error) {
	long := func(what string, v pulumi.StringInput) pulumi.StringOutput {
		return pulumi.ToSecret(v.ToStringOutput().ApplyT(func(s string) (string, error) {
			if len(s) < MinSecretLength {
				return "", fmt.Errorf("grafana: the %s is %d characters; it must be at least %d", what, len(s), MinSecretLength)
			}
			return s, nil
		})).(pulumi.StringOutput)
	}
	var out []pulumi.Resource
	for _, s := range []struct {
		suffix, name string
		data         pulumi.StringMap
	}{
		{"admin", GrafanaAdminSecret, pulumi.StringMap{"admin-user": pulumi.String("admin"), "admin-password": long("admin password", a.AdminPassword)}},
		{"db", GrafanaDBSecret, pulumi.StringMap{"password": long("database password", a.DBPassword)}},
		{"oauth", GrafanaOAuthSecret, pulumi.StringMap{"client-secret": pulumi.ToSecret(a.OAuthClientSecret).(pulumi.StringOutput)}},
	} {
		sec, err := corev1.NewSecret(ctx, name+"-"+s.suffix, &corev1.SecretArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(s.name), Namespace: pulumi.String(a.Namespace), Labels: pulumi.StringMap{
				"app.kubernetes.io/name": pulumi.String("grafana"), "app.kubernetes.io/part-of": pulumi.String("tars"),
			}},
			StringData: s.data,
		}, pulumi.Parent(g), pulumi.DependsOn([]pulumi.Resource{a.NamespaceResource}))
		if err != nil {
			return nil, err
		}
		out = append(out, sec)
	}
	return out, nil
}

// grafanaValues are the values set on the grafana 12.11.1 chart.
type grafanaValues struct {
	Replicas                  int                              `json:"replicas"`
	PodDisruptionBudget       podDisruptionBudget              `json:"podDisruptionBudget"`
	TopologySpreadConstraints []chart.TopologySpreadConstraint `json:"topologySpreadConstraints"`
	Resources                 chart.Resources                  `json:"resources"`
	// Persistence off: everything Grafana keeps is in Postgres.
	Persistence    enabledFlag                `json:"persistence"`
	TestFramework  enabledFlag                `json:"testFramework"`
	Admin          grafanaAdmin               `json:"admin"`
	EnvValueFrom   map[string]envSource       `json:"envValueFrom"`
	GrafanaIni     grafanaIni                 `json:"grafana.ini"`
	Datasources    map[string]datasourcesFile `json:"datasources"`
	Sidecar        grafanaSidecar             `json:"sidecar"`
	ServiceMonitor enabledFlag                `json:"serviceMonitor"`
}

type grafanaAdmin struct {
	ExistingSecret string `json:"existingSecret"`
	UserKey        string `json:"userKey"`
	PasswordKey    string `json:"passwordKey"`
}

type envSource struct {
	SecretKeyRef secretKey `json:"secretKeyRef"`
}

type grafanaSidecar struct {
	Dashboards  sidecarDashboards `json:"dashboards"`
	Datasources enabledFlag       `json:"datasources"`
}

type sidecarDashboards struct {
	Enabled         bool   `json:"enabled"`
	Label           string `json:"label"`
	LabelValue      string `json:"labelValue"`
	SearchNamespace string `json:"searchNamespace"`
}

// grafanaIni is grafana.ini by section; no secret is in it (the chart
// refuses one): the passwords come from the environment.
type grafanaIni struct {
	Server           iniServer    `json:"server"`
	Database         iniDatabase  `json:"database"`
	Auth             iniAuth      `json:"auth"`
	AuthGenericOAuth iniOAuth     `json:"auth.generic_oauth"`
	AuthAnonymous    enabledFlag  `json:"auth.anonymous"`
	Users            iniUsers     `json:"users"`
	Security         iniSecurity  `json:"security"`
	Analytics        iniAnalytics `json:"analytics"`
	UnifiedAlerting  enabledFlag  `json:"unified_alerting"`
	Dataproxy        iniDataproxy `json:"dataproxy"`
}

type iniServer struct {
	RootURL string `json:"root_url"`
	Domain  string `json:"domain"`
}

type iniDatabase struct {
	Type    string `json:"type"`
	Host    string `json:"host"`
	Name    string `json:"name"`
	User    string `json:"user"`
	SSLMode string `json:"ssl_mode"`
	// MaxOpenConn per replica, inside GrafanaDBConnections.
	MaxOpenConn int `json:"max_open_conn"`
}

type iniAuth struct {
	// OAuthAllowInsecureEmailLookup off: an account is never matched by
	// e-mail alone.
	OAuthAllowInsecureEmailLookup bool `json:"oauth_allow_insecure_email_lookup"`
}

type iniOAuth struct {
	Enabled             bool   `json:"enabled"`
	Name                string `json:"name"`
	ClientID            string `json:"client_id"`
	Scopes              string `json:"scopes"`
	AuthURL             string `json:"auth_url"`
	TokenURL            string `json:"token_url"`
	APIURL              string `json:"api_url"`
	AllowedDomains      string `json:"allowed_domains"`
	AllowSignUp         bool   `json:"allow_sign_up"`
	UsePKCE             bool   `json:"use_pkce"`
	RoleAttributePath   string `json:"role_attribute_path"`
	RoleAttributeStrict bool   `json:"role_attribute_strict"`
	// AllowAssignGrafanaAdmin off: the server-admin flag stays with the
	// break-glass account.
	AllowAssignGrafanaAdmin bool `json:"allow_assign_grafana_admin"`
}

type iniUsers struct {
	AllowSignUp bool `json:"allow_sign_up"`
}

type iniSecurity struct {
	CookieSecure    bool `json:"cookie_secure"`
	DisableGravatar bool `json:"disable_gravatar"`
}

type iniAnalytics struct {
	ReportingEnabled bool `json:"reporting_enabled"`
	CheckForUpdates  bool `json:"check_for_updates"`
}

type iniDataproxy struct {
	// Timeout in seconds for a data source query (long Thanos ranges).
	Timeout int `json:"timeout"`
}

// GrafanaPodLabels are labels the chart puts on Grafana's pods (its zone
// spread and the database's network policy select them).
func GrafanaPodLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": GrafanaReleaseName}
}

// grafanaRelease is the chart block's args for Grafana.
func grafanaRelease(a GrafanaArgs) chart.Args {
	u, _ := url.Parse(a.RootURL) // validated
	o := a.OAuth
	return chart.Args{
		Chart:             versions.Grafana,
		ReleaseName:       GrafanaReleaseName,
		Namespace:         a.Namespace,
		NamespaceResource: a.NamespaceResource,
		Values: grafanaValues{
			Replicas:                  slo.GrafanaReplicas,
			PodDisruptionBudget:       podDisruptionBudget{Enabled: true, MaxUnavailable: 1},
			TopologySpreadConstraints: chart.ZoneSpread(GrafanaPodLabels()),
			Resources:                 chart.Burstable(chart.ResourceList{CPU: "100m", Memory: "256Mi"}, chart.ResourceList{CPU: "1", Memory: "1Gi"}),
			Persistence:               enabledFlag{false},
			TestFramework:             enabledFlag{false},
			Admin:                     grafanaAdmin{ExistingSecret: GrafanaAdminSecret, UserKey: "admin-user", PasswordKey: "admin-password"},
			EnvValueFrom: map[string]envSource{
				"GF_DATABASE_PASSWORD":                {SecretKeyRef: secretKey{Name: GrafanaDBSecret, Key: "password"}},
				"GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET": {SecretKeyRef: secretKey{Name: GrafanaOAuthSecret, Key: "client-secret"}},
			},
			GrafanaIni: grafanaIni{
				Server: iniServer{RootURL: a.RootURL, Domain: u.Hostname()},
				Database: iniDatabase{Type: "postgres", Host: a.DBHost + ":" + strconv.Itoa(a.DBPort), Name: GrafanaDatabase, User: GrafanaDatabase,
					SSLMode: "require", MaxOpenConn: GrafanaDBConnections/slo.GrafanaReplicas - 2},
				AuthGenericOAuth: iniOAuth{
					Enabled: true, Name: o.Name, ClientID: o.ClientID, Scopes: strings.Join(o.Scopes, " "),
					AuthURL: o.AuthURL, TokenURL: o.TokenURL, APIURL: o.APIURL,
					AllowedDomains: strings.Join(o.AllowedDomains, " "), AllowSignUp: true, UsePKCE: true,
					RoleAttributePath: o.RoleAttributePath(), RoleAttributeStrict: o.DefaultRole == "None",
				},
				Users:           iniUsers{AllowSignUp: false},
				Security:        iniSecurity{CookieSecure: true, DisableGravatar: true},
				Analytics:       iniAnalytics{ReportingEnabled: false, CheckForUpdates: false},
				UnifiedAlerting: enabledFlag{false},
				Dataproxy:       iniDataproxy{Timeout: 120},
			},
			Datasources: map[string]datasourcesFile{"datasources.yaml": provisionedDatasources(a.Namespace)},
			Sidecar: grafanaSidecar{
				Dashboards:  sidecarDashboards{Enabled: true, Label: DashboardLabel, LabelValue: DashboardLabelValue, SearchNamespace: "ALL"},
				Datasources: enabledFlag{false},
			},
			ServiceMonitor: enabledFlag{true},
		},
	}
}
