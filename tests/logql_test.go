package tests

// LogQL in tests. Loki's own parser and engine (github.com/grafana/loki/v3
// pkg/logql) are AGPL-3.0 and may not be linked into this project; the
// pre-2021 Apache-2.0 Loki needs 2020 Prometheus packages that no longer
// exist. So the subset of LogQL the log alerts use — stream selectors,
// line filters (|= != |~ !~), count_over_time/rate, aggregations and
// comparisons — is translated to PromQL over one series per log stream and
// line, its text in the __line__ label and one sample per occurrence, and
// parsed and evaluated by Prometheus's engine. Both use Go's RE2, and Loki's
// unanchored |~ becomes .*(?:re).*. Anything outside the subset (a parser
// stage such as | json, another range function) is refused, so an alert
// cannot silently use LogQL this check does not understand.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// logLineLabel carries each log line's text; one sample (value 1) per line.
const logLineLabel = "__line__"

var logRangeFuncs = map[string]bool{"count_over_time": true, "rate": true}

// translateLogQL rewrites `{sel} |~ "re" |= "s" [5m]` into `{sel, __line__=~".*(?:re).*", ...}[5m]`.
// Line filters |= != |~ !~ are supported; other pipeline stages (| json, | logfmt ...) are rejected.
func translateLogQL(q string) (string, error) {
	var out strings.Builder
	for i := 0; i < len(q); {
		c := q[i]
		if c == '"' || c == '`' { // copy string literals verbatim
			s, err := strconv.QuotedPrefix(q[i:])
			if err != nil {
				return "", fmt.Errorf("bad string at %d: %w", i, err)
			}
			out.WriteString(s)
			i += len(s)
			continue
		}
		if c != '{' {
			out.WriteByte(c)
			i++
			continue
		}
		j := i + 1 // find the closing brace, skipping strings
		for j < len(q) && q[j] != '}' {
			if q[j] == '"' || q[j] == '`' {
				s, err := strconv.QuotedPrefix(q[j:])
				if err != nil {
					return "", fmt.Errorf("bad string at %d: %w", j, err)
				}
				j += len(s)
				continue
			}
			j++
		}
		if j >= len(q) {
			return "", fmt.Errorf("unclosed stream selector at %d", i)
		}
		sel := strings.TrimSpace(q[i+1 : j])
		if sel == "" {
			return "", fmt.Errorf("empty stream selector at %d", i)
		}
		var extra []string
		k := j + 1
		for {
			for k < len(q) && q[k] == ' ' {
				k++
			}
			if k+1 >= len(q) {
				break
			}
			op := q[k : k+2]
			if op != "|=" && op != "!=" && op != "|~" && op != "!~" {
				if q[k] == '|' {
					return "", fmt.Errorf("unsupported pipeline stage at %d", k)
				}
				break
			}
			k += 2
			for k < len(q) && q[k] == ' ' {
				k++
			}
			lit, err := strconv.QuotedPrefix(q[k:])
			if err != nil {
				return "", fmt.Errorf("line filter at %d needs a string: %w", k, err)
			}
			k += len(lit)
			val, _ := strconv.Unquote(lit)
			re := regexp.QuoteMeta(val)
			if op[1] == '~' {
				if _, err := regexp.Compile(val); err != nil {
					return "", fmt.Errorf("bad line-filter regex %q: %w", val, err)
				}
				re = val
			}
			m := "=~"
			if op[0] == '!' {
				m = "!~"
			}
			extra = append(extra, logLineLabel+m+strconv.Quote(".*(?:"+re+").*"))
		}
		out.WriteString("{" + strings.Join(append([]string{sel}, extra...), ", ") + "}")
		i = k
	}
	return out.String(), nil
}

// parseLogQL validates a LogQL metric query (subset) and returns its PromQL
// translation and AST.
func parseLogQL(q string) (string, parser.Expr, error) {
	pq, err := translateLogQL(q)
	if err != nil {
		return "", nil, err
	}
	expr, err := parser.ParseExpr(pq)
	if err != nil {
		return "", nil, err
	}
	var verr error
	parser.Inspect(expr, func(n parser.Node, path []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			if n.Name != "" {
				verr = fmt.Errorf("LogQL needs a {stream selector}, got metric name %q", n.Name)
			}
			if len(path) < 2 {
				verr = fmt.Errorf("LogQL metric query needs a range aggregation around %s", n)
				break
			}
			if _, ok := path[len(path)-1].(*parser.MatrixSelector); !ok {
				verr = fmt.Errorf("stream selector %s must be inside a [range]", n)
			}
		case *parser.Call:
			if _, ok := n.Args[0].(*parser.MatrixSelector); ok && !logRangeFuncs[n.Func.Name] {
				verr = fmt.Errorf("unsupported range function %s", n.Func.Name)
			}
		}
		return verr
	})
	return pq, expr, verr
}
