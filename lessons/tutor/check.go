package tutor

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kubewire/kubewire/lessons"
	"github.com/kubewire/kubewire/tracer/record"
)

// StepReport is how one step fared when its own commands ran.
type StepReport struct {
	N       int
	Title   string
	Results []lessons.Result
	// Problem says which command ended as it should not; "" when none.
	Problem string
}

// Passed reports whether the step's commands ended as the lesson says
// and every check held.
func (r StepReport) Passed() bool { return r.Problem == "" && lessons.Passed(r.Results) }

// Report is how a lesson fared in Check.
type Report struct {
	Lesson string
	Steps  []StepReport
	// Runs are the traces of the setup, each step and the cleanup, in order.
	Runs []*Run
}

// Passed reports whether every step passed.
func (r *Report) Passed() bool {
	for _, s := range r.Steps {
		if !s.Passed() {
			return false
		}
	}
	return len(r.Steps) > 0
}

// Check runs the lesson's setup, every step's own commands and its
// cleanup (even after a failure), evaluates every check, and writes a
// line per check to out. Command output goes to cmdOut (io.Discard to
// hide it). The error is for what stopped the run, not for checks that
// failed: see Report.Passed.
func Check(ctx context.Context, l *lessons.Lesson, b *Backend, out, cmdOut io.Writer) (*Report, error) {
	rep := &Report{Lesson: l.Name}
	mode := "live"
	if b.Offline {
		mode = "offline"
	}
	fmt.Fprintf(out, "lesson %s (%s, %s)\n", l.Name, l.File, mode)
	run := func(cmds []lessons.Command) (*Run, error) {
		r, err := b.Run(ctx, cmds, nil, cmdOut, cmdOut)
		if r != nil {
			rep.Runs = append(rep.Runs, r)
		}
		return r, err
	}
	if len(l.Setup) > 0 {
		r, err := run(l.Setup)
		if err == nil {
			err = exitProblem(l.Setup, r.Exits)
		}
		if err != nil {
			return rep, fmt.Errorf("lesson %s: setup: %w", l.Name, err)
		}
	}
	var stepErr error
	for i := range l.Steps {
		st := &l.Steps[i]
		sr := StepReport{N: i + 1, Title: st.Title}
		r, err := run(st.Run)
		if err != nil {
			stepErr = fmt.Errorf("lesson %s: step %d: %w", l.Name, i+1, err)
			break
		}
		if p := exitProblem(st.Run, r.Exits); p != nil {
			sr.Problem = p.Error()
		}
		sr.Results = st.Evaluate(r.Calls)
		rep.Steps = append(rep.Steps, sr)
		writeStep(out, l, st, sr)
	}
	if len(l.Cleanup) > 0 {
		r, err := run(l.Cleanup)
		if err == nil {
			err = exitProblem(l.Cleanup, r.Exits)
		}
		if err != nil && stepErr == nil {
			stepErr = fmt.Errorf("lesson %s: cleanup: %w", l.Name, err)
		}
	}
	if stepErr == nil {
		verdict := "passed"
		if !rep.Passed() {
			verdict = "FAILED"
		}
		fmt.Fprintf(out, "lesson %s %s %s\n", l.Name, mode, verdict)
	}
	return rep, stepErr
}

func writeStep(out io.Writer, l *lessons.Lesson, st *lessons.Step, sr StepReport) {
	mark := "ok  "
	if !sr.Passed() {
		mark = "FAIL"
	}
	fmt.Fprintf(out, "  %s step %d: %s\n", mark, sr.N, sr.Title)
	if sr.Problem != "" {
		fmt.Fprintf(out, "       %s:%d: %s\n", l.File, st.Line, sr.Problem)
	}
	for _, r := range sr.Results {
		m := "✓"
		if !r.Pass {
			m = "✗"
		}
		fmt.Fprintf(out, "       %s %s\n", m, checkText(r))
		if !r.Pass {
			fmt.Fprintf(out, "         %s:%d: hint: %s\n", l.File, r.Check.Line, r.Check.Hint)
		}
	}
}

// WriteRecording writes the report's runs as one recording: a header
// saying it is the lesson's, then every line, numbered through (each run
// numbers its calls from 1).
func WriteRecording(w io.Writer, rep *Report, version string) error {
	host, _ := os.Hostname()
	h := record.Header{
		Kubewire: version,
		Recorded: time.Now().UTC(),
		Source:   record.Source{Mode: "lesson", Command: []string{"kubewire", "lesson", "record", rep.Lesson}, Host: host},
		Secrets:  record.SecretsRedacted,
		Stdin:    record.StdinOmitted,
	}
	if len(rep.Runs) > 0 {
		h.Source.Context, h.Source.Server = rep.Runs[0].Context, rep.Runs[0].Server
	}
	rw, err := record.NewWriter(w, h)
	if err != nil {
		return err
	}
	var base int64
	for _, r := range rep.Runs {
		var top int64
		for _, l := range r.Lines {
			l.Seq += base
			if l.Exchange != nil {
				x := *l.Exchange
				x.Seq += base
				l.Exchange = &x
			}
			top = max(top, l.Seq)
			rw.Put(l)
		}
		base = max(base, top)
	}
	return rw.Close()
}
