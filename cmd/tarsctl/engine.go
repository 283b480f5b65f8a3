package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/tars-platform/infra/tests/engine"
)

// enginePreview runs `preview` or `up` of a stack through the real Pulumi
// engine offline (tests/engine): the stand-in providers, a file backend in
// DIR that keeps the stacks' state between calls.
func enginePreview(cmd string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stack := fs.String("stack", "", "stack name (a Pulumi.<stack>.yaml must exist)")
	dir := fs.String("dir", "", "the backend and work directory, kept between calls (default <user cache>/tars/engine)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *stack == "" {
		return usageError{cmd + ": --stack is required"}
	}
	if _, err := os.Stat("Pulumi." + *stack + ".yaml"); err != nil {
		return fmt.Errorf("%s: no Pulumi.%s.yaml here (run tarsctl from the repository root)", cmd, *stack)
	}
	abs, err := engineDir(*dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	rig, err := engine.New(".", abs)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	st, err := rig.Stack(ctx, *stack)
	if err != nil {
		return fmt.Errorf("%s %s: %w", cmd, *stack, err)
	}
	if cmd == "up" {
		_, err = st.Up(ctx, optup.ProgressStreams(stdout))
	} else {
		_, err = st.Preview(ctx, optpreview.ProgressStreams(stdout))
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", cmd, *stack, err)
	}
	return nil
}

// engineDir is the engine tier's backend directory, absolute: dir, or
// <user cache>/tars/engine when empty (tarsctl preview, up, dr --offline).
func engineDir(dir string) (string, error) {
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(cache, "tars", "engine")
	}
	return filepath.Abs(dir)
}
