package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/tars-platform/infra/components/versions"
	"golang.org/x/mod/modfile"
)

func TestReplacesComparesNestedPaths(t *testing.T) {
	meta := func(name string, ann map[string]any) resource.PropertyValue {
		m := map[string]any{"name": name, "namespace": "tars-postgres"}
		if ann != nil {
			m["annotations"] = ann
		}
		return resource.NewPropertyValue(m)
	}
	typ := "kubernetes:postgresql.cnpg.io/v1:Cluster"
	if Replaces(typ, "metadata", meta("a", nil), meta("a", map[string]any{"x": "y"})) {
		t.Error("an added annotation replaced the Cluster")
	}
	if !Replaces(typ, "metadata", meta("a", nil), meta("b", nil)) {
		t.Error("a renamed Cluster was not replaced")
	}
	if Replaces(typ, "spec", resource.NewPropertyValue(map[string]any{"instances": 3}), resource.NewPropertyValue(map[string]any{"instances": 4})) {
		t.Error("a spec change replaced the Cluster")
	}
	secret := resource.MakeSecret(meta("a", nil))
	if Replaces(typ, "metadata", secret, meta("a", map[string]any{"x": "y"})) {
		t.Error("a secret-wrapped old value compared unequal")
	}
}

func TestAutonameIsDeterministicAndKept(t *testing.T) {
	seed := []byte{0xab, 0xcd, 0xef, 0x01}
	news := resource.NewPropertyMapFromMap(map[string]any{"assumeRolePolicy": "{}"})
	a := autoname("aws:iam/role:Role", "us-east-node", seed, nil, news)
	b := autoname("aws:iam/role:Role", "us-east-node", seed, nil, news)
	if a["name"].StringValue() != "us-east-node-abcdef0" || !a.DeepEquals(b) {
		t.Fatalf("autoname = %v, %v", a["name"], b["name"])
	}
	kept := autoname("aws:iam/role:Role", "us-east-node", []byte{1, 2, 3, 4}, a, news)
	if kept["name"].StringValue() != "us-east-node-abcdef0" {
		t.Errorf("a later run renamed the role: %v", kept["name"])
	}
	given := resource.NewPropertyMapFromMap(map[string]any{"name": "fixed"})
	if autoname("aws:iam/role:Role", "x", seed, nil, given)["name"].StringValue() != "fixed" {
		t.Error("a given name was replaced")
	}
	k8s := resource.NewPropertyMapFromMap(map[string]any{"metadata": map[string]any{"namespace": "tars"}})
	if got := at(autoname("kubernetes:core/v1:ConfigMap", "cm", seed, nil, k8s)["metadata"], "name"); got.StringValue() != "cm-abcdef01" {
		t.Errorf("kubernetes autoname = %v", got)
	}
}

// TestVersionsAreTheSDKs: each stand-in reports the plugin version the
// program's SDK asks for: go.mod's for the SDKs the module requires,
// components/versions' for PagerDuty (registered by type token).
func TestVersionsAreTheSDKs(t *testing.T) {
	raw, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := modfile.Parse("go.mod", raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, r := range mod.Require {
		if m := regexp.MustCompile(`^github\.com/pulumi/pulumi-([a-z]+)/sdk/v[0-9]+$`).FindStringSubmatch(r.Mod.Path); m != nil {
			found[m[1]] = strings.TrimPrefix(r.Mod.Version, "v")
		}
	}
	found["pagerduty"] = versions.PagerDutyProvider
	for name, v := range Versions {
		if found[name] != v {
			t.Errorf("stand-in %s reports %s, the program's SDK is %q", name, v, found[name])
		}
	}
	for name := range found {
		if _, ok := Versions[name]; !ok {
			t.Errorf("the program uses provider %s, which has no stand-in", name)
		}
	}
}
