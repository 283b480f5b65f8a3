// Package fakecloud is the one fake AWS account (and PagerDuty, random, tls)
// the offline tiers run against: the IDs, ARNs, zones, OIDC issuers and
// data-source answers the mock harness and the engine tier's stand-in
// providers give. Nothing here talks to a cloud.
package fakecloud

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// AccountID is the AWS account every mocked resource lives in.
const AccountID = "123456789012"

// DeployerRole is the IAM role the mocked `pulumi up` runs as.
const DeployerRole = "tars-platform-admin"

// Zones are the AZs getAvailabilityZones returns per region, as AWS
// lists them for accounts without opt-in zones.
var Zones = map[string][]string{
	"us-east-1": {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"},
	"us-west-2": {"us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"},
}

// Cloud is the fake account as one region sees it.
type Cloud struct {
	AwsRegion string
	// RequestedPeering is the connection getVpcPeeringConnections finds.
	RequestedPeering Peering
}

// ZoneID is the hosted zone every zone lookup finds.
const ZoneID = "Z0MOCKZONE0000000001"

// IntegrationKey is the routing key the mocks give a PagerDuty
// integration (32 hex digits, as PagerDuty issues them).
func IntegrationKey(name string) string {
	return fmt.Sprintf("%016x%016x", fnvHash(name), fnvHash("key"+name))
}

// PagerDutyID is the ID the mocks' getUser (prefix PU, by email) and
// getService (PS, by name) return.
func PagerDutyID(prefix, key string) string {
	return fmt.Sprintf("%s%06X", prefix, fnvHash(key)&0xffffff)
}

// ID is a stable, provider-looking ID ("vpc-3f2a…") so that graphs of
// two runs compare equal.
func ID(typ, name string) string {
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

// RoleArn is the ARN the mocks give the IAM role of a logical name.
func RoleArn(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", AccountID, ID("aws:iam/role:Role", name))
}

// Computed returns the provider-computed outputs the program reads.
func (c Cloud) Computed(typ, name, id string, in resource.PropertyMap) map[string]any {
	arn := func(service, kind string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", service, c.AwsRegion, AccountID, kind, name)
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
			"endpoint":             fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", oidcID, c.AwsRegion),
			"certificateAuthority": map[string]any{"data": base64.StdEncoding.EncodeToString([]byte("mock CA of " + name))},
			"identities":           []any{map[string]any{"oidcs": []any{map[string]any{"issuer": fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", c.AwsRegion, oidcID)}}}},
			"vpcConfig":            vpc,
			"status":               "ACTIVE",
		}
	case "aws:iam/role:Role":
		return map[string]any{"arn": RoleArn(name), "name": id}
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		return map[string]any{"arn": fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", AccountID, strings.TrimPrefix(str("url"), "https://"))}
	case "aws:kms/key:Key":
		return map[string]any{"arn": arn("kms", "key"), "keyId": id}
	case "aws:eks/nodeGroup:NodeGroup":
		return map[string]any{
			"arn":       arn("eks", "nodegroup"),
			"resources": []any{map[string]any{"autoscalingGroups": []any{map[string]any{"name": "eks-" + id}}}},
			"status":    "ACTIVE",
		}
	case "aws:route53/record:Record":
		// Route 53 answers the record's name, fully qualified, without the
		// trailing dot.
		return map[string]any{"fqdn": strings.TrimSuffix(str("name"), ".")}
	case "kubernetes:core/v1:Service", "kubernetes:networking.k8s.io/v1:Ingress":
		// The load balancer the AWS Load Balancer Controller provisions
		// for a LoadBalancer Service or an ALB Ingress, as it reports it.
		spec, _ := in["spec"].Mappable().(map[string]any)
		meta, _ := in["metadata"].Mappable().(map[string]any)
		if typ == "kubernetes:core/v1:Service" && spec["type"] != "LoadBalancer" {
			return nil
		}
		prefix := ""
		if ann, _ := meta["annotations"].(map[string]any); ann["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal" {
			prefix = "internal-"
		}
		host := fmt.Sprintf("%sk8s-%012x.elb.%s.amazonaws.com", prefix, fnvHash(typ+"/"+name)&0xffffffffffff, c.AwsRegion)
		return map[string]any{"status": map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"hostname": host}}}}}
	case "kubernetes:helm.sh/v3:Release":
		// What the provider reports after a first install.
		return map[string]any{"status": map[string]any{
			"name": str("name"), "namespace": str("namespace"), "chart": str("chart"),
			"version": str("version"), "status": "deployed", "revision": 1,
		}}
	case "random:index/randomPassword:RandomPassword":
		return map[string]any{"result": "mock-password-" + id, "bcryptHash": "$2a$10$mock"}
	case "tls:index/privateKey:PrivateKey":
		out, err := PrivateKey(name)
		if err != nil {
			return map[string]any{"privateKeyPem": "fakecloud: " + err.Error()}
		}
		return out
	case "tls:index/selfSignedCert:SelfSignedCert":
		out, err := SelfSignedCert(name, in)
		if err != nil {
			return map[string]any{"certPem": "fakecloud: " + err.Error()}
		}
		return out
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
		return map[string]any{"integrationKey": IntegrationKey(name)}
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

// Invoke answers the data sources the program calls, as the providers
// would in this fake account.
func (c Cloud) Invoke(token string, args resource.PropertyMap) (resource.PropertyMap, error) {
	switch token {
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": c.AwsRegion, "id": c.AwsRegion, "description": c.AwsRegion,
			"endpoint": "ec2." + c.AwsRegion + ".amazonaws.com",
		}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": AccountID, "id": AccountID,
			// As STS reports an assumed role: the deployers' role, which the
			// stack files name among the cluster admins.
			"arn": "arn:aws:sts::" + AccountID + ":assumed-role/" + DeployerRole + "/pulumi", "userId": "AROAMOCK:pulumi",
		}), nil
	case "aws:route53/getZone:getZone":
		name := args["name"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": name, "zoneId": ZoneID, "id": ZoneID, "privateZone": false,
			"arn": "arn:aws:route53:::hostedzone/" + ZoneID, "nameServers": []any{"ns-1.awsdns-01.org"},
		}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{
			"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws",
		}), nil
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		zones, ok := Zones[c.AwsRegion]
		if !ok {
			zones = []string{c.AwsRegion + "a", c.AwsRegion + "b", c.AwsRegion + "c"}
		}
		names := make([]any, len(zones))
		for i, z := range zones {
			names[i] = z
		}
		return resource.NewPropertyMapFromMap(map[string]any{"names": names, "id": c.AwsRegion, "state": "available"}), nil
	case "pagerduty:index/getUser:getUser":
		email := args["email"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{"id": PagerDutyID("PU", email), "email": email, "name": email}), nil
	case "pagerduty:index/getService:getService":
		name := args["name"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{"id": PagerDutyID("PS", name), "name": name}), nil
	case "aws:ec2/getVpcPeeringConnections:getVpcPeeringConnections":
		// Found only when the filters name the connection as AWS records it:
		// requested from the peer's VPC block to this one, and live.
		ids := []any{}
		if c.RequestedPeering.ID != "" && peeringFilterMatches(args, c.RequestedPeering) {
			ids = append(ids, c.RequestedPeering.ID)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"ids": ids, "id": c.AwsRegion}), nil
	}
	return nil, fmt.Errorf("fakecloud: no answer for invoke %s; add it to tests/fakecloud", token)
}

// Peering is a peering connection the peer requested.
type Peering struct {
	ID                          string
	RequesterCidr, AccepterCidr string
}

// peeringFilterMatches applies DescribeVpcPeeringConnections filters to
// the one mocked connection.
func peeringFilterMatches(args resource.PropertyMap, p Peering) bool {
	fields := map[string]string{
		"requester-vpc-info.cidr-block": p.RequesterCidr,
		"accepter-vpc-info.cidr-block":  p.AccepterCidr,
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

// FaultPath is the file that makes the stand-in fail the next op
// ("create" or "update") of the resource typ/name once.
func FaultPath(dir, op, typ, name string) string {
	return filepath.Join(dir, "faults", op+"_"+strings.NewReplacer(":", "_", "/", "_").Replace(typ)+"_"+name)
}

// ArmFault makes the stand-in fail the next op of typ/name once.
func ArmFault(dir, op, typ, name string) error {
	p := FaultPath(dir, op, typ, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, nil, 0o644)
}
