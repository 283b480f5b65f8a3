package tests

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/tests/harness"
)

// clusterCounts is the us-west region (no singletons) with one node group
// over three AZs, NAT per AZ.
var clusterCounts = map[string]int{
	"tars:cluster:Cluster":                                    1,
	"aws:ec2/vpc:Vpc":                                         1,
	"aws:ec2/internetGateway:InternetGateway":                 1,
	"aws:ec2/subnet:Subnet":                                   9, // public, private and infrastructure per AZ
	"aws:ec2/routeTable:RouteTable":                           4, // one public, one private per AZ
	"aws:ec2/route:Route":                                     4, // public default + private default per AZ
	"aws:ec2/routeTableAssociation:RouteTableAssociation":     9,
	"aws:ec2/eip:Eip":                                         3,
	"aws:ec2/natGateway:NatGateway":                           3,
	"aws:ec2/securityGroupRule:SecurityGroupRule":             1, // peer CIDR on Postgres only
	"aws:ec2/launchTemplate:LaunchTemplate":                   1,
	"aws:kms/key:Key":                                         1,
	"aws:kms/alias:Alias":                                     1,
	"aws:cloudwatch/logGroup:LogGroup":                        2, // control plane, VPC flow logs
	"aws:ec2/flowLog:FlowLog":                                 1,
	"aws:eks/accessEntry:AccessEntry":                         1, // the one admin of the stack files
	"aws:eks/accessPolicyAssociation:AccessPolicyAssociation": 1,
	"aws:eks/cluster:Cluster":                                 1,
	"aws:eks/addon:Addon":                                     4,
	"aws:eks/nodeGroup:NodeGroup":                             1,
	"aws:autoscaling/tag:Tag":                                 2,
	"aws:iam/openIdConnectProvider:OpenIdConnectProvider":     1,
	"aws:iam/role:Role":                                       5, // control plane, node, vpc-cni IRSA, ebs-csi IRSA, flow logs
	"aws:iam/rolePolicy:RolePolicy":                           1, // flow logs into their group
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":       5,
	"pulumi:providers:kubernetes":                             1,
	"kubernetes:storage.k8s.io/v1:StorageClass":               2, // Delete (scratch, the default) and Retain (data)
}

// infraCounts counts the resources of the cluster and peering components.
func infraCounts(g *harness.Graph) map[string]int {
	out := map[string]int{}
	infra := func(typ string) bool { return typ == "tars:cluster:Cluster" || typ == "tars:cluster:Peering" }
	for _, r := range g.Resources {
		if infra(r.Type) || infra(g.Component(r).Type) || r.Type == "pulumi:pulumi:StackReference" {
			out[r.Type]++
		}
	}
	return out
}

func TestClusterCountsPerType(t *testing.T) {
	side := func(extra map[string]int) map[string]int {
		want := map[string]int{}
		for k, v := range clusterCounts {
			want[k] = v
		}
		for k, v := range extra {
			want[k] += v
		}
		return want
	}
	assert.Equal(t, side(map[string]int{
		"tars:cluster:Peering": 1,
		"aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": 1,
		"aws:ec2/route:Route": 3, // to the peer, in each private route table
		// Once the peer has requested the peering it exists: the accepter
		// reads its database outputs.
		"pulumi:pulumi:StackReference": 1,
	}), infraCounts(mustRun(t, "us-west")))
	assert.Equal(t, side(map[string]int{
		"tars:cluster:Peering":                              1,
		"pulumi:pulumi:StackReference":                      1,
		"aws:ec2/vpcPeeringConnection:VpcPeeringConnection": 1,
		"aws:ec2/route:Route":                               3,
	}), infraCounts(mustRun(t, "us-east")))
}

func TestClusterEveryChildIsParented(t *testing.T) {
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		for _, r := range g.Resources {
			if r.Type == "pulumi:pulumi:StackReference" || (!r.Custom && strings.HasPrefix(r.Type, "tars:")) {
				continue
			}
			assert.NotEmpty(t, g.Component(r).Name, "%s %s sits outside any component", r.Type, r.Name)
		}
	}
}

func TestClusterNodeGroupScalesThreeToTwenty(t *testing.T) {
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		ng := one(t, g, "aws:eks/nodeGroup:NodeGroup", stack+"-general")
		// Seed 003 "Cluster Autoscaler": 3 to 20 nodes.
		assert.EqualValues(t, 3, ng.Input("scalingConfig.minSize"))
		assert.EqualValues(t, 20, ng.Input("scalingConfig.maxSize"))
		assert.EqualValues(t, 3, ng.Input("scalingConfig.desiredSize"))
		// The launch template, not the node group, sets the disk: encrypted gp3, IMDSv2.
		lt := one(t, g, "aws:ec2/launchTemplate:LaunchTemplate", stack+"-general")
		bdm := lt.Input("blockDeviceMappings").([]any)[0].(map[string]any)["ebs"].(map[string]any)
		assert.Equal(t, "true", bdm["encrypted"])
		assert.Equal(t, "gp3", bdm["volumeType"])
		assert.Equal(t, "required", lt.Input("metadataOptions.httpTokens"))
		// Exactly the graph's private subnets (tagged for no load
		// balancer), never a public or an infrastructure one.
		var private, public, infra []string
		for _, sn := range g.ByType("aws:ec2/subnet:Subnet") {
			id := harness.MockID(sn.Type, sn.Name)
			tags := asMap(sn.Input("tags"))
			switch {
			case tags["kubernetes.io/role/internal-elb"] == "1":
				infra = append(infra, id)
			case tags["kubernetes.io/role/elb"] == "1":
				public = append(public, id)
			default:
				private = append(private, id)
			}
		}
		require.Len(t, private, 3, stack)
		require.Len(t, public, 3, stack)
		require.Len(t, infra, 3, stack)
		assert.ElementsMatch(t, private, strs(ng.Input("subnetIds")), "%s: the node group runs in the private subnets", stack)
	}
}

func TestClusterAutoscalerDiscoveryTags(t *testing.T) {
	g := mustRun(t, "us-east")
	want := map[string]string{"k8s.io/cluster-autoscaler/enabled": "true", "k8s.io/cluster-autoscaler/tars-us-east": "owned"}
	ng := one(t, g, "aws:eks/nodeGroup:NodeGroup", "us-east-general")
	for k, v := range want {
		assert.Equal(t, v, tags(ng)[k], "node group tag %s", k)
	}
	got := map[string]string{}
	for _, tag := range g.ByType("aws:autoscaling/tag:Tag") {
		kv := tag.Input("tag").(map[string]any)
		got[kv["key"].(string)] = kv["value"].(string)
		assert.True(t, strings.HasPrefix(tag.Input("autoscalingGroupName").(string), "eks-us-east-general-"), "tag goes on the node group's ASG")
	}
	assert.Equal(t, want, got)
}

func TestClusterSecretsEncryptedWithRotatingKey(t *testing.T) {
	g := mustRun(t, "us-east")
	key := one(t, g, "aws:kms/key:Key", "us-east-secrets")
	assert.Equal(t, true, key.Input("enableKeyRotation"))
	assert.EqualValues(t, 30, key.Input("deletionWindowInDays"))
	eks := one(t, g, "aws:eks/cluster:Cluster", "us-east-eks")
	enc := eks.Input("encryptionConfig").(map[string]any)
	assert.Equal(t, []any{"secrets"}, enc["resources"])
	assert.Equal(t, "arn:aws:kms:us-east-1:"+harness.MockAccountID+":key/us-east-secrets", enc["provider"].(map[string]any)["keyArn"])
}

func TestClusterControlPlane(t *testing.T) {
	g := mustRun(t, "us-east")
	eks := one(t, g, "aws:eks/cluster:Cluster", "us-east-eks")
	assert.Equal(t, "tars-us-east", eks.Input("name"))
	assert.Equal(t, "1.34", eks.Input("version"))
	assert.ElementsMatch(t, []string{"api", "audit", "authenticator"}, strs(eks.Input("enabledClusterLogTypes")))
	assert.Equal(t, "API", eks.Input("accessConfig.authenticationMode"))
	assert.Equal(t, false, eks.Input("accessConfig.bootstrapClusterCreatorAdminPermissions"), "no hidden creator admin")
	assert.Equal(t, true, eks.Input("vpcConfig.endpointPublicAccess"))
	assert.Equal(t, []any{"198.51.100.0/24"}, eks.Input("vpcConfig.publicAccessCidrs"))
	assert.Equal(t, true, eks.Input("vpcConfig.endpointPrivateAccess"))
	// The one admin, a role name of the stack file, in the stack's account;
	// the Kubernetes provider waits for its access.
	assoc := one(t, g, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "us-east-admin-tars-platform-admin")
	assert.Equal(t, "arn:aws:iam::123456789012:role/tars-platform-admin", assoc.Input("principalArn"))
	assert.Equal(t, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", assoc.Input("policyArn"))
	provider := one(t, g, "pulumi:providers:kubernetes", "us-east-k8s")
	assert.Contains(t, provider.Dependencies, assoc.URN)
	logs := one(t, g, "aws:cloudwatch/logGroup:LogGroup", "us-east-control-plane")
	assert.Equal(t, "/aws/eks/tars-us-east/cluster", logs.Input("name"), "EKS writes to this exact group")
	oidc := one(t, g, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "us-east-oidc")
	assert.True(t, strings.HasPrefix(oidc.Input("url").(string), "https://oidc.eks.us-east-1.amazonaws.com/id/"))
	assert.Equal(t, []any{"sts.amazonaws.com"}, oidc.Input("clientIdLists"))
}

func TestClusterSubnetsTaggedAndPlanned(t *testing.T) {
	g := mustRun(t, "us-east")
	vpc := netip.MustParsePrefix("10.10.0.0/16")
	var blocks, private []netip.Prefix
	var infra, infraIDs []string
	azs := map[string]bool{}
	for _, s := range g.ByType("aws:ec2/subnet:Subnet") {
		tg := tags(s)
		assert.Equal(t, "shared", tg["kubernetes.io/cluster/tars-us-east"], s.Name)
		cidr := netip.MustParsePrefix(s.Input("cidrBlock").(string))
		assert.True(t, vpc.Contains(cidr.Addr()), "%s %s outside the VPC", s.Name, cidr)
		for _, b := range blocks {
			assert.False(t, b.Overlaps(cidr), "%s overlaps %s", cidr, b)
		}
		blocks = append(blocks, cidr)
		azs[s.Input("availabilityZone").(string)] = true
		switch {
		case strings.Contains(s.Name, "-private-"):
			assert.Empty(t, tg["kubernetes.io/role/internal-elb"], "%s: no load balancer in the node subnets", s.Name)
			assert.Empty(t, tg["kubernetes.io/role/elb"], s.Name)
			assert.Equal(t, 19, cidr.Bits(), "private subnets are /19 of a /16: pods take VPC IPs")
			private = append(private, cidr)
		case strings.Contains(s.Name, "-public-"):
			assert.Equal(t, "1", tg["kubernetes.io/role/elb"], s.Name)
			assert.Equal(t, 22, cidr.Bits())
		case strings.Contains(s.Name, "-infra-"):
			assert.Equal(t, "1", tg["kubernetes.io/role/internal-elb"], "%s: internal load balancers go to the infrastructure subnets", s.Name)
			assert.Equal(t, 22, cidr.Bits())
			infra = append(infra, s.Input("cidrBlock").(string))
			infraIDs = append(infraIDs, harness.MockID(s.Type, s.Name))
		default:
			t.Errorf("subnet %s is neither public, private nor infrastructure", s.Name)
		}
	}
	assert.Equal(t, map[string]bool{"us-east-1a": true, "us-east-1b": true, "us-east-1c": true}, azs)
	assert.ElementsMatch(t, []string{"10.10.192.0/22", "10.10.196.0/22", "10.10.200.0/22"}, infra)
	for _, b := range infra {
		for _, p := range private {
			assert.False(t, netip.MustParsePrefix(b).Overlaps(p), "no pod has an infrastructure address")
		}
	}
	// The control plane's interfaces (what calls the webhooks) are in the
	// infrastructure subnets, not where pods run.
	eks := one(t, g, "aws:eks/cluster:Cluster", "us-east-eks")
	assert.ElementsMatch(t, infraIDs, strs(eks.Input("vpcConfig.subnetIds")))
}

func TestClusterSingleNATOption(t *testing.T) {
	g := mustRun(t, "us-west", harness.WithConfig("tars:cluster.natGateways", "single"))
	nats := g.ByType("aws:ec2/natGateway:NatGateway")
	require.Len(t, nats, 1)
	assert.Len(t, g.ByType("aws:ec2/eip:Eip"), 1)
	natID := "nat-"
	for _, r := range g.ByType("aws:ec2/route:Route") {
		if strings.HasSuffix(r.Name, "-default") && strings.Contains(r.Name, "-private-") {
			assert.True(t, strings.HasPrefix(r.Input("natGatewayId").(string), natID), r.Name)
		}
	}
	ids := map[string]bool{}
	for _, r := range g.ByType("aws:ec2/route:Route") {
		if id, ok := r.Input("natGatewayId").(string); ok {
			ids[id] = true
		}
	}
	assert.Len(t, ids, 1, "every private AZ routes through the one NAT gateway")
}

func TestClusterPeerIngressOnlyOnNamedPorts(t *testing.T) {
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		rules := g.ByType("aws:ec2/securityGroupRule:SecurityGroupRule")
		require.Len(t, rules, 1)
		r := rules[0]
		peer := map[string]string{"us-east": "10.20.0.0/16", "us-west": "10.10.0.0/16"}[stack]
		assert.Equal(t, stack+"-peer-postgres", r.Name)
		assert.Equal(t, "ingress", r.Input("type"))
		assert.Equal(t, "tcp", r.Input("protocol"))
		assert.EqualValues(t, 5432, r.Input("fromPort"))
		assert.EqualValues(t, 5432, r.Input("toPort"))
		assert.Equal(t, []any{peer}, r.Input("cidrBlocks"))
	}
}

func TestClusterAddonsPinnedWithIRSA(t *testing.T) {
	g := mustRun(t, "us-east")
	addons := map[string]harness.Resource{}
	for _, a := range g.ByType("aws:eks/addon:Addon") {
		addons[a.Input("addonName").(string)] = a
		assert.Regexp(t, `^v\d+\.\d+\.\d+-eksbuild\.\d+$`, a.Input("addonVersion"), a.Name)
	}
	require.Len(t, addons, 4)
	assert.True(t, strings.HasPrefix(addons["kube-proxy"].Input("addonVersion").(string), "v1.34."))
	for name, sa := range map[string]string{"aws-ebs-csi-driver": "ebs-csi-controller-sa", "vpc-cni": "aws-node"} {
		arn, ok := addons[name].Input("serviceAccountRoleArn").(string)
		require.True(t, ok, "%s has no IRSA role", name)
		role := one(t, g, "aws:iam/role:Role", "us-east-"+name)
		assert.Contains(t, arn, "role/us-east-"+name)
		assertIRSATrust(t, role, "kube-system", sa)
	}
}

// assertIRSATrust checks an IRSA role's trust: only the named service
// account, through the cluster's OIDC provider, for the STS audience.
func assertIRSATrust(t *testing.T, role harness.Resource, namespace, sa string) {
	t.Helper()
	st := statements(t, policyJSON(t, role, "assumeRolePolicy"))
	require.Len(t, st, 1)
	s := st[0]
	assert.Equal(t, "Allow", s["Effect"])
	assert.Equal(t, []any{"sts:AssumeRoleWithWebIdentity"}, s["Action"])
	fed := s["Principal"].(map[string]any)["Federated"].(string)
	assert.Contains(t, fed, ":oidc-provider/oidc.eks.")
	eq := s["Condition"].(map[string]any)["StringEquals"].(map[string]any)
	require.Len(t, eq, 2, "exactly sub and aud")
	issuer := strings.SplitN(fed, ":oidc-provider/", 2)[1]
	assert.Equal(t, fmt.Sprintf("system:serviceaccount:%s:%s", namespace, sa), eq[issuer+":sub"])
	assert.Equal(t, "sts.amazonaws.com", eq[issuer+":aud"])
}

func TestClusterNoWildcardIAMAction(t *testing.T) {
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		checked := 0
		for _, r := range g.Resources {
			for _, key := range []string{"assumeRolePolicy", "policy"} {
				if !strings.HasPrefix(r.Type, "aws:iam/") {
					continue
				}
				if _, ok := r.PlainInputs()[key].(string); !ok {
					continue
				}
				checked++
				for _, s := range statements(t, policyJSON(t, r, key)) {
					for _, a := range strs(s["Action"]) {
						assert.NotContains(t, a, "*", "%s %s %s allows %q", r.Type, r.Name, key, a)
					}
				}
			}
		}
		assert.GreaterOrEqual(t, checked, 4, "every role's policies were inspected")
	}
}

func TestClusterStorageClassAndProvider(t *testing.T) {
	g := mustRun(t, "us-east")
	sc := one(t, g, "kubernetes:storage.k8s.io/v1:StorageClass", "us-east-gp3-encrypted")
	assert.Equal(t, "ebs.csi.aws.com", sc.Input("provisioner"))
	assert.Equal(t, map[string]any{"type": "gp3", "encrypted": "true", "fsType": "ext4"}, sc.Input("parameters"))
	assert.Equal(t, "true", sc.Input("metadata.annotations").(map[string]any)["storageclass.kubernetes.io/is-default-class"])
	assert.Equal(t, "WaitForFirstConsumer", sc.Input("volumeBindingMode"))
	assert.Equal(t, "Delete", sc.Input("reclaimPolicy"), "the default class is for scratch")
	// Issue #25: every data volume's class keeps the volume when its
	// claim goes; it is never the default (a claim that names no class is
	// scratch).
	data := one(t, g, "kubernetes:storage.k8s.io/v1:StorageClass", "us-east-gp3-encrypted-retain")
	assert.Equal(t, "gp3-encrypted-retain", data.Input("metadata.name"))
	assert.Equal(t, "Retain", data.Input("reclaimPolicy"))
	assert.Equal(t, "false", data.Input("metadata.annotations").(map[string]any)["storageclass.kubernetes.io/is-default-class"])
	for _, k := range []string{"provisioner", "parameters", "volumeBindingMode"} {
		assert.Equal(t, sc.Input(k), data.Input(k), "the Retain class is the same encrypted gp3 as the default: %s", k)
	}
	assert.Equal(t, true, data.Input("allowVolumeExpansion"), "a data volume can grow")
	provider := one(t, g, "pulumi:providers:kubernetes", "us-east-k8s")
	assert.True(t, strings.HasPrefix(sc.Provider, provider.URN+"::"), "the StorageClass deploys through the cluster's provider")
	assert.True(t, provider.IsSecret("kubeconfig"), "the kubeconfig stays a Pulumi secret")
	assert.Equal(t, harness.SecretMarker, provider.JSONInputs()["kubeconfig"])
	kc := provider.PlainInputs()["kubeconfig"].(string)
	assert.Contains(t, kc, `"get-token","--cluster-name","tars-us-east","--region","us-east-1"`)
}

// TestClusterTwoInstancesDoNotCollide builds two clusters in one program:
// the harness refuses duplicate URNs as the engine does, and the AWS-side
// names (EKS cluster, log group, KMS alias) must differ too.
func TestClusterTwoInstancesDoNotCollide(t *testing.T) {
	mk := func(name, cidr string) cluster.Args {
		return cluster.Args{Name: name, VpcCidr: cidr, Admins: []string{harness.MockDeployerRole}, NodeGroups: []cluster.NodeGroup{
			{Name: "general", InstanceTypes: []string{"m5.xlarge"}, MinSize: 3, MaxSize: 20},
		}}
	}
	g, err := harness.Run("us-east", harness.WithProgram(func(ctx *pulumi.Context) error {
		if _, err := cluster.New(ctx, "blue", mk("tars-blue", "10.30.0.0/16")); err != nil {
			return err
		}
		_, err := cluster.New(ctx, "green", mk("tars-green", "10.40.0.0/16"))
		return err
	}))
	require.NoError(t, err)
	// Each is a whole region cluster less the peer security-group rule (no peer here).
	assert.Equal(t, 2*(len(under(mustRun(t, "us-west"), "us-west"))+1-1), len(g.Resources))
	// AWS-side names are unique per account and region: they must differ too.
	for typ, key := range map[string]string{
		"aws:eks/cluster:Cluster":          "name",
		"aws:cloudwatch/logGroup:LogGroup": "name",
		"aws:kms/alias:Alias":              "name",
	} {
		names := map[string]bool{}
		for _, r := range g.ByType(typ) {
			names[r.Input(key).(string)] = true
		}
		assert.Len(t, names, len(g.ByType(typ)), "%s.%s must differ between the two clusters: %v", typ, key, names)
	}
	// And the duplicate check is real: the same name twice fails.
	_, err = harness.Run("us-east", harness.WithProgram(func(ctx *pulumi.Context) error {
		if _, err := cluster.New(ctx, "blue", mk("tars-blue", "10.30.0.0/16")); err != nil {
			return err
		}
		_, err := cluster.New(ctx, "blue", mk("tars-blue", "10.30.0.0/16"))
		return err
	}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "duplicate resource URN")
}

// TestClusterArgsValidatedBeforeRegistering: a component user (not stack
// config) gets the same named problems and nothing is registered.
func TestClusterArgsValidatedBeforeRegistering(t *testing.T) {
	g, err := harness.Run("us-east", harness.WithProgram(func(ctx *pulumi.Context) error {
		_, err := cluster.New(ctx, "bad", cluster.Args{Name: "Bad_Name", VpcCidr: "10.0.0.0/16"})
		return err
	}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `cluster bad: invalid args: name ("Bad_Name") must be a lower-case DNS label`)
	assert.Contains(t, err.Error(), "nodeGroups must list at least one node group")
	assert.Empty(t, g.Resources)
}

func TestIRSARoleRefusesWildcardsAndOtherServiceAccounts(t *testing.T) {
	bad := cluster.NewPolicy(cluster.PolicyStatement{Sid: "All", Action: []string{"s3:*"}, Resource: []string{"*"}})
	_, err := harness.Run("us-east", harness.WithProgram(func(ctx *pulumi.Context) error {
		oidc := cluster.OIDC{ProviderArn: pulumi.String("arn:aws:iam::1:oidc-provider/x").ToStringOutput(), IssuerURL: pulumi.String("https://x").ToStringOutput()}
		_, err := cluster.NewIRSARole(ctx, "wild", oidc, "aws", cluster.IRSAArgs{Namespace: "tars", ServiceAccount: "app", Policy: &bad}, nil)
		return err
	}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `irsa wild: policy policy statement All allows wildcard action "s3:*"; name each action`)

	doc := cluster.TrustPolicy("arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC", "https://oidc.eks.us-east-1.amazonaws.com/id/ABC", "monitoring", "thanos")
	cond := doc.Statement[0].Condition["StringEquals"]
	assert.Equal(t, cluster.ConditionValue{"system:serviceaccount:monitoring:thanos"}, cond["oidc.eks.us-east-1.amazonaws.com/id/ABC:sub"])
	assert.NotContains(t, doc.Statement[0].Condition, "StringLike", "no wildcard service-account match")
}

// TestClusterNodesAndNetworkHardened: pods cannot reach the node's
// instance metadata (hop limit 1, IMDSv2 only), the VPC CNI enforces
// NetworkPolicy, and every flow of the VPC is logged for as long as the
// control-plane logs, by a role that can write that log group only.
func TestClusterNodesAndNetworkHardened(t *testing.T) {
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		lt := g.ByType("aws:ec2/launchTemplate:LaunchTemplate")
		require.Len(t, lt, 1)
		assert.EqualValues(t, 1, lt[0].Input("metadataOptions.httpPutResponseHopLimit"))
		assert.Equal(t, "required", lt[0].Input("metadataOptions.httpTokens"))
		cni := one(t, g, "aws:eks/addon:Addon", stack+"-vpc-cni")
		var conf map[string]any
		require.NoError(t, json.Unmarshal([]byte(cni.Input("configurationValues").(string)), &conf))
		assert.Equal(t, "true", conf["enableNetworkPolicy"])

		fl := one(t, g, "aws:ec2/flowLog:FlowLog", stack+"-flow-logs")
		assert.Equal(t, "ALL", fl.Input("trafficType"))
		assert.EqualValues(t, 60, fl.Input("maxAggregationInterval"))
		assert.Equal(t, "cloud-watch-logs", fl.Input("logDestinationType"))
		assert.Equal(t, harness.MockID("aws:ec2/vpc:Vpc", stack+"-vpc"), fl.Input("vpcId"))
		group := one(t, g, "aws:cloudwatch/logGroup:LogGroup", stack+"-flow-logs")
		assert.EqualValues(t, 90, group.Input("retentionInDays"))
		trust := statements(t, policyJSON(t, one(t, g, "aws:iam/role:Role", stack+"-flow-logs"), "assumeRolePolicy"))
		require.Len(t, trust, 1)
		assert.Equal(t, map[string]any{"Service": "vpc-flow-logs.amazonaws.com"}, trust[0]["Principal"])
		assert.Equal(t, map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": harness.MockAccountID}}, trust[0]["Condition"])
		pol := statements(t, policyJSON(t, one(t, g, "aws:iam/rolePolicy:RolePolicy", stack+"-flow-logs"), "policy"))
		require.Len(t, pol, 1)
		groupArn := fl.Input("logDestination").(string)
		assert.ElementsMatch(t, []string{groupArn, groupArn + ":*"}, strs(pol[0]["Resource"]))
	}
}
