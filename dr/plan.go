package dr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Check is a pre-check: read-only, run before anything changes (with or
// without --yes). It returns what it observed, or an error saying why
// the command refuses.
type Check struct {
	Name string
	Run  func(ctx context.Context) (string, error)
}

// Action is one step of a plan. Done makes the plan resumable: a step
// whose result is already in place (in the stack files, the deployed
// outputs or reality) is skipped, so re-running the command after a
// failure continues where it stopped.
type Action struct {
	// Title names the step; Changes says what it will change.
	Title, Changes string
	// Done reports whether the step's result is already in place.
	Done func(ctx context.Context) (bool, error)
	// Run changes it; Verify waits until reality shows it (nil: Run's
	// success is the verification).
	Run, Verify func(ctx context.Context) error
	// Undo says how to roll back once this step has run.
	Undo string
}

// Plan is what a dr command will do.
type Plan struct {
	// Command is the command line that runs (and resumes) the plan.
	Command string
	// Notes are printed under the title (the data-loss bound, what is
	// left for later).
	Notes  []string
	Checks []Check
	Steps  []Action
}

// ErrRefused: a pre-check failed; nothing was changed.
var ErrRefused = errors.New("refused by a pre-check; nothing was changed")

// ErrNotConfirmed: the plan was printed; nothing was changed without --yes.
var ErrNotConfirmed = errors.New("nothing changed: re-run with --yes to carry out the plan")

// StepError is a step that failed: what was done before it, and how to go
// on.
type StepError struct {
	Step  int // 1-based
	Title string
	Err   error
	Done  []string
	Plan  *Plan
	Undo  string
}

func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %d (%s) failed: %v\n", e.Step, e.Title, e.Err)
	if len(e.Done) == 0 {
		b.WriteString("done before it: nothing\n")
	} else {
		b.WriteString("done before it:\n")
		for _, d := range e.Done {
			fmt.Fprintf(&b, "  - %s\n", d)
		}
	}
	fmt.Fprintf(&b, "to resume once the cause is fixed: %s --yes (finished steps are detected and skipped)\n", e.Plan.Command)
	if e.Undo != "" {
		fmt.Fprintf(&b, "to roll back instead: %s", e.Undo)
	} else {
		b.WriteString("to roll back instead: nothing has changed yet")
	}
	return b.String()
}

func (e *StepError) Unwrap() error { return e.Err }

// Options tune Execute.
type Options struct {
	// Yes carries the plan out; without it Execute prints the plan and the
	// pre-checks and changes nothing.
	Yes bool
	// Log receives the engine's output of each update (default: discarded).
	Log io.Writer
	// Now is the clock (tests).
	Now func() time.Time
}

// Execute prints the plan, runs the pre-checks and, with opts.Yes, the
// steps in order: each says what it changes, is skipped when already done,
// runs, and is verified. The first failure stops it with a StepError.
func (p *Plan) Execute(ctx context.Context, w io.Writer, opts Options) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	fmt.Fprintf(w, "Plan: %s\n", p.Command)
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	for i, s := range p.Steps {
		fmt.Fprintf(w, "  %d. %s\n       changes: %s\n", i+1, s.Title, s.Changes)
	}
	fmt.Fprintln(w, "Pre-checks:")
	refused := 0
	for _, c := range p.Checks {
		obs, err := c.Run(ctx)
		if err != nil {
			refused++
			fmt.Fprintf(w, "  FAIL %s: %v\n", c.Name, err)
			continue
		}
		fmt.Fprintf(w, "  ok   %s: %s\n", c.Name, obs)
	}
	if refused > 0 {
		return fmt.Errorf("%d pre-check(s) failed: %w", refused, ErrRefused)
	}
	if !opts.Yes {
		fmt.Fprintln(w, "Nothing changed (no --yes).")
		return ErrNotConfirmed
	}
	var done []string
	undo := ""
	for i, s := range p.Steps {
		start := opts.Now()
		fail := func(err error) error {
			fmt.Fprintf(w, "  FAILED after %s: %v\n", opts.Now().Sub(start).Round(time.Second), err)
			return &StepError{Step: i + 1, Title: s.Title, Err: err, Done: done, Plan: p, Undo: undo}
		}
		if s.Done != nil {
			ok, err := s.Done(ctx)
			if err != nil {
				return fail(fmt.Errorf("checking whether it is done: %w", err))
			}
			if ok {
				fmt.Fprintf(w, "step %d/%d %s: already done, skipped\n", i+1, len(p.Steps), s.Title)
				done = append(done, s.Title+" (already done)")
				if s.Undo != "" {
					undo = s.Undo
				}
				continue
			}
		}
		fmt.Fprintf(w, "step %d/%d %s: %s\n", i+1, len(p.Steps), s.Title, s.Changes)
		if err := s.Run(ctx); err != nil {
			return fail(err)
		}
		if s.Undo != "" {
			undo = s.Undo
		}
		if s.Verify != nil {
			if err := s.Verify(ctx); err != nil {
				return fail(fmt.Errorf("verify: %w", err))
			}
		}
		fmt.Fprintf(w, "  done in %s\n", opts.Now().Sub(start).Round(time.Second))
		done = append(done, s.Title)
	}
	fmt.Fprintf(w, "Done: %s\n", p.Command)
	return nil
}

// Poll calls f every interval until it reports true, returns an error, or
// timeout passes; on timeout the error carries f's last observation.
func Poll(ctx context.Context, timeout, interval time.Duration, f func(ctx context.Context) (bool, string, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, obs, err := f(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %s", timeout, obs)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last seen: %s)", ctx.Err(), obs)
		case <-time.After(interval):
		}
	}
}
