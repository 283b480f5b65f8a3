package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/chromadb"
	"github.com/tars-platform/infra/stacks"
	"github.com/tars-platform/infra/tests/harness"
)

// ChromaDB (issue #18): seed 003's 100 Gi per region and 15-minute sync.

// TestChromaDBRunsOnTheEncryptedClass: one member per region on a 100 Gi
// claim of the encrypted gp3 class, the pinned image, heartbeat probes,
// requests inside the seed's VPA row, reachable from the application's
// namespace only.
func TestChromaDBRunsOnTheEncryptedClass(t *testing.T) {
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		sts := one(t, g, "kubernetes:apps/v1:StatefulSet", stack+"-chromadb").PlainInputs()
		assert.Equal(t, "chromadb", get(sts, "metadata.name"))
		assert.Equal(t, "tars", get(sts, "metadata.namespace"))
		claim := asMap(asList(get(sts, "spec.volumeClaimTemplates"))[0])
		assert.Equal(t, "100Gi", get(claim, "spec.resources.requests.storage"), stack)
		assert.Equal(t, "gp3-encrypted-retain", get(claim, "spec.storageClassName"))
		class := one(t, g, "kubernetes:storage.k8s.io/v1:StorageClass", stack+"-gp3-encrypted-retain").PlainInputs()
		assert.Equal(t, "true", fmt.Sprint(get(class, "parameters.encrypted")), "the class the claim names encrypts")
		assert.Equal(t, "Retain", get(class, "reclaimPolicy"), "a deleted claim leaves its volume")
		assert.True(t, one(t, g, "kubernetes:apps/v1:StatefulSet", stack+"-chromadb").Protect, "%s: the StatefulSet is protected", stack)
		assert.Equal(t, "Retain", get(sts, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted"))

		spec := asMap(get(sts, "spec.template.spec"))
		ctr := asMap(asList(spec["containers"])[0])
		assert.Equal(t, "chromadb/chroma:1.5.9", ctr["image"])
		for _, probe := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
			assert.Equal(t, "/api/v2/heartbeat", get(ctr, probe+".httpGet.path"), probe)
			assert.EqualValues(t, 8000, get(ctr, probe+".httpGet.port"), probe)
		}
		assert.Equal(t, "500m", get(ctr, "resources.requests.cpu"), "the VPA row's minimum")
		assert.Equal(t, "1Gi", get(ctr, "resources.requests.memory"))
		mount := asMap(asList(ctr["volumeMounts"])[0])
		assert.Equal(t, "/data", mount["mountPath"])
		assert.Equal(t, "chroma", mount["subPath"], "ChromaDB never sees the staged copy beside its data")
		initCtr := asMap(asList(spec["initContainers"])[0])
		assert.Equal(t, []string{"sh", "/scripts/promote.sh"}, strs(initCtr["command"]))

		np := one(t, g, "kubernetes:networking.k8s.io/v1:NetworkPolicy", stack+"-chromadb").PlainInputs()
		rules := asList(get(np, "spec.ingress"))
		require.Len(t, rules, 1)
		assert.Equal(t, "tars", get(asList(asMap(rules[0])["from"])[0], "namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name"))
		assert.EqualValues(t, 8000, get(asList(asMap(rules[0])["ports"])[0], "port"))

		// The seed's VPA row targets this very StatefulSet.
		vpa := one(t, g, "kubernetes:autoscaling.k8s.io/v1:VerticalPodAutoscaler", stack+"-costs-vpa-chromadb").PlainInputs()
		assert.Equal(t, "StatefulSet", get(vpa, "spec.targetRef.kind"))
		assert.Equal(t, "chromadb", get(vpa, "spec.targetRef.name"))
		assert.Equal(t, "tars", get(vpa, "metadata.namespace"))
	}
}

// cronJobs returns the chromadb CronJobs of a graph by name.
func chromaCronJobs(g *harness.Graph) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range g.ByType("kubernetes:batch/v1:CronJob") {
		in := r.PlainInputs()
		if n := fmt.Sprint(get(in, "metadata.name")); strings.HasPrefix(n, "chromadb-") {
			out[n] = in
		}
	}
	return out
}

func envOf(ctr any) map[string]string {
	out := map[string]string{}
	for _, e := range asList(asMap(ctr)["env"]) {
		out[fmt.Sprint(asMap(e)["name"])] = fmt.Sprint(asMap(e)["value"])
	}
	return out
}

// TestChromaDBSyncFollowsTheTopology: the Postgres primary region
// snapshots to its own bucket every 15 minutes; the other restores from
// the primary's bucket; flipping tars:topology.postgresPrimary swaps them.
// The IAM policies: the snapshotting role writes only under the prefix of
// its own bucket, the restoring role only reads the peer's.
func TestChromaDBSyncFollowsTheTopology(t *testing.T) {
	cases := []struct {
		stack, primary, job, bucket, awsRegion string
	}{
		{"us-east", "us-east", "chromadb-snapshot", "tars-chromadb-" + harness.MockAccountID + "-us-east-1", "us-east-1"},
		{"us-west", "us-east", "chromadb-restore", "tars-chromadb-" + harness.MockAccountID + "-us-east-1", "us-east-1"},
		{"us-west", "us-west", "chromadb-snapshot", "tars-chromadb-" + harness.MockAccountID + "-us-west-2", "us-west-2"},
		{"us-east", "us-west", "chromadb-restore", "tars-chromadb-" + harness.MockAccountID + "-us-west-2", "us-west-2"},
	}
	for _, c := range cases {
		t.Run(c.stack+"/primary="+c.primary, func(t *testing.T) {
			g := mustRun(t, c.stack, harness.WithConfig("tars:topology.postgresPrimary", c.primary))
			jobs := chromaCronJobs(g)
			require.Len(t, jobs, 1, "one sync job per region: %v", jobs)
			job, ok := jobs[c.job]
			require.True(t, ok, "want %s, have %v", c.job, jobs)
			assert.Equal(t, map[bool]string{true: "*/15 * * * *", false: "7-59/15 * * * *"}[c.job == "chromadb-snapshot"], get(job, "spec.schedule"))
			assert.Equal(t, "Forbid", get(job, "spec.concurrencyPolicy"))
			pod := asMap(get(job, "spec.jobTemplate.spec.template.spec"))
			assert.Equal(t, "chromadb-sync", pod["serviceAccountName"])
			ctr := asList(pod["containers"])[0]
			env := envOf(ctr)
			bucketVar := map[bool]string{true: "BUCKET", false: "SOURCE_BUCKET"}[c.job == "chromadb-snapshot"]
			assert.Equal(t, c.bucket, env[bucketVar])
			assert.Equal(t, c.awsRegion, env["AWS_REGION"])
			assert.Equal(t, "data-chromadb-0", get(asList(pod["volumes"])[0], "persistentVolumeClaim.claimName"))
			assert.Equal(t, "kubernetes.io/hostname", get(asList(get(pod, "affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution"))[0], "topologyKey"),
				"on ChromaDB's node: the gp3 volume attaches to one node")

			doc := policyJSON(t, one(t, g, "aws:iam/rolePolicy:RolePolicy", c.stack+"-chromadb-sync"), "policy")
			var actions []string
			for _, s := range statements(t, doc) {
				acts := strs(s["Action"])
				if len(acts) == 0 {
					acts = []string{fmt.Sprint(s["Action"])}
				}
				actions = append(actions, acts...)
				for _, res := range strs(s["Resource"]) {
					if strings.HasPrefix(res, "arn:aws:s3:::") {
						assert.True(t, strings.HasPrefix(res, "arn:aws:s3:::"+c.bucket), "%s only touches %s", res, c.bucket)
					}
				}
			}
			if c.job == "chromadb-snapshot" {
				assert.Contains(t, actions, "s3:PutObject")
				_, restart := g.Find("kubernetes:rbac.authorization.k8s.io/v1:Role", c.stack+"-chromadb-restart")
				assert.False(t, restart, "the snapshotting region restarts nothing")
			} else {
				assert.NotContains(t, actions, "s3:PutObject", "the restoring region never writes the primary's snapshots")
				assert.NotContains(t, actions, "s3:DeleteObject")
				role := one(t, g, "kubernetes:rbac.authorization.k8s.io/v1:Role", c.stack+"-chromadb-restart").PlainInputs()
				rule := asMap(asList(role["rules"])[0])
				assert.Equal(t, []string{"chromadb-0"}, strs(rule["resourceNames"]))
				assert.Equal(t, []string{"delete"}, strs(rule["verbs"]))
			}
		})
	}
}

// TestChromaDBWaitsForThePeerBucket: the restoring region whose peer has
// not exported its bucket yet creates ChromaDB but no restore job, and
// every stack exports its own bucket for the peer.
func TestChromaDBWaitsForThePeerBucket(t *testing.T) {
	peer, err := harness.PeerOutputs("us-west")
	require.NoError(t, err)
	delete(peer, stacks.OutChromaBucket)
	g := mustRun(t, "us-west", harness.WithPeerOutputs(peer))
	one(t, g, "kubernetes:apps/v1:StatefulSet", "us-west-chromadb")
	assert.Empty(t, chromaCronJobs(g))

	east := mustRun(t, "us-east")
	assert.Contains(t, east.Exports, stacks.OutChromaBucket)
}

// TestChromaDBArgsErrors: bad args name the field.
func TestChromaDBArgsErrors(t *testing.T) {
	good := chromadb.Args{Namespace: "tars", Region: "us-east", Role: chromadb.RoleSnapshot, StorageClass: "gp3",
		AccountID: "123456789012", AwsRegion: "us-east-1", Partition: "aws"}.WithDefaults()
	require.NoError(t, good.Validate())
	for _, c := range []struct {
		edit func(*chromadb.Args)
		want string
	}{
		{func(a *chromadb.Args) { a.Role = "mirror" }, `role ("mirror") must be "snapshot" or "restore"`},
		{func(a *chromadb.Args) { a.StorageGi = -1 }, "storageGi (-1) must be at least 1"},
		{func(a *chromadb.Args) { a.Namespace = "Tars" }, `namespace ("Tars")`},
		{func(a *chromadb.Args) {
			a.Role, a.Peer = chromadb.RoleRestore, &chromadb.Peer{AwsRegion: "east", Bucket: "b"}
		}, "peer"},
		{func(a *chromadb.Args) { a.AwsRegion = "" }, "awsRegion"},
	} {
		a := good
		c.edit(&a)
		err := a.Validate()
		require.Error(t, err)
		assert.Contains(t, err.Error(), c.want)
	}
}
