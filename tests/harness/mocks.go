package harness

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// MockAccountID is the AWS account every mocked resource lives in.
const MockAccountID = "123456789012"

// MockDeployerRole is the IAM role the mocked `pulumi up` runs as.
const MockDeployerRole = "tars-platform-admin"

// mockZones are the AZs getAvailabilityZones returns per region, as AWS
// lists them for accounts without opt-in zones.
var mockZones = map[string][]string{
	"us-east-1": {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"},
	"us-west-2": {"us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"},
}

// mocks implements pulumi.MockResourceMonitor: it records every registered
// resource and answers with the outputs the AWS and Kubernetes providers
// would compute.
type mocks struct {
	project, stack, awsRegion string
	peerOutputs               map[string]any
	peerSecrets               []string
	// requestedPeering is the connection getVpcPeeringConnections finds.
	requestedPeering mockPeering

	mu         sync.Mutex
	resources  []Resource
	seen       map[string]bool // URNs registered so far
	invokes    []string
	invokeArgs []map[string]any
}

func (m *mocks) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	parent := ""
	retain := false
	var version, pluginURL string
	var deps []string
	propDeps := map[string][]string{}
	switch {
	case args.RegisterRPC != nil:
		parent = args.RegisterRPC.GetParent()
		retain = args.RegisterRPC.GetRetainOnDelete()
		version, pluginURL = args.RegisterRPC.GetVersion(), args.RegisterRPC.GetPluginDownloadURL()
		deps = args.RegisterRPC.GetDependencies()
		for k, d := range args.RegisterRPC.GetPropertyDependencies() {
			if len(d.GetUrns()) > 0 {
				propDeps[k] = d.GetUrns()
			}
		}
	case args.ReadRPC != nil:
		parent = args.ReadRPC.GetParent()
	}
	custom := args.Custom || args.ReadRPC != nil
	urn := m.urn(parent, args.TypeToken, args.Name)
	m.mu.Lock()
	if m.seen[urn] {
		m.mu.Unlock()
		// The engine refuses this too; the mock monitor alone would not.
		return "", nil, fmt.Errorf("duplicate resource URN %s", urn)
	}
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	m.seen[urn] = true
	m.resources = append(m.resources, Resource{
		Type:     args.TypeToken,
		Name:     args.Name,
		URN:      urn,
		Parent:   parent,
		Provider: args.Provider,
		Custom:   custom,
		Inputs:   args.Inputs.Copy(),

		Dependencies:         deps,
		PropertyDependencies: propDeps,
		RetainOnDelete:       retain,
		Version:              version,
		PluginDownloadURL:    pluginURL,
	})
	m.mu.Unlock()
	if !custom {
		return "", args.Inputs, nil
	}
	id := mockID(args.TypeToken, args.Name)
	if args.ID != "" {
		id = args.ID
	}
	state := args.Inputs.Copy()
	for k, v := range m.computed(args.TypeToken, args.Name, id, args.Inputs) {
		state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	if args.TypeToken == "pulumi:pulumi:StackReference" {
		state["outputs"] = resource.NewPropertyValue(m.peerOutputs)
		secrets := make([]any, len(m.peerSecrets))
		for i, s := range m.peerSecrets {
			secrets[i] = s
		}
		state["secretOutputNames"] = resource.NewPropertyValue(secrets)
	}
	return id, state, nil
}

// MockZoneID is the hosted zone every zone lookup finds.
const MockZoneID = "Z0MOCKZONE0000000001"

// MockIntegrationKey is the routing key the mocks give a PagerDuty
// integration (32 hex digits, as PagerDuty issues them).
func MockIntegrationKey(name string) string {
	return fmt.Sprintf("%016x%016x", fnvHash(name), fnvHash("key"+name))
}

// MockPagerDutyID is the ID the mocks' getUser (prefix PU, by email) and
// getService (PS, by name) return.
func MockPagerDutyID(prefix, key string) string {
	return fmt.Sprintf("%s%06X", prefix, fnvHash(key)&0xffffff)
}

// mockID is a stable, provider-looking ID ("vpc-3f2a…") so that graphs of
// two runs compare equal.
func mockID(typ, name string) string {
	h := fnv.New64a()
	h.Write([]byte(typ + "/" + name))
	prefix := map[string]string{
		"aws:ec2/vpc:Vpc": "vpc", "aws:ec2/subnet:Subnet": "subnet", "aws:ec2/routeTable:RouteTable": "rtb",
		"aws:ec2/natGateway:NatGateway": "nat", "aws:ec2/eip:Eip": "eipalloc", "aws:ec2/internetGateway:InternetGateway": "igw",
		"aws:ec2/vpcPeeringConnection:VpcPeeringConnection": "pcx", "aws:ec2/launchTemplate:LaunchTemplate": "lt",
		"aws:ec2/securityGroupRule:SecurityGroupRule": "sgrule",
	}[typ]
	if prefix == "" {
		return fmt.Sprintf("%s-%012x", name, h.Sum64()&0xffffffffffff)
	}
	return fmt.Sprintf("%s-%016x", prefix, h.Sum64())
}

// MockID is the ID the mocks give a resource of a type and logical name.
func MockID(typ, name string) string { return mockID(typ, name) }

// MockRoleArn is the ARN the mocks give the IAM role of a logical name.
func MockRoleArn(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", MockAccountID, mockID("aws:iam/role:Role", name))
}

// computed returns the provider-computed outputs the program reads.
func (m *mocks) computed(typ, name, id string, in resource.PropertyMap) map[string]any {
	arn := func(service, kind string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", service, m.awsRegion, MockAccountID, kind, name)
	}
	str := func(k string) string {
		if v, ok := in[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	switch typ {
	case "aws:eks/cluster:Cluster":
		oidcID := strings.ToUpper(fmt.Sprintf("%032x", fnvHash(str("name"))))
		vpc := map[string]any{"clusterSecurityGroupId": fmt.Sprintf("sg-%016x", fnvHash(name))}
		if v, ok := in["vpcConfig"]; ok && v.IsObject() {
			for k, x := range v.ObjectValue().Mappable() {
				vpc[k] = x
			}
		}
		return map[string]any{
			"arn":                  arn("eks", "cluster"),
			"endpoint":             fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", oidcID, m.awsRegion),
			"certificateAuthority": map[string]any{"data": base64.StdEncoding.EncodeToString([]byte("mock CA of " + name))},
			"identities":           []any{map[string]any{"oidcs": []any{map[string]any{"issuer": fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", m.awsRegion, oidcID)}}}},
			"vpcConfig":            vpc,
			"status":               "ACTIVE",
		}
	case "aws:iam/role:Role":
		return map[string]any{"arn": MockRoleArn(name), "name": id}
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		return map[string]any{"arn": fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", MockAccountID, strings.TrimPrefix(str("url"), "https://"))}
	case "aws:kms/key:Key":
		return map[string]any{"arn": arn("kms", "key"), "keyId": id}
	case "aws:eks/nodeGroup:NodeGroup":
		return map[string]any{
			"arn":       arn("eks", "nodegroup"),
			"resources": []any{map[string]any{"autoscalingGroups": []any{map[string]any{"name": "eks-" + id}}}},
			"status":    "ACTIVE",
		}
	case "kubernetes:helm.sh/v3:Release":
		// What the provider reports after a first install.
		return map[string]any{"status": map[string]any{
			"name": str("name"), "namespace": str("namespace"), "chart": str("chart"),
			"version": str("version"), "status": "deployed", "revision": 1,
		}}
	case "random:index/randomPassword:RandomPassword":
		return map[string]any{"result": "mock-password-" + id, "bcryptHash": "$2a$10$mock"}
	case "aws:acm/certificate:Certificate":
		// One CNAME per name, as ACM derives it from the name alone (so two
		// certificates of one account for the same name share the record).
		var opts []any
		names := []string{str("domainName")}
		if v, ok := in["subjectAlternativeNames"]; ok && v.IsArray() {
			for _, n := range v.ArrayValue() {
				names = append(names, n.StringValue())
			}
		}
		for _, n := range names {
			opts = append(opts, map[string]any{
				"domainName": n, "resourceRecordType": "CNAME",
				"resourceRecordName":  fmt.Sprintf("_%016x.%s.", fnvHash(n), n),
				"resourceRecordValue": fmt.Sprintf("_%016x.acm-validations.aws.", fnvHash("v"+n)),
			})
		}
		return map[string]any{"arn": arn("acm", "certificate"), "domainValidationOptions": opts}
	case "aws:acm/certificateValidation:CertificateValidation":
		return map[string]any{"certificateArn": in["certificateArn"].Mappable()}
	case "pagerduty:index/serviceIntegration:ServiceIntegration":
		// The Events API v2 routing key PagerDuty issues: 32 hex digits.
		return map[string]any{"integrationKey": MockIntegrationKey(name)}
	case "aws:ec2/launchTemplate:LaunchTemplate":
		return map[string]any{"arn": arn("ec2", "launch-template"), "latestVersion": 1}
	}
	if strings.HasPrefix(typ, "aws:") {
		return map[string]any{"arn": arn(strings.SplitN(strings.TrimPrefix(typ, "aws:"), "/", 2)[0], name)}
	}
	return nil
}

func fnvHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// Call answers the invokes the program makes.
func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.invokes = append(m.invokes, args.Token)
	m.invokeArgs = append(m.invokeArgs, args.Args.Mappable())
	m.mu.Unlock()
	switch args.Token {
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": m.awsRegion, "id": m.awsRegion, "description": m.awsRegion,
			"endpoint": "ec2." + m.awsRegion + ".amazonaws.com",
		}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": MockAccountID, "id": MockAccountID,
			// As STS reports an assumed role: the deployers' role, which the
			// stack files name among the cluster admins.
			"arn": "arn:aws:sts::" + MockAccountID + ":assumed-role/" + MockDeployerRole + "/pulumi", "userId": "AROAMOCK:pulumi",
		}), nil
	case "aws:route53/getZone:getZone":
		name := args.Args["name"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": name, "zoneId": MockZoneID, "id": MockZoneID, "privateZone": false,
			"arn": "arn:aws:route53:::hostedzone/" + MockZoneID, "nameServers": []any{"ns-1.awsdns-01.org"},
		}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{
			"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws",
		}), nil
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		zones, ok := mockZones[m.awsRegion]
		if !ok {
			zones = []string{m.awsRegion + "a", m.awsRegion + "b", m.awsRegion + "c"}
		}
		names := make([]any, len(zones))
		for i, z := range zones {
			names[i] = z
		}
		return resource.NewPropertyMapFromMap(map[string]any{"names": names, "id": m.awsRegion, "state": "available"}), nil
	case "pagerduty:index/getUser:getUser":
		email := args.Args["email"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{"id": MockPagerDutyID("PU", email), "email": email, "name": email}), nil
	case "pagerduty:index/getService:getService":
		name := args.Args["name"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{"id": MockPagerDutyID("PS", name), "name": name}), nil
	case "aws:ec2/getVpcPeeringConnections:getVpcPeeringConnections":
		// Found only when the filters name the connection as AWS records it:
		// requested from the peer's VPC block to this one, and live.
		ids := []any{}
		if m.requestedPeering.id != "" && peeringFilterMatches(args.Args, m.requestedPeering) {
			ids = append(ids, m.requestedPeering.id)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"ids": ids, "id": m.awsRegion}), nil
	}
	return nil, fmt.Errorf("harness: no mock for invoke %s; add it to tests/harness/mocks.go", args.Token)
}

// mockPeering is a peering connection the peer requested.
type mockPeering struct {
	id                          string
	requesterCidr, accepterCidr string
}

// peeringFilterMatches applies DescribeVpcPeeringConnections filters to
// the one mocked connection.
func peeringFilterMatches(args resource.PropertyMap, p mockPeering) bool {
	fields := map[string]string{
		"requester-vpc-info.cidr-block": p.requesterCidr,
		"accepter-vpc-info.cidr-block":  p.accepterCidr,
		"status-code":                   "pending-acceptance",
	}
	filters, ok := args["filters"]
	if !ok || !filters.IsArray() {
		return false
	}
	for _, f := range filters.ArrayValue() {
		m := f.ObjectValue().Mappable()
		want, known := fields[fmt.Sprint(m["name"])]
		if !known {
			return false
		}
		values, _ := m["values"].([]any)
		match := false
		for _, v := range values {
			match = match || v == want
		}
		if !match {
			return false
		}
	}
	return true
}
