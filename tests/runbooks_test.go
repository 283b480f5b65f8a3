package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/slo"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
	"sigs.k8s.io/yaml"
)

// The runbooks (runbooks/<slug>.md) are kept honest against the real
// graph of both stacks: every alert the stacks install links a runbook
// that exists, no runbook is orphaned, each follows seed 000's template,
// and every kubectl command in them names only namespaces and objects the
// stack creates (or that its operators create from them).

const runbookDir = "../runbooks"

// runbookSections are seed 000's template headings, in order.
var runbookSections = []string{"Severity", "Symptoms", "Investigation", "Root Causes", "Mitigation Steps", "Escalation", "Prevention"}

// runbookBase is the URL prefix of every runbook_url annotation.
// TODO: read tars:alerting.runbookBaseUrl once it is configurable.
const runbookBase = slo.RunbookBase

// stackRunbookLinks returns, for one stack's graph, the runbook slug of
// every alert (alert name → slug) from its PrometheusRules and its Loki
// ruler ConfigMaps (label loki_rule), and the problems found reading them.
func stackRunbookLinks(g *harness.Graph) (map[string]string, []string) {
	links := map[string]string{}
	var problems []string
	add := func(where string, rule map[string]any) {
		alert, _ := rule["alert"].(string)
		if alert == "" {
			return
		}
		url, _ := asMap(rule["annotations"])["runbook_url"].(string)
		slug, ok := strings.CutPrefix(url, runbookBase)
		switch {
		case url == "":
			problems = append(problems, fmt.Sprintf("%s: alert %s has no runbook_url", where, alert))
		case !ok || slug == "" || strings.Contains(slug, "/"):
			problems = append(problems, fmt.Sprintf("%s: alert %s: runbook_url %q is not %s<slug>", where, alert, url, runbookBase))
		case links[alert] != "" && links[alert] != slug:
			problems = append(problems, fmt.Sprintf("%s: alert %s links %s and %s", where, alert, links[alert], slug))
		default:
			links[alert] = slug
		}
	}
	for _, r := range g.ByType("kubernetes:monitoring.coreos.com/v1:PrometheusRule") {
		for _, grp := range asList(r.Input("spec.groups")) {
			for _, rule := range asList(asMap(grp)["rules"]) {
				add("PrometheusRule "+r.Name, asMap(rule))
			}
		}
	}
	for _, r := range g.ByType("kubernetes:core/v1:ConfigMap") {
		if _, ok := asMap(r.Input("metadata.labels"))["loki_rule"]; !ok {
			continue
		}
		for key, v := range asMap(r.Input("data")) {
			var file struct {
				Groups []struct {
					Rules []map[string]any `json:"rules"`
				} `json:"groups"`
			}
			if err := yaml.Unmarshal([]byte(fmt.Sprint(v)), &file); err != nil {
				problems = append(problems, fmt.Sprintf("ConfigMap %s %s: %v", r.Name, key, err))
				continue
			}
			for _, grp := range file.Groups {
				for _, rule := range grp.Rules {
					add("Loki rules "+r.Name+"/"+key, rule)
				}
			}
		}
	}
	return links, problems
}

// runbookFiles lists runbooks/*.md by slug (README.md excluded).
func runbookFiles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(runbookDir, "*.md"))
	require.NoError(t, err)
	var slugs []string
	for _, p := range paths {
		if base := filepath.Base(p); base != "README.md" {
			slugs = append(slugs, strings.TrimSuffix(base, ".md"))
		}
	}
	require.NotEmpty(t, slugs, "no runbooks in %s", runbookDir)
	return slugs
}

func readRunbook(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runbookDir, name))
	require.NoError(t, err)
	return string(b)
}

// featureRunbookLinks are the runbook slugs (alert name → slug) of the
// catalog alerts only a stack with an optional feature renders (the GPU
// alerts, slo.Features): both stacks run without them by default, so they
// are read from the catalog.
func featureRunbookLinks() map[string]string {
	def := map[string]bool{}
	for _, a := range slo.AlertsFor(slo.Features{}) {
		def[a.Name] = true
	}
	links := map[string]string{}
	for _, a := range slo.AlertsFor(slo.AllFeatures) {
		if !def[a.Name] {
			links[a.Name] = a.Runbook
		}
	}
	return links
}

// allRunbookLinks merges both stacks' links and the feature-only alerts'
// (featureRunbookLinks); alerts by slug.
func allRunbookLinks(t *testing.T) map[string][]string {
	t.Helper()
	bySlug := map[string][]string{}
	seen := map[string]bool{}
	for _, stack := range append(slices.Clone(Stacks), "") {
		links := featureRunbookLinks()
		if stack != "" {
			var problems []string
			links, problems = stackRunbookLinks(mustRun(t, stack))
			require.Empty(t, problems, stack)
			require.NotEmpty(t, links, stack)
		}
		for alert, slug := range links {
			if !seen[alert+" "+slug] {
				seen[alert+" "+slug] = true
				bySlug[slug] = append(bySlug[slug], alert)
			}
		}
	}
	for _, alerts := range bySlug {
		sort.Strings(alerts)
	}
	return bySlug
}

// TestRunbookForEveryAlert: every alert of both stacks, Prometheus's and
// Loki's, links a runbook under the base URL that exists as a file.
func TestRunbookForEveryAlert(t *testing.T) {
	for _, stack := range Stacks {
		links, problems := stackRunbookLinks(mustRun(t, stack))
		assert.Empty(t, problems, stack)
		require.NotEmpty(t, links, "%s: no alert found in the graph", stack)
		loki := 0
		for _, a := range slo.LogAlerts() {
			if _, ok := links[a.Name]; ok {
				loki++
			}
		}
		assert.Equal(t, len(slo.LogAlerts()), loki, "%s: the Loki ruler's alerts are read", stack)
		for alert, slug := range links {
			_, err := os.Stat(filepath.Join(runbookDir, slug+".md"))
			assert.NoError(t, err, "%s: alert %s links runbook %s", stack, alert, slug)
		}
	}
	// The alerts only a stack with an optional feature (GPU) renders.
	for alert, slug := range featureRunbookLinks() {
		_, err := os.Stat(filepath.Join(runbookDir, slug+".md"))
		assert.NoError(t, err, "alert %s (optional feature) links runbook %s", alert, slug)
	}
}

var runbookIndexRow = regexp.MustCompile(`^\|\s*\[([a-z0-9-]+)\]\(([^)]*)\)\s*\|`)

// TestRunbookNoneOrphaned: every runbook file is named by some alert, the
// file lists exactly the alerts that link it, and README.md's index lists
// exactly the runbook files, each linked under the base URL.
func TestRunbookNoneOrphaned(t *testing.T) {
	bySlug := allRunbookLinks(t)
	files := runbookFiles(t)
	for _, slug := range files {
		alerts, ok := bySlug[slug]
		if !assert.True(t, ok, "runbooks/%s.md: no alert of either stack links it", slug) {
			continue
		}
		assert.Equal(t, alerts, runbookAlertsLine(readRunbook(t, slug+".md")), "runbooks/%s.md: its **Alerts**: line", slug)
	}
	var indexed []string
	for _, line := range strings.Split(readRunbook(t, "README.md"), "\n") {
		if m := runbookIndexRow.FindStringSubmatch(line); m != nil {
			indexed = append(indexed, m[1])
			assert.Contains(t, []string{runbookBase + m[1], m[1] + ".md"}, m[2], "README.md: link of %s", m[1])
		}
	}
	sort.Strings(indexed)
	assert.Equal(t, files, indexed, "README.md's index lists exactly the runbook files")
}

var backticked = regexp.MustCompile("`([A-Za-z0-9]+)`")

// runbookAlertsLine returns the alert names of a runbook's "**Alerts**:"
// line, sorted.
func runbookAlertsLine(md string) []string {
	for _, line := range strings.Split(md, "\n") {
		if rest, ok := strings.CutPrefix(line, "**Alerts**:"); ok {
			var out []string
			for _, m := range backticked.FindAllStringSubmatch(rest, -1) {
				out = append(out, m[1])
			}
			sort.Strings(out)
			return out
		}
	}
	return nil
}

// TestRunbookFollowsTheTemplate: "# Runbook: <name>", an **Alerts**: line,
// then exactly the template's sections in order.
func TestRunbookFollowsTheTemplate(t *testing.T) {
	for _, slug := range runbookFiles(t) {
		md := readRunbook(t, slug+".md")
		lines := strings.Split(md, "\n")
		assert.Regexp(t, `^# Runbook: \S`, lines[0], "runbooks/%s.md: title", slug)
		assert.NotEmpty(t, runbookAlertsLine(md), "runbooks/%s.md: **Alerts**: line", slug)
		var sections []string
		for _, l := range lines {
			if h, ok := strings.CutPrefix(l, "## "); ok {
				h, _, _ = strings.Cut(h, ":")
				sections = append(sections, strings.TrimSpace(h))
			}
		}
		assert.Equal(t, runbookSections, sections, "runbooks/%s.md: sections", slug)
		assert.Regexp(t, `^\**P[0-4]`, runbookSeverity(md), "runbooks/%s.md: the severity opens its section", slug)
	}
}

// runbookSeverity is the text after "## Severity" ("## Severity: P1" or
// the section's first line).
func runbookSeverity(md string) string {
	_, rest, ok := strings.Cut(md, "\n## Severity")
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(strings.TrimPrefix(rest, ":"), " \n")
	line, _, _ := strings.Cut(rest, "\n")
	return line
}

// TestRunbookKubectlNamesWhatTheStackCreates: in both stacks, every
// kubectl command of a bash block names namespaces and objects that exist.
func TestRunbookKubectlNamesWhatTheStackCreates(t *testing.T) {
	files := runbookFiles(t)
	for _, stack := range Stacks {
		inv := stackKubeInventory(t, stack)
		commands := 0
		for _, slug := range files {
			md := readRunbook(t, slug+".md")
			for _, b := range bashBlocks(md) {
				script := regionSubst(b.text, stack)
				commands += len(kubectlCommands(script))
				for _, p := range kubectlProblems(script, inv) {
					t.Errorf("%s: runbooks/%s.md (block at line %d): %s", stack, slug, b.line, p)
				}
			}
		}
		assert.Greater(t, commands, 5*len(files), "%s: the runbooks' kubectl commands are found", stack)
		t.Logf("%s: %d kubectl commands in %d runbooks checked", stack, commands, len(files))
	}
}

type bashBlock struct {
	line int // of the opening fence
	text string
}

func bashBlocks(md string) []bashBlock {
	var out []bashBlock
	var cur *bashBlock
	for i, l := range strings.Split(md, "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```bash":
			cur = &bashBlock{line: i + 1}
		case cur != nil && strings.TrimSpace(l) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += l + "\n"
		}
	}
	return out
}

var regionVar = regexp.MustCompile(`\$\{REGION\}|\$REGION\b`)

func regionSubst(script, stack string) string {
	return regionVar.ReplaceAllLiteralString(script, stack)
}

// kubeInventory is what a kubectl command may name in one stack.
type kubeInventory struct {
	namespaces map[string]bool
	objects    map[charttier.ObjectRef]bool
}

func (inv kubeInventory) has(ns, kind, name string) bool {
	return inv.objects[charttier.ObjectRef{Namespace: ns, Kind: kind, Name: name}]
}

var ordinalName = regexp.MustCompile(`^(.+)-(\d+)$`)

// hasPod: pods are named after a StatefulSet (S-0, S-1 …) or a
// CloudNativePG Cluster (C-1, C-2 …).
func (inv kubeInventory) hasPod(ns, name string) bool {
	m := ordinalName.FindStringSubmatch(name)
	if m == nil {
		return inv.has(ns, "Pod", name)
	}
	n, _ := strconv.Atoi(m[2])
	return inv.has(ns, "Pod", name) || inv.has(ns, "StatefulSet", m[1]) || (n >= 1 && inv.has(ns, "Cluster", m[1]))
}

// newKubeInventory indexes the objects and adds what the operators create
// from them: Prometheus P → StatefulSet prometheus-P and Service
// prometheus-operated; Alertmanager A → StatefulSet alertmanager-A and
// Service alertmanager-operated; CloudNativePG Cluster C → Services C-rw,
// C-ro, C-r (its pods are hasPod's).
func newKubeInventory(refs []charttier.ObjectRef) kubeInventory {
	inv := kubeInventory{namespaces: map[string]bool{}, objects: map[charttier.ObjectRef]bool{}}
	add := func(ns, kind, name string) {
		inv.objects[charttier.ObjectRef{Namespace: ns, Kind: kind, Name: name}] = true
	}
	for _, r := range refs {
		inv.objects[r] = true
		if r.Namespace != "" {
			inv.namespaces[r.Namespace] = true
		}
		switch r.Kind {
		case "Namespace":
			inv.namespaces[r.Name] = true
		case "Prometheus":
			add(r.Namespace, "StatefulSet", "prometheus-"+r.Name)
			add(r.Namespace, "Service", "prometheus-operated")
		case "Alertmanager":
			add(r.Namespace, "StatefulSet", "alertmanager-"+r.Name)
			add(r.Namespace, "Service", "alertmanager-operated")
		case "Cluster":
			for _, s := range []string{"-rw", "-ro", "-r"} {
				add(r.Namespace, "Service", r.Name+s)
			}
		}
	}
	return inv
}

// stackKubeInventory is every object the stack creates, its own and its
// rendered charts'.
func stackKubeInventory(t *testing.T, stack string) kubeInventory {
	t.Helper()
	rs := renderStack(t, stack)
	ms, err := charttier.ProgramManifests(rs.graph)
	require.NoError(t, err)
	var objs []map[string]any
	for _, m := range ms {
		objs = append(objs, m.Object)
	}
	for _, r := range rs.releases {
		objs = append(objs, charttier.Namespaced(r.Output.All(), r.Namespace)...)
	}
	return newKubeInventory(charttier.Refs(objs))
}

// kubectlKinds maps kubectl's resource names and short names to the Kind
// whose names are checked.
var kubectlKinds = map[string]string{}

// kubectlRuntimeKinds are namespaced kinds whose objects controllers make
// at run time (events, CNPG Backups of a ScheduledBackup …): the
// namespace is checked, names are not.
var kubectlRuntimeKinds = map[string]bool{}

// kubectlClusterKinds are cluster-scoped; Namespace and StorageClass names
// are checked, the others (nodes …) are not the program's.
var kubectlClusterKinds = map[string]string{}

func init() {
	for kind, names := range map[string]string{
		"Pod":                     "po pod pods",
		"Deployment":              "deploy deployment deployments",
		"StatefulSet":             "sts statefulset statefulsets",
		"Service":                 "svc service services",
		"DaemonSet":               "ds daemonset daemonsets",
		"CronJob":                 "cj cronjob cronjobs",
		"Job":                     "job jobs",
		"PersistentVolumeClaim":   "pvc persistentvolumeclaim persistentvolumeclaims",
		"ConfigMap":               "cm configmap configmaps",
		"Secret":                  "secret secrets",
		"Ingress":                 "ing ingress ingresses",
		"Cluster":                 "cluster clusters clusters.postgresql.cnpg.io",
		"ScheduledBackup":         "scheduledbackup scheduledbackups",
		"ObjectStore":             "objectstore objectstores objectstores.barmancloud.cnpg.io",
		"Prometheus":              "prometheus prometheuses",
		"Alertmanager":            "alertmanager alertmanagers",
		"PrometheusRule":          "prometheusrule prometheusrules",
		"ServiceMonitor":          "servicemonitor servicemonitors",
		"PodMonitor":              "podmonitor podmonitors",
		"VerticalPodAutoscaler":   "vpa verticalpodautoscaler verticalpodautoscalers",
		"PodDisruptionBudget":     "pdb poddisruptionbudget poddisruptionbudgets",
		"NetworkPolicy":           "netpol networkpolicy networkpolicies",
		"ServiceAccount":          "sa serviceaccount serviceaccounts",
		"HorizontalPodAutoscaler": "hpa horizontalpodautoscaler horizontalpodautoscalers",
		"Certificate":             "cert certs certificate certificates",
		"Issuer":                  "issuer issuers",
	} {
		for _, n := range strings.Fields(names) {
			kubectlKinds[n] = kind
		}
	}
	for _, n := range strings.Fields("ev event events backup backups backups.postgresql.cnpg.io rs replicaset replicasets ep endpoints endpointslices lease leases") {
		kubectlRuntimeKinds[n] = true
	}
	for kind, names := range map[string]string{
		"Namespace": "ns namespace namespaces", "StorageClass": "sc storageclass storageclasses",
		"": "no node nodes pv persistentvolume persistentvolumes crd crds customresourcedefinitions",
	} {
		for _, n := range strings.Fields(names) {
			kubectlClusterKinds[n] = kind
		}
	}
}

// kubectlValueFlags take the next word as their value (unless written
// --flag=value). -p and -f are taken as boolean (logs --previous/--follow):
// runbooks write --patch.
var kubectlValueFlags = map[string]bool{}

func init() {
	for _, f := range strings.Fields("-n --namespace -l --selector -o --output -c --container --since --tail --field-selector " +
		"--sort-by --type --patch --replicas --timeout --to-revision --image --for --from --context --cluster --user " +
		"--target --backup-name --method --plugin-name -L --label-columns --template") {
		kubectlValueFlags[f] = true
	}
}

// kubectlVerbs says how each verb's positional words name objects:
// "resources" kind name… or kind/name…; "rollout" a subcommand, then
// resources; "pod" a pod (or kind/name) first; "cnpg" the plugin's
// subcommand and cluster; "create" only --from=kind/name; "none" nothing
// namespaced the program creates (nodes, client config).
var kubectlVerbs = map[string]string{}

func init() {
	for mode, verbs := range map[string]string{
		"resources": "get describe delete edit patch label annotate scale wait top debug",
		"rollout":   "rollout",
		"pod":       "logs exec attach port-forward cp",
		"cnpg":      "cnpg",
		"create":    "create",
		"none":      "version config cluster-info api-resources auth explain cordon uncordon drain taint",
	} {
		for _, v := range strings.Fields(verbs) {
			kubectlVerbs[v] = mode
		}
	}
}

// cnpgClusterArg is the position of the Cluster among the positional
// words after a `kubectl cnpg` subcommand.
var cnpgClusterArg = map[string]int{
	"status": 0, "psql": 0, "promote": 0, "backup": 0, "restart": 0, "reload": 0, "destroy": 0,
	"hibernate": 1, "fencing": 1, "report": 1, "logs": 1, "maintenance": 1,
}

// kubectlProblems checks every kubectl command of a bash script.
func kubectlProblems(script string, inv kubeInventory) []string {
	var out []string
	for _, args := range kubectlCommands(script) {
		for _, p := range kubectlCommandProblems(args, inv) {
			out = append(out, fmt.Sprintf("kubectl %s: %s", strings.Join(args, " "), p))
		}
	}
	return out
}

// kubectlCommands splits a script into simple commands (continuations
// joined, comments dropped, split at | ; & ( ) and $( ) and returns the
// words after `kubectl` of each that runs kubectl.
func kubectlCommands(script string) [][]string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var out [][]string
	for _, line := range strings.Split(script, "\n") {
		for _, cmd := range shellSimpleCommands(line) {
			for i, w := range cmd {
				if w == "kubectl" {
					out = append(out, cmd[i+1:])
					break
				}
			}
		}
	}
	return out
}

// shellSimpleCommands tokenises one line: quotes group words, # starts a
// comment at a word's start, operators end a command.
func shellSimpleCommands(line string) [][]string {
	var cmds [][]string
	var cmd []string
	var word strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			cmd = append(cmd, word.String())
			word.Reset()
			inWord = false
		}
	}
	end := func() {
		flush()
		if len(cmd) > 0 {
			cmds = append(cmds, cmd)
		}
		cmd = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				j = len(line) - i - 1
			}
			word.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			end()
			return cmds
		case strings.IndexByte("|;&()", c) >= 0:
			end()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	end()
	return cmds
}

// kubectlCommandProblems checks one command's words (after "kubectl").
func kubectlCommandProblems(args []string, inv kubeInventory) []string {
	var problems []string
	var ns, from string
	allNS := false
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flag, val, hasVal := strings.Cut(a, "=")
		if !hasVal && kubectlValueFlags[flag] {
			if i+1 < len(args) {
				val = args[i+1]
			}
			i++
		}
		switch flag {
		case "-n", "--namespace":
			ns = val
		case "-A", "--all-namespaces":
			allNS = true
		case "--from":
			from = val
		}
	}
	if len(pos) == 0 {
		return []string{"no verb"}
	}
	verb, pos := pos[0], pos[1:]
	mode, ok := kubectlVerbs[verb]
	if !ok {
		return []string{fmt.Sprintf("verb %q is not one the check knows", verb)}
	}
	namespaced := false
	// check one object reference; kind is a kubectl resource name.
	check := func(kind, name string) {
		if k, ok := kubectlClusterKinds[kind]; ok {
			if k != "" && name != "" && !isShellVar(name) && !inv.has("", k, name) {
				problems = append(problems, fmt.Sprintf("no %s %s", k, name))
			}
			return
		}
		namespaced = true
		if kubectlRuntimeKinds[kind] {
			return
		}
		k, ok := kubectlKinds[strings.ToLower(kind)]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("kind %q is not one the check knows", kind))
		case name == "" || isShellVar(name) || ns == "":
		case strings.ContainsAny(name, "<>"):
			problems = append(problems, fmt.Sprintf("placeholder %s: use a shell variable", name))
		case k == "Pod" && !inv.hasPod(ns, name), k != "Pod" && !inv.has(ns, k, name):
			problems = append(problems, fmt.Sprintf("no %s %s in namespace %s", k, name, ns))
		}
	}
	checkRef := func(ref string) { // kind/name
		kind, name, _ := strings.Cut(ref, "/")
		check(kind, name)
	}
	switch mode {
	case "none":
		return nil
	case "rollout":
		if len(pos) > 0 {
			pos = pos[1:] // restart, status, history, undo …
		}
		fallthrough
	case "resources":
		switch {
		case len(pos) == 0:
			problems = append(problems, "no resource")
		case strings.Contains(pos[0], "/"):
			for _, p := range pos {
				checkRef(p)
			}
		case isShellVar(pos[0]): // "$POD" from `get pods -o name`: kind/name
			namespaced = true
		default:
			for _, kind := range strings.Split(pos[0], ",") {
				if len(pos) == 1 {
					check(kind, "")
				}
				for _, name := range pos[1:] {
					check(kind, name)
				}
			}
		}
	case "pod":
		namespaced = true
		if len(pos) > 0 {
			target, _, _ := strings.Cut(pos[0], ":") // cp pod:/path
			if strings.Contains(target, "/") {
				checkRef(target)
			} else {
				check("pod", target)
			}
		}
	case "cnpg":
		namespaced = true
		if len(pos) == 0 {
			return []string{"no cnpg subcommand"}
		}
		at, ok := cnpgClusterArg[pos[0]]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("cnpg subcommand %q is not one the check knows", pos[0]))
		case len(pos) <= 1+at:
			problems = append(problems, "cnpg: no cluster named")
		default:
			check("cluster", pos[1+at])
			if pos[0] == "promote" && len(pos) > 2 {
				check("pod", pos[2])
			}
		}
	case "create":
		namespaced = true
		if from != "" {
			checkRef(from)
		}
	}
	if verb == "debug" { // the debug pod is created in the namespace
		namespaced = true
	}
	switch {
	case ns != "" && !inv.namespaces[ns]:
		problems = append(problems, fmt.Sprintf("namespace %s is not one the stack creates", ns))
	case namespaced && ns == "" && !allNS:
		problems = append(problems, "no -n: the default namespace is not the stack's")
	}
	return problems
}

func isShellVar(s string) bool { return strings.Contains(s, "$") }

// TestRunbookKubectlParser: the check itself, on a small inventory.
func TestRunbookKubectlParser(t *testing.T) {
	inv := newKubeInventory([]charttier.ObjectRef{
		{Kind: "Namespace", Name: "tars"}, {Kind: "Namespace", Name: "tars-data"}, {Kind: "Namespace", Name: "monitoring"},
		{Kind: "Namespace", Name: "tars-postgres"},
		{Namespace: "tars-data", Kind: "StatefulSet", Name: "redis"}, {Namespace: "tars-data", Kind: "CronJob", Name: "redis-cluster-rejoin"},
		{Namespace: "tars-postgres", Kind: "Cluster", Name: "tars-pg-us-east"},
		{Namespace: "monitoring", Kind: "Prometheus", Name: "kube-prometheus-stack-prometheus"},
		{Namespace: "monitoring", Kind: "Deployment", Name: "grafana"},
		{Namespace: "kube-system", Kind: "Deployment", Name: "cluster-autoscaler-aws-cluster-autoscaler"},
	})
	for _, tc := range []struct {
		script string
		ok     bool
	}{
		{"kubectl -n tars-data exec redis-0 -- redis-cli cluster info", true},
		{"kubectl -n tars rollout restart deployment/tars-backend", false},
		{"kubectl -n nope get pods", false},
		{"kubectl get pods -l app.kubernetes.io/part-of=tars", false},
		{"kubectl -n tars get pods -l app.kubernetes.io/part-of=tars", true},
		{"kubectl get nodes -o wide", true},
		{"kubectl get pods -A --field-selector=status.phase!=Running", true},
		{"kubectl cnpg status tars-pg-us-east -n tars-postgres", true},
		{"kubectl cnpg status tars-pg -n tars-postgres", false},
		{"kubectl cnpg status tars-pg-us-east", false},
		{"kubectl -n tars-postgres exec tars-pg-us-east-1 -- psql -c 'select 1'", true},
		{"kubectl -n tars-postgres exec tars-pg-us-east-0 -- psql", false},
		{"kubectl -n tars-postgres get svc tars-pg-us-east-rw", true},
		{"kubectl -n monitoring logs prometheus-kube-prometheus-stack-prometheus-0 -c prometheus --tail 50", true},
		{"kubectl -n monitoring port-forward svc/prometheus-operated 9090", true},
		{"kubectl --namespace=monitoring get deploy grafana", true},
		{"kubectl --namespace tars get deploy grafana", false},
		{"kubectl -n kube-system logs deploy/cluster-autoscaler-aws-cluster-autoscaler", true},
		{"kubectl -n tars-data create job --from=cronjob/redis-cluster-rejoin redis-rejoin-now", true},
		{"kubectl -n tars-data create job --from=cronjob/redis-rejoin now", false},
		{"POD=$(kubectl -n tars get pods -l app=x -o name | head -1)\nkubectl -n tars logs \"$POD\" --previous", true},
		{"kubectl -n tars-data \\\n  exec redis-1 -- redis-cli info", true},
		{"kubectl -n tars delete \"$POD\"", true},
		{"kubectl delete \"$POD\"", false},
		{"kubectl -n monitoring get pods | grep thanos && kubectl -n nope get pods", false},
		{"kubectl -n tars-data get pod redis-0 # a comment: kubectl -n nope get pods", true},
		{"kubectl -n tars-data describe widget redis", false},
		{"kubectl -n tars-data logs <pod>", false},
		{"kubectl -n tars-data frobnicate redis-0", false},
		{"kubectl get ns tars-data", true},
		{"kubectl -n kube-system debug node/$NODE -it --image=busybox -- df -h", true},
		{"kubectl debug node/$NODE -it --image=busybox -- df -h", false},
		{"kubectl get ns default", false},
	} {
		problems := kubectlProblems(tc.script, inv)
		if tc.ok {
			assert.Empty(t, problems, tc.script)
		} else {
			assert.NotEmpty(t, problems, tc.script)
		}
	}
	assert.Len(t, kubectlCommands("a | kubectl -n x get po; b && kubectl get no\n# kubectl nope\nx=$(kubectl get ns)"), 3,
		"pipes, lists, comments and command substitutions")
}

// TestRunbookLinksReadFromTheGraph: links are read from PrometheusRules
// and from the Loki ruler's ConfigMaps; a URL outside the base is a
// problem, as is an alert without one.
func TestRunbookLinksReadFromTheGraph(t *testing.T) {
	rule := func(alert, url string) map[string]any {
		return map[string]any{"alert": alert, "expr": "vector(1)", "annotations": map[string]any{"runbook_url": url}}
	}
	g := &harness.Graph{Resources: []harness.Resource{
		{Type: "kubernetes:monitoring.coreos.com/v1:PrometheusRule", Name: "r", Inputs: resource.NewPropertyMapFromMap(map[string]any{
			"spec": map[string]any{"groups": []any{map[string]any{"name": "g", "rules": []any{
				rule("Good", runbookBase+"service-down"),
				rule("Elsewhere", "https://wiki.example.com/runbooks/service-down"),
				map[string]any{"alert": "Bare", "expr": "vector(1)"},
				map[string]any{"record": "a:b", "expr": "vector(1)"},
			}}}},
		})},
		{Type: "kubernetes:core/v1:ConfigMap", Name: "logs", Inputs: resource.NewPropertyMapFromMap(map[string]any{
			"metadata": map[string]any{"labels": map[string]any{"loki_rule": "1"}},
			"data":     map[string]any{"rules.yaml": "groups:\n- name: l\n  rules:\n  - alert: FromLoki\n    expr: vector(1)\n    annotations:\n      runbook_url: " + runbookBase + "high-error-log-rate\n"},
		})},
		{Type: "kubernetes:core/v1:ConfigMap", Name: "other", Inputs: resource.NewPropertyMapFromMap(map[string]any{
			"data": map[string]any{"x.yaml": "groups: [{rules: [{alert: NotALokiRule}]}]"},
		})},
	}}
	links, problems := stackRunbookLinks(g)
	assert.Equal(t, map[string]string{"Good": "service-down", "FromLoki": "high-error-log-rate"}, links)
	require.Len(t, problems, 2, problems)
	assert.Contains(t, problems[0], "Elsewhere")
	assert.Contains(t, problems[1], "Bare")
}

// TestRunbookBaseURLComesFromConfig: tars:alerting.runbookBaseUrl moves
// every alert's runbook_url (Prometheus and Loki rules) to the new base,
// each still naming a runbook file; a base that is not an https URL ending
// in / is a config error naming the key.
func TestRunbookBaseURLComesFromConfig(t *testing.T) {
	const base = "https://runbooks.tars.example/ops/"
	g := mustRun(t, "us-east", harness.WithConfig("tars:alerting.runbookBaseUrl", base))
	n := 0
	for _, r := range g.ByType("kubernetes:monitoring.coreos.com/v1:PrometheusRule") {
		for _, grp := range asList(r.PlainInputs()["spec"].(map[string]any)["groups"]) {
			for _, rule := range asList(asMap(grp)["rules"]) {
				u, ok := asMap(asMap(rule)["annotations"])["runbook_url"].(string)
				if !ok {
					continue
				}
				n++
				require.True(t, strings.HasPrefix(u, base), u)
				assert.FileExists(t, filepath.Join("..", "runbooks", strings.TrimPrefix(u, base)+".md"))
			}
		}
	}
	assert.Greater(t, n, 60)
	logRules := one(t, g, "kubernetes:core/v1:ConfigMap", "us-east-alerting-log-rules").PlainInputs()
	assert.Contains(t, fmt.Sprint(logRules["data"]), base+"authentication-failures")
	assert.NotContains(t, fmt.Sprint(logRules["data"]), "docs.tars.ai/runbooks")

	_, err := runRecovering(t, "us-east", harness.WithConfig("tars:alerting.runbookBaseUrl", "http://runbooks.tars.example/ops"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tars:alerting.runbookBaseUrl ("http://runbooks.tars.example/ops") must be an https:// URL ending in /`)
}
