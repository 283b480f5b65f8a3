package main

import (
	"encoding/hex"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Autonamed are the properties the real providers fill when the program
// leaves them out: the AWS provider a name of the logical name plus "-"
// and 7 hex digits (its autonaming), the Kubernetes provider
// metadata.name of the logical name plus "-" and 8 characters. Both derive
// the suffix from the engine's random seed, so a preview and the next
// `up` agree, and keep the old name on later runs.
var Autonamed = map[string]string{
	"aws:iam/role:Role":                   "name",
	"aws:iam/rolePolicy:RolePolicy":       "name",
	"aws:sns/topic:Topic":                 "name",
	"aws:cloudwatch/logGroup:LogGroup":    "name",
	"aws:ec2/securityGroup:SecurityGroup": "name",
	"aws:kms/alias:Alias":                 "name",
}

// autoname fills the autonamed property news lacks: from olds if the
// resource has one, else from the seed.
func autoname(typ, name string, seed []byte, olds, news resource.PropertyMap) resource.PropertyMap {
	if strings.HasPrefix(typ, "kubernetes:") && typ != "kubernetes:helm.sh/v3:Release" && !strings.HasPrefix(typ, "pulumi:") {
		meta := news["metadata"]
		if !meta.IsObject() {
			return news
		}
		m := meta.ObjectValue()
		if _, ok := m["name"]; ok {
			return news
		}
		out := news.Copy()
		mm := m.Copy()
		if old := at(olds["metadata"], "name"); old.IsString() {
			mm["name"] = old
		} else {
			mm["name"] = resource.NewStringProperty(name + "-" + suffix(seed, 8))
		}
		out["metadata"] = resource.NewObjectProperty(mm)
		return out
	}
	prop, ok := Autonamed[typ]
	if !ok {
		return news
	}
	key := resource.PropertyKey(prop)
	if _, set := news[key]; set {
		return news
	}
	if _, prefixed := news[key+"Prefix"]; prefixed {
		return news
	}
	out := news.Copy()
	if old, ok := olds[key]; ok && old.IsString() {
		out[key] = old
	} else {
		out[key] = resource.NewStringProperty(name + "-" + suffix(seed, 7))
	}
	return out
}

func suffix(seed []byte, n int) string {
	s := hex.EncodeToString(seed)
	for len(s) < n {
		s += "0"
	}
	return s[:n]
}
