package tests

// Supply chain (issue #22): every image either stack runs is scanned for
// critical vulnerabilities (.github/workflows/security.yml, with reviewed,
// expiring exceptions in .trivyignore.yaml), and every version the program
// pins is kept current by Renovate (renovate.json), whose regex managers
// must read every pin of components/versions in the form that file uses.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/helmchart"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/kubeapi"
	"golang.org/x/mod/modfile"
	"gopkg.in/yaml.v3"
)

const (
	securityWorkflow = "../.github/workflows/security.yml"
	trivyIgnoreFile  = ".trivyignore.yaml" // relative to the repository root, as the workflow names it
	renovateFile     = "../renovate.json"
	// trivyIgnoreMaxDays: an exception may be granted for at most this long.
	trivyIgnoreMaxDays = 90
)

type ghWorkflow struct {
	On   map[string]any   `yaml:"on"`
	Jobs map[string]ghJob `yaml:"jobs"`
}

type ghJob struct {
	Needs    any               `yaml:"needs"`
	Outputs  map[string]string `yaml:"outputs"`
	Env      map[string]string `yaml:"env"`
	Strategy struct {
		Matrix map[string]any `yaml:"matrix"`
	} `yaml:"strategy"`
	Steps []ghStep `yaml:"steps"`
}

type ghStep struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]any    `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

func (j ghJob) needs() []string {
	switch n := j.Needs.(type) {
	case string:
		return []string{n}
	case []any:
		var out []string
		for _, v := range n {
			out = append(out, fmt.Sprint(v))
		}
		return out
	}
	return nil
}

// TestSupplyChainWorkflowScansEveryImageOfBothStacks: the security
// workflow runs on pull requests and weekly; its first job lists the images
// of both stacks with `tarsctl images` — its own shell steps are run here,
// with `go` answering as tarsctl does from the real graphs and charts — and
// the matrix it emits is every image of both stacks; the scan job runs
// Trivy's action, pinned by commit, on each with CRITICAL, exit code 1,
// unfixed ignored and the reviewed ignore file.
func TestSupplyChainWorkflowScansEveryImageOfBothStacks(t *testing.T) {
	raw, err := os.ReadFile(securityWorkflow)
	require.NoError(t, err)
	var wf ghWorkflow
	require.NoError(t, yaml.Unmarshal(raw, &wf))
	require.Contains(t, wf.On, "pull_request", "scan every pull request")
	require.Contains(t, wf.On, "schedule", "scan weekly: new CVEs appear in images nobody changed")
	crons, _ := wf.On["schedule"].([]any)
	require.NotEmpty(t, crons)
	for _, c := range crons {
		f := strings.Fields(fmt.Sprint(c.(map[string]any)["cron"]))
		require.Len(t, f, 5, "cron %v", c)
		assert.Equal(t, []string{"*", "*"}, f[2:4], "weekly: any day of month, any month")
		assert.Regexp(t, `^[0-6]$`, f[4], "weekly: one day of the week")
	}

	// The listing job and the step whose output carries the list.
	var listID string
	for id, j := range wf.Jobs {
		for _, s := range j.Steps {
			if strings.Contains(s.Run, "tarsctl images") {
				listID = id
			}
		}
	}
	require.NotEmpty(t, listID, "no job runs `tarsctl images`")
	list := wf.Jobs[listID]
	outRef := regexp.MustCompile(`^\$\{\{ *steps\.([\w-]+)\.outputs\.([\w-]+) *\}\}$`)
	var outName, stepID, stepOut string
	for name, v := range list.Outputs {
		if m := outRef.FindStringSubmatch(v); m != nil {
			outName, stepID, stepOut = name, m[1], m[2]
		}
	}
	require.NotEmpty(t, outName, "job %s exports no step output", listID)
	require.True(t, slices.ContainsFunc(list.Steps, func(s ghStep) bool { return s.ID == stepID }), "job %s has no step %s", listID, stepID)

	// The scan job: a matrix over that output.
	fromJSON := regexp.MustCompile(`^\$\{\{ *fromJSON\(needs\.` + regexp.QuoteMeta(listID) + `\.outputs\.` + regexp.QuoteMeta(outName) + `\) *\}\}$`)
	var scan ghJob
	var axis string
	for _, j := range wf.Jobs {
		for k, v := range j.Strategy.Matrix {
			if s, ok := v.(string); ok && fromJSON.MatchString(s) {
				scan, axis = j, k
			}
		}
	}
	require.NotEmpty(t, axis, "no job's matrix is fromJSON(needs.%s.outputs.%s)", listID, outName)
	assert.Contains(t, scan.needs(), listID)
	var trivy *ghStep
	for i, s := range scan.Steps {
		if strings.HasPrefix(s.Uses, "aquasecurity/trivy-action@") {
			trivy = &scan.Steps[i]
		}
	}
	require.NotNil(t, trivy, "the scan job does not use aquasecurity/trivy-action")
	assert.Regexp(t, `^aquasecurity/trivy-action@[0-9a-f]{40}$`, trivy.Uses, "pinned by commit: the action's tags were re-pointed at malware once (GHSA-69fq-xp46-6x23)")
	w := map[string]string{}
	for k, v := range trivy.With {
		w[k] = fmt.Sprint(v)
	}
	assert.Equal(t, "${{ matrix."+axis+" }}", w["image-ref"])
	assert.Contains(t, []string{"", "image"}, w["scan-type"])
	assert.Equal(t, "CRITICAL", w["severity"])
	assert.Equal(t, "1", w["exit-code"], "a finding fails the job")
	assert.Equal(t, "true", w["ignore-unfixed"])
	assert.Equal(t, trivyIgnoreFile, w["trivyignores"], "the reviewed ignore file")
	assert.FileExists(t, filepath.Join("..", w["trivyignores"]))

	// Run the listing job's shell steps with a `go` that answers as
	// `go run ./cmd/tarsctl …` does, from the real stacks.
	stub := t.TempDir()
	want := map[string]bool{}
	for _, stack := range Stacks {
		imgs, err := charttier.Images(t.Context(), mustRun(t, stack), chartsDir(t))
		require.NoError(t, err)
		refs := helmchart.ImageRefs(imgs)
		require.NotEmpty(t, refs)
		for _, r := range refs {
			want[r] = true
		}
		require.NoError(t, os.WriteFile(filepath.Join(stub, stack+".images"), []byte(strings.Join(refs, "\n")+"\n"), 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(stub, "go"), []byte(`#!/bin/bash
# Answers as go run ./cmd/tarsctl does; logs every call.
echo "go $* | TARS_CHARTS_DIR=${TARS_CHARTS_DIR:-}" >>"$STUB_DIR/log"
[ "$1 $2" = "run ./cmd/tarsctl" ] || { echo "stub go: unexpected: go $*" >&2; exit 2; }
case "$3 $4" in
  "charts pull")
    dir=""; shift 4
    while [ $# -gt 0 ]; do [ "$1" = "--dir" ] && dir="$2"; shift; done
    [ -n "$dir" ] && mkdir -p "$dir"
    echo "pulled ${dir:-default}" >>"$STUB_DIR/log" ;;
  "images --stack") cat "$STUB_DIR/$5.images" ;;
  *) echo "stub go: unexpected: go $*" >&2; exit 2 ;;
esac
`), 0o700))
	runner := t.TempDir()
	output, summary := filepath.Join(runner, "output"), filepath.Join(runner, "summary")
	expr := regexp.MustCompile(`\$\{\{[^}]*\}\}`)
	subst := func(v string) string {
		return expr.ReplaceAllStringFunc(v, func(e string) string {
			if strings.Join(strings.Fields(e), " ") == "${{ runner.temp }}" {
				return runner
			}
			t.Fatalf("the listing job uses %s: this test only resolves ${{ runner.temp }}", e)
			return ""
		})
	}
	for _, s := range list.Steps {
		if s.Run == "" {
			continue
		}
		cmd := exec.Command("bash", "-e", "-c", s.Run)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "PATH="+stub+":"+os.Getenv("PATH"), "STUB_DIR="+stub,
			"RUNNER_TEMP="+runner, "GITHUB_OUTPUT="+output, "GITHUB_STEP_SUMMARY="+summary)
		for _, env := range []map[string]string{list.Env, s.Env} {
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+subst(v))
			}
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "step %q:\n%s", s.Name, out)
	}
	log, err := os.ReadFile(filepath.Join(stub, "log"))
	require.NoError(t, err)
	pulled := regexp.MustCompile(`(?m)^pulled (.*)$`).FindStringSubmatch(string(log))
	require.NotNil(t, pulled, "the listing job pulls no chart archives (tarsctl charts pull):\n%s", log)
	for _, stack := range Stacks {
		m := regexp.MustCompile(`(?m)^go run \./cmd/tarsctl images --stack ` + stack + ` \| TARS_CHARTS_DIR=(.*)$`).FindStringSubmatch(string(log))
		if assert.NotNil(t, m, "the workflow does not list the images of %s:\n%s", stack, log) {
			dir := m[1]
			if dir == "" {
				dir = "default"
			}
			assert.Equal(t, pulled[1], dir, "%s's images are rendered from the archives the job pulled", stack)
		}
	}
	outputs, err := os.ReadFile(output)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(stepOut) + `=(.*)$`).FindStringSubmatch(string(outputs))
	require.NotNil(t, m, "step %s writes no %s output:\n%s", stepID, stepOut, outputs)
	var matrix []string
	require.NoError(t, json.Unmarshal([]byte(m[1]), &matrix))
	wantList := make([]string, 0, len(want))
	for r := range want {
		wantList = append(wantList, r)
	}
	slices.Sort(wantList)
	assert.Equal(t, wantList, matrix, "the scan matrix is every image of both stacks, each once")
	t.Logf("%d images scanned (both stacks, deduplicated)", len(matrix))
}

type trivyIgnore struct {
	Vulnerabilities   []trivyIgnoreEntry `yaml:"vulnerabilities"`
	Misconfigurations []trivyIgnoreEntry `yaml:"misconfigurations"`
	Secrets           []trivyIgnoreEntry `yaml:"secrets"`
	Licenses          []trivyIgnoreEntry `yaml:"licenses"`
}

type trivyIgnoreEntry struct {
	ID        string   `yaml:"id"`
	Paths     []string `yaml:"paths"`
	Purls     []string `yaml:"purls"`
	Statement string   `yaml:"statement"`
	ExpiredAt any      `yaml:"expired_at"`
}

// trivyIgnoreProblems parses a Trivy YAML ignore file and lists what makes
// it unreviewed: unknown keys, an entry without id or statement, or without
// an expiry in the next trivyIgnoreMaxDays days.
func trivyIgnoreProblems(doc []byte, now time.Time) []string {
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	dec.KnownFields(true)
	var f trivyIgnore
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return []string{err.Error()}
	}
	var out []string
	for kind, entries := range map[string][]trivyIgnoreEntry{
		"vulnerabilities": f.Vulnerabilities, "misconfigurations": f.Misconfigurations, "secrets": f.Secrets, "licenses": f.Licenses,
	} {
		for i, e := range entries {
			where := fmt.Sprintf("%s[%d] (%s)", kind, i, e.ID)
			if strings.TrimSpace(e.ID) == "" {
				out = append(out, where+": no id")
			}
			if strings.TrimSpace(e.Statement) == "" {
				out = append(out, where+": no statement saying why it is accepted")
			}
			var exp time.Time
			switch v := e.ExpiredAt.(type) {
			case time.Time:
				exp = v
			case string:
				var err error
				if exp, err = time.Parse(time.DateOnly, v); err != nil {
					exp, _ = time.Parse(time.RFC3339, v)
				}
			}
			switch {
			case exp.IsZero():
				out = append(out, where+": no expired_at date (YYYY-MM-DD): every exception must lapse")
			case !exp.After(now):
				out = append(out, fmt.Sprintf("%s: expired on %s: review it (renew with a new statement, or remove it)", where, exp.Format(time.DateOnly)))
			case exp.After(now.AddDate(0, 0, trivyIgnoreMaxDays)):
				out = append(out, fmt.Sprintf("%s: expires %s, more than %d days out", where, exp.Format(time.DateOnly), trivyIgnoreMaxDays))
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestSupplyChainTrivyIgnoreIsReviewed: the ignore file the scan uses is
// Trivy's YAML format and every exception says why and expires soon.
func TestSupplyChainTrivyIgnoreIsReviewed(t *testing.T) {
	now := time.Now().UTC()
	doc, err := os.ReadFile(filepath.Join("..", trivyIgnoreFile))
	require.NoError(t, err)
	var top map[string]any
	require.NoError(t, yaml.Unmarshal(doc, &top))
	require.Contains(t, top, "vulnerabilities", "a valid, if empty, ignore file")
	assert.Empty(t, trivyIgnoreProblems(doc, now))

	soon := now.AddDate(0, 0, 30).Format(time.DateOnly)
	for _, tc := range []struct{ name, doc, want string }{
		{"reviewed", "vulnerabilities:\n  - id: CVE-2026-1\n    statement: not reachable\n    expired_at: " + soon + "\n", ""},
		{"no statement", "vulnerabilities:\n  - id: CVE-2026-1\n    expired_at: " + soon + "\n", "no statement"},
		{"no expiry", "vulnerabilities:\n  - id: CVE-2026-1\n    statement: x\n", "no expired_at"},
		{"expired", "vulnerabilities:\n  - id: CVE-2026-1\n    statement: x\n    expired_at: 2020-01-01\n", "expired on 2020-01-01"},
		{"too long", "vulnerabilities:\n  - id: CVE-2026-1\n    statement: x\n    expired_at: 2999-01-01\n", "more than 90 days out"},
		{"no id", "secrets:\n  - statement: x\n    expired_at: " + soon + "\n", "no id"},
		{"misspelt key", "vulnerabilities:\n  - id: CVE-2026-1\n    statement: x\n    expires_at: " + soon + "\n", "field expires_at not found"},
	} {
		got := strings.Join(trivyIgnoreProblems([]byte(tc.doc), now), "\n")
		if tc.want == "" {
			assert.Empty(t, got, tc.name)
		} else {
			assert.Contains(t, got, tc.want, tc.name)
		}
	}
}

type renovateConfig struct {
	Extends     []string `json:"extends"`
	IgnorePaths []string `json:"ignorePaths"`
	Schedule    []string `json:"schedule"`
	Gomod       *struct {
		ManagerFilePatterns []string `json:"managerFilePatterns"`
	} `json:"gomod"`
	EnabledManagers []string          `json:"enabledManagers"`
	CustomManagers  []json.RawMessage `json:"customManagers"`
	PackageRules    []map[string]any  `json:"packageRules"`
}

type renovateManager struct {
	CustomType             string   `json:"customType"`
	Description            string   `json:"description"`
	ManagerFilePatterns    []string `json:"managerFilePatterns"`
	MatchStrings           []string `json:"matchStrings"`
	MatchStringsStrategy   string   `json:"matchStringsStrategy"`
	DepNameTemplate        string   `json:"depNameTemplate"`
	PackageNameTemplate    string   `json:"packageNameTemplate"`
	DatasourceTemplate     string   `json:"datasourceTemplate"`
	VersioningTemplate     string   `json:"versioningTemplate"`
	RegistryURLTemplate    string   `json:"registryUrlTemplate"`
	ExtractVersionTemplate string   `json:"extractVersionTemplate"`
}

// renovateDep is one dependency as Renovate would extract it.
type renovateDep struct {
	manager, file                                  string // "custom.regex" or "gomod"; path from the repository root
	depName, packageName, datasource, currentValue string
	registryURL, depType                           string
	groups                                         map[string]string
	start, end                                     int // currentValue's byte offsets in the file (regex managers)
}

// jsRegexp converts a Renovate (JavaScript, run on RE2) pattern to Go's
// syntax: named groups (?<name>…) become (?P<name>…).
func jsRegexp(t *testing.T, p string) *regexp.Regexp {
	t.Helper()
	re, err := regexp.Compile(regexp.MustCompile(`\(\?<([A-Za-z][A-Za-z0-9]*)>`).ReplaceAllString(p, "(?P<$1>"))
	require.NoError(t, err, "pattern %q", p)
	return re
}

// renovatePattern matches a path against Renovate's file pattern forms:
// "/regex/" or a glob (** any depth, * within a segment).
func renovatePattern(t *testing.T, pattern, path string) bool {
	t.Helper()
	if len(pattern) > 1 && strings.HasPrefix(pattern, "/") && strings.HasSuffix(pattern, "/") {
		return jsRegexp(t, pattern[1:len(pattern)-1]).MatchString(path)
	}
	require.False(t, strings.HasPrefix(pattern, "!"), "negated pattern %q: not supported by this test", pattern)
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch {
		case strings.HasPrefix(pattern[i:], "**/"):
			b.WriteString(`(?:.*/)?`)
			i += 2
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(`.*`)
			i++
		case pattern[i] == '*':
			b.WriteString(`[^/]*`)
		case pattern[i] == '?':
			b.WriteString(`[^/]`)
		default:
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
	}
	return regexp.MustCompile(`^` + b.String() + `$`).MatchString(path)
}

// renovateTemplate renders the {{name}} / {{{name}}} templates the config
// uses from the capture groups; anything else fails the test.
func renovateTemplate(t *testing.T, tmpl string, groups map[string]string) string {
	t.Helper()
	out := regexp.MustCompile(`\{\{\{?\s*([A-Za-z]\w*)\s*\}?\}\}`).ReplaceAllStringFunc(tmpl, func(m string) string {
		name := strings.Trim(m, "{} ")
		v, ok := groups[name]
		require.True(t, ok, "template %q names %s, which no matchString captures", tmpl, name)
		return v
	})
	require.NotContains(t, out, "{{", "template %q: only {{name}} is supported by this test", tmpl)
	return out
}

// repoFiles lists the repository's files (slash paths from its root).
func repoFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, "../"))
		if d.IsDir() {
			if slices.Contains([]string{".git", "bin", "out", "node_modules"}, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		out = append(out, rel)
		return nil
	}))
	return out
}

// renovateExtract applies every regex manager of the config to the files
// it matches, as Renovate does ("any" and "recursive" strategies).
func renovateExtract(t *testing.T, cfg renovateConfig, files []string) []renovateDep {
	t.Helper()
	var deps []renovateDep
	for i, rawM := range cfg.CustomManagers {
		var m renovateManager
		dec := json.NewDecoder(bytes.NewReader(rawM))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&m), "customManagers[%d]", i)
		require.Equal(t, "regex", m.CustomType, "customManagers[%d]", i)
		require.NotEmpty(t, m.MatchStrings, "customManagers[%d]", i)
		var matched []string
		for _, f := range files {
			for _, p := range m.ManagerFilePatterns {
				if renovatePattern(t, p, f) {
					matched = append(matched, f)
					break
				}
			}
		}
		require.NotEmpty(t, matched, "customManagers[%d] (%s) matches no file", i, m.Description)
		res := make([]*regexp.Regexp, len(m.MatchStrings))
		for k, p := range m.MatchStrings {
			res[k] = jsRegexp(t, p)
		}
		for _, f := range matched {
			b, err := os.ReadFile(filepath.Join("..", f))
			require.NoError(t, err)
			content := string(b)
			type hit struct {
				groups     map[string]string
				start, end int
			}
			var hits []hit
			// level applies res[k] to text (at offset base in the file),
			// merging the groups captured at earlier levels.
			var level func(k int, text string, base int, groups map[string]string, cur [2]int)
			level = func(k int, text string, base int, groups map[string]string, cur [2]int) {
				for _, idx := range res[k].FindAllStringSubmatchIndex(text, -1) {
					g := copyGroups(groups)
					c := cur
					for n, name := range res[k].SubexpNames() {
						if name == "" || idx[2*n] < 0 {
							continue
						}
						g[name] = text[idx[2*n]:idx[2*n+1]]
						if name == "currentValue" {
							c = [2]int{base + idx[2*n], base + idx[2*n+1]}
						}
					}
					if m.MatchStringsStrategy == "recursive" && k+1 < len(res) {
						level(k+1, text[idx[0]:idx[1]], base+idx[0], g, c)
					} else {
						hits = append(hits, hit{g, c[0], c[1]})
					}
				}
			}
			switch m.MatchStringsStrategy {
			case "", "any":
				for k := range res {
					level(k, content, 0, map[string]string{}, [2]int{-1, -1})
				}
			case "recursive":
				level(0, content, 0, map[string]string{}, [2]int{-1, -1})
			default:
				t.Fatalf("customManagers[%d]: matchStringsStrategy %q is not supported by this test", i, m.MatchStringsStrategy)
			}
			for _, h := range hits {
				field := func(name, tmpl string) string {
					if tmpl != "" {
						return renovateTemplate(t, tmpl, h.groups)
					}
					return h.groups[name]
				}
				d := renovateDep{
					manager: "custom.regex", file: f, groups: h.groups, start: h.start, end: h.end,
					depName: field("depName", m.DepNameTemplate), packageName: field("packageName", m.PackageNameTemplate),
					datasource: field("datasource", m.DatasourceTemplate), currentValue: h.groups["currentValue"],
					registryURL: field("registryUrl", m.RegistryURLTemplate),
				}
				if d.packageName == "" {
					d.packageName = d.depName
				}
				assert.NotEmpty(t, d.depName, "%s: an extraction of customManagers[%d] has no depName", f, i)
				assert.NotEmpty(t, d.currentValue, "%s: an extraction of customManagers[%d] has no currentValue", f, i)
				assert.Contains(t, []string{"helm", "docker", "go", "github-releases", "github-tags", "aws-eks-addon", "endoflife-date"}, d.datasource,
					"%s: %s has no datasource Renovate knows", f, d.depName)
				deps = append(deps, d)
			}
		}
	}
	return deps
}

func copyGroups(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// gomodDeps are the requirements the gomod manager reads from go.mod files.
func gomodDeps(t *testing.T, files []string) []renovateDep {
	t.Helper()
	var deps []renovateDep
	for _, f := range files {
		if filepath.Base(f) != "go.mod" {
			continue
		}
		b, err := os.ReadFile(filepath.Join("..", f))
		require.NoError(t, err)
		mf, err := modfile.Parse(f, b, nil)
		require.NoError(t, err)
		for _, r := range mf.Require {
			typ := "require"
			if r.Indirect {
				typ = "indirect"
			}
			deps = append(deps, renovateDep{manager: "gomod", file: f, depName: r.Mod.Path, packageName: r.Mod.Path,
				datasource: "go", currentValue: r.Mod.Version, depType: typ})
		}
	}
	return deps
}

// renovateGroup is the groupName Renovate's packageRules give a dependency
// (later rules override earlier ones). Rules that match on update types
// need an update to decide, and never group here.
func renovateGroup(t *testing.T, rules []map[string]any, d renovateDep) string {
	t.Helper()
	matchAny := func(patterns any, v string, glob bool) bool {
		list, ok := patterns.([]any)
		require.True(t, ok, "a packageRules matcher is not a list: %v", patterns)
		for _, p := range list {
			s := fmt.Sprint(p)
			if s == v || ((glob || strings.HasPrefix(s, "/")) && strings.ContainsAny(s, "*?/") && renovatePattern(t, s, v)) {
				return true
			}
		}
		return false
	}
	group := ""
	for i, r := range rules {
		ok := true
		for k, v := range r {
			switch k {
			case "matchPackageNames":
				ok = ok && matchAny(v, d.packageName, true)
			case "matchDepNames":
				ok = ok && matchAny(v, d.depName, true)
			case "matchDatasources":
				ok = ok && matchAny(v, d.datasource, false)
			case "matchManagers":
				ok = ok && matchAny(v, d.manager, false)
			case "matchDepTypes":
				ok = ok && matchAny(v, d.depType, false)
			case "matchFileNames":
				ok = ok && matchAny(v, d.file, true)
			case "matchUpdateTypes":
				ok = false
			default:
				require.False(t, strings.HasPrefix(k, "match") || strings.HasPrefix(k, "exclude"), "packageRules[%d]: %s is not supported by this test", i, k)
			}
		}
		if g, has := r["groupName"].(string); ok && has {
			group = g
		}
	}
	return group
}

// versionLiterals are the pins a versions file declares: every string
// literal of a top-level const or var that holds a version (a digit, a
// dot, no URL), except map keys and the informational Name, Repository and
// AppVersion fields of a chart.
func versionLiterals(t *testing.T, path string) map[[2]int]string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	require.NoError(t, err)
	isVersion := regexp.MustCompile(`\d\.\d`)
	skip := map[ast.Node]bool{}
	out := map[[2]int]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || (gd.Tok != token.CONST && gd.Tok != token.VAR) {
			continue
		}
		ast.Inspect(gd, func(n ast.Node) bool {
			if kv, ok := n.(*ast.KeyValueExpr); ok {
				skip[kv.Key] = true
				if id, ok := kv.Key.(*ast.Ident); ok && slices.Contains([]string{"Name", "Repository", "AppVersion"}, id.Name) {
					skip[kv.Value] = true
				}
			}
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING || skip[lit] {
				return true
			}
			v := lit.Value[1 : len(lit.Value)-1]
			if isVersion.MatchString(v) && !strings.Contains(v, "://") {
				off := fset.Position(lit.Pos()).Offset + 1
				out[[2]int{off, off + len(v)}] = v
			}
			return true
		})
	}
	return out
}

// TestSupplyChainRenovateReadsEveryPin: renovate.json parses; its regex
// managers, applied to components/versions/*.go as Renovate applies them,
// extract every version those files pin — each exactly once, with a
// datasource, and agreeing with the values the Go package exports — and
// the CRD modules of tests/kubeapi; Go modules a pin names are the ones the
// tool modules require; the gomod manager covers go.mod and tools/*/go.mod;
// updates run weekly.
func TestSupplyChainRenovateReadsEveryPin(t *testing.T) {
	raw, err := os.ReadFile(renovateFile)
	require.NoError(t, err)
	var cfg renovateConfig
	require.NoError(t, json.Unmarshal(raw, &cfg))
	files := repoFiles(t)
	deps := renovateExtract(t, cfg, files)

	// Weekly.
	require.Len(t, cfg.Schedule, 1)
	f := strings.Fields(cfg.Schedule[0])
	require.Len(t, f, 5, "schedule %q: a cron expression", cfg.Schedule[0])
	assert.Equal(t, []string{"*", "*"}, f[2:4], "weekly")
	assert.Regexp(t, `^[0-6]$`, f[4], "weekly: one day of the week")

	// Managers and the files they read.
	assert.Contains(t, cfg.EnabledManagers, "gomod")
	assert.Contains(t, cfg.EnabledManagers, "custom.regex")
	var gomodFiles []string
	for _, p := range files {
		if filepath.Base(p) == "go.mod" && (p == "go.mod" || strings.HasPrefix(p, "tools/")) {
			gomodFiles = append(gomodFiles, p)
		}
	}
	require.Contains(t, gomodFiles, "go.mod")
	require.Contains(t, gomodFiles, "tools/pulumicli/go.mod")
	if cfg.Gomod != nil && len(cfg.Gomod.ManagerFilePatterns) > 0 {
		for _, p := range gomodFiles {
			assert.True(t, slices.ContainsFunc(cfg.Gomod.ManagerFilePatterns, func(pat string) bool { return renovatePattern(t, pat, p) }), "gomod does not read %s", p)
		}
	}
	if slices.Contains(cfg.Extends, "config:recommended") {
		require.NotNil(t, cfg.IgnorePaths, "config:recommended ignores **/tests/**; set ignorePaths so tests/kubeapi/crds.go is read")
	}
	for _, d := range deps {
		for _, p := range cfg.IgnorePaths {
			assert.False(t, renovatePattern(t, p, d.file), "ignorePaths %q hides %s", p, d.file)
		}
	}

	// Every pin of components/versions/*.go is extracted once, whole.
	byFile := map[string][]renovateDep{}
	for _, d := range deps {
		byFile[d.file] = append(byFile[d.file], d)
	}
	var versionFiles []string
	for _, p := range files {
		if strings.HasPrefix(p, "components/versions/") && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			versionFiles = append(versionFiles, p)
		}
	}
	require.NotEmpty(t, versionFiles)
	var literals []string
	for _, vf := range versionFiles {
		lits := versionLiterals(t, filepath.Join("..", vf))
		for span, v := range lits {
			literals = append(literals, v)
			var in []renovateDep
			for _, d := range byFile[vf] {
				if d.start >= span[0] && d.end <= span[1] {
					in = append(in, d)
				}
			}
			if assert.Len(t, in, 1, "%s pins %q: no regex manager of renovate.json extracts it exactly once (extend matchStrings, or report the annotation comment it needs)", vf, v) {
				d := in[0]
				assert.True(t, d.currentValue == v || d.depName+":"+d.currentValue == v,
					"%s: %q extracted as %s %s", vf, v, d.depName, d.currentValue)
			}
		}
		for _, d := range byFile[vf] {
			inside := false
			for span := range lits {
				inside = inside || (d.start >= span[0] && d.end <= span[1])
			}
			assert.True(t, inside, "%s: %s %s extracted from no pinned literal", vf, d.depName, d.currentValue)
		}
	}

	// What was read agrees with what the Go package exports, and nothing
	// is pinned there that this list (and so Renovate's reading of it) misses.
	find := func(datasource, dep, value string) *renovateDep {
		for i, d := range deps {
			if d.datasource == datasource && (dep == "" || d.depName == dep) && d.currentValue == value && strings.HasPrefix(d.file, "components/versions/") {
				return &deps[i]
			}
		}
		return nil
	}
	var exported []string
	for _, c := range versions.Charts {
		exported = append(exported, c.Version)
		d := find("helm", c.Name, c.Version)
		if assert.NotNil(t, d, "chart %s %s", c.Name, c.Version) {
			assert.Equal(t, c.Repository, d.registryURL, "chart %s: its repository", c.Name)
		}
	}
	for _, img := range []string{versions.Redis, versions.RedisExporter, versions.Postgres, versions.ChromaDB, versions.TarsReport, versions.AWSCLI, versions.NVIDIADevicePluginImage, versions.DCGMExporterImage} {
		exported = append(exported, img)
		i := strings.LastIndex(img, ":")
		assert.NotNil(t, find("docker", img[:i], img[i+1:]), "image %s", img)
	}
	for minor, tag := range versions.AutoscalerImages {
		exported = append(exported, tag)
		d := find("docker", "registry.k8s.io/autoscaling/cluster-autoscaler", tag)
		if assert.NotNil(t, d, "autoscaler image for %s", minor) {
			assert.Contains(t, d.groups, "kubernetesMinor")
			assert.Equal(t, minor, d.groups["kubernetesMinor"])
		}
	}
	for minor, addons := range versions.EKSAddons {
		for addon, v := range addons {
			exported = append(exported, v)
			d := find("aws-eks-addon", "", v)
			if assert.NotNil(t, d, "EKS add-on %s for %s", addon, minor) {
				var filter struct {
					AddonName         string `json:"addonName"`
					KubernetesVersion string `json:"kubernetesVersion"`
				}
				require.NoError(t, json.Unmarshal([]byte(d.packageName), &filter), d.packageName)
				assert.Equal(t, addon, filter.AddonName, "%s %s", minor, v)
				assert.Equal(t, minor, filter.KubernetesVersion, "%s %s", addon, v)
			}
		}
	}
	exported = append(exported, versions.KubernetesDefault)
	assert.NotNil(t, find("endoflife-date", "amazon-eks", versions.KubernetesDefault))
	toolReqs := gomodDeps(t, gomodFiles)
	for _, v := range []string{versions.KubeAPIServer, versions.Etcd, versions.PulumiCLI} {
		exported = append(exported, v)
		d := find("go", "", v)
		if assert.NotNil(t, d, "Go module pin %s", v) {
			assert.True(t, slices.ContainsFunc(toolReqs, func(r renovateDep) bool {
				return r.depName == d.depName && r.currentValue == v && strings.HasPrefix(r.file, "tools/")
			}), "%s %s: no tool module requires it (the comment names the wrong module?)", d.depName, v)
		}
	}
	exported = append(exported, versions.PagerDutyProvider)
	assert.NotNil(t, find("github-releases", "pulumi/pulumi-pagerduty", versions.PagerDutyProvider))
	slices.Sort(exported)
	slices.Sort(literals)
	assert.Equal(t, exported, literals, "components/versions pins exactly these versions; a new pin needs its Renovate manager and a line here")

	// The CRD modules of the conformance tier.
	for _, src := range kubeapi.CRDSources {
		assert.True(t, slices.ContainsFunc(deps, func(d renovateDep) bool {
			return d.file == "tests/kubeapi/crds.go" && d.datasource == "go" && d.depName == src.Module && d.currentValue == src.Version
		}), "CRD module %s %s", src.Module, src.Version)
	}
	t.Logf("%d dependencies extracted by %d regex managers", len(deps), len(cfg.CustomManagers))
}

// TestSupplyChainRenovateGroupsChartsWithTheirCRDModules: an operator's
// chart and the Go module its CRDs come from update in one PR (the
// conformance tier tests the pair), as do a test-tier pin and the tool
// module that requires it, and the EKS add-ons.
func TestSupplyChainRenovateGroupsChartsWithTheirCRDModules(t *testing.T) {
	raw, err := os.ReadFile(renovateFile)
	require.NoError(t, err)
	var cfg renovateConfig
	require.NoError(t, json.Unmarshal(raw, &cfg))
	files := repoFiles(t)
	deps := renovateExtract(t, cfg, files)
	var goMods []string
	for _, p := range files {
		if filepath.Base(p) == "go.mod" {
			goMods = append(goMods, p)
		}
	}
	deps = append(deps, gomodDeps(t, goMods)...)
	dep := func(file, datasource, name string) renovateDep {
		t.Helper()
		i := slices.IndexFunc(deps, func(d renovateDep) bool {
			return strings.HasPrefix(d.file, file) && d.datasource == datasource && d.depName == name
		})
		require.GreaterOrEqual(t, i, 0, "%s: no %s dependency %s", file, datasource, name)
		return deps[i]
	}
	require.NotEmpty(t, kubeapi.CRDSources)
	for _, src := range kubeapi.CRDSources {
		chart := renovateGroup(t, cfg.PackageRules, dep("components/versions/", "helm", src.Chart.Name))
		module := renovateGroup(t, cfg.PackageRules, dep("tests/kubeapi/crds.go", "go", src.Module))
		assert.NotEmpty(t, chart, "chart %s is in no group", src.Chart.Name)
		assert.Equal(t, chart, module, "chart %s and its CRD module %s update together", src.Chart.Name, src.Module)
	}
	cnpg := renovateGroup(t, cfg.PackageRules, dep("components/versions/", "helm", versions.CloudNativePG.Name))
	assert.Equal(t, cnpg, renovateGroup(t, cfg.PackageRules, dep("tests/kubeapi/crds.go", "go", "github.com/cloudnative-pg/cloudnative-pg")))
	for _, d := range deps {
		if d.datasource == "go" && strings.HasPrefix(d.file, "components/versions/") {
			pin := renovateGroup(t, cfg.PackageRules, d)
			assert.NotEmpty(t, pin, "%s is in no group", d.depName)
			for _, r := range deps {
				if r.manager == "gomod" && r.depName == d.depName {
					assert.Equal(t, pin, renovateGroup(t, cfg.PackageRules, r), "%s: versions pin and %s update together", d.depName, r.file)
				}
			}
		}
	}
	addons := map[string]bool{}
	for _, d := range deps {
		if d.datasource == "aws-eks-addon" {
			addons[renovateGroup(t, cfg.PackageRules, d)] = true
		}
	}
	assert.Len(t, addons, 1, "the EKS add-ons update together")
	assert.NotContains(t, addons, "")
}
