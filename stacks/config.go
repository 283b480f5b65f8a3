// Package stacks is the only package that reads stack config. It loads every
// key into typed structs, validates them as a whole (every problem at once,
// each naming its key path and offending value) and composes the region
// stack from the components.
package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tars-platform/infra/internal/keep"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/tars-platform/infra/components/alerting"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/geodns"
	"github.com/tars-platform/infra/components/monitoring"
	"github.com/tars-platform/infra/components/oncall"
	"github.com/tars-platform/infra/components/postgres"
	"github.com/tars-platform/infra/components/redis"
	"github.com/tars-platform/infra/internal/check"
)

// Config keys. Pulumi.yaml declares each with its type and default.
const (
	KeyAwsRegion = "aws:region"
	KeyTopology  = "tars:topology"
	KeyCluster   = "tars:cluster"
	KeyAlerting  = "tars:alerting"
	KeyRedis     = "tars:redis"
	KeyPostgres  = "tars:postgres"
	KeyDNS       = "tars:dns"
	KeyGrafana   = "tars:grafana"
	KeyPagerDuty = "tars:pagerduty"
	// KeyProtect protects the stateful resources (internal/keep).
	KeyProtect = "tars:protect"
	// Secret keys (pulumi config set --secret).
	KeyPagerDutyCritical = "tars:pagerdutyCriticalRoutingKey"
	KeyPagerDutyHigh     = "tars:pagerdutyHighRoutingKey"
	KeySlackWebhook      = "tars:slackWebhookUrl"
	KeyDeadMansSwitch    = "tars:deadMansSwitchUrl"
	KeySMTPPassword      = "tars:smtpPassword"
	// The Postgres roles' passwords: the same value in both stacks.
	KeyPostgresAppPassword         = "tars:postgresAppPassword"
	KeyPostgresReplicationPassword = "tars:postgresReplicationPassword"
	// Grafana's credentials; the database password is the same in both
	// stacks (the role replicates with the data).
	KeyGrafanaAdminPassword     = "tars:grafanaAdminPassword"
	KeyGrafanaDBPassword        = "tars:grafanaDbPassword"
	KeyGrafanaOAuthClientSecret = "tars:grafanaOauthClientSecret"
	// KeyPagerDutyToken is required only when tars:pagerduty.enabled; the
	// two routing keys above only when it is not.
	KeyPagerDutyToken = "tars:pagerdutyToken"
	// KeyCloudflareToken is required only when tars:dns.cloudflare.enabled.
	KeyCloudflareToken = "tars:cloudflareApiToken"
)

// Topology says where this stack sits among the two regions. Both stacks
// carry the same owner and primary fields; a DR switchover changes them in
// both files and re-runs `pulumi up`.
type Topology struct {
	// Region is this stack's logical region, e.g. "us-east"; it names the
	// component resources and the region label. Required.
	Region string `json:"region"`
	// PeerRegion is the other region's logical name. Required.
	PeerRegion string `json:"peerRegion"`
	// PeerStack is the StackReference name of the peer region's stack:
	// "us-west", or "<org>/tars/us-west" on Pulumi Cloud. Required.
	PeerStack string `json:"peerStack"`
	// PeerVpcCidr is the peer region's VPC block; the cluster admits it on
	// the cross-region ports only. Required.
	PeerVpcCidr string `json:"peerVpcCidr"`
	// SingletonsOwner is the region whose stack owns the cross-region
	// singletons (the VPC peering, later the geolocation default record and
	// the Cloudflare load balancer), so the two stacks never fight over them.
	SingletonsOwner string `json:"singletonsOwner"`
	// PostgresPrimary is the region running the Postgres primary.
	PostgresPrimary string `json:"postgresPrimary"`
	// DNSPrimary is the region DNS fails over from.
	DNSPrimary string `json:"dnsPrimary"`
}

// Config is the whole, validated stack config.
type Config struct {
	// Stack is the Pulumi stack name.
	Stack string
	// AwsRegion is the AWS provider's region (aws:region), e.g. us-east-1.
	AwsRegion string
	Topology  Topology
	// Cluster is tars:cluster, defaulted.
	Cluster cluster.Args
	// Alerting is tars:alerting plus the four secret keys.
	Alerting Alerting
	// Redis is tars:redis, defaulted.
	Redis redis.Args
	// Postgres is tars:postgres, defaulted, with the topology filled in.
	Postgres postgres.Args
	// PostgresAppPassword and PostgresReplicationPassword stay secrets.
	PostgresAppPassword         pulumi.StringOutput
	PostgresReplicationPassword pulumi.StringOutput
	// DNS is tars:dns, defaulted, with the topology filled in.
	DNS geodns.Args
	// CloudflareAPIToken is set when the stack has tars:cloudflareApiToken.
	CloudflareAPIToken *pulumi.StringOutput
	// Grafana is tars:grafana plus its three secret keys.
	Grafana Grafana
	// PagerDuty is tars:pagerduty; PagerDutyToken is set when it is enabled.
	PagerDuty      PagerDuty
	PagerDutyToken *pulumi.StringOutput
	// Keep is tars:protect: whether the stateful resources are protected.
	// Default true. Every component holding data gets it.
	Keep keep.Keep

	// renames name the components (DeployWith).
	renames Renames
}

// PagerDuty is the on-call wiring (components/oncall). Enabled, the
// program creates the PagerDuty rotation, escalation policies and services
// (in the singletons owner's stack) and each region's integrations, whose
// keys feed Alertmanager; disabled, the hand-set routing-key secrets do.
type PagerDuty struct {
	Enabled bool          `json:"enabled"`
	People  oncall.People `json:"people"`
}

// Grafana is the region's Grafana: its public URL and login; the
// credentials stay Pulumi secrets.
type Grafana struct {
	// RootURL is the URL users open. Default
	// https://grafana.<region>.<tars:dns.zone>.
	RootURL string `json:"rootUrl,omitempty"`
	// OAuth is the generic OAuth2 login (monitoring.OAuth).
	OAuth monitoring.OAuth `json:"oauth"`
	// AllowedCidrs may reach Grafana's load balancer. Default anywhere
	// (the login is OAuth).
	AllowedCidrs []string `json:"allowedCidrs,omitempty"`

	AdminPassword     pulumi.StringOutput `json:"-"`
	DBPassword        pulumi.StringOutput `json:"-"`
	OAuthClientSecret pulumi.StringOutput `json:"-"`
}

// Alerting is the notification config; the credentials stay Pulumi secrets.
type Alerting struct {
	Notify               alerting.Notify
	PagerDutyCriticalKey pulumi.StringOutput
	PagerDutyHighKey     pulumi.StringOutput
	SlackWebhookURL      pulumi.StringOutput
	DeadMansSwitchURL    pulumi.StringOutput
	SMTPPassword         pulumi.StringOutput
}

// OwnsSingletons reports whether this stack creates the cross-region singletons.
func (c Config) OwnsSingletons() bool { return c.Topology.SingletonsOwner == c.Topology.Region }

// Load reads every config key of the stack, applies defaults and validates
// the result. Every problem is reported at once.
func Load(ctx *pulumi.Context) (*Config, error) {
	var p check.Problems
	cfg := &Config{Stack: ctx.Stack()}
	keys, err := runConfigKeys()
	if err != nil {
		return nil, configError(ctx.Stack(), err)
	}
	p.Merge("", CheckConfigKeys(keys))
	region, err := config.Try(ctx, KeyAwsRegion)
	if err != nil {
		p.Addf(KeyAwsRegion, "is not set: run `pulumi config set aws:region <region>`")
	}
	cfg.AwsRegion = region
	decode(ctx, &p, KeyTopology, &cfg.Topology)
	decode(ctx, &p, KeyCluster, &cfg.Cluster)
	decode(ctx, &p, KeyAlerting, &cfg.Alerting.Notify)
	decode(ctx, &p, KeyRedis, &cfg.Redis)
	decode(ctx, &p, KeyPostgres, &cfg.Postgres)
	decode(ctx, &p, KeyDNS, &cfg.DNS)
	decode(ctx, &p, KeyGrafana, &cfg.Grafana)
	decode(ctx, &p, KeyPagerDuty, &cfg.PagerDuty)
	cfg.Keep = keep.Keep{Protect: true}
	if raw, err := config.Try(ctx, KeyProtect); err == nil {
		protect, err := strconv.ParseBool(raw)
		if err != nil {
			p.Addf(KeyProtect, "(%q) must be true or false", raw)
		}
		cfg.Keep.Protect = protect
	}
	if tok, err := config.TrySecret(ctx, KeyPagerDutyToken); err == nil {
		cfg.PagerDutyToken = &tok
	}
	routingKeys := []string{KeyPagerDutyCritical, KeyPagerDutyHigh}
	if tok, err := config.TrySecret(ctx, KeyCloudflareToken); err == nil {
		cfg.CloudflareAPIToken = &tok
	}
	for _, sk := range []struct {
		key string
		dst *pulumi.StringOutput
	}{
		{KeyPagerDutyCritical, &cfg.Alerting.PagerDutyCriticalKey}, {KeyPagerDutyHigh, &cfg.Alerting.PagerDutyHighKey},
		{KeySlackWebhook, &cfg.Alerting.SlackWebhookURL}, {KeySMTPPassword, &cfg.Alerting.SMTPPassword},
		{KeyDeadMansSwitch, &cfg.Alerting.DeadMansSwitchURL},
		{KeyPostgresAppPassword, &cfg.PostgresAppPassword}, {KeyPostgresReplicationPassword, &cfg.PostgresReplicationPassword},
		{KeyGrafanaAdminPassword, &cfg.Grafana.AdminPassword}, {KeyGrafanaDBPassword, &cfg.Grafana.DBPassword},
		{KeyGrafanaOAuthClientSecret, &cfg.Grafana.OAuthClientSecret},
	} {
		if cfg.PagerDuty.Enabled && slices.Contains(routingKeys, sk.key) {
			continue // the on-call wiring's integrations give the keys
		}
		v, err := config.TrySecret(ctx, sk.key)
		if err != nil {
			p.Addf(sk.key, "is not set: run `pulumi config set --secret %s <value>`", sk.key)
			continue
		}
		*sk.dst = v
	}
	if p.Len() > 0 {
		return nil, configError(ctx.Stack(), p.Err())
	}
	cfg.Cluster = cfg.Cluster.WithDefaults()
	cfg.Cluster.Keep = cfg.Keep
	cfg.Redis.StorageClass = cluster.DataStorageClassName
	cfg.Redis.Keep = cfg.Keep
	cfg.Redis = cfg.Redis.WithDefaults()
	cfg.Postgres = cfg.postgresTopology(cfg.Postgres).WithDefaults()
	cfg.DNS = cfg.dnsTopology(cfg.DNS).WithDefaults()
	if cfg.Grafana.RootURL == "" {
		cfg.Grafana.RootURL = fmt.Sprintf("https://grafana.%s.%s", cfg.Topology.Region, cfg.DNS.Zone)
	}
	cfg.Grafana.OAuth = cfg.Grafana.OAuth.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, configError(ctx.Stack(), err)
	}
	if err := cfg.placeholders(ctx); err != nil {
		return nil, configError(ctx.Stack(), err)
	}
	return cfg, nil
}

// documentationRanges are the IPv4 blocks RFC 5737 reserves for examples.
var documentationRanges = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"),
}

// placeholders: the stack files ship example values where only the
// operating organisation knows the real ones (the egress ranges allowed to
// reach the Kubernetes API). A preview warns; `pulumi up` refuses them, so
// nothing is deployed that its own operators cannot reach.
func (c Config) placeholders(ctx *pulumi.Context) error {
	var p check.Problems
	for i, cidr := range c.Cluster.PublicAccessCidrs {
		pfx, err := netip.ParsePrefix(cidr)
		if err != nil || !slices.ContainsFunc(documentationRanges, func(d netip.Prefix) bool { return d.Overlaps(pfx) }) {
			continue
		}
		path := fmt.Sprintf("%s.publicAccessCidrs[%d]", KeyCluster, i)
		msg := fmt.Sprintf("(%s) is an RFC 5737 example range: set the egress ranges of your operators and CI (pulumi config set --path '%s' <cidr>)", cidr, strings.TrimPrefix(path, "tars:"))
		if ctx.DryRun() {
			_ = ctx.Log.Warn(path+" "+msg, nil) // a warning that cannot be logged is not worth failing a preview
			continue
		}
		p.Addf(path, "%s", msg)
	}
	return p.Err()
}

func configError(stack string, err error) error {
	return fmt.Errorf("stack %s: invalid config:\n%w", stack, err)
}

// decode reads an object key strictly: a missing key, malformed JSON, a
// value of the wrong type or an unknown field (a typo) is a problem.
func decode(ctx *pulumi.Context, p *check.Problems, key string, out any) {
	raw, err := config.Try(ctx, key)
	if err != nil {
		p.Addf(key, "is not set; Pulumi.yaml declares it and the stack file must give it")
		return
	}
	var generic any
	if err := json.Unmarshal([]byte(raw), &generic); err != nil {
		p.Addf(key, "is not valid JSON/YAML: %v", err)
		return
	}
	before := p.Len()
	checkFields(p, key, generic, reflect.TypeOf(out))
	if p.Len() > before {
		return
	}
	if err := json.Unmarshal([]byte(raw), out); err != nil {
		path, msg := decodePath(key, err)
		p.Addf(path, "%s", msg)
	}
}

// decodePath turns a json decoding error into a key path and a message.
func decodePath(key string, err error) (string, string) {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		path := key
		if typeErr.Field != "" {
			path += "." + typeErr.Field
		}
		return path, fmt.Sprintf("(%s) must be %s", typeErr.Value, jsonKind(typeErr.Type.Kind().String()))
	}
	return key, fmt.Sprintf("cannot be read: %v", err)
}

// jsonKind names a Go kind the way a config author thinks of it.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "a whole number"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case kind == "slice", kind == "array":
		return "a list"
	case kind == "map", kind == "struct":
		return "an object"
	}
	return "a " + kind
}

// postgresTopology fills in what the database takes from the rest of the
// config: the regions, the primary, the two VPCs and the storage class.
func (c Config) postgresTopology(a postgres.Args) postgres.Args {
	t := c.Topology
	a.Region, a.PeerRegion, a.Primary = t.Region, t.PeerRegion, t.PostgresPrimary
	a.AwsRegion = c.AwsRegion
	a.PeerVpcCidr = t.PeerVpcCidr
	a.StorageClass = cluster.DataStorageClassName
	a.Keep = c.Keep
	return a
}

// dnsTopology fills in what the edge takes from the rest of the config.
func (c Config) dnsTopology(a geodns.Args) geodns.Args {
	t := c.Topology
	a.Region, a.PeerRegion, a.DNSPrimary, a.SingletonsOwner = t.Region, t.PeerRegion, t.DNSPrimary, t.SingletonsOwner
	a.AwsRegion = c.AwsRegion
	a.Keep = c.Keep
	return a
}
