package tests

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/postgres/pgconf"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/slo"
	"github.com/tars-platform/infra/stacks"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
	"github.com/tars-platform/infra/tests/kubeapi"
)

const (
	typeCNPGCluster     = "kubernetes:postgresql.cnpg.io/v1:Cluster"
	typeScheduledBackup = "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup"
	typeObjectStore     = "kubernetes:barmancloud.cnpg.io/v1:ObjectStore"
)

// pgSpec returns the stack's Cluster spec (one Cluster per region).
func pgSpec(t *testing.T, g *harness.Graph) map[string]any {
	t.Helper()
	cs := g.ByType(typeCNPGCluster)
	require.Len(t, cs, 1, "%s: CloudNativePG Clusters", g.Stack)
	return cs[0].Input("spec").(map[string]any)
}

// get reads a dotted path; `\.` is a dot inside a key.
func get(m any, path string) any {
	for _, k := range strings.Split(strings.ReplaceAll(path, `\.`, "\x00"), ".") {
		k = strings.ReplaceAll(k, "\x00", ".")
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

// TestPostgresClusterCarriesTheSeedSettings: seed 003's settings where
// CloudNativePG lets us set them, the instance layout and the archive.
func TestPostgresClusterCarriesTheSeedSettings(t *testing.T) {
	// The first deployment: us-west exports no database yet.
	g := mustRun(t, "us-east", harness.WithPeerOutputs(peerWithoutCluster(t, "us-east")))
	pg := one(t, g, typeCNPGCluster, "us-east-postgres-cluster")
	assert.Equal(t, "tars-pg-us-east", pg.Input("metadata.name"))
	assert.Equal(t, "tars-postgres", pg.Input("metadata.namespace"))
	// PodCrashLooping pages for the T.A.R.S. namespaces: the database's is one.
	assert.Regexp(t, "^("+slo.ServiceNamespaces+")$", pg.Input("metadata.namespace"))
	spec := pgSpec(t, g)
	assert.EqualValues(t, 3, spec["instances"])
	assert.Equal(t, "ghcr.io/cloudnative-pg/postgresql:18.4-system-trixie", spec["imageName"])
	params := get(spec, "postgresql.parameters").(map[string]any)
	for k, want := range map[string]string{
		"wal_level": "replica", "max_wal_senders": "10", "max_replication_slots": "10",
		"synchronous_commit": "on", "max_connections": "200", "shared_buffers": "1024MB",
	} {
		assert.Equal(t, want, params[k], "postgresql.parameters.%s", k)
	}
	for _, managed := range pgconf.CNPGManaged {
		assert.NotContains(t, params, managed, "CloudNativePG fixes or blocks %s; its webhook rejects the Cluster", managed)
	}
	// Zero data loss inside the region without blocking writes.
	assert.Equal(t, map[string]any{"method": "any", "number": 1.0, "dataDurability": "preferred"}, get(spec, "postgresql.synchronous"))
	assert.Equal(t, true, get(spec, "replicationSlots.highAvailability.enabled"))
	// Resources inside the seed's VPA bounds (1000m/2Gi to 8000m/16Gi), memory request = limit.
	res := spec["resources"].(map[string]any)
	assert.Equal(t, "1", get(res, "requests.cpu"))
	assert.Equal(t, "4", get(res, "limits.cpu"))
	assert.Equal(t, "4096Mi", get(res, "requests.memory"))
	assert.Equal(t, "4096Mi", get(res, "limits.memory"))
	// Encrypted gp3 volumes, WAL on its own.
	for _, vol := range []string{"storage", "walStorage"} {
		assert.Equal(t, "gp3-encrypted-retain", get(spec, vol+".storageClass"), "%s: the Retain class", vol)
	}
	assert.Equal(t, "100Gi", get(spec, "storage.size"))
	assert.Equal(t, "20Gi", get(spec, "walStorage.size"))
	// One instance per node, spread over the zones.
	assert.Equal(t, map[string]any{"enablePodAntiAffinity": true, "topologyKey": "kubernetes.io/hostname", "podAntiAffinityType": "required"}, spec["affinity"])
	spread := spec["topologySpreadConstraints"].([]any)
	require.Len(t, spread, 1)
	assert.Equal(t, "topology.kubernetes.io/zone", get(spread[0], "topologyKey"))
	assert.Equal(t, map[string]any{"cnpg.io/cluster": "tars-pg-us-east", "cnpg.io/podRole": "instance"}, get(spread[0], "labelSelector.matchLabels"))
	// WAL archived by the plugin to the region's own store.
	assert.Equal(t, []any{map[string]any{"name": "barman-cloud.cloudnative-pg.io", "isWALArchiver": true,
		"parameters": map[string]any{"barmanObjectName": "tars-pg-us-east"}}}, spec["plugins"])
	// The application database and owner; the app credentials from the Secret.
	assert.Equal(t, map[string]any{"database": "tars", "owner": "tars", "secret": map[string]any{"name": "tars-pg-app"},
		"dataChecksums": true, "encoding": "UTF8", "localeCType": "C.UTF-8", "localeCollate": "C.UTF-8"}, get(spec, "bootstrap.initdb"))
	assert.Nil(t, get(spec, "bootstrap.recovery"))
	assert.Nil(t, pg.Input("metadata.annotations"), "a new database keeps the empty-archive check")
	// The instances' service account is the backup role's.
	assert.Equal(t, harness.MockRoleArn("us-east-postgres-backup"), get(spec, "serviceAccountTemplate.metadata.annotations.eks\\.amazonaws\\.com/role-arn"),
		"role annotation")
}

// peerWithoutCluster is stack's peer before it has created its database.
func peerWithoutCluster(t *testing.T, stack string) map[string]any {
	t.Helper()
	out, err := harness.PeerOutputs(stack)
	require.NoError(t, err)
	out[stacks.OutPostgresCluster] = ""
	return out
}

// TestPostgresBackupsAndStores: the daily 02:00 base backup, the stores
// (own with 30-day retention and compression, the peer's read-only) and
// the scrape.
func TestPostgresBackupsAndStores(t *testing.T) {
	g := mustRun(t, "us-east")
	b := one(t, g, typeScheduledBackup, "us-east-postgres-daily-backup")
	assert.Equal(t, map[string]any{"schedule": "0 0 2 * * *", "immediate": true, "cluster": map[string]any{"name": "tars-pg-us-east"},
		"method": "plugin", "target": "prefer-standby", "backupOwnerReference": "self",
		"pluginConfiguration": map[string]any{"name": "barman-cloud.cloudnative-pg.io"}}, b.Input("spec"))
	own := one(t, g, typeObjectStore, "us-east-postgres-store-us-east")
	assert.Equal(t, "tars-pg-us-east", own.Input("metadata.name"))
	assert.Equal(t, "30d", own.Input("spec.retentionPolicy"))
	assert.Equal(t, "s3://tars-pg-wal-"+harness.MockAccountID+"-us-east-1/", own.Input("spec.configuration.destinationPath"))
	assert.Equal(t, true, own.Input("spec.configuration.s3Credentials.inheritFromIAMRole"))
	assert.Equal(t, "zstd", own.Input("spec.configuration.wal.compression"))
	assert.Equal(t, "gzip", own.Input("spec.configuration.data.compression"))
	peer := one(t, g, typeObjectStore, "us-east-postgres-store-us-west")
	assert.Equal(t, "s3://tars-pg-wal-"+harness.MockAccountID+"-us-west-2/", peer.Input("spec.configuration.destinationPath"))
	assert.Nil(t, peer.Input("spec.retentionPolicy"), "this region never prunes the peer's archive")
	pm := one(t, g, "kubernetes:monitoring.coreos.com/v1:PodMonitor", "us-east-postgres-metrics")
	assert.Equal(t, "kube-prometheus-stack", pm.Input("metadata.labels.release"))
	ep := pm.Input("spec.podMetricsEndpoints").([]any)[0].(map[string]any)
	assert.Equal(t, "metrics", ep["port"])
	assert.Equal(t, "15s", ep["interval"])
	assert.Equal(t, "cluster", get(ep["relabelings"].([]any)[0], "targetLabel"), "the lag and down alerts read the cluster label")
}

// TestPostgresWALBucket: versioned, SSE-KMS with a rotated key, every
// public-access block, TLS only, and a lifecycle that never expires a
// current object (only incomplete uploads and old noncurrent versions).
func TestPostgresWALBucket(t *testing.T) {
	g := mustRun(t, "us-east")
	name := "tars-pg-wal-" + harness.MockAccountID + "-us-east-1"
	b := one(t, g, "aws:s3/bucketV2:BucketV2", "us-east-postgres-wal")
	assert.Equal(t, name, b.Input("bucket"))
	key := one(t, g, "aws:kms/key:Key", "us-east-postgres-wal-key")
	assert.Equal(t, true, key.Input("enableKeyRotation"))
	assert.True(t, b.RetainOnDelete && key.RetainOnDelete, "a destroyed or rebuilt stack leaves the backups and their key")
	v := one(t, g, "aws:s3/bucketVersioningV2:BucketVersioningV2", "us-east-postgres-wal")
	assert.Equal(t, "Enabled", v.Input("versioningConfiguration.status"))
	sse := one(t, g, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "us-east-postgres-wal")
	rule := sse.Input("rules").([]any)[0]
	assert.Equal(t, "aws:kms", get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm"))
	assert.NotEmpty(t, get(rule, "applyServerSideEncryptionByDefault.kmsMasterKeyId"))
	pab := one(t, g, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "us-east-postgres-wal")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		assert.Equal(t, true, pab.Input(k), k)
	}
	pol := policyJSON(t, one(t, g, "aws:s3/bucketPolicy:BucketPolicy", "us-east-postgres-wal"), "policy")
	st := statements(t, pol)
	require.Len(t, st, 1)
	assert.Equal(t, "Deny", st[0]["Effect"])
	assert.Equal(t, map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}, st[0]["Condition"])
	assert.ElementsMatch(t, []any{"arn:aws:s3:::" + name, "arn:aws:s3:::" + name + "/*"}, st[0]["Resource"])
	lc := one(t, g, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "us-east-postgres-wal")
	rules := lc.Input("rules").([]any)
	require.Len(t, rules, 2)
	for _, r := range rules {
		exp, _ := get(r, "expiration").(map[string]any)
		delete(exp, "expiredObjectDeleteMarker")
		assert.Empty(t, exp, "rule %v expires current objects: barman's retention alone decides what the 30-day window needs", get(r, "id"))
	}
	assert.EqualValues(t, 7, get(rules[0], "abortIncompleteMultipartUpload.daysAfterInitiation"))
	assert.EqualValues(t, 30, get(rules[1], "noncurrentVersionExpiration.noncurrentDays"))
}

// TestPostgresBackupRoleWritesOwnReadsPeer: the instances' role writes its
// own region's bucket and only reads the peer's; each key only through S3.
func TestPostgresBackupRoleWritesOwnReadsPeer(t *testing.T) {
	g := mustRun(t, "us-west")
	own := "arn:aws:s3:::tars-pg-wal-" + harness.MockAccountID + "-us-west-2"
	peer := "arn:aws:s3:::tars-pg-wal-" + harness.MockAccountID + "-us-east-1"
	role := one(t, g, "aws:iam/role:Role", "us-west-postgres-backup")
	trust := statements(t, policyJSON(t, role, "assumeRolePolicy"))
	require.Len(t, trust, 1)
	sub := ""
	for k, v := range trust[0]["Condition"].(map[string]any)["StringEquals"].(map[string]any) {
		if strings.HasSuffix(k, ":sub") {
			sub = v.(string)
		}
	}
	assert.Equal(t, "system:serviceaccount:tars-postgres:tars-pg-us-west", sub, "the Cluster's service account only")
	actions := map[string][]string{} // resource → actions
	for _, s := range statements(t, policyJSON(t, one(t, g, "aws:iam/rolePolicy:RolePolicy", "us-west-postgres-backup"), "policy")) {
		require.Equal(t, "Allow", s["Effect"])
		for _, r := range strs(s["Resource"]) {
			actions[r] = append(actions[r], strs(s["Action"])...)
		}
	}
	assert.Subset(t, actions[own+"/*"], []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"})
	assert.Equal(t, []string{"s3:GetObject"}, actions[peer+"/*"], "the peer's objects are read only")
	assert.ElementsMatch(t, []string{"s3:ListBucket", "s3:GetBucketLocation"}, actions[peer])
	assert.Equal(t, []string{"kms:Decrypt"}, actions["arn:aws:kms:us-east-1:"+harness.MockAccountID+":key/*"])
}

// TestPostgresDistributedTopology: both stacks declare both regions; the
// primary initialises, the replica region recovers from the primary's
// store and streams from its endpoint; exactly one primary, before and
// after flipping tars:topology.postgresPrimary in both stacks.
func TestPostgresDistributedTopology(t *testing.T) {
	for _, primary := range []string{"us-east", "us-west"} {
		t.Run("primary "+primary, func(t *testing.T) {
			flip := harness.WithConfig("tars:topology.postgresPrimary", primary)
			primaries := 0
			for _, stack := range Stacks {
				spec := pgSpec(t, mustRun(t, stack, flip))
				self, peer := "tars-pg-"+stack, "tars-pg-"+map[string]string{"us-east": "us-west", "us-west": "us-east"}[stack]
				assert.Equal(t, map[string]any{"self": self, "primary": "tars-pg-" + primary, "source": peer}, spec["replica"], stack)
				names := []string{}
				for _, ec := range spec["externalClusters"].([]any) {
					names = append(names, get(ec, "name").(string))
					assert.Equal(t, map[string]any{"barmanObjectName": get(ec, "name"), "serverName": get(ec, "name")}, get(ec, "plugin.parameters"))
					if get(ec, "name") == peer {
						cp := get(ec, "connectionParameters").(map[string]any)
						assert.Equal(t, "tars_replicator", cp["user"])
						assert.Equal(t, "verify-full", cp["sslmode"], "the peer's server certificate is verified, names included")
						assert.Equal(t, map[string]any{"name": "tars-pg-peer-ca", "key": "ca.crt"}, get(ec, "sslRootCert"))
						assert.Equal(t, self, cp["application_name"])
						assert.Contains(t, cp["host"], peer, "the peer's endpoint from its stack outputs")
					}
				}
				assert.ElementsMatch(t, []string{"tars-pg-us-east", "tars-pg-us-west"}, names, stack)
				if primary == stack {
					primaries++
				}
				// The database exists (the peer runs it): every Cluster is
				// created from the primary's store, never by initdb.
				assert.Nil(t, get(spec, "bootstrap.initdb"), stack)
				assert.Equal(t, "tars-pg-"+primary, get(spec, "bootstrap.recovery.source"), stack)
				assert.Equal(t, "tars", get(spec, "bootstrap.recovery.owner"), stack)
				peerVpc := map[string]string{"us-east": "10.20.0.0/16", "us-west": "10.10.0.0/16"}[stack]
				assert.Equal(t, []any{"hostssl replication tars_replicator " + peerVpc + " scram-sha-256", "hostssl grafana grafana " + peerVpc + " scram-sha-256"},
					get(spec, "postgresql.pg_hba"), "only the peer VPC may stream, and reach Grafana's database on the primary")
			}
			assert.Equal(t, 1, primaries, "exactly one primary")
		})
	}
}

// demotionToken is a token as CloudNativePG 1.30.0 writes it.
func demotionToken() string {
	return base64.StdEncoding.EncodeToString([]byte(`{"latestCheckpointTimelineID":"1","redoWalFile":"000000010000000000000004","databaseSystemIdentifier":"7410000000000000000","latestCheckpointREDOLocation":"0/4000028","timeOfLatestCheckpoint":"Sun Nov 29 23:00:00 2026","operatorVersion":"1.30.0"}`))
}

// TestPostgresSwitchoverCarriesThePromotionToken: the new primary's stack
// passes the old primary's demotion token; misplaced or malformed tokens
// are config errors naming the key.
func TestPostgresSwitchoverCarriesThePromotionToken(t *testing.T) {
	tok := demotionToken()
	flip := harness.WithConfig("tars:topology.postgresPrimary", "us-west")
	spec := pgSpec(t, mustRun(t, "us-west", flip, harness.WithConfig("tars:postgres.promotionToken", tok)))
	assert.Equal(t, tok, get(spec, "replica.promotionToken"))
	assert.Equal(t, "tars-pg-us-west", get(spec, "replica.primary"))
	// The old primary, demoted by the same flip, carries none.
	assert.Nil(t, get(pgSpec(t, mustRun(t, "us-east", flip)), "replica.promotionToken"))

	_, err := harness.Run("us-west", harness.WithConfig("tars:postgres.promotionToken", tok))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tars:postgres.promotionToken is set, but this region (us-west) is not tars:topology.postgresPrimary (us-east)")
	_, err = harness.Run("us-west", flip, harness.WithConfig("tars:postgres.promotionToken", "bm90IGEgdG9rZW4="))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tars:postgres.promotionToken is not a CloudNativePG demotion token")
}

// TestPostgresCrossRegionSynchronousIsOptIn: the seed's remote_apply to
// the other region only when asked, then with the peer first in the
// priority list and durability required.
func TestPostgresCrossRegionSynchronousIsOptIn(t *testing.T) {
	spec := pgSpec(t, mustRun(t, "us-east", harness.WithConfig("tars:postgres.crossRegionSynchronous", true)))
	assert.Equal(t, map[string]any{"method": "first", "number": 2.0, "dataDurability": "required", "standbyNamesPre": []any{"tars-pg-us-west"}},
		get(spec, "postgresql.synchronous"))
	assert.Equal(t, "remote_apply", get(spec, "postgresql.parameters.synchronous_commit"))
}

// TestPostgresDeployOrder: what each stack does when its peer has not
// exported its database yet.
func TestPostgresDeployOrder(t *testing.T) {
	withoutDB := func(stack string) map[string]any {
		out, err := harness.PeerOutputs(stack)
		require.NoError(t, err)
		delete(out, stacks.OutPostgresBucket)
		delete(out, stacks.OutPostgresEndpoint)
		return out
	}
	peer := withoutDB("us-east")
	// The primary region: a primary without a standby region.
	spec := pgSpec(t, mustRun(t, "us-east", harness.WithPeerOutputs(peer)))
	assert.Nil(t, spec["replica"])
	assert.Nil(t, spec["externalClusters"])
	assert.NotNil(t, get(spec, "bootstrap.initdb"))
	// The replica region's first run (no peering requested yet): its
	// bucket and endpoint, which the primary reads, but no database.
	g := mustRun(t, "us-west", harness.WithPeeringNotRequested())
	assert.Empty(t, g.ByType(typeCNPGCluster))
	one(t, g, "aws:s3/bucketV2:BucketV2", "us-west-postgres-wal")
	one(t, g, "kubernetes:core/v1:Service", "us-west-postgres-replication")
	assert.Contains(t, g.Exports, stacks.OutPostgresEndpoint)
	// The primary region initialises only while the other region has no
	// database; a rebuilt primary region recovers from its own store.
	assert.NotNil(t, get(pgSpec(t, mustRun(t, "us-east", harness.WithPeerOutputs(peerWithoutCluster(t, "us-east")))), "bootstrap.initdb"))
	rebuilt := mustRun(t, "us-east")
	assert.Equal(t, "tars-pg-us-east", get(pgSpec(t, rebuilt), "bootstrap.recovery.source"))
	assert.Equal(t, "enabled", get(one(t, rebuilt, typeCNPGCluster, "us-east-postgres-cluster").PlainInputs(), `metadata.annotations.cnpg\.io/skipEmptyWalArchiveCheck`),
		"its bucket holds this database's earlier archive")
	// Later runs of the replica region stop, naming the stack to run.
	_, err := harness.Run("us-west", harness.WithPeerOutputs(withoutDB("us-west")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Postgres replicates from us-east (tars:topology.postgresPrimary), but peer stack us-east does not export \"postgresBucket\"")
	assert.Contains(t, err.Error(), "run `pulumi up -s us-east` first")
	_, err = harness.Run("us-west", harness.WithPeerOutputs(peerWithoutCluster(t, "us-west")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "but peer stack us-east runs no database yet (postgresCluster is empty): run `pulumi up -s us-east` first")
}

// TestPostgresCredentialsStaySecret: the roles' passwords reach the
// Kubernetes Secrets as Pulumi secrets.
func TestPostgresCredentialsStaySecret(t *testing.T) {
	g := mustRun(t, "us-east")
	for name, user := range map[string]string{"us-east-postgres-app": "tars", "us-east-postgres-replicator": "tars_replicator"} {
		s := one(t, g, "kubernetes:core/v1:Secret", name)
		assert.Equal(t, "kubernetes.io/basic-auth", s.Input("type"))
		assert.True(t, s.IsSecret("stringData"), "%s stringData must be a Pulumi secret", name)
		assert.Equal(t, user, s.Input("stringData.username"))
	}
}

// TestPostgresNetworkAdmission: the application namespace, the instances,
// the operator, the scraper, Grafana's pods (its database), the peer VPC
// to PostgreSQL and this VPC to the status port (load-balancer health
// checks); nothing else.
func TestPostgresNetworkAdmission(t *testing.T) {
	g := mustRun(t, "us-east")
	np := one(t, g, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "us-east-postgres")
	got := map[string][]float64{}
	for _, r := range np.Input("spec.ingress").([]any) {
		from := get(r, "from").([]any)[0]
		key := ""
		switch {
		case get(from, "namespaceSelector") != nil && get(from, "podSelector") != nil:
			key = "ns:" + get(from, "namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name").(string) +
				" pods:" + fmt.Sprint(get(from, "podSelector.matchLabels.app\\.kubernetes\\.io/name"))
		case get(from, "namespaceSelector") != nil:
			key = "ns:" + get(from, "namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name").(string)
		case get(from, "ipBlock") != nil:
			key = "cidr:" + get(from, "ipBlock.cidr").(string)
		default:
			key = "pods:" + get(from, "podSelector.matchLabels.cnpg\\.io/cluster").(string)
		}
		for _, p := range get(r, "ports").([]any) {
			got[key] = append(got[key], get(p, "port").(float64))
		}
	}
	assert.Equal(t, map[string][]float64{
		"ns:tars": {5432}, "pods:tars-pg-us-east": {5432, 8000}, "ns:cnpg-system": {5432, 8000},
		"ns:monitoring": {9187}, "cidr:10.20.0.0/16": {5432},
		// The endpoint's health checks from the infrastructure subnets
		// (internal load balancers), not the VPC: pods have VPC addresses.
		"cidr:10.10.192.0/22": {8000}, "cidr:10.10.196.0/22": {8000}, "cidr:10.10.200.0/22": {8000},
		"ns:monitoring pods:grafana": {5432}, // Grafana's database
	}, got)
	svc := one(t, g, "kubernetes:core/v1:Service", "us-east-postgres-replication")
	assert.Equal(t, "internal", get(svc.PlainInputs(), `metadata.annotations.service\.beta\.kubernetes\.io/aws-load-balancer-scheme`))
	assert.Equal(t, "service.k8s.aws/nlb", svc.Input("spec.loadBalancerClass"))
	assert.Equal(t, []any{"10.20.0.0/16"}, svc.Input("spec.loadBalancerSourceRanges"))
	assert.Equal(t, map[string]any{"cnpg.io/cluster": "tars-pg-us-east", "cnpg.io/instanceRole": "primary"}, svc.Input("spec.selector"))
}

// TestPostgresConfigErrors: bad tars:postgres values name the key.
func TestPostgresConfigErrors(t *testing.T) {
	cases := []struct {
		path  string
		value any
		want  string
	}{
		{"tars:postgres.memoryMb", 1024, "tars:postgres.memoryMb (1024) must be within the seed's VPA bounds, 2048 to 16384"},
		{"tars:postgres.cpuLimit", "16", `tars:postgres.cpuLimit ("16") is above the seed's VPA maximum of 8000m`},
		{"tars:postgres.cpuRequest", "500m", `tars:postgres.cpuRequest ("500m") is below the seed's VPA minimum of 1000m`},
		{"tars:postgres.instances", 2, "tars:postgres.instances (2) must be at least 3"},
		{"tars:postgres.backupRetentionDays", 7, "tars:postgres.backupRetentionDays (7) must be at least 30"},
		{"tars:postgres.owner", "Tars-App", `tars:postgres.owner ("Tars-App") must be a lower-case PostgreSQL identifier`},
		{"tars:postgres.instance", 3, `tars:postgres has unknown field "instance"`},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			_, err := runRecovering(t, "us-east", harness.WithConfig(tc.path, tc.value))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestPostgresManagedParametersMatchTheOperator: pgconf.CNPGManaged is the
// operator's own list of fixed and blocked parameters, read from the
// CloudNativePG module at the version the chart runs.
func TestPostgresManagedParametersMatchTheOperator(t *testing.T) {
	if os.Getenv(kubeapi.SkipEnv) == "1" {
		t.Skipf("%s=1", kubeapi.SkipEnv)
	}
	var src kubeapi.CRDSource
	for _, s := range kubeapi.CRDSources {
		if s.Chart.Name == versions.CloudNativePG.Name {
			src = s
		}
	}
	dir, err := src.ModuleDir()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "pkg/postgres/configuration.go"))
	require.NoError(t, err)
	var operator []string
	for _, m := range regexp.MustCompile(`"([a-z_.]+)":\s+(fixed|blocked)ConfigurationParameter`).FindAllStringSubmatch(string(b), -1) {
		operator = append(operator, m[1])
	}
	require.Greater(t, len(operator), 40, "parsing CloudNativePG's list")
	slices.Sort(operator)
	mine := slices.Clone(pgconf.CNPGManaged)
	slices.Sort(mine)
	assert.Equal(t, operator, mine)
}

// TestPostgresConformanceDurabilityModes: kube-apiserver, with
// CloudNativePG's CRD and its validation rules, accepts the Cluster in both
// durability modes and rejects "preferred" durability with a named remote
// standby, the combination the opt-in mode must avoid (so that rule is
// enforced here, not assumed).
func TestPostgresConformanceDurabilityModes(t *testing.T) {
	srv := kubeAPI(t)
	ctx := context.Background()
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "tars-postgres"}}
	require.NoError(t, srv.Apply(ctx, ns, false))
	var optIn map[string]any
	for _, sync := range []bool{false, true} {
		g := mustRun(t, "us-east", harness.WithConfig("tars:postgres.crossRegionSynchronous", sync))
		ms, err := charttier.ProgramManifests(g)
		require.NoError(t, err)
		n := 0
		for _, m := range ms {
			if m.Object["kind"] == "Cluster" {
				require.NoError(t, srv.Apply(ctx, m.Object, true), "crossRegionSynchronous %v", sync)
				optIn, n = m.Object, n+1
			}
		}
		require.Equal(t, 1, n)
	}
	bad, err := json.Marshal(optIn)
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, json.Unmarshal(bad, &obj))
	obj["spec"].(map[string]any)["postgresql"].(map[string]any)["synchronous"].(map[string]any)["dataDurability"] = "preferred"
	err = srv.Apply(ctx, obj, true)
	var rej *kubeapi.Rejection
	require.True(t, errors.As(err, &rej), "want a rejection, got %v", err)
	assert.Contains(t, rej.Reason, "dataDurability set to 'preferred' requires empty 'standbyNamesPre'")
}
