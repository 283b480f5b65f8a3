// Command tarsctl is the operator CLI of the T.A.R.S. platform program.
//
//	tarsctl plan --stack us-east [--format text|json] [--out DIR]
//
// plan runs the Pulumi program offline, under mocks, with the stack's real
// config (no cloud credentials, no Pulumi CLI), and prints what `pulumi up`
// would register.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tars-platform/infra/tests/harness"
)

const usage = `usage: tarsctl plan --stack NAME [--format text|json] [--out DIR]

Commands:
  plan   run the program offline under mocks with the stack's config and
         print the resource tree (text) or the graph (json)
`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tarsctl:", err)
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"missing command"}
	}
	switch args[0] {
	case "plan":
		return plan(args[1:], stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

func plan(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stack := fs.String("stack", "", "stack name (a Pulumi.<stack>.yaml must exist)")
	format := fs.String("format", "text", "output format: text or json")
	out := fs.String("out", "", "write the plan to DIR/<stack>.txt or .json instead of stdout")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *stack == "" {
		return usageError{"plan: --stack is required"}
	}
	if *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("plan: --format %q: want text or json", *format)}
	}
	g, err := harness.Run(*stack)
	if err != nil {
		return err
	}
	if *out == "" {
		return render(g, *format, stdout)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	ext := map[string]string{"text": "txt", "json": "json"}[*format]
	path := filepath.Join(*out, *stack+"."+ext)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := render(g, *format, f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = fmt.Fprintf(stdout, "wrote %s (%d resources, program %s)\n", path, len(g.Resources), g.ProgramTime.Round(1e6))
	return err
}

func render(g *harness.Graph, format string, w io.Writer) error {
	if format == "json" {
		return g.WriteJSON(w)
	}
	return g.WriteText(w)
}
