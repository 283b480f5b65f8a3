package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/helmchart"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
)

// images prints every container image a stack runs, sorted and distinct:
// what an SRE mirrors into a private registry before a deployment.
func images(args []string, stdout io.Writer) error {
	objs, err := renderedObjects("images", args)
	if err != nil {
		return err
	}
	for _, ref := range helmchart.ImageRefs(helmchart.Images(objs)) {
		if _, err := fmt.Fprintln(stdout, ref); err != nil {
			return err
		}
	}
	return nil
}

// objects lists every Kubernetes object the stack creates, its own and
// its charts' (rendered offline): "namespace kind name", one per line.
func objects(args []string, stdout io.Writer) error {
	objs, err := renderedObjects("objects", args)
	if err != nil {
		return err
	}
	for _, r := range charttier.Refs(objs) {
		if _, err := fmt.Fprintln(stdout, r); err != nil {
			return err
		}
	}
	return nil
}

// renderedObjects parses --stack and --charts-dir, runs the stack offline
// and renders its charts: every object it creates.
func renderedObjects(cmd string, args []string) ([]map[string]any, error) {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stack := fs.String("stack", "", "stack name (a Pulumi.<stack>.yaml must exist)")
	dir := fs.String("charts-dir", "", "chart archive directory (default $"+helmchart.DirEnv+" or <user cache>/tars/charts)")
	if err := fs.Parse(args); err != nil {
		return nil, usageError{err.Error()}
	}
	if *stack == "" {
		return nil, usageError{cmd + ": --stack is required"}
	}
	d, err := chartsDir(*dir)
	if err != nil {
		return nil, err
	}
	g, err := harness.Run(*stack)
	if err != nil {
		return nil, err
	}
	objs, err := charttier.Objects(context.Background(), g, d)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", cmd, *stack, err)
	}
	return objs, nil
}

// chartsPull downloads every pinned chart archive that the directory lacks.
func chartsPull(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("charts pull", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "where to put the archives (default $"+helmchart.DirEnv+" or <user cache>/tars/charts)")
	repo := fs.String("repository", "", "pull every chart from this Helm repository (an internal mirror) instead of its own")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	d, err := chartsDir(*dir)
	if err != nil {
		return err
	}
	failed := 0
	for _, c := range versions.Charts {
		start := time.Now()
		res, err := helmchart.Pull(charttier.Ref(c), d, *repo)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(stdout, "FAIL     %s: %v\n", c.Archive(), err)
		case res.Present:
			fmt.Fprintf(stdout, "present  %s\n", res.Path)
		default:
			fmt.Fprintf(stdout, "pulled   %s (%s)\n", res.Path, time.Since(start).Round(time.Millisecond))
		}
	}
	if failed > 0 {
		return fmt.Errorf("charts pull: %d of %d charts failed", failed, len(versions.Charts))
	}
	return nil
}

func chartsDir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	return helmchart.Dir()
}
