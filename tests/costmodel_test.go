package tests

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/internal/costmodel"
	"github.com/tars-platform/infra/tests/charttier"
)

// smallRegion is a hand-sized region: every priced kind once or twice.
func smallRegion() ([]costmodel.Resource, []map[string]any) {
	rs := []costmodel.Resource{
		{Type: "aws:eks/cluster:Cluster", Name: "eks"},
		{Type: "aws:eks/nodeGroup:NodeGroup", Name: "pool", Inputs: map[string]any{
			"instanceTypes": []any{"m5.xlarge"}, "diskSize": 50.0,
			"scalingConfig": map[string]any{"minSize": 2.0, "maxSize": 5.0, "desiredSize": 2.0}}},
		{Type: "aws:ec2/natGateway:NatGateway", Name: "nat"},
		{Type: "aws:ec2/eip:Eip", Name: "nat"},
		{Type: "aws:ec2/subnet:Subnet", Name: "public-a", Inputs: map[string]any{"availabilityZone": "us-east-1a", "tags": map[string]any{"kubernetes.io/role/elb": "1"}}},
		{Type: "aws:ec2/subnet:Subnet", Name: "public-b", Inputs: map[string]any{"availabilityZone": "us-east-1b", "tags": map[string]any{"kubernetes.io/role/elb": "1"}}},
		{Type: "aws:ec2/subnet:Subnet", Name: "private-a", Inputs: map[string]any{"availabilityZone": "us-east-1a", "tags": map[string]any{"kubernetes.io/role/internal-elb": "1"}}},
		{Type: "aws:s3/bucketV2:BucketV2", Name: "a"}, {Type: "aws:s3/bucketV2:BucketV2", Name: "b"},
		{Type: "aws:kms/key:Key", Name: "a"}, {Type: "aws:kms/key:Key", Name: "b"}, {Type: "aws:kms/key:Key", Name: "c"},
		{Type: "aws:route53/healthCheck:HealthCheck", Name: "hc", Inputs: map[string]any{"type": "HTTPS", "requestInterval": 30.0, "measureLatency": false}},
		{Type: "aws:cloudwatch/metricAlarm:MetricAlarm", Name: "a"}, {Type: "aws:cloudwatch/metricAlarm:MetricAlarm", Name: "b"},
		{Type: "aws:cloudwatch/logGroup:LogGroup", Name: "logs", Inputs: map[string]any{"retentionInDays": 30.0}},
	}
	ingress := func(name, class, group string) map[string]any {
		ann := map[string]any{"alb.ingress.kubernetes.io/scheme": "internet-facing"}
		if group != "" {
			ann["alb.ingress.kubernetes.io/group.name"] = group
		}
		return map[string]any{"kind": "Ingress", "metadata": map[string]any{"name": name, "namespace": "x", "annotations": ann},
			"spec": map[string]any{"ingressClassName": class}}
	}
	claim := func(size string) map[string]any {
		return map[string]any{"spec": map[string]any{"resources": map[string]any{"requests": map[string]any{"storage": size}}}}
	}
	objs := []map[string]any{
		ingress("api", "alb", "shared"), ingress("grafana", "alb", "shared"), ingress("admin", "alb", ""), ingress("internal", "nginx", ""),
		{"kind": "Service", "metadata": map[string]any{"name": "plain"}, "spec": map[string]any{"type": "ClusterIP"}},
		{"kind": "StatefulSet", "metadata": map[string]any{"name": "db", "namespace": "x"}, "spec": map[string]any{"replicas": 3.0,
			"volumeClaimTemplates": []any{map[string]any{"metadata": map[string]any{"name": "data"}, "spec": claim("10Gi")["spec"]}}}},
		{"kind": "PersistentVolumeClaim", "metadata": map[string]any{"name": "scratch", "namespace": "x"}, "spec": claim("5Gi")["spec"]},
		{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": map[string]any{"name": "pg", "namespace": "x"},
			"spec": map[string]any{"instances": 2.0, "storage": map[string]any{"size": "20Gi"}, "walStorage": map[string]any{"size": "5Gi"}}},
		{"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus", "metadata": map[string]any{"name": "prom", "namespace": "x"},
			"spec": map[string]any{"replicas": 2.0, "storage": map[string]any{"volumeClaimTemplate": claim("100Gi")}}},
	}
	return rs, objs
}

// TestCostModelMatchesAHandCalculation: the small region priced by hand
// from the table's list prices (730 h a month):
//
//	control plane      1 × 0.10 × 730                         =  73.00
//	nodes              2 × 0.192 × 730 = 280.32 | 5 × …       = 700.80
//	node volumes       2 × 50 × 0.08   =   8.00 | 5 × 50 × …  =  20.00
//	NAT                0.045 × 730 + 100 GB × 0.045           =  37.35
//	ALBs               2 (a group counts once) × 0.0305 × 730 =  44.53
//	public IPv4        (1 EIP + 2 ALBs × 2 public subnets) × 0.005 × 730 = 18.25
//	volumes            3×10 + 5 + 2×(20+5) + 2×100 = 285 GiB × 0.08 = 22.80
//	S3                 2 × 100 GB × 0.023                     =   4.60
//	KMS                3 × 1                                  =   3.00
//	health check       0.50 + HTTPS 1.00                      =   1.50
//	alarms             2 × 0.10                               =   0.20
//	logs               10 GB × 0.50 + 10 GB × 30/30 × 0.03    =   5.30
//	total              498.85 at the minimum, 931.33 at the maximum
func TestCostModelMatchesAHandCalculation(t *testing.T) {
	rs, objs := smallRegion()
	inv, err := costmodel.Collect(rs, objs)
	require.NoError(t, err)
	assert.Equal(t, "us-east-1", inv.AwsRegion)
	assert.Equal(t, 285.0, inv.VolumeGiB())
	e, err := costmodel.AWS.Estimate(inv.AwsRegion, inv)
	require.NoError(t, err)
	want := map[string][2]float64{
		"EKS control plane": {73.00, 73.00}, "nodes pool": {280.32, 700.80}, "node volumes pool": {8.00, 20.00},
		"NAT gateways": {37.35, 37.35}, "application load balancers": {44.53, 44.53}, "public IPv4 addresses": {18.25, 18.25},
		"persistent volumes": {22.80, 22.80}, "S3 buckets": {4.60, 4.60}, "KMS keys": {3.00, 3.00},
		"health check hc": {1.50, 1.50}, "CloudWatch alarms": {0.20, 0.20}, "CloudWatch Logs": {5.30, 5.30},
	}
	got := map[string][2]float64{}
	for _, l := range e.Lines {
		got[l.Item] = [2]float64{l.Min, l.Max}
	}
	for item, w := range want {
		assert.InDelta(t, w[0], got[item][0], 0.001, "%s min", item)
		assert.InDelta(t, w[1], got[item][1], 0.001, "%s max", item)
	}
	assert.Len(t, got, len(want), "no other lines: %v", got)
	assert.InDelta(t, 498.85, e.Min, 0.001)
	assert.InDelta(t, 931.33, e.Max, 0.001)

	var b bytes.Buffer
	require.NoError(t, e.Write(&b))
	assert.Contains(t, b.String(), "total")
	assert.Contains(t, b.String(), "498.85")
}

// TestCostModelRefusesWhatItCannotPrice: an unknown instance type or
// region, or a size that is not a quantity, is an error naming it.
func TestCostModelRefusesWhatItCannotPrice(t *testing.T) {
	rs, objs := smallRegion()
	rs[1].Inputs["instanceTypes"] = []any{"x9.huge"}
	inv, err := costmodel.Collect(rs, objs)
	require.NoError(t, err)
	_, err = costmodel.AWS.Estimate(inv.AwsRegion, inv)
	assert.ErrorContains(t, err, `node group pool: the price table has no instance type "x9.huge"`)
	_, err = costmodel.AWS.Estimate("eu-north-9", inv)
	assert.ErrorContains(t, err, `the price table has no region "eu-north-9"`)

	rs, objs = smallRegion()
	objs = append(objs, map[string]any{"kind": "PersistentVolumeClaim", "metadata": map[string]any{"name": "bad", "namespace": "x"},
		"spec": map[string]any{"resources": map[string]any{"requests": map[string]any{"storage": "lots"}}}})
	_, err = costmodel.Collect(rs, objs)
	assert.ErrorContains(t, err, `PersistentVolumeClaim x/bad: storage "lots" is not a quantity`)
}

// TestCostOfThePlannedStacks: the real plans priced with the charts
// rendered: every component's claims are counted (literals from the
// components' settings), and both regions together exceed the seed's
// $1000 monthly budget at their minimum.
func TestCostOfThePlannedStacks(t *testing.T) {
	total := 0.0
	for _, stack := range Stacks {
		g := renderStack(t, stack).graph
		e, inv, err := charttier.Cost(context.Background(), g, chartsDir(t), costmodel.AWS)
		require.NoError(t, err)
		claims := map[string]float64{}
		for _, v := range inv.Volumes {
			claims[v.Owner] += v.GiB
		}
		for owner, gib := range map[string]float64{
			"Prometheus monitoring/kube-prometheus-stack-prometheus":                     2 * 100,
			"Alertmanager monitoring/kube-prometheus-stack-alertmanager":                 3 * 10,
			"Cluster tars-postgres/tars-pg-" + stack + " data":                           3 * 100,
			"Cluster tars-postgres/tars-pg-" + stack + " wal":                            3 * 20,
			"StatefulSet monitoring/loki storage":                                        3 * 50,
			"StatefulSet monitoring/opensearch-cluster-master opensearch-cluster-master": 3 * 30,
			"StatefulSet kubecost/kubecost-aggregator aggregator-db-storage":             128,
		} {
			assert.Equal(t, gib, claims[owner], "%s: %s (claims: %v)", stack, owner, claims)
		}
		assert.NotEmpty(t, claimsWithPrefix(claims, "StatefulSet tars-data/redis "), "%s: redis volumes", stack)
		lines := map[string]costmodel.Line{}
		for _, l := range e.Lines {
			lines[l.Item] = l
		}
		// 3 to 20 nodes of m5a.xlarge ($0.172/h) at the least, m5.xlarge ($0.192/h) at the most.
		assert.InDelta(t, 3*0.172*730, lines["nodes "+stack+"-general"].Min, 0.01, stack)
		assert.InDelta(t, 20*0.192*730, lines["nodes "+stack+"-general"].Max, 0.01, stack)
		assert.InDelta(t, 73.0, lines["EKS control plane"].Min, 0.001, stack)
		assert.Contains(t, lines["NAT gateways"].Quantity, "3 ×", stack)
		total += e.Min
	}
	assert.Greater(t, total, 1000.0, "two regions at their minimum exceed the $1000 monthly budget")
}

func claimsWithPrefix(claims map[string]float64, prefix string) []string {
	var out []string
	for k := range claims {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// TestPolicyMonthlyCostAdvisory: the advisory fires on the real plan (two
// regions over $1000 at their minimum) and not on a region small enough.
func TestPolicyMonthlyCostAdvisory(t *testing.T) {
	vs := evaluate(t, "monthly-cost-within-budget", mustRun(t, "us-east").PolicyResources()...)
	require.Len(t, vs, 1)
	assert.Equal(t, policyx.EnforcementLevelAdvisory, vs[0].Level)
	assert.Contains(t, vs[0].Message, "over the $1000 monthly budget")
	assert.Contains(t, vs[0].URN, "aws:eks/cluster:Cluster")

	small := []policyx.AnalyzerResource{
		fixture("aws:eks/cluster:Cluster", "eks", map[string]any{}),
		fixture("aws:ec2/subnet:Subnet", "a", map[string]any{"availabilityZone": "us-west-2a"}),
		fixture("aws:eks/nodeGroup:NodeGroup", "pool", map[string]any{"instanceTypes": []any{"m5.large"},
			"scalingConfig": map[string]any{"minSize": 3, "maxSize": 20}}),
	}
	// (73 + 3 × 0.096 × 730 + 3 × 20 GiB × 0.08) × 2 = 575.28: within.
	assert.Empty(t, evaluate(t, "monthly-cost-within-budget", small...))
	small[2] = fixture("aws:eks/nodeGroup:NodeGroup", "pool", map[string]any{"instanceTypes": []any{"m5.xlarge"},
		"scalingConfig": map[string]any{"minSize": 3, "maxSize": 20}})
	// (73 + 3 × 0.192 × 730 + 4.80) × 2 = 996.56: still within; one more
	// node is not: (73 + 560.64 + 6.40) × 2 = 1280.08.
	assert.Empty(t, evaluate(t, "monthly-cost-within-budget", small...))
	small[2] = fixture("aws:eks/nodeGroup:NodeGroup", "pool", map[string]any{"instanceTypes": []any{"m5.xlarge"},
		"scalingConfig": map[string]any{"minSize": 4, "maxSize": 20}})
	vs = evaluate(t, "monthly-cost-within-budget", small...)
	require.Len(t, vs, 1)
	assert.Contains(t, vs[0].Message, "at least $1280.08")
}
