// Package engine runs the region stacks through the real Pulumi engine
// offline: the CLI built from pkg/v3 (tools/pulumicli, built into the user
// cache by tests/kubeapi), a local file backend with the passphrase
// secrets provider, the program inline (Automation API, no language host)
// and the stand-in provider plugins (tools/standin) on PATH, answering from
// tests/fakecloud. The engine tier's tests and `tarsctl preview` use it.
package engine

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/tars-platform/infra/stacks"
	"github.com/tars-platform/infra/tests/harness"
	"github.com/tars-platform/infra/tests/kubeapi"
)

// Providers are the provider packages the program uses; each gets the
// stand-in as pulumi-resource-<name>.
var Providers = []string{"aws", "kubernetes", "random", "pagerduty", "cloudflare", "tls"}

// Passphrase encrypts the secrets of the rig's stacks (a test backend).
const Passphrase = "tars-engine-tier"

// PublicAccessCidr replaces the stack files' RFC 5737 example range,
// which the program refuses on `pulumi up` on purpose.
const PublicAccessCidr = "52.94.76.0/24"

// Rig is one backend, one fake cloud and one work directory with the
// project and both stack files.
type Rig struct {
	Dir, Work, State, Cloud string
	env                     map[string]string
	cli                     auto.PulumiCommand
	repo                    string
	mu                      sync.Mutex
	stacks                  map[string]auto.Stack
}

// New builds the stand-ins (and, once, the CLI) and lays out the rig under
// dir with the repository's stack files. repo is the repository root.
func New(repo, dir string) (*Rig, error) { return open(repo, dir, false) }

// Open is New, but keeps the stack files a previous run left in the rig
// (a DR drill edits them there, through the config API, across calls).
func Open(repo, dir string) (*Rig, error) { return open(repo, dir, true) }

func open(repo, dir string, keep bool) (*Rig, error) {
	bins, err := kubeapi.EnsureBinaries(repo)
	if err != nil {
		return nil, err
	}
	r := &Rig{Dir: dir, Work: filepath.Join(dir, "work"), State: filepath.Join(dir, "state"), Cloud: filepath.Join(dir, "cloud"), repo: repo}
	plugins := filepath.Join(dir, "plugins")
	for _, d := range []string{plugins, r.Work, r.State, r.Cloud} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	build := exec.Command("go", "build", "-ldflags=-s -w", "-o", filepath.Join(plugins, "standin"), "./tools/standin")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the stand-in providers: %w\n%s", err, out)
	}
	for _, p := range Providers {
		link := filepath.Join(plugins, "pulumi-resource-"+p)
		_ = os.Remove(link)
		if err := os.Symlink(filepath.Join(plugins, "standin"), link); err != nil {
			return nil, err
		}
	}
	for _, f := range []string{"Pulumi.yaml", "Pulumi.us-east.yaml", "Pulumi.us-west.yaml"} {
		if _, err := os.Stat(filepath.Join(r.Work, f)); keep && err == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(repo, f))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(r.Work, f), b, 0o644); err != nil {
			return nil, err
		}
	}
	// <root>/bin/pulumi is where the Automation API looks.
	r.cli, err = auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: filepath.Dir(filepath.Dir(bins["pulumi"]))})
	if err != nil {
		return nil, err
	}
	r.env = map[string]string{
		"PULUMI_BACKEND_URL":       "file://" + r.State,
		"PULUMI_CONFIG_PASSPHRASE": Passphrase,
		"PULUMI_SKIP_UPDATE_CHECK": "true",
		"PULUMI_HOME":              filepath.Join(dir, "home"),
		"PATH":                     plugins + string(os.PathListSeparator) + os.Getenv("PATH"),
		"TARS_FAKECLOUD_DIR":       r.Cloud,
	}
	return r, nil
}

// Stack selects (or creates) a stack of the rig with the stack file's
// config, every declared secret the file lacks set as a secret
// (harness.SecretPlaceholder) and the public-access range replaced. The
// stack is set up once per rig; later calls return it (its config lives
// in the rig's stack file).
func (r *Rig) Stack(ctx context.Context, name string) (auto.Stack, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.stacks[name]; ok {
		return st, nil
	}
	st, err := r.newStack(ctx, name)
	if err != nil {
		return auto.Stack{}, err
	}
	if r.stacks == nil {
		r.stacks = map[string]auto.Stack{}
	}
	r.stacks[name] = st
	return st, nil
}

func (r *Rig) newStack(ctx context.Context, name string) (auto.Stack, error) {
	cfg, err := harness.LoadStackConfig(r.repo, name)
	if err != nil {
		return auto.Stack{}, err
	}
	env := maps.Clone(r.env)
	env["TARS_FAKECLOUD_REGION"], _ = cfg.Values["aws:region"].(string)
	ws, err := auto.NewLocalWorkspace(ctx, auto.WorkDir(r.Work), auto.Program(stacks.Deploy), auto.EnvVars(env), auto.Pulumi(r.cli))
	if err != nil {
		return auto.Stack{}, err
	}
	st, err := auto.UpsertStack(ctx, name, ws)
	if err != nil {
		return auto.Stack{}, err
	}
	if err := st.SetConfigWithOptions(ctx, "tars:cluster.publicAccessCidrs[0]", auto.ConfigValue{Value: PublicAccessCidr}, &auto.ConfigOptions{Path: true}); err != nil {
		return auto.Stack{}, err
	}
	for _, key := range cfg.Placeholders {
		if err := st.SetConfig(ctx, key, auto.ConfigValue{Value: harness.SecretPlaceholder(key), Secret: true}); err != nil {
			return auto.Stack{}, err
		}
	}
	return st, nil
}

// Order is the first deployment's order (README "Deploy for real"), plus
// the run of us-east that joins the two databases once us-west has one.
var Order = []string{"us-west", "us-east", "us-west", "us-east"}

// CLI runs the Pulumi CLI on a stack of the rig (`pulumi <args> -s
// stack`) in its work directory with its backend, passphrase and
// stand-ins, as an SRE runs it by hand (no Automation API flags): its
// stdout, stderr and exit code.
func (r *Rig) CLI(ctx context.Context, stack string, args ...string) (stdout, stderr string, code int, err error) {
	cfg, err := harness.LoadStackConfig(r.repo, stack)
	if err != nil {
		return "", "", -1, err
	}
	region, _ := cfg.Values["aws:region"].(string)
	env := []string{"TARS_FAKECLOUD_REGION=" + region}
	for k, v := range r.env {
		env = append(env, k+"="+v)
	}
	return r.cli.Run(ctx, r.Work, nil, nil, nil, env, append(args, "--stack", stack)...)
}
