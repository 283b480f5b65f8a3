package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/tests/harness"
)

// Stacks are the real region stacks every graph test runs against.
var Stacks = []string{"us-east", "us-west"}

// mustRun runs a stack under the harness and fails the test on any error.
func mustRun(t *testing.T, stack string, opts ...harness.Option) *harness.Graph {
	t.Helper()
	g, err := harness.Run(stack, opts...)
	require.NoError(t, err)
	return g
}

// runRecovering runs a stack and turns a panic into a test failure that
// names the case, so one panicking config does not hide the others.
func runRecovering(t *testing.T, stack string, opts ...harness.Option) (g *harness.Graph, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("program panicked: %v", r)
		}
	}()
	return harness.Run(stack, opts...)
}

// one returns the single resource of a type and name, failing otherwise.
func one(t *testing.T, g *harness.Graph, typ, name string) harness.Resource {
	t.Helper()
	r, ok := g.Find(typ, name)
	require.Truef(t, ok, "%s %s not in the %s graph", typ, name, g.Stack)
	return r
}

// policyJSON decodes an IAM policy document held in a string input.
func policyJSON(t *testing.T, r harness.Resource, key string) map[string]any {
	t.Helper()
	raw, ok := r.PlainInputs()[key].(string)
	require.Truef(t, ok, "%s %s has no string input %q", r.Type, r.Name, key)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &doc), "%s.%s", r.Name, key)
	return doc
}

// statements returns a policy's statements.
func statements(t *testing.T, doc map[string]any) []map[string]any {
	t.Helper()
	raw, ok := doc["Statement"].([]any)
	require.True(t, ok, "policy has no Statement list: %v", doc)
	out := make([]map[string]any, len(raw))
	for i, s := range raw {
		out[i] = s.(map[string]any)
	}
	return out
}

// tags returns the string map input "tags".
func tags(r harness.Resource) map[string]string {
	out := map[string]string{}
	m, _ := r.PlainInputs()["tags"].(map[string]any)
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = fmt.Sprint(x)
	}
	return out
}

// under returns the resources whose component ancestor is named name.
func under(g *harness.Graph, name string) []harness.Resource {
	var out []harness.Resource
	for _, r := range g.Resources {
		if c := g.Component(r); c.Name == name {
			out = append(out, r)
		}
	}
	return out
}

func hasPrefixAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
