package main

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Replacements are the properties whose change makes the real provider
// replace the resource (forceNew in the AWS provider's schema; immutable
// fields in Kubernetes). A stand-in that replaced nothing would hide the
// flips that destroy data; one that replaced everything would hide
// nothing. Reviewed rows, for the stateful and identity-bearing types the
// program creates; "*" is any property, "a.b" a nested one.
var Replacements = map[string][]string{
	// registry.terraform.io/providers/hashicorp/aws: bucket is ForceNew.
	"aws:s3/bucketV2:BucketV2": {"bucket", "bucketPrefix"},
	// aws_eks_cluster: name, roleArn (ForceNew), vpcConfig.subnetIds is
	// updatable since 2023 but the name is not.
	"aws:eks/cluster:Cluster": {"name", "roleArn"},
	// aws_eks_node_group: nodeGroupName, subnetIds, amiType, capacityType,
	// diskSize, instanceTypes, nodeRoleArn (ForceNew).
	"aws:eks/nodeGroup:NodeGroup": {"nodeGroupName", "nodeGroupNamePrefix", "subnetIds", "amiType", "capacityType", "diskSize", "instanceTypes", "nodeRoleArn", "clusterName"},
	// aws_kms_key: customerMasterKeySpec, keyUsage (ForceNew).
	"aws:kms/key:Key": {"customerMasterKeySpec", "keyUsage"},
	// aws_vpc: cidrBlock (ForceNew); aws_subnet: cidrBlock, availabilityZone, vpcId.
	"aws:ec2/vpc:Vpc":       {"cidrBlock"},
	"aws:ec2/subnet:Subnet": {"cidrBlock", "availabilityZone", "vpcId"},
	// aws_iam_role: name (ForceNew).
	"aws:iam/role:Role": {"name", "namePrefix"},
	// Kubernetes (pulumi-kubernetes replaces on a changed name or
	// namespace, and on the fields the API server refuses to update): a
	// StatefulSet's selector, serviceName and volumeClaimTemplates; a
	// claim's storage class and access modes; a Job's template.
	"kubernetes:core/v1:Namespace":               {"metadata.name"},
	"kubernetes:apps/v1:StatefulSet":             {"metadata.name", "metadata.namespace", "spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"},
	"kubernetes:core/v1:PersistentVolumeClaim":   {"metadata.name", "metadata.namespace", "spec.storageClassName", "spec.accessModes"},
	"kubernetes:postgresql.cnpg.io/v1:Cluster":   {"metadata.name", "metadata.namespace"},
	"kubernetes:helm.sh/v3:Release":              {"name", "namespace"},
	"kubernetes:batch/v1:Job":                    {"metadata.name", "metadata.namespace", "spec.template", "spec.selector"},
	"random:index/randomPassword:RandomPassword": {"*"},
	// registry.terraform.io/providers/hashicorp/tls: every argument of
	// tls_private_key and tls_self_signed_cert is ForceNew.
	"tls:index/privateKey:PrivateKey":         {"*"},
	"tls:index/selfSignedCert:SelfSignedCert": {"*"},
	// registry.terraform.io/providers/PagerDuty/pagerduty:
	// pagerduty_service_integration's service, type and vendor are ForceNew
	// (a new integration has a new key).
	"pagerduty:index/serviceIntegration:ServiceIntegration": {"service", "type", "vendor"},
}

// Replaces reports whether the change of top-level property prop from
// old to new replaces a resource of type typ.
func Replaces(typ, prop string, old, new resource.PropertyValue) bool {
	for _, p := range Replacements[typ] {
		if p == "*" || p == prop {
			return true
		}
		rest, ok := strings.CutPrefix(p, prop+".")
		if ok && !at(old, rest).DeepEquals(at(new, rest)) {
			return true
		}
	}
	return false
}

// at is the value at a dotted path inside v (null when absent).
func at(v resource.PropertyValue, path string) resource.PropertyValue {
	for _, k := range strings.Split(path, ".") {
		v = plain(v)
		if !v.IsObject() {
			return resource.NewNullProperty()
		}
		x, ok := v.ObjectValue()[resource.PropertyKey(k)]
		if !ok {
			return resource.NewNullProperty()
		}
		v = x
	}
	return plain(v)
}

// plain unwraps secrets and output values (their known element).
func plain(v resource.PropertyValue) resource.PropertyValue {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsOutput():
			v = v.OutputValue().Element
		default:
			return v
		}
	}
}
