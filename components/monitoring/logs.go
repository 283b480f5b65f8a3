package monitoring

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/monitoring/alloycfg"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/slo"
)

// The logs stack (seed 003 "Loki Log Aggregation"): Loki on the region's
// S3 bucket, its ruler evaluating the catalog's log alerts and sending to
// the region's Alertmanager, and Alloy on every node shipping the pods'
// logs through the seed's pipeline (alloycfg).

// Loki settings: seed 003's numbers.
const (
	// LokiReplicas of the monolithic Loki: each stream is written to all
	// three (replication factor 3), so a node can go without losing what
	// has not reached the bucket yet.
	LokiReplicas = 3
	// LokiStorageGiB is each replica's volume (seed 003: 50Gi): the WAL
	// and the chunks not yet flushed.
	LokiStorageGiB = 50
	// LokiIngestionRateMB and LokiIngestionBurstMB per tenant, per second.
	LokiIngestionRateMB  = 10
	LokiIngestionBurstMB = 20
	// LokiMaxStreams is the active-stream limit (seed 003: 10,000).
	LokiMaxStreams = 10_000
	// LokiQueryParallelism (seed 003: 32).
	LokiQueryParallelism = 32
	// LokiChunkEncoding: chunks are compressed (seed 003: "Compression:
	// Enabled"); snappy trades a little size for much cheaper queries.
	LokiChunkEncoding = "snappy"
	// LokiResultsCacheMB bounds the in-process results cache.
	LokiResultsCacheMB = 100
	// LokiServiceAccount is the chart's service account (all Loki pods).
	LokiServiceAccount = LokiReleaseName
	// LokiRuleLabel is the label of the ConfigMaps the ruler's sidecar
	// loads rules from (in every namespace).
	LokiRuleLabel = "loki_rule"
	// LokiRulesDir is the ruler's local rule storage; the sidecar writes
	// into LokiRulesDir/fake, the directory of the single tenant.
	LokiRulesDir = "/rules"
	// Environment is the deployment environment the pipeline and the
	// traces carry: both regions are production.
	Environment = "production"
)

// LokiCacheTTL is how long query results stay cached (seed 003: 24h).
const LokiCacheTTL = "24h"

// LokiBucketName is a region's log chunk bucket.
func LokiBucketName(accountID, awsRegion string) string {
	return fmt.Sprintf("tars-loki-%s-%s", accountID, awsRegion)
}

// LokiPushURL is where Alloy ships logs: the gateway.
func LokiPushURL(namespace string) string {
	return fmt.Sprintf("http://%s-gateway.%s.svc.cluster.local/loki/api/v1/push", LokiReleaseName, namespace)
}

// newLogs creates the log bucket, Loki and Alloy. stack is the
// kube-prometheus-stack release (the ServiceMonitor CRD).
func (m *Monitoring) newLogs(ctx *pulumi.Context, name string, a Args, ns, stack pulumi.Resource) error {
	bkt, err := cluster.NewPrivateBucket(ctx, name+"-loki", cluster.BucketArgs{
		Name: LokiBucketName(a.AccountID, a.AwsRegion), Partition: a.Partition,
		KeyAlias: "tars-loki-" + a.Region, Purpose: "Loki log chunks", Region: a.Region,
		// Loki's compactor deletes what is past retention; a week of undo.
		NoncurrentVersionDays: 7,
		Tags:                  a.Tags,
		Keep:                  a.Keep,
	}, pulumi.Parent(m))
	if err != nil {
		return fmt.Errorf("loki bucket: %w", err)
	}
	loki := lokiRelease(a, ns, bkt)
	loki.DependsOn = append(loki.DependsOn, stack)
	rel, err := chart.New(ctx, name+"-loki", loki, pulumi.Parent(m))
	if err != nil {
		return err
	}
	alloy, err := alloyRelease(a, ns)
	if err != nil {
		return err
	}
	// After Loki (its gateway receives) and the stack (ServiceMonitor CRD).
	alloy.DependsOn = append(alloy.DependsOn, stack, rel.Helm)
	_, err = chart.New(ctx, name+"-alloy", alloy, pulumi.Parent(m))
	return err
}

// lokiValues are the values set on the loki 18.11.0 chart.
type lokiValues struct {
	DeploymentMode string           `json:"deploymentMode"`
	Loki           lokiConfig       `json:"loki"`
	SingleBinary   lokiSingleBinary `json:"singleBinary"`
	Read           replicasOnly     `json:"read"`
	Write          replicasOnly     `json:"write"`
	Backend        replicasOnly     `json:"backend"`
	ChunksCache    enabledFlag      `json:"chunksCache"`
	ResultsCache   enabledFlag      `json:"resultsCache"`
	LokiCanary     enabledFlag      `json:"lokiCanary"`
	Test           enabledFlag      `json:"test"`
	Sidecar        lokiSidecar      `json:"sidecar"`
	Monitoring     lokiMonitoring   `json:"monitoring"`
	Gateway        lokiGateway      `json:"gateway"`
}

type replicasOnly struct {
	Replicas int `json:"replicas"`
}

// lokiConfig is the chart's loki section: the pieces of Loki's own
// configuration file.
type lokiConfig struct {
	AuthEnabled  bool             `json:"auth_enabled"`
	CommonConfig lokiCommon       `json:"commonConfig"`
	SchemaConfig lokiSchemaConfig `json:"schemaConfig"`
	Storage      lokiStorage      `json:"storage"`
	Ingester     lokiIngester     `json:"ingester"`
	LimitsConfig lokiLimits       `json:"limits_config"`
	Compactor    lokiCompactor    `json:"compactor"`
	QueryRange   lokiQueryRange   `json:"query_range"`
	RulerConfig  lokiRuler        `json:"rulerConfig"`
}

type lokiCommon struct {
	ReplicationFactor int `json:"replication_factor"`
}

type lokiSchemaConfig struct {
	Configs []lokiSchema `json:"configs"`
}

type lokiSchema struct {
	From        string          `json:"from"`
	Store       string          `json:"store"`
	ObjectStore string          `json:"object_store"`
	Schema      string          `json:"schema"`
	Index       lokiSchemaIndex `json:"index"`
}

type lokiSchemaIndex struct {
	Prefix string `json:"prefix"`
	Period string `json:"period"`
}

type lokiStorage struct {
	Type        string          `json:"type"`
	BucketNames lokiBucketNames `json:"bucketNames"`
	S3          lokiS3          `json:"s3"`
}

type lokiBucketNames struct {
	Chunks string `json:"chunks"`
	Ruler  string `json:"ruler"`
	Admin  string `json:"admin"`
}

type lokiS3 struct {
	Region string `json:"region"`
}

type lokiIngester struct {
	ChunkEncoding string `json:"chunk_encoding"`
}

type lokiLimits struct {
	RetentionPeriod         string `json:"retention_period"`
	IngestionRateMB         int    `json:"ingestion_rate_mb"`
	IngestionBurstSizeMB    int    `json:"ingestion_burst_size_mb"`
	MaxGlobalStreamsPerUser int    `json:"max_global_streams_per_user"`
	MaxQueryParallelism     int    `json:"max_query_parallelism"`
}

// lokiCompactor applies the retention (Loki 3 needs the delete-request
// store for it).
type lokiCompactor struct {
	WorkingDirectory     string `json:"working_directory"`
	RetentionEnabled     bool   `json:"retention_enabled"`
	RetentionDeleteDelay string `json:"retention_delete_delay"`
	DeleteRequestStore   string `json:"delete_request_store"`
}

type lokiQueryRange struct {
	CacheResults bool             `json:"cache_results"`
	ResultsCache lokiResultsCache `json:"results_cache"`
}

type lokiResultsCache struct {
	Cache lokiCache `json:"cache"`
}

type lokiCache struct {
	EmbeddedCache lokiEmbeddedCache `json:"embedded_cache"`
}

type lokiEmbeddedCache struct {
	Enabled   bool   `json:"enabled"`
	MaxSizeMB int    `json:"max_size_mb"`
	TTL       string `json:"ttl"`
}

// lokiRuler evaluates the rule files the sidecar writes (local storage)
// and sends alerts to the region's Alertmanager.
type lokiRuler struct {
	AlertmanagerURL      string         `json:"alertmanager_url"`
	EnableAlertmanagerV2 bool           `json:"enable_alertmanager_v2"`
	EnableAPI            bool           `json:"enable_api"`
	RulePath             string         `json:"rule_path"`
	Storage              lokiRulerStore `json:"storage"`
}

type lokiRulerStore struct {
	Type  string        `json:"type"`
	Local lokiLocalPath `json:"local"`
}

type lokiLocalPath struct {
	Directory string `json:"directory"`
}

type lokiSingleBinary struct {
	Replicas                  int                              `json:"replicas"`
	Resources                 chart.Resources                  `json:"resources"`
	Persistence               lokiPersistence                  `json:"persistence"`
	TopologySpreadConstraints []chart.TopologySpreadConstraint `json:"topologySpreadConstraints"`
}

type lokiPersistence struct {
	Enabled      bool   `json:"enabled"`
	Size         string `json:"size"`
	StorageClass string `json:"storageClass"`
}

type lokiSidecar struct {
	Rules lokiSidecarRules `json:"rules"`
}

type lokiSidecarRules struct {
	Enabled         bool   `json:"enabled"`
	Label           string `json:"label"`
	LabelValue      string `json:"labelValue"`
	Folder          string `json:"folder"`
	SearchNamespace string `json:"searchNamespace"`
}

type lokiMonitoring struct {
	ServiceMonitor enabledFlag `json:"serviceMonitor"`
}

type lokiGateway struct {
	Replicas  int             `json:"replicas"`
	Resources chart.Resources `json:"resources"`
}

// lokiRelease is the chart block's args for Loki.
func lokiRelease(a Args, ns pulumi.Resource, b *cluster.PrivateBucket) chart.Args {
	return chart.Args{
		Chart:             versions.Loki,
		ReleaseName:       LokiReleaseName,
		Namespace:         a.Namespace,
		NamespaceResource: ns,
		IRSA: &chart.IRSA{
			OIDC: a.OIDC, Partition: a.Partition, ServiceAccount: LokiServiceAccount,
			Policy: bucketPolicy(a, b, true),
		},
		Tags: a.Tags,
		Values: lokiValues{
			DeploymentMode: "Monolithic",
			Loki: lokiConfig{
				// One tenant ("fake"): the platform's own logs.
				AuthEnabled:  false,
				CommonConfig: lokiCommon{ReplicationFactor: LokiReplicas},
				SchemaConfig: lokiSchemaConfig{Configs: []lokiSchema{{
					From: "2026-01-01", Store: "tsdb", ObjectStore: "s3", Schema: "v13",
					Index: lokiSchemaIndex{Prefix: "loki_index_", Period: "24h"},
				}}},
				Storage: lokiStorage{Type: "s3",
					BucketNames: lokiBucketNames{Chunks: b.Name, Ruler: b.Name, Admin: b.Name},
					S3:          lokiS3{Region: a.AwsRegion}},
				Ingester: lokiIngester{ChunkEncoding: LokiChunkEncoding},
				LimitsConfig: lokiLimits{
					RetentionPeriod:         fmt.Sprintf("%dh", int(slo.LokiRetention.Hours())), // seed 003 writes 720h
					IngestionRateMB:         LokiIngestionRateMB,
					IngestionBurstSizeMB:    LokiIngestionBurstMB,
					MaxGlobalStreamsPerUser: LokiMaxStreams,
					MaxQueryParallelism:     LokiQueryParallelism,
				},
				Compactor: lokiCompactor{WorkingDirectory: "/var/loki/compactor", RetentionEnabled: true, RetentionDeleteDelay: "2h", DeleteRequestStore: "s3"},
				QueryRange: lokiQueryRange{CacheResults: true, ResultsCache: lokiResultsCache{Cache: lokiCache{
					EmbeddedCache: lokiEmbeddedCache{Enabled: true, MaxSizeMB: LokiResultsCacheMB, TTL: LokiCacheTTL},
				}}},
				RulerConfig: lokiRuler{
					AlertmanagerURL:      AlertmanagerURL(a.Namespace),
					EnableAlertmanagerV2: true,
					EnableAPI:            true,
					// Away from LokiRulesDir, where the sidecar writes.
					RulePath: "/var/loki/rules-temp",
					Storage:  lokiRulerStore{Type: "local", Local: lokiLocalPath{Directory: LokiRulesDir}},
				},
			},
			SingleBinary: lokiSingleBinary{
				Replicas:                  LokiReplicas,
				Resources:                 chart.Burstable(chart.ResourceList{CPU: "250m", Memory: "768Mi"}, chart.ResourceList{CPU: "2", Memory: "2Gi"}),
				Persistence:               lokiPersistence{Enabled: true, Size: fmt.Sprintf("%dGi", LokiStorageGiB), StorageClass: a.StorageClass},
				TopologySpreadConstraints: chart.ZoneSpread(map[string]string{"app.kubernetes.io/name": "loki", "app.kubernetes.io/instance": LokiReleaseName, "app.kubernetes.io/component": "single-binary"}),
			},
			Read: replicasOnly{0}, Write: replicasOnly{0}, Backend: replicasOnly{0},
			// The results cache is embedded (above); the memcached caches
			// would reserve ~11 GiB.
			ChunksCache: enabledFlag{false}, ResultsCache: enabledFlag{false},
			LokiCanary: enabledFlag{false}, Test: enabledFlag{false},
			Sidecar: lokiSidecar{Rules: lokiSidecarRules{
				Enabled: true, Label: LokiRuleLabel, LabelValue: "1", Folder: LokiRulesDir + "/fake", SearchNamespace: "ALL",
			}},
			Monitoring: lokiMonitoring{ServiceMonitor: enabledFlag{true}},
			Gateway: lokiGateway{Replicas: 2,
				Resources: chart.Burstable(chart.ResourceList{CPU: "50m", Memory: "64Mi"}, chart.ResourceList{CPU: "500m", Memory: "256Mi"})},
		},
	}
}

// alloyValues are the values set on the alloy 1.11.1 chart.
type alloyValues struct {
	Alloy          alloySettings `json:"alloy"`
	Controller     alloyCtl      `json:"controller"`
	ServiceMonitor enabledFlag   `json:"serviceMonitor"`
}

type alloySettings struct {
	ConfigMap       alloyConfigMap  `json:"configMap"`
	EnableReporting bool            `json:"enableReporting"`
	Resources       chart.Resources `json:"resources"`
}

type alloyConfigMap struct {
	Create  bool   `json:"create"`
	Content string `json:"content"`
}

type alloyCtl struct {
	Type string `json:"type"`
}

// alloyRelease is the chart block's args for Alloy: a DaemonSet running
// the seed's pipeline (alloycfg) into Loki.
func alloyRelease(a Args, ns pulumi.Resource) (chart.Args, error) {
	cfg := alloycfg.DefaultConfig()
	cfg.LokiURL = LokiPushURL(a.Namespace)
	cfg.Environment = Environment
	cfg.Region = a.Region
	cfg.Cluster = a.ClusterName
	content, err := alloycfg.Pipeline(cfg)
	if err != nil {
		return chart.Args{}, fmt.Errorf("alloy pipeline: %w", err)
	}
	return chart.Args{
		Chart:             versions.Alloy,
		ReleaseName:       AlloyReleaseName,
		Namespace:         a.Namespace,
		NamespaceResource: ns,
		Values: alloyValues{
			Alloy: alloySettings{
				ConfigMap:       alloyConfigMap{Create: true, Content: content},
				EnableReporting: false,
				Resources:       chart.Burstable(chart.ResourceList{CPU: "50m", Memory: "128Mi"}, chart.ResourceList{CPU: "500m", Memory: "512Mi"}),
			},
			Controller:     alloyCtl{Type: "daemonset"},
			ServiceMonitor: enabledFlag{true},
		},
	}, nil
}

// AlloyReleaseName is the Alloy release.
const AlloyReleaseName = "alloy"
