package alloycfg

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/alloy/syntax/ast"
	"github.com/grafana/alloy/syntax/parser"
	"github.com/grafana/alloy/syntax/scanner"
	"github.com/grafana/alloy/syntax/token"
)

// parse renders cfg and parses it with Alloy's own parser.
func parse(t *testing.T, cfg Config) (string, *ast.File) {
	t.Helper()
	text, err := Pipeline(cfg)
	if err != nil {
		t.Fatalf("Pipeline: %v", err)
	}
	f, err := parser.ParseFile("config.alloy", []byte(text))
	if err != nil {
		t.Fatalf("Alloy parser rejected the rendered config: %v\n%s", err, text)
	}
	return text, f
}

func blocks(body ast.Body) []*ast.BlockStmt {
	var out []*ast.BlockStmt
	for _, st := range body {
		if b, ok := st.(*ast.BlockStmt); ok {
			out = append(out, b)
		}
	}
	return out
}

func blockNames(body ast.Body) []string {
	var names []string
	for _, b := range blocks(body) {
		names = append(names, b.GetBlockName())
	}
	return names
}

func component(t *testing.T, f *ast.File, name, label string) *ast.BlockStmt {
	t.Helper()
	for _, b := range blocks(f.Body) {
		if b.GetBlockName() == name && b.Label == label {
			return b
		}
	}
	t.Fatalf("no %s %q block", name, label)
	return nil
}

func child(t *testing.T, b *ast.BlockStmt, name string) *ast.BlockStmt {
	t.Helper()
	for _, c := range blocks(b.Body) {
		if c.GetBlockName() == name {
			return c
		}
	}
	t.Fatalf("%s has no %s block", b.GetBlockName(), name)
	return nil
}

func attr(t *testing.T, b *ast.BlockStmt, name string) ast.Expr {
	t.Helper()
	for _, st := range b.Body {
		if a, ok := st.(*ast.AttributeStmt); ok && a.Name.Name == name {
			return a.Value
		}
	}
	t.Fatalf("%s has no attribute %s", b.GetBlockName(), name)
	return nil
}

// str decodes a string literal the way Alloy's vm does (strconv.Unquote,
// syntax/vm/constant.go).
func str(t *testing.T, e ast.Expr) string {
	t.Helper()
	lit, ok := e.(*ast.LiteralExpr)
	if !ok || lit.Kind != token.STRING {
		t.Fatalf("want a string literal, got %#v", e)
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatalf("unquote %s: %v", lit.Value, err)
	}
	return s
}

// objectStrings decodes an object of string literals.
func objectStrings(t *testing.T, e ast.Expr) map[string]string {
	t.Helper()
	obj, ok := e.(*ast.ObjectExpr)
	if !ok {
		t.Fatalf("want an object, got %#v", e)
	}
	m := map[string]string{}
	for _, f := range obj.Fields {
		m[f.Name.Name] = str(t, f.Value)
	}
	return m
}

// refPath flattens a.b.c access chains into "a.b.c".
func refPath(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.IdentifierExpr:
		return e.Ident.Name, true
	case *ast.AccessExpr:
		p, ok := refPath(e.Value)
		return p + "." + e.Name.Name, ok
	}
	return "", false
}

func TestDefaultConfigParses(t *testing.T) {
	_, f := parse(t, DefaultConfig())

	var top []string
	for _, b := range blocks(f.Body) {
		top = append(top, b.GetBlockName()+" "+b.Label)
	}
	want := []string{
		"discovery.kubernetes tars_pods",
		"discovery.relabel tars_pods",
		"loki.source.kubernetes tars_pods",
		"loki.process tars",
		"loki.write default",
	}
	if !slices.Equal(top, want) {
		t.Fatalf("components = %q, want %q", top, want)
	}

	dk := component(t, f, "discovery.kubernetes", "tars_pods")
	if got := str(t, attr(t, dk, "role")); got != "pod" {
		t.Errorf("discovery.kubernetes role = %q", got)
	}
	field, ok := attr(t, child(t, dk, "selectors"), "field").(*ast.BinaryExpr)
	if !ok || field.Kind != token.ADD || str(t, field.Left) != "spec.nodeName=" {
		t.Errorf("selectors.field is not the node-local selector: %#v", field)
	}

	proc := component(t, f, "loki.process", "tars")
	stages := blockNames(proc.Body)
	wantStages := []string{"stage.regex", "stage.json", "stage.labels", "stage.timestamp", "stage.drop", "stage.match"}
	if !slices.Equal(stages, wantStages) {
		t.Fatalf("loki.process stages = %q, want %q", stages, wantStages)
	}
	if got := str(t, attr(t, child(t, proc, "stage.regex"), "expression")); got != LineRegex {
		t.Errorf("stage.regex expression = %q, want %q", got, LineRegex)
	}
	js := child(t, proc, "stage.json")
	if got := objectStrings(t, attr(t, js, "expressions")); len(got) != 3 || got["request_id"] != "request_id" || got["user_id"] != "user_id" || got["duration"] != "duration" {
		t.Errorf("stage.json expressions = %v", got)
	}
	if got := objectStrings(t, attr(t, child(t, proc, "stage.labels"), "values")); len(got) != 2 || got["level"] != "" || got["component"] != "app" {
		t.Errorf("stage.labels values = %v", got)
	}
	ts := child(t, proc, "stage.timestamp")
	if str(t, attr(t, ts, "source")) != "timestamp" || str(t, attr(t, ts, "format")) != "RFC3339Nano" {
		t.Errorf("stage.timestamp does not parse the extracted timestamp as RFC3339Nano")
	}

	match := child(t, proc, "stage.match")
	if got := str(t, attr(t, match, "selector")); got != `{component="tars-rag-service"}` {
		t.Errorf("stage.match selector = %q", got)
	}
	hist := child(t, child(t, match, "stage.metrics"), "metric.histogram")
	if str(t, attr(t, hist, "name")) != RAGQueryDurationMetric || str(t, attr(t, hist, "source")) != "duration" {
		t.Errorf("histogram does not record %s from duration", RAGQueryDurationMetric)
	}
	arr, ok := attr(t, hist, "buckets").(*ast.ArrayExpr)
	if !ok {
		t.Fatalf("buckets is not a list")
	}
	var buckets []float64
	for _, e := range arr.Elements {
		lit := e.(*ast.LiteralExpr)
		v, err := strconv.ParseFloat(lit.Value, 64)
		if err != nil || (lit.Kind != token.NUMBER && lit.Kind != token.FLOAT) {
			t.Fatalf("bucket %s: kind %v, %v", lit.Value, lit.Kind, err)
		}
		buckets = append(buckets, v)
	}
	if !slices.Equal(buckets, DefaultRAGBuckets()) {
		t.Errorf("buckets = %v, want %v", buckets, DefaultRAGBuckets())
	}
	if RAGQueryDurationExposed != "loki_process_custom_rag_query_duration_seconds" {
		t.Errorf("exposed metric name = %q", RAGQueryDurationExposed)
	}

	lw := component(t, f, "loki.write", "default")
	if got := str(t, attr(t, child(t, lw, "endpoint"), "url")); got != DefaultLokiURL {
		t.Errorf("loki.write url = %q", got)
	}
	if got := objectStrings(t, attr(t, lw, "external_labels")); len(got) != 2 || got["region"] != DefaultRegion || got["cluster"] != DefaultCluster {
		t.Errorf("external_labels = %v", got)
	}
}

// TestComponentWiring checks every reference to a component export names a
// component declared in the file and an export that component has.
func TestComponentWiring(t *testing.T) {
	_, f := parse(t, DefaultConfig())
	exports := map[string][]string{ // Alloy v1.18.1 "Exported fields"
		"discovery.kubernetes": {"targets"},
		"discovery.relabel":    {"output", "rules"},
		"loki.process":         {"receiver"},
		"loki.write":           {"receiver"},
	}
	declared := map[string]string{}
	for _, b := range blocks(f.Body) {
		declared[b.GetBlockName()+"."+b.Label] = b.GetBlockName()
	}
	var refs []string
	var walk func(ast.Body)
	var visitExpr func(ast.Expr)
	visitExpr = func(e ast.Expr) {
		if p, ok := refPath(e); ok {
			refs = append(refs, p)
			return
		}
		switch e := e.(type) {
		case *ast.ArrayExpr:
			for _, x := range e.Elements {
				visitExpr(x)
			}
		case *ast.ObjectExpr:
			for _, x := range e.Fields {
				visitExpr(x.Value)
			}
		case *ast.BinaryExpr:
			visitExpr(e.Left)
			visitExpr(e.Right)
		case *ast.CallExpr:
			for _, x := range e.Args {
				visitExpr(x)
			}
		}
	}
	walk = func(body ast.Body) {
		for _, st := range body {
			switch st := st.(type) {
			case *ast.AttributeStmt:
				visitExpr(st.Value)
			case *ast.BlockStmt:
				walk(st.Body)
			}
		}
	}
	walk(f.Body)

	used := map[string]bool{}
	for _, r := range refs {
		if r == "constants.hostname" {
			continue
		}
		i := strings.LastIndex(r, ".")
		comp, export := r[:i], r[i+1:]
		name, ok := declared[comp]
		if !ok {
			t.Errorf("reference %s: no component %s", r, comp)
			continue
		}
		if !slices.Contains(exports[name], export) {
			t.Errorf("reference %s: %s exports %v", r, name, exports[name])
		}
		used[comp] = true
	}
	for comp, name := range declared {
		if !used[comp] && name != "loki.source.kubernetes" {
			t.Errorf("component %s is never referenced", comp)
		}
	}
}

// alloyArgs lists, per block path, the arguments and nested blocks the
// Alloy v1.18.1 reference documents (only the blocks this package uses).
var alloyArgs = map[string]struct{ attrs, blocks, required []string }{
	"discovery.kubernetes":           {attrs: []string{"role", "api_server", "kubeconfig_file"}, blocks: []string{"selectors", "namespaces", "attach_metadata"}, required: []string{"role"}},
	"discovery.kubernetes/selectors": {attrs: []string{"role", "field", "label"}, required: []string{"role"}},
	"discovery.relabel":              {attrs: []string{"targets"}, blocks: []string{"rule"}, required: []string{"targets"}},
	"discovery.relabel/rule":         {attrs: []string{"action", "modulus", "regex", "replacement", "separator", "source_labels", "target_label"}},
	"loki.source.kubernetes":         {attrs: []string{"targets", "forward_to"}, blocks: []string{"client", "clustering"}, required: []string{"targets", "forward_to"}},
	"loki.process": {attrs: []string{"forward_to"}, required: []string{"forward_to"},
		blocks: []string{"stage.regex", "stage.json", "stage.labels", "stage.timestamp", "stage.drop", "stage.match"}},
	"loki.process/stage.regex":               {attrs: []string{"expression", "source", "labels_from_groups"}, required: []string{"expression"}},
	"loki.process/stage.json":                {attrs: []string{"expressions", "regex", "drop_malformed", "source"}},
	"loki.process/stage.labels":              {attrs: []string{"values", "source_type"}},
	"loki.process/stage.timestamp":           {attrs: []string{"format", "source", "action_on_failure", "action_on_duplicate_timestamp", "fallback_formats", "location"}, required: []string{"format", "source"}},
	"loki.process/stage.drop":                {attrs: []string{"drop_counter_reason", "expression", "longer_than", "older_than", "separator", "source", "value"}},
	"loki.process/stage.match":               {attrs: []string{"selector", "action", "drop_counter_reason", "pipeline_name"}, blocks: []string{"stage.metrics"}, required: []string{"selector"}},
	"loki.process/stage.match/stage.metrics": {blocks: []string{"metric.counter", "metric.gauge", "metric.histogram"}},
	"loki.process/stage.match/stage.metrics/metric.histogram": {
		attrs:    []string{"buckets", "name", "description", "max_idle_duration", "prefix", "source", "value"},
		required: []string{"buckets", "name"}},
	"loki.write":          {attrs: []string{"external_labels", "max_streams"}, blocks: []string{"endpoint", "wal"}},
	"loki.write/endpoint": {attrs: []string{"url", "batch_size", "batch_wait", "headers", "name", "remote_timeout", "tenant_id"}, blocks: []string{"basic_auth", "tls_config", "queue_config"}, required: []string{"url"}},
}

func TestArgumentNamesMatchAlloyDocs(t *testing.T) {
	for _, env := range []string{EnvProduction, EnvDevelopment} {
		cfg := DefaultConfig()
		cfg.Environment = env
		_, f := parse(t, cfg)
		var check func(path string, b *ast.BlockStmt)
		check = func(path string, b *ast.BlockStmt) {
			spec, ok := alloyArgs[path]
			if !ok {
				t.Errorf("%s: block not in the documented table", path)
				return
			}
			var have []string
			for _, st := range b.Body {
				switch st := st.(type) {
				case *ast.AttributeStmt:
					have = append(have, st.Name.Name)
					if !slices.Contains(spec.attrs, st.Name.Name) {
						t.Errorf("%s: undocumented argument %s", path, st.Name.Name)
					}
				case *ast.BlockStmt:
					if !slices.Contains(spec.blocks, st.GetBlockName()) {
						t.Errorf("%s: undocumented block %s", path, st.GetBlockName())
					}
					check(path+"/"+st.GetBlockName(), st)
				}
			}
			for _, r := range spec.required {
				if !slices.Contains(have, r) {
					t.Errorf("%s: required argument %s missing", path, r)
				}
			}
		}
		for _, b := range blocks(f.Body) {
			check(b.GetBlockName(), b)
		}
	}
}

func TestDropStageOnlyInProduction(t *testing.T) {
	for _, env := range []string{EnvProduction, EnvStaging, EnvDevelopment} {
		t.Run(env, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Environment = env
			_, f := parse(t, cfg)
			proc := component(t, f, "loki.process", "tars")
			hasDrop := slices.Contains(blockNames(proc.Body), "stage.drop")
			if hasDrop != (env == EnvProduction) {
				t.Fatalf("environment %s: stage.drop rendered = %v", env, hasDrop)
			}
			if !hasDrop {
				return
			}
			drop := child(t, proc, "stage.drop")
			if str(t, attr(t, drop, "source")) != "level" {
				t.Errorf("stage.drop does not test the extracted level")
			}
			re := regexp.MustCompile(str(t, attr(t, drop, "expression")))
			for level, want := range map[string]bool{"DEBUG": true, "debug": true, "INFO": false, "DEBUGGING": false, "ERROR": false} {
				if re.MatchString(level) != want {
					t.Errorf("drop expression on level %q: match = %v, want %v", level, !want, want)
				}
			}
		})
	}
}

func TestParserRejectsBrokenStage(t *testing.T) {
	text, err := Pipeline(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	regexLine := "\t\texpression = " + strconv.Quote(LineRegex) + "\n"
	if !strings.Contains(text, regexLine) {
		t.Fatalf("rendered config has no line %q", regexLine)
	}
	stageStart := strings.Index(text, "\tstage.regex {\n")
	stageClose := stageStart + strings.Index(text[stageStart:], "\t}\n")
	broken := map[string]string{
		// The regex string loses its closing quote.
		"unterminated string": strings.Replace(text, regexLine, strings.TrimSuffix(regexLine, "\"\n")+"\n", 1),
		// The stage.regex block loses its closing brace.
		"missing brace": text[:stageClose] + text[stageClose+len("\t}\n"):],
		// The attribute name is not an identifier.
		"bad attribute name": strings.Replace(text, "\t\texpression =", "\t\texpr-ession =", 1),
		// A backslash escape that Go (and Alloy) do not know.
		"unknown escape": strings.Replace(text, `\\S+`, `\S+`, 1),
	}
	for name, src := range broken {
		t.Run(name, func(t *testing.T) {
			if src == text {
				t.Fatal("mutation did not change the config")
			}
			if _, err := parser.ParseFile("broken.alloy", []byte(src)); err == nil {
				t.Fatalf("Alloy parser accepted the broken config:\n%s", src)
			} else {
				t.Logf("rejected: %v", err)
			}
		})
	}

	// The builder refuses to write such a stage at all, and reports every
	// problem, not just the first.
	_, err = Block{Name: "stage.regex", Attrs: []Attr{
		{"expr-ession", String(LineRegex)},
		{"source", nil},
	}}.Render()
	if err == nil || !strings.Contains(err.Error(), `invalid attribute name "expr-ession"`) || !strings.Contains(err.Error(), "missing value") {
		t.Fatalf("builder error = %v", err)
	}
}

func TestStringEscapingRoundTrips(t *testing.T) {
	values := []string{
		LineRegex,
		`^(?P<q>"[^"\\]*(?:\\.[^"\\]*)*")\s+\d+$`,
		"tab\there, newline\nthere, cr\r, nul\x00, bell\a",
		`C:\path\to\file "quoted" 'single' ${not_interpolated} // not a comment`,
		"unicode: héllo ✓ 日本",
		"",
	}
	for _, v := range values {
		text, err := File{Blocks: []Block{{
			Name: "loki.process", Label: "x",
			Blocks: []Block{{Name: "stage.regex", Attrs: []Attr{{"expression", String(v)}}}},
			Attrs: []Attr{{"forward_to", List()}, {"labels", Object(
				Field{Key: "app.kubernetes.io/name", Value: String(v)},
				Field{Key: "plain_key", Value: String(v)},
			)}},
		}}}.Render()
		if err != nil {
			t.Fatalf("render %q: %v", v, err)
		}
		f, err := parser.ParseFile("escape.alloy", []byte(text))
		if err != nil {
			t.Fatalf("parse %q: %v\n%s", v, err, text)
		}
		b := blocks(f.Body)[0]
		if got := str(t, attr(t, child(t, b, "stage.regex"), "expression")); got != v {
			t.Errorf("round trip: got %q, want %q", got, v)
		}
		obj := attr(t, b, "labels").(*ast.ObjectExpr)
		for _, fl := range obj.Fields {
			if got := str(t, fl.Value); got != v {
				t.Errorf("object value round trip: got %q, want %q", got, v)
			}
		}
		if k := obj.Fields[0].Name.Name; k != "app.kubernetes.io/name" || !obj.Fields[0].Quoted {
			t.Errorf("quoted key read back as %q", k)
		}
	}

	// Alloy keeps a quoted object key verbatim (no unescaping), so keys that
	// would need escaping are refused rather than silently changed.
	for _, key := range []string{`a"b`, `a\b`, "a\nb"} {
		if _, err := (Block{Name: "x", Attrs: []Attr{{"m", Object(Field{Key: key, Value: String("v")})}}}).Render(); err == nil || !strings.Contains(err.Error(), "needs escaping") {
			t.Errorf("key %q: error = %v", key, err)
		}
	}
}

func TestInvalidConfig(t *testing.T) {
	cases := map[string]struct {
		mutate func(*Config)
		fields []string
	}{
		"empty Loki URL":    {func(c *Config) { c.LokiURL = "" }, []string{"Config.LokiURL"}},
		"relative Loki URL": {func(c *Config) { c.LokiURL = "loki-gateway/loki/api/v1/push" }, []string{"Config.LokiURL"}},
		"bad environment":   {func(c *Config) { c.Environment = "prod" }, []string{"Config.Environment"}},
		"empty environment": {func(c *Config) { c.Environment = "" }, []string{"Config.Environment"}},
		"empty region":      {func(c *Config) { c.Region = "" }, []string{"Config.Region"}},
		"bad namespace":     {func(c *Config) { c.Namespace = "Tars_NS" }, []string{"Config.Namespace"}},
		"bad app":           {func(c *Config) { c.Apps = []string{"tars-ui", "tars ui"} }, []string{"Config.Apps[1]"}},
		"bad buckets":       {func(c *Config) { c.RAGBuckets = []float64{0.1, 0.1, math.Inf(1)} }, []string{"Config.RAGBuckets[1]", "Config.RAGBuckets[2]"}},
		"several at once": {func(c *Config) { c.LokiURL, c.Environment, c.Cluster = "", "qa", "" },
			[]string{"Config.LokiURL", "Config.Environment", "Config.Cluster"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			out, err := Pipeline(cfg)
			if err == nil {
				t.Fatalf("no error; rendered:\n%s", out)
			}
			for _, field := range tc.fields {
				if !strings.Contains(err.Error(), field) {
					t.Errorf("error %q does not name %s", err, field)
				}
			}
		})
	}

	// Optional fields left empty take their defaults.
	cfg := Config{LokiURL: DefaultLokiURL, Environment: EnvStaging, Region: "us-west", Cluster: "tars-us-west"}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	text, _ := parse(t, cfg)
	if !strings.Contains(text, `"tars;.*|[^;]*;(tars-backend|tars-ui)"`) || !strings.Contains(text, `region  = "us-west"`) {
		t.Errorf("minimal config did not take the defaults:\n%s", text)
	}
}

func TestLineRegexAndKeepRule(t *testing.T) {
	re := regexp.MustCompile(LineRegex)
	m := re.FindStringSubmatch(`2025-01-02T03:04:05.123456789Z INFO {"request_id":"r1","user_id":"u1","duration":0.42}`)
	if m == nil {
		t.Fatal("LineRegex does not match a T.A.R.S. log line")
	}
	got := map[string]string{}
	for i, n := range re.SubexpNames() {
		if n != "" {
			got[n] = m[i]
		}
	}
	if got["timestamp"] != "2025-01-02T03:04:05.123456789Z" || got["level"] != "INFO" || got["message"] != `{"request_id":"r1","user_id":"u1","duration":0.42}` {
		t.Errorf("extracted %v", got)
	}
	if re.MatchString("Starting server on port 8080") {
		t.Error("a free-text line must not yield a level")
	}

	keep := regexp.MustCompile("^(?:" + keepRegex(DefaultConfig().withDefaults()) + ")$")
	for in, want := range map[string]bool{
		"tars;":                  true,
		"tars;redis":             true,
		"default;tars-backend":   true,
		"frontend;tars-ui":       true,
		"frontend;tars-ui-proxy": false,
		"tars-staging;grafana":   false,
		"kube-system;":           false,
	} {
		if keep.MatchString(in) != want {
			t.Errorf("keep rule on %q = %v, want %v", in, !want, want)
		}
	}
}

func TestBuilderCollectsErrors(t *testing.T) {
	_, err := File{Blocks: []Block{
		{Name: "loki..process", Label: "my-label", Attrs: []Attr{
			{"a", Number(math.NaN())},
			{"a", Int(1)},
			{"b", Object(Field{Key: "k", Value: Bool(true)}, Field{Key: "k", Value: Bool(false)})},
			{"c", Ref("loki.write.1st")},
			{"d", Concat(String("only one"))},
			{"e", Call("sys env", String("X"))},
		}},
	}}.Render()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`invalid block name "loki..process"`,
		`invalid block label "my-label"`,
		"NaN has no Alloy literal",
		`duplicate attribute "a"`,
		`duplicate object key "k"`,
		`invalid reference "loki.write.1st"`,
		"at least two operands",
		`invalid function name "sys env"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestIdentifiersAgreeWithAlloyScanner(t *testing.T) {
	for _, s := range []string{"role", "_x", "source_labels", "x1", "1x", "a-b", "a.b", "", "true", "null", "héllo", "stage"} {
		if got, want := isIdent(s), scanner.IsValidIdentifier(s); got && !want {
			t.Errorf("isIdent(%q) = true but Alloy's scanner rejects it", s)
		}
	}
}
