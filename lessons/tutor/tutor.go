// Package tutor runs kubewire's lessons: step by step with a learner at
// the terminal (kubewire lesson start), as a demonstration (--auto), paced
// for a projector (--present), or unattended to verify them (lesson check)
// and to record them for offline use (lesson record). Commands go through
// a Backend: a live trace of a cluster, or a lesson's recording played by
// kubewire serve.
package tutor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kubewire/kubewire/lessons"
	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/render/tui"
	"github.com/kubewire/kubewire/tracer/record"
)

// Config configures a lesson run at the terminal.
type Config struct {
	Lesson *lessons.Lesson
	// Number is the lesson's place in the course, Of the course's length.
	Number, Of int
	Backend    *Backend
	// Progress is saved after every step; nil saves nothing.
	Progress *lessons.Progress
	// From is the step to start at, from 1; 0 resumes where the
	// progress says.
	From int
	// Auto runs the lesson's own commands with no one typing.
	Auto bool
	// Present paces the lesson for a projector: one step, and each call
	// of its trace, per key.
	Present bool
	In      io.Reader
	Out     io.Writer
	// View are the trace's render options (colour, width, detail).
	View render.Options
	// Dark picks glamour's dark style when View.Color is on.
	Dark bool
}

// errQuit ends a lesson at the learner's request.
var errQuit = errors.New("quit")

type session struct {
	cfg   Config
	l     *lessons.Lesson
	in    *bufio.Reader
	out   io.Writer
	md    *markdown
	st    *styles
	total int
}

// Start runs the lesson. It returns nil when the learner finished it or
// stopped it (progress saved, to resume with the next start).
func Start(ctx context.Context, cfg Config) error {
	md, err := newMarkdown(cfg.View.Color, cfg.Dark, min(cfg.View.Width, 100)-2)
	if err != nil {
		return err
	}
	s := &session{cfg: cfg, l: cfg.Lesson, in: bufio.NewReader(cfg.In), out: cfg.Out, md: md,
		st: newStyles(cfg.View.Color), total: len(cfg.Lesson.Steps)}
	from := cfg.From
	resumed := false
	if from == 0 {
		from = 1
		if cfg.Progress != nil {
			st := cfg.Progress.Of(s.l.Name)
			if !st.Done && st.Step > 1 {
				from, resumed = st.Step, true
			}
		}
	}
	if from < 1 || from > s.total {
		return fmt.Errorf("--step %d: lesson %s has steps 1 to %d", from, s.l.Name, s.total)
	}
	s.intro(from, resumed)
	if len(s.l.Setup) > 0 {
		s.printf("%s\n", s.st.dim.Render("preparing the lesson (its setup, traced but not shown) …"))
		if err := s.quiet(ctx, s.l.Setup, "setup"); err != nil {
			return err
		}
	}
	for i := from; i <= s.total; i++ {
		if cfg.Progress != nil {
			cfg.Progress.At(s.l.Name, i)
			if err := cfg.Progress.Save(); err != nil {
				return err
			}
		}
		err := s.step(ctx, i)
		if errors.Is(err, errQuit) || ctx.Err() != nil {
			// A step passed (or skipped) before the learner stopped
			// resumes at the next one.
			at := i
			if cfg.Progress != nil {
				at = cfg.Progress.Of(s.l.Name).Step
			}
			s.printf("\n%s\n", s.st.dim.Render(fmt.Sprintf("stopped at step %d of %d; 'kubewire lesson start %s' resumes here", at, s.total, s.l.Name)))
			return nil
		}
		if err != nil {
			return err
		}
	}
	if len(s.l.Cleanup) > 0 {
		s.printf("%s\n", s.st.dim.Render("cleaning up (the lesson's cleanup) …"))
		if err := s.quiet(ctx, s.l.Cleanup, "cleanup"); err != nil {
			return err
		}
	}
	s.printf("\n%s\n", s.st.title.Render(fmt.Sprintf("Lesson %s complete.", s.l.Name)))
	if cfg.Progress != nil {
		s.printf("%s\n", s.st.dim.Render("'kubewire lesson list' shows what comes next."))
	}
	return nil
}

func (s *session) printf(format string, args ...any) { fmt.Fprintf(s.out, format, args...) }

func (s *session) intro(from int, resumed bool) {
	head := fmt.Sprintf("Lesson %d of %d: %s", s.cfg.Number, s.cfg.Of, s.l.Title)
	if s.cfg.Number == 0 {
		head = "Lesson: " + s.l.Title
	}
	s.printf("%s\n", s.st.banner.Render(head))
	s.printf("%s\n", s.st.dim.Render(s.cfg.Backend.Describe))
	s.printf("\n%s\n%s", s.st.heading.Render("Goal"), s.md.render(s.l.Goal))
	if len(s.l.Prerequisites) > 0 {
		s.printf("%s\n", s.st.dim.Render("Before this: "+strings.Join(s.l.Prerequisites, ", ")))
	}
	if resumed {
		s.printf("%s\n", s.st.dim.Render(fmt.Sprintf("resuming at step %d of %d ('kubewire lesson reset %s' starts afresh)", from, s.total, s.l.Name)))
	}
	s.printf("\n")
}

// readLine reads one line of the learner's; false at the end of input.
func (s *session) readLine() (string, bool) {
	line, err := s.in.ReadString('\n')
	if err != nil && line == "" {
		return "", false
	}
	return strings.TrimSpace(line), true
}

// pause waits for Enter when presenting.
func (s *session) pause(what string) error {
	if !s.cfg.Present {
		return nil
	}
	s.printf("%s ", s.st.prompt.Render("▸ Enter "+what))
	line, ok := s.readLine()
	if !ok || line == "q" {
		return errQuit
	}
	return nil
}

// step runs step i until its checks pass, the learner skips it or quits.
func (s *session) step(ctx context.Context, i int) error {
	st := &s.l.Steps[i-1]
	s.printf("\n%s\n", s.st.title.Render(fmt.Sprintf("Step %d of %d · %s", i, s.total, st.Title)))
	s.printf("%s", s.md.render(st.Text))
	for {
		cmds, err := s.ask(st)
		if err != nil {
			return err
		}
		if cmds == nil { // skipped
			s.leave(i, true)
			return nil
		}
		run, err := s.cfg.Backend.Run(ctx, cmds, nil, s.out, s.out)
		if err != nil {
			return err
		}
		if err := s.showTrace(run); err != nil {
			return err
		}
		results := st.Evaluate(run.Calls)
		// What to look at describes the step's own trace: after another
		// command it would describe calls that are not on the screen.
		if st.Look != "" && lessons.Passed(results) {
			s.printf("\n%s\n%s", s.st.heading.Render("What to look at"), s.md.render(st.Look))
		}
		s.showResults(results)
		if lessons.Passed(results) {
			if err := s.quiz(st); err != nil {
				return err
			}
			s.leave(i, false)
			if i < s.total {
				if s.cfg.Auto && !s.cfg.Present {
					return nil
				}
				s.printf("%s ", s.st.prompt.Render("▸ Enter for the next step, q to stop"))
				if line, ok := s.readLine(); !ok || line == "q" {
					return errQuit
				}
			}
			return nil
		}
		if s.cfg.Auto {
			return fmt.Errorf("step %d (%s:%d): the lesson's own commands did not pass its checks", i, s.l.File, st.Line)
		}
		s.printf("%s\n", s.st.dim.Render("Try again: Enter runs the step's command, or type another; s skips, q stops."))
	}
}

// ask shows the step's command (or task) and returns what to run: the
// step's commands, or the one the learner typed; nil to skip.
func (s *session) ask(st *lessons.Step) ([]lessons.Command, error) {
	if s.cfg.Auto {
		if err := s.pause("runs the step's command"); err != nil {
			return nil, err
		}
		for _, c := range st.Run {
			s.printf("%s\n", s.st.command.Render("$ "+c.Cmd))
		}
		return st.Run, nil
	}
	if st.Task != "" {
		s.printf("%s\n%s", s.st.heading.Render("Your task"), s.md.render(st.Task))
	} else {
		for _, c := range st.Run {
			s.printf("%s\n", s.st.command.Render("$ "+c.Cmd))
		}
	}
	for {
		if st.Task != "" {
			s.printf("%s ", s.st.prompt.Render("▸ type your command (a: show an answer, s: skip, q: stop) $"))
		} else {
			s.printf("%s ", s.st.prompt.Render("▸ Enter runs it, or type your own (s: skip, q: stop) $"))
		}
		line, ok := s.readLine()
		switch {
		case !ok || line == "q":
			return nil, errQuit
		case line == "s":
			return nil, nil
		case line == "?" || line == "h":
			s.printf("%s\n", s.st.dim.Render("Enter: run the step's command · a command: run it through kubewire · a: show an answer · s: skip the step · q: stop (resume later)"))
		case line == "a":
			for _, c := range st.Run {
				s.printf("%s\n", s.st.command.Render("$ "+c.Cmd))
			}
		case line == "" && st.Task != "":
			s.printf("%s\n", s.st.dim.Render("write the command yourself (a shows an answer)"))
		case line == "":
			return st.Run, nil
		default:
			return []lessons.Command{{Cmd: line}}, nil
		}
	}
}

// showTrace shows the calls the commands made: the one-line view, or,
// presenting, each call with its journey, one per key.
func (s *session) showTrace(run *Run) error {
	calls, err := tui.Calls(&lineSource{lines: run.Lines}, false)
	if err != nil {
		return err
	}
	o := s.cfg.View
	if len(calls) == 0 {
		s.printf("\n%s\n", s.st.dim.Render("(no API call was made)"))
		return nil
	}
	s.printf("\n%s\n", s.st.heading.Render(fmt.Sprintf("What kubewire saw: %d call%s", len(calls), plural(len(calls)))))
	if !s.cfg.Present {
		for _, c := range calls {
			s.printf("%s", c.Render(o))
		}
		return nil
	}
	o.Detail = max(o.Detail, render.LevelJourney)
	for n, c := range calls {
		s.printf("%s", c.Render(o))
		if n < len(calls)-1 {
			if err := s.pause(fmt.Sprintf("for call %d of %d", n+2, len(calls))); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *session) showResults(results []lessons.Result) {
	if len(results) == 0 {
		return
	}
	s.printf("\n")
	for _, r := range results {
		if r.Pass {
			s.printf("%s %s\n", s.st.pass.Render("✓"), checkText(r))
		} else {
			s.printf("%s %s\n  %s\n", s.st.fail.Render("✗"), checkText(r), s.st.hint.Render("hint: "+r.Check.Hint))
		}
	}
}

// checkText says what a check looked for and what it found.
func checkText(r lessons.Result) string {
	if r.Check.Absent {
		if r.Pass {
			return fmt.Sprintf("no call matches %s", r.Check.Expect)
		}
		return fmt.Sprintf("no call may match %s, but %d did", r.Check.Expect, r.Matched)
	}
	if r.Pass {
		return fmt.Sprintf("%s (%d call%s)", r.Check.Expect, r.Matched, plural(r.Matched))
	}
	return fmt.Sprintf("no call matches %s", r.Check.Expect)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (s *session) quiz(st *lessons.Step) error {
	for _, q := range st.Quiz {
		s.printf("\n%s\n", s.st.heading.Render("Question: "+q.Question))
		for n, c := range q.Choices {
			s.printf("  %d. %s\n", n+1, c)
		}
		if s.cfg.Auto {
			s.printf("%s %s\n", s.st.pass.Render("answer:"), q.Answer)
		} else {
			for {
				s.printf("%s ", s.st.prompt.Render(fmt.Sprintf("▸ your answer (1-%d)", len(q.Choices))))
				line, ok := s.readLine()
				if !ok || line == "q" {
					return errQuit
				}
				pick := choice(line, q.Choices)
				if pick == "" {
					continue
				}
				if pick == q.Answer {
					s.printf("%s\n", s.st.pass.Render("✓ right"))
				} else {
					s.printf("%s\n", s.st.fail.Render("✗ not quite: the answer is "+q.Answer))
				}
				break
			}
		}
		s.printf("%s", s.md.render(q.Explain))
	}
	return nil
}

// choice reads a quiz answer: a choice's number, or its text.
func choice(line string, choices []string) string {
	for n, c := range choices {
		if line == fmt.Sprint(n+1) || strings.EqualFold(line, c) {
			return c
		}
	}
	return ""
}

func (s *session) leave(i int, skipped bool) {
	p := s.cfg.Progress
	if p == nil {
		return
	}
	if skipped {
		p.Skip(s.l.Name, i, s.total)
	} else {
		p.Pass(s.l.Name, i, s.total)
	}
	if err := p.Save(); err != nil {
		s.printf("kubewire: %v\n", err)
	}
}

// quiet runs setup or cleanup commands with their output and trace
// hidden; a failure shows the output.
func (s *session) quiet(ctx context.Context, cmds []lessons.Command, what string) error {
	var out strings.Builder
	run, err := s.cfg.Backend.Run(ctx, cmds, nil, &out, &out)
	if err == nil {
		err = exitProblem(cmds, run.Exits)
	}
	if err != nil {
		return fmt.Errorf("lesson %s: %s: %w\n%s", s.l.Name, what, err, out.String())
	}
	return nil
}

// exitProblem says which command ended as it should not: non-zero
// without fails, or zero with it. A command stopped (its timeout, a
// background one) is neither.
func exitProblem(cmds []lessons.Command, exits []int) error {
	for n, c := range cmds {
		if n >= len(exits) || exits[n] < 0 {
			continue
		}
		switch {
		case exits[n] != 0 && !c.Fails:
			return fmt.Errorf("%q exited %d", c.Cmd, exits[n])
		case exits[n] == 0 && c.Fails:
			return fmt.Errorf("%q succeeded, but the lesson says it fails (fails: true)", c.Cmd)
		}
	}
	return nil
}

// lineSource gives collected lines as a record.LineSource.
type lineSource struct {
	lines []record.Line
	i     int
}

func (l *lineSource) Next() (record.Line, error) {
	if l.i >= len(l.lines) {
		return record.Line{}, io.EOF
	}
	l.i++
	return l.lines[l.i-1], nil
}

// Show writes a lesson's outline: its goal, then each step's prose,
// commands and checks, without running anything.
func Show(out io.Writer, l *lessons.Lesson, color, dark bool, width int) error {
	md, err := newMarkdown(color, dark, min(width, 100)-2)
	if err != nil {
		return err
	}
	st := newStyles(color)
	fmt.Fprintf(out, "%s\n%s\n\n", st.banner.Render(l.Title), st.dim.Render(fmt.Sprintf("lesson %s · %s · %d steps", l.Name, l.File, len(l.Steps))))
	fmt.Fprintf(out, "%s\n%s", st.heading.Render("Goal"), md.render(l.Goal))
	if len(l.Prerequisites) > 0 {
		fmt.Fprintf(out, "%s\n", st.dim.Render("Before this: "+strings.Join(l.Prerequisites, ", ")))
	}
	for i := range l.Steps {
		s := &l.Steps[i]
		fmt.Fprintf(out, "\n%s\n", st.title.Render(fmt.Sprintf("Step %d of %d · %s", i+1, len(l.Steps), s.Title)))
		fmt.Fprint(out, md.render(s.Text))
		if s.Task != "" {
			fmt.Fprintf(out, "%s\n%s", st.heading.Render("Your task"), md.render(s.Task))
		}
		for _, c := range s.Run {
			fmt.Fprintf(out, "%s\n", st.command.Render("$ "+c.Cmd))
		}
		for _, c := range s.Checks {
			what := "expect"
			if c.Absent {
				what = "expect none"
			}
			fmt.Fprintf(out, "%s\n", st.dim.Render(fmt.Sprintf("  check: %s %s", what, c.Expect)))
		}
	}
	return nil
}
