package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints the report as an aligned table with the failing items
// under their row, and a summary line.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tREGION\tEXPECTED\tOBSERVED\tRESULT\tTIME")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1fs\n", res.Check, res.Region, oneLine(res.Expected, 60), oneLine(res.Observed, 80), strings.ToUpper(string(res.Status)), res.Seconds)
		for _, p := range res.Problems {
			fmt.Fprintf(tw, "\t\t\t  ✗ %s\t\t\n", oneLine(p, 120))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, r.summary())
	return err
}

func (r Report) summary() string {
	verdict := "PASSED"
	if r.Failed() > 0 {
		verdict = "FAILED"
	}
	return fmt.Sprintf("%s: %d passed, %d failed, %d skipped (run %s, %s, %s)", verdict,
		r.Count(Pass), r.Count(Fail), r.Count(Skip), r.RunID, strings.Join(r.Regions, " + "),
		r.Finished.Sub(r.Started).Round(100*time.Millisecond))
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteMarkdown writes the report for a change ticket: a heading with the
// verdict, what was verified, the table, and the failing items.
func (r Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## tarsctl verify: %s\n\n", r.summary())
	fmt.Fprintf(&b, "- Run: `%s`, %s to %s UTC\n", r.RunID, r.Started.UTC().Format("2006-01-02 15:04:05"), r.Finished.UTC().Format("15:04:05"))
	for _, s := range r.Stacks {
		fmt.Fprintf(&b, "- %s\n", mdCell(s))
	}
	b.WriteString("\n| Check | Region | Expected | Observed | Result | Time |\n|---|---|---|---|---|---|\n")
	for _, res := range r.Results {
		mark := map[Status]string{Pass: "✅ pass", Fail: "❌ fail", Skip: "⏭ skip"}[res.Status]
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %.1f s |\n", res.Check, res.Region, mdCell(res.Expected), mdCell(res.Observed), mark, res.Seconds)
	}
	failing := false
	for _, res := range r.Results {
		if len(res.Problems) == 0 {
			continue
		}
		if !failing {
			b.WriteString("\n### Failures\n")
			failing = true
		}
		fmt.Fprintf(&b, "\n**%s** (%s)\n", res.Check, res.Region)
		for _, p := range res.Problems {
			fmt.Fprintf(&b, "- %s\n", mdCell(p))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell keeps text inside one Markdown table cell.
func mdCell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}
