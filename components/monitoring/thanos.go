package monitoring

import (
	"encoding/json"
	"fmt"
	"time"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/slo"
)

// Thanos names and settings.
const (
	// ThanosReleaseName is the Thanos release; its services are
	// thanos-query, thanos-query-frontend and the store gateway's
	// headless thanos-store-gateway-headless (tests/verify_endpoints_test.go
	// finds them in the rendered chart).
	ThanosReleaseName = "thanos"
	// ObjstoreSecret holds the bucket configuration (no credentials: the
	// sidecar, the store gateway and the compactor authenticate with IRSA)
	// under ObjstoreKey; Prometheus's sidecar and the Thanos chart read
	// the same Secret.
	ObjstoreSecret = "thanos-objstore"
	ObjstoreKey    = "objstore.yml"
	// ReplicaLabel is the external label prometheus-operator gives each
	// Prometheus replica's series; Thanos query and the compactor
	// deduplicate the two replicas on it.
	ReplicaLabel = "prometheus_replica"
	// RegionLabel is the external label naming the region of every series.
	RegionLabel = "region"
	// BucketServiceAccount is the service account of the store gateway
	// and the compactor, the only Thanos components that read the bucket.
	BucketServiceAccount = "thanos-bucket"
	// PrometheusServiceAccount is the Prometheus pods' service account
	// (the sidecar uploads under it).
	PrometheusServiceAccount = ReleaseName + "-prometheus"
	// QueryCacheValidity is how long query-frontend keeps a query
	// range's result (seed 000 Grafana: "Query caching: 5 minutes").
	QueryCacheValidity = 5 * time.Minute
	// QueryCacheSize bounds each query-frontend's in-memory result cache.
	QueryCacheSize = "256MB"
	// ThanosHTTPPort is the HTTP port of every Thanos service.
	ThanosHTTPPort = 10902
	// DefaultCompactorStorageGiB is the compactor's scratch volume: it
	// downloads the blocks it compacts (two weeks of raw data at most).
	DefaultCompactorStorageGiB = 100
	// ThanosReplicas of query, query-frontend and the store gateway:
	// long-range queries keep working while a node is drained.
	ThanosReplicas = 2
)

// ThanosBucketName is a region's Thanos block bucket (S3 names are global).
func ThanosBucketName(accountID, awsRegion string) string {
	return fmt.Sprintf("tars-thanos-%s-%s", accountID, awsRegion)
}

// QueryFrontendURL is the Thanos query-frontend inside the cluster:
// Grafana's default data source.
func QueryFrontendURL(namespace string) string {
	return fmt.Sprintf("http://%s-query-frontend.%s.svc.cluster.local:%d", ThanosReleaseName, namespace, ThanosHTTPPort)
}

// sidecarEndpoint is the DNS SRV name of the sidecars' gRPC ports: the
// headless service kube-prometheus-stack renders with thanosService.
func sidecarEndpoint(namespace string) string {
	return fmt.Sprintf("dnssrv+_grpc._tcp.%s-thanos-discovery.%s.svc.cluster.local", ReleaseName, namespace)
}

// objstoreConfig is Thanos's bucket configuration (thanos.io storage.md,
// S3): the default AWS credential chain, so IRSA's web identity; the
// bucket's default encryption applies its KMS key.
type objstoreConfig struct {
	Type   string     `json:"type"`
	Config objstoreS3 `json:"config"`
	Prefix string     `json:"prefix,omitempty"`
}

type objstoreS3 struct {
	Bucket     string `json:"bucket"`
	Endpoint   string `json:"endpoint"`
	Region     string `json:"region"`
	AWSSDKAuth bool   `json:"aws_sdk_auth"`
}

func objstore(bucket, awsRegion string) (string, error) {
	b, err := json.Marshal(objstoreConfig{Type: "S3", Config: objstoreS3{
		Bucket: bucket, Endpoint: "s3." + awsRegion + ".amazonaws.com", Region: awsRegion, AWSSDKAuth: true,
	}})
	return string(b), err
}

// newThanosBucket creates the region's block bucket and the Secret that
// points Prometheus's sidecar and Thanos at it.
func (m *Monitoring) newThanosBucket(ctx *pulumi.Context, name string, a Args, ns pulumi.Resource) (*cluster.PrivateBucket, *corev1.Secret, error) {
	bkt, err := cluster.NewPrivateBucket(ctx, name+"-thanos", cluster.BucketArgs{
		Name:      ThanosBucketName(a.AccountID, a.AwsRegion),
		Partition: a.Partition,
		KeyAlias:  "tars-thanos-" + a.Region,
		Purpose:   "Thanos metric blocks",
		Region:    a.Region,
		// The compactor deletes what it compacted or what aged out; a
		// week of undo is plenty for metrics.
		NoncurrentVersionDays: 7,
		Tags:                  a.Tags,
		Keep:                  a.Keep,
	}, pulumi.Parent(m))
	if err != nil {
		return nil, nil, fmt.Errorf("thanos bucket: %w", err)
	}
	cfg, err := objstore(bkt.Name, a.AwsRegion)
	if err != nil {
		return nil, nil, fmt.Errorf("thanos objstore config: %w", err)
	}
	secret, err := corev1.NewSecret(ctx, name+"-thanos-objstore", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ObjstoreSecret), Namespace: pulumi.String(a.Namespace), Labels: pulumi.StringMap{
			"app.kubernetes.io/name": pulumi.String("thanos"), "app.kubernetes.io/part-of": pulumi.String("tars"),
		}},
		StringData: pulumi.StringMap{ObjstoreKey: pulumi.String(cfg)},
	}, pulumi.Parent(m), pulumi.DependsOn([]pulumi.Resource{ns}))
	if err != nil {
		return nil, nil, fmt.Errorf("thanos objstore secret: %w", err)
	}
	return bkt, secret, nil
}

// bucketPolicy: list the bucket, read and write its objects (delete too
// when the writer prunes: the compactor), use its key only through S3.
func bucketPolicy(a Args, b *cluster.PrivateBucket, del bool) *cluster.PolicyDocument {
	objects := []string{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}
	if del {
		objects = append(objects, "s3:DeleteObject")
	}
	return &cluster.PolicyDocument{Version: "2012-10-17", Statement: []cluster.PolicyStatement{
		{Sid: "Bucket", Effect: "Allow", Action: []string{"s3:ListBucket", "s3:GetBucketLocation"}, Resource: []string{b.Arn}},
		{Sid: "Objects", Effect: "Allow", Action: objects, Resource: []string{b.Arn + "/*"}},
		{Sid: "Key", Effect: "Allow", Action: []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"},
			Resource:  []string{fmt.Sprintf("arn:%s:kms:%s:%s:key/*", a.Partition, a.AwsRegion, a.AccountID)},
			Condition: cluster.KMSViaS3(a.AwsRegion, b.Arn)},
	}}
}

// thanosValues are the values set on stevehipwell's thanos 1.24.1.
type thanosValues struct {
	ObjstoreConfig thanosObjstore `json:"objstoreConfig"`
	// AdditionalReplicaLabels: query deduplicates on them and the
	// compactor merges the replicas' blocks (vertical compaction).
	AdditionalReplicaLabels []string `json:"additionalReplicaLabels"`
	// AdditionalEndpoints are the Prometheus sidecars (recent data).
	AdditionalEndpoints []string             `json:"additionalEndpoints"`
	ServiceMonitor      thanosServiceMonitor `json:"serviceMonitor"`
	Query               thanosQuery          `json:"query"`
	QueryFrontend       thanosQueryFrontend  `json:"queryFrontend"`
	StoreGateway        thanosStoreGateway   `json:"storeGateway"`
	Compact             thanosCompact        `json:"compact"`
}

type thanosObjstore struct {
	Create bool   `json:"create"`
	Name   string `json:"name"`
	Key    string `json:"key"`
}

type thanosServiceMonitor struct {
	Enabled bool `json:"enabled"`
}

type thanosServiceAccount struct {
	Create bool   `json:"create"`
	Name   string `json:"name,omitempty"`
}

type podDisruptionBudget struct {
	Enabled        bool `json:"enabled"`
	MaxUnavailable int  `json:"maxUnavailable"`
}

// thanosWorkload is what every Thanos component shares.
type thanosWorkload struct {
	Resources                 chart.Resources                  `json:"resources"`
	TopologySpreadConstraints []chart.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	ExtraArgs                 []string                         `json:"extraArgs,omitempty"`
}

type thanosQuery struct {
	Enabled             bool                `json:"enabled"`
	Replicas            int                 `json:"replicas"`
	PodDisruptionBudget podDisruptionBudget `json:"podDisruptionBudget"`
	thanosWorkload
}

type thanosQueryFrontend struct {
	Enabled             bool                `json:"enabled"`
	Replicas            int                 `json:"replicas"`
	PodDisruptionBudget podDisruptionBudget `json:"podDisruptionBudget"`
	thanosWorkload
}

type thanosStoreGateway struct {
	Enabled             bool                 `json:"enabled"`
	Replicas            int                  `json:"replicas"`
	PodDisruptionBudget podDisruptionBudget  `json:"podDisruptionBudget"`
	ServiceAccount      thanosServiceAccount `json:"serviceAccount"`
	thanosWorkload
}

type thanosCompact struct {
	Enabled bool `json:"enabled"`
	// ReplicaDeduplication merges the two replicas' overlapping blocks
	// with the penalty function (the one for HA Prometheus pairs).
	ReplicaDeduplication bool              `json:"replicaDeduplication"`
	Persistence          thanosPersistence `json:"persistence"`
	thanosWorkload
}

type thanosPersistence struct {
	Enabled      bool   `json:"enabled"`
	StorageClass string `json:"storageClass"`
	Size         string `json:"size"`
}

// responseCache is query-frontend's IN-MEMORY cache configuration.
type responseCache struct {
	Type   string              `json:"type"`
	Config responseCacheConfig `json:"config"`
}

type responseCacheConfig struct {
	MaxSize  string `json:"max_size"`
	Validity string `json:"validity"`
}

// thanosSelector is what the chart puts on a component's pods.
func thanosSelector(component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name": "thanos", "app.kubernetes.io/instance": ThanosReleaseName, "app.kubernetes.io/component": component,
	}
}

// retentionArgs keep raw and downsampled data for the same long-term
// window (seed 000: "90 days (long-term storage)"): nothing is older.
func retentionArgs() []string {
	d := promDuration(slo.LongTermRetention)
	return []string{"--retention.resolution-raw=" + d, "--retention.resolution-5m=" + d, "--retention.resolution-1h=" + d}
}

// thanosRelease is the chart block's args for Thanos.
func thanosRelease(a Args, ns, objstore pulumi.Resource, b *cluster.PrivateBucket) (chart.Args, error) {
	cache, err := json.Marshal(responseCache{Type: "IN-MEMORY", Config: responseCacheConfig{MaxSize: QueryCacheSize, Validity: promDuration(QueryCacheValidity)}})
	if err != nil {
		return chart.Args{}, err
	}
	pdb := podDisruptionBudget{Enabled: true, MaxUnavailable: 1}
	return chart.Args{
		Chart:             versions.Thanos,
		ReleaseName:       ThanosReleaseName,
		Namespace:         a.Namespace,
		NamespaceResource: ns,
		DependsOn:         []pulumi.Resource{objstore},
		IRSA: &chart.IRSA{
			OIDC: a.OIDC, Partition: a.Partition, ServiceAccount: BucketServiceAccount,
			Policy: bucketPolicy(a, b, true), ServiceAccountPath: []string{"compact", "serviceAccount"},
		},
		Tags: a.Tags,
		Values: thanosValues{
			ObjstoreConfig:          thanosObjstore{Create: false, Name: ObjstoreSecret, Key: ObjstoreKey},
			AdditionalReplicaLabels: []string{ReplicaLabel},
			AdditionalEndpoints:     []string{sidecarEndpoint(a.Namespace)},
			ServiceMonitor:          thanosServiceMonitor{Enabled: true},
			Query: thanosQuery{Enabled: true, Replicas: ThanosReplicas, PodDisruptionBudget: pdb, thanosWorkload: thanosWorkload{
				Resources:                 chart.Burstable(chart.ResourceList{CPU: "100m", Memory: "256Mi"}, chart.ResourceList{CPU: "1", Memory: "1Gi"}),
				TopologySpreadConstraints: chart.ZoneSpread(thanosSelector("query")),
			}},
			QueryFrontend: thanosQueryFrontend{Enabled: true, Replicas: ThanosReplicas, PodDisruptionBudget: pdb, thanosWorkload: thanosWorkload{
				Resources:                 chart.Burstable(chart.ResourceList{CPU: "50m", Memory: "384Mi"}, chart.ResourceList{CPU: "500m", Memory: "512Mi"}),
				TopologySpreadConstraints: chart.ZoneSpread(thanosSelector("query-frontend")),
				ExtraArgs: []string{
					// Long ranges are split by day, so a day's result is
					// cached and reused by the next query over it.
					"--query-range.split-interval=24h",
					"--query-range.response-cache-config=" + string(cache),
					"--labels.response-cache-config=" + string(cache),
					"--query-frontend.compress-responses",
				},
			}},
			StoreGateway: thanosStoreGateway{Enabled: true, Replicas: ThanosReplicas, PodDisruptionBudget: pdb,
				ServiceAccount: thanosServiceAccount{Create: false, Name: BucketServiceAccount},
				thanosWorkload: thanosWorkload{
					Resources:                 chart.Burstable(chart.ResourceList{CPU: "100m", Memory: "512Mi"}, chart.ResourceList{CPU: "1", Memory: "2Gi"}),
					TopologySpreadConstraints: chart.ZoneSpread(thanosSelector("store-gateway")),
				}},
			Compact: thanosCompact{Enabled: true, ReplicaDeduplication: true,
				Persistence: thanosPersistence{Enabled: true, StorageClass: a.ScratchStorageClass, Size: fmt.Sprintf("%dGi", a.CompactorStorageGiB)},
				thanosWorkload: thanosWorkload{
					Resources: chart.Burstable(chart.ResourceList{CPU: "100m", Memory: "512Mi"}, chart.ResourceList{CPU: "1", Memory: "2Gi"}),
					ExtraArgs: retentionArgs(),
				}},
		},
	}, nil
}
