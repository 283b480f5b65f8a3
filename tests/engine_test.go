package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/dr"
	"github.com/tars-platform/infra/stacks"
	"github.com/tars-platform/infra/tests/engine"
	"github.com/tars-platform/infra/tests/harness"
)

// The engine tier (issue #20): both stacks through the real Pulumi engine
// offline. Set TARS_SKIP_ENGINE=1 to skip it.

// step is one planned step of an operation, with the properties it
// changes.
type step struct {
	Op, Type, URN string
	Diffs         []string
}

// watch runs an engine operation with an event stream and returns its
// steps other than "same" and "read", and the engine's error diagnostics
// (what the CLI prints under "Diagnostics").
func watch(op func(chan<- events.EngineEvent) error) (steps []step, diags []string, err error) {
	ch := make(chan events.EngineEvent)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			if e.ResourcePreEvent != nil {
				m := e.ResourcePreEvent.Metadata
				if string(m.Op) != "same" && string(m.Op) != "read" {
					steps = append(steps, step{string(m.Op), m.Type, m.URN, m.Diffs})
				}
			}
			if d := e.DiagnosticEvent; d != nil && d.Severity == "error" {
				diags = append(diags, d.Message)
			}
		}
	}()
	err = op(ch)
	<-done
	return steps, diags, err
}

// preview runs a preview that must succeed and returns its steps.
func preview(ctx context.Context, t *testing.T, st auto.Stack, log *strings.Builder) []step {
	t.Helper()
	steps, _, err := watch(func(ch chan<- events.EngineEvent) error {
		_, err := st.Preview(ctx, optpreview.EventStreams(ch), optpreview.ProgressStreams(log))
		return err
	})
	require.NoError(t, err, log.String())
	return steps
}

func raw(d apitype.UntypedDeployment) string { return string(d.Deployment) }

// deployFirst lays out a rig in a temporary directory and runs the first
// deployment in the README's order (engine.Order), logging into logs.
func deployFirst(ctx context.Context, t *testing.T, logs *strings.Builder) *engine.Rig {
	t.Helper()
	return deploy(ctx, t, logs, engine.Order)
}

// deploy lays out a rig and runs `pulumi up` of the stacks in order.
func deploy(ctx context.Context, t *testing.T, logs *strings.Builder, order []string) *engine.Rig {
	t.Helper()
	rig, err := engine.New("..", t.TempDir())
	require.NoError(t, err)
	for i, name := range order {
		st, err := rig.Stack(ctx, name)
		require.NoError(t, err)
		res, err := st.Up(ctx, optup.ProgressStreams(logs))
		require.NoError(t, err, "up %d (%s): %s", i+1, name, logs.String())
		t.Logf("up %d %s: %v", i+1, name, *res.Summary.ResourceChanges)
	}
	return rig
}

// TestEngineDeploysBothStacksAndSettles runs the first deployment in the
// README's order through the engine (us-west, us-east, us-west, us-east:
// the stack reference between them read through the backend), then:
// a second preview of each stack plans nothing; the engine registers
// exactly the resources the mock plan shows; no secret reaches the state,
// the outputs or the logs in plain text; flipping dnsPrimary,
// postgresPrimary and singletonsOwner in both stacks replaces or deletes
// nothing stateful (the steps are logged).
func TestEngineDeploysBothStacksAndSettles(t *testing.T) {
	if os.Getenv("TARS_SKIP_ENGINE") == "1" {
		t.Skip("TARS_SKIP_ENGINE=1")
	}
	t.Parallel()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	var logs strings.Builder
	rig := deployFirst(ctx, t, &logs)
	for _, name := range []string{"us-east", "us-west"} {
		st, err := rig.Stack(ctx, name)
		require.NoError(t, err)
		var log strings.Builder
		assert.Empty(t, preview(ctx, t, st, &log), "%s: a second preview plans changes (a perpetual diff):\n%s", name, log.String())
		logs.WriteString(log.String())

		// The engine's resources are the mock plan's, URN for URN.
		dep, err := st.Export(ctx)
		require.NoError(t, err)
		var engineURNs []string
		for _, r := range exportState(ctx, t, st) {
			if r.Type == "pulumi:pulumi:Stack" || strings.HasPrefix(r.Type, "pulumi:providers:") && (strings.HasSuffix(r.URN, "::default") || strings.Contains(r.URN, "::default_")) {
				continue
			}
			engineURNs = append(engineURNs, r.URN)
		}
		g := mustRun(t, name)
		var mockURNs []string
		for _, r := range g.Resources {
			mockURNs = append(mockURNs, r.URN)
		}
		sort.Strings(engineURNs)
		sort.Strings(mockURNs)
		if !assert.Equal(t, len(mockURNs), len(engineURNs), "%s: the engine registers what the mock plan shows", name) || !slices.Equal(mockURNs, engineURNs) {
			for _, u := range engineURNs {
				if !slices.Contains(mockURNs, u) {
					t.Errorf("%s: only the engine registers %s", name, u)
				}
			}
			for _, u := range mockURNs {
				if !slices.Contains(engineURNs, u) {
					t.Errorf("%s: only the mock plan registers %s", name, u)
				}
			}
		}
		t.Logf("%s: %d resources in state, as in the mock plan", name, len(engineURNs))

		// No secret in plain text in the backend's state file (the export
		// above decrypts; the file is what a backend stores), the logs or
		// the outputs: the config secrets and what the program derives
		// from them (Alertmanager's config, the Grafana Secrets) are
		// ciphertext there.
		files, err := filepath.Glob(filepath.Join(rig.State, ".pulumi", "stacks", "*", name+".json*"))
		require.NoError(t, err)
		require.NotEmpty(t, files, "the %s state file", name)
		stored, err := os.ReadFile(files[0])
		require.NoError(t, err)
		assert.Contains(t, string(stored), `"ciphertext"`, "%s: secrets are stored encrypted", name)
		assert.Contains(t, raw(dep), "BEGIN EC PRIVATE KEY", "%s: the state holds the CAs' keys (the check below looks for something real)", name)
		assert.NotContains(t, string(stored), "PRIVATE KEY", "%s: a CA's private key in plain text in the state file", name)
		assert.Contains(t, string(dep.Deployment), `"4dabf18193072939515e22adb298388d"`, "%s: the export marks secrets", name)
		outs, err := st.Outputs(ctx)
		require.NoError(t, err)
		assert.True(t, outs["kubeconfig"].Secret, "%s: the kubeconfig output is a secret", name)
		cfg, err := harness.LoadStackConfig("..", name)
		require.NoError(t, err)
		require.NotEmpty(t, cfg.Placeholders)
		for _, key := range cfg.Placeholders {
			v := harness.SecretPlaceholder(key)
			assert.NotContains(t, string(stored), v, "%s: %s in plain text in the state file", name, key)
			assert.NotContains(t, logs.String(), v, "%s: %s in the logs", name, key)
			for k, o := range outs {
				if strings.Contains(fmt.Sprint(o.Value), v) {
					assert.True(t, o.Secret, "%s: output %s carries %s without being a secret", name, k, key)
				}
			}
		}
		assert.Contains(t, raw(dep), harness.SecretPlaceholder("tars:smtpPassword"), "%s: the check above looks for values the state holds", name)
	}

	// Cross-region TLS as the engine deployed it: each region's designated
	// primary verifies the other's endpoint against exactly the CA the
	// other exports, and the other's server certificate names that endpoint.
	for _, pair := range [][2]string{{"us-east", "us-west"}, {"us-west", "us-east"}} {
		server, client := pair[0], pair[1]
		sst, err := rig.Stack(ctx, server)
		require.NoError(t, err)
		souts, err := sst.Outputs(ctx)
		require.NoError(t, err)
		ca, _ := souts[stacks.OutPostgresServerCA].Value.(string)
		endpoint, _ := souts[stacks.OutPostgresEndpoint].Value.(string)
		require.Contains(t, ca, "BEGIN CERTIFICATE", "%s exports its server CA", server)
		require.NotEmpty(t, endpoint)
		assert.Equal(t, []any{endpoint}, get(stateInputs(ctx, t, sst, "kubernetes:postgresql.cnpg.io/v1:Cluster", server+"-postgres-cluster"), "spec.certificates.serverAltDNSNames"),
			"%s: the server certificate names the endpoint", server)
		cst, err := rig.Stack(ctx, client)
		require.NoError(t, err)
		assert.Equal(t, ca, get(stateInputs(ctx, t, cst, "kubernetes:core/v1:Secret", client+"-postgres-peer-ca"), "stringData.ca\\.crt"),
			"%s trusts exactly %s's CA", client, server)
		for _, ec := range get(stateInputs(ctx, t, cst, "kubernetes:postgresql.cnpg.io/v1:Cluster", client+"-postgres-cluster"), "spec.externalClusters").([]any) {
			if get(ec, "connectionParameters.host") != nil {
				assert.Equal(t, endpoint, get(ec, "connectionParameters.host"), "%s connects to %s's endpoint", client, server)
				assert.Equal(t, "verify-full", get(ec, "connectionParameters.sslmode"))
			}
		}
	}

	// The DR flip, in both stack files, then a preview of each.
	for _, name := range []string{"us-east", "us-west"} {
		st, err := rig.Stack(ctx, name)
		require.NoError(t, err)
		for _, key := range []string{"tars:topology.postgresPrimary", "tars:topology.dnsPrimary", "tars:topology.singletonsOwner"} {
			require.NoError(t, st.SetConfigWithOptions(ctx, key, auto.ConfigValue{Value: "us-west"}, &auto.ConfigOptions{Path: true}))
		}
	}
	for _, name := range []string{"us-west", "us-east"} {
		st, err := rig.Stack(ctx, name)
		require.NoError(t, err)
		var log strings.Builder
		steps := preview(ctx, t, st, &log)
		var lines []string
		for _, s := range steps {
			lines = append(lines, s.Op+" "+s.Type+" "+s.URN[strings.LastIndex(s.URN, "::")+2:])
			if slices.Contains(dr.StatefulTypes, s.Type) {
				assert.False(t, dr.Destructive(s.Op), "%s: the flip %ss stateful %s", name, s.Op, s.URN)
			}
		}
		sort.Strings(lines)
		t.Logf("flip, %s plans %d steps:\n  %s", name, len(lines), strings.Join(lines, "\n  "))
	}
	t.Logf("engine tier: %s", time.Since(start).Round(time.Second))
}

// stateInputs are the inputs of the resource of a type and logical name in
// the stack's state (decrypted, as the export gives them).
func stateInputs(ctx context.Context, t *testing.T, st auto.Stack, typ, name string) map[string]any {
	t.Helper()
	dep, err := st.Export(ctx)
	require.NoError(t, err)
	var state struct {
		Resources []struct {
			URN    string         `json:"urn"`
			Type   string         `json:"type"`
			Inputs map[string]any `json:"inputs"`
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(dep.Deployment, &state))
	for _, r := range state.Resources {
		if r.Type == typ && strings.HasSuffix(r.URN, "::"+name) {
			return unwrapSecrets(r.Inputs).(map[string]any)
		}
	}
	t.Fatalf("%s: no %s %s in state", st.Name(), typ, name)
	return nil
}

// unwrapSecrets replaces the export's secret envelopes by their plaintext.
func unwrapSecrets(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270" {
			if p, ok := x["plaintext"].(string); ok {
				var inner any
				if json.Unmarshal([]byte(p), &inner) == nil {
					return unwrapSecrets(inner)
				}
				return p
			}
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = unwrapSecrets(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = unwrapSecrets(e)
		}
		return out
	}
	return v
}
