package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/lessons"
	"github.com/kubewire/kubewire/lessons/tutor"
	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/atomicfile"
	"github.com/kubewire/kubewire/tracer/kubecfg"
	"github.com/kubewire/kubewire/tracer/lab"
	"github.com/kubewire/kubewire/tracer/live"
)

// lessonFlags are what every lesson command shares.
type lessonFlags struct {
	dir string
}

func (f *lessonFlags) catalog() (*lessons.Catalog, error) { return lessons.Load(f.dir) }

// get is the catalog and its lesson of that name; a name it lacks is a
// usage error.
func (f *lessonFlags) get(name string) (*lessons.Catalog, *lessons.Lesson, error) {
	cat, err := f.catalog()
	if err != nil {
		return nil, nil, err
	}
	l, err := cat.Get(name)
	if err != nil {
		return nil, nil, usageError("%v", err)
	}
	return cat, l, nil
}

// backendFlags choose what a lesson's commands are traced against.
type backendFlags struct {
	offline    bool
	useLab     bool
	kubeconfig string
	context    string
}

func (f *backendFlags) add(c *cobra.Command) {
	fs := c.Flags()
	fs.BoolVar(&f.offline, "offline", false, "answer from the lesson's bundled recording (kubewire serve): no cluster needed")
	fs.BoolVar(&f.useLab, "lab", false, "use the lab (a real local control plane) even when a kubeconfig exists")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: KUBECONFIG, then ~/.kube/config; none: the lab)")
	fs.StringVar(&f.context, "context", "", "kubeconfig context to trace (default: the current context)")
}

func (f *backendFlags) validate() error {
	if f.offline && (f.useLab || f.kubeconfig != "" || f.context != "") {
		return usageError("--offline answers from the lesson's recording: give no --lab, --kubeconfig or --context with it")
	}
	if f.useLab && (f.kubeconfig != "" || f.context != "") {
		return usageError("--lab traces the lab: give no --kubeconfig or --context with it")
	}
	return nil
}

// base resolves the cluster once: the kubeconfig's, or the lab's (with
// --lab, or when no kubeconfig exists), so every step traces the same.
func (f *backendFlags) base(ctx context.Context, errOut io.Writer) (live.Options, error) {
	o := live.Options{Kubeconfig: f.kubeconfig, Context: f.context, Version: Version(), MaxBody: -1, Mode: "lesson"}
	if f.offline {
		// The recording was made with the lab's kubectl: use it when
		// it is built, so kubectl asks as the recording did.
		if b, ok, err := lab.Locate(lab.BuildOptions{}); err == nil && ok {
			o.PathDir = b.Dir
		}
		return o, nil
	}
	if !f.useLab {
		_, err := kubecfg.LoadMirror(f.kubeconfig, f.context, "")
		if !errors.Is(err, kubecfg.ErrNoKubeconfig) || f.kubeconfig != "" {
			o.AuditLog = os.Getenv("KUBEWIRE_AUDIT_LOG")
			return o, err
		}
	}
	c, err := ensureLab(ctx, errOut)
	if err != nil {
		return o, err
	}
	o.Kubeconfig, o.PathDir, o.AuditLog = c.Kubeconfig, c.PathDir, c.AuditLog
	return o, nil
}

func (f *backendFlags) backend(ctx context.Context, l *lessons.Lesson, errOut io.Writer) (*tutor.Backend, error) {
	o, err := f.base(ctx, errOut)
	if err != nil {
		return nil, err
	}
	if f.offline {
		return tutor.Offline(l, o)
	}
	b := tutor.Live(o)
	if f.useLab || o.PathDir != "" {
		b.Describe = "live, on the lab"
	} else {
		b.Describe = "live, on your cluster (kubeconfig context " + describeContext(f.context) + ")"
	}
	return b, nil
}

func describeContext(c string) string {
	if c == "" {
		return "current"
	}
	return c
}

func newLessonCmd(s Streams) *cobra.Command {
	f := &lessonFlags{}
	c := &cobra.Command{
		Use:   "lesson",
		Short: "Guided classroom walkthroughs: run real commands, read their calls, check what you saw",
		Long: `A lesson sets a goal, has you run real commands through kubewire, explains
what the trace shows and checks, from the recorded calls, that you got
there. Lessons run live (your cluster, or the lab when no kubeconfig
exists) or --offline, answered from a recording bundled with each lesson.
Progress is saved after every step. docs/lessons.md describes the format,
to write your own (--dir).`,
		Example: `  kubewire lesson list
  kubewire lesson start rest
  kubewire lesson start rbac --offline
  kubewire lesson check --all --lab`,
	}
	c.PersistentFlags().StringVar(&f.dir, "dir", "", "also load the lessons (*.yaml) in this directory")
	c.AddCommand(newLessonListCmd(s, f), newLessonShowCmd(s, f), newLessonStartCmd(s, f),
		newLessonCheckCmd(s, f), newLessonResetCmd(s, f), newLessonRecordCmd(s, f))
	return c
}

func newLessonListCmd(s Streams, f *lessonFlags) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "list",
		Short: "The lessons, in course order, with your progress",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if output != "" && output != "name" {
				return usageError("-o %q: want name, or nothing for the table", output)
			}
			cat, err := f.catalog()
			if err != nil {
				return err
			}
			if output == "name" {
				for _, l := range cat.Lessons {
					fmt.Fprintln(s.Out, l.Name)
				}
				return nil
			}
			return writeLessonList(s.Out, cat)
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", "name: one lesson name a line")
	return c
}

func writeLessonList(out io.Writer, cat *lessons.Catalog) error {
	p, err := lessons.OpenProgress()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tNAME\tTITLE\tSTEPS\tOFFLINE\tPROGRESS")
	for i, l := range cat.Lessons {
		st := p.Of(l.Name)
		progress := "-"
		switch _, started := p.Lessons[l.Name]; {
		case st.Done:
			progress = "done"
		case started:
			progress = fmt.Sprintf("at step %d", st.Step)
		}
		offline := "yes"
		if !l.HasRecording() {
			offline = "no"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", i+1, l.Name, l.Title, len(l.Steps), offline, progress)
	}
	return tw.Flush()
}

func newLessonShowCmd(s Streams, f *lessonFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "A lesson's goal, steps, commands and checks, without running anything",
		Args:  exactArgs(1, "a lesson's name ('kubewire lesson list' shows them)"),
		RunE: func(c *cobra.Command, args []string) error {
			_, l, err := f.get(args[0])
			if err != nil {
				return err
			}
			ro := render.OptionsFor(s.Out)
			return tutor.Show(s.Out, l, ro.Color, true, ro.Width)
		},
	}
}

type lessonStartOptions struct {
	backendFlags
	levelFlags
	step    int
	present bool
	auto    bool
}

func newLessonStartCmd(s Streams, f *lessonFlags) *cobra.Command {
	o := &lessonStartOptions{}
	c := &cobra.Command{
		Use:   "start NAME",
		Short: "Run a lesson step by step (resumes where you stopped)",
		Long: `start runs a lesson in the terminal: each step's prose, the command to run
(Enter runs it; or type your own, run through kubewire the same way), the
command's output and the trace of its calls, what to look at, and the checks.
A step whose checks pass is saved as done; a failed check shows a hint. s
skips a step, q stops (start resumes there). Ctrl-C stops the lesson too.`,
		Args: exactArgs(1, "a lesson's name ('kubewire lesson list' shows them)"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			if c.Flags().Changed("step") && o.step < 1 {
				return usageError("--step %d: steps count from 1", o.step)
			}
			level, err := o.level(c)
			if err != nil {
				return err
			}
			cat, l, err := f.get(args[0])
			if err != nil {
				return err
			}
			return o.run(c.Context(), s, cat, l, level)
		},
	}
	o.backendFlags.add(c)
	o.levelFlags.add(c.Flags())
	c.Flags().IntVar(&o.step, "step", 0, "start at this step (from 1) rather than where you stopped")
	c.Flags().BoolVar(&o.present, "present", false, "instructor: paced for a projector, one step and one call per Enter, each call with its journey")
	c.Flags().BoolVar(&o.auto, "auto", false, "instructor: run the lesson's own commands, answer its questions, no typing")
	return c
}

func (o *lessonStartOptions) run(ctx context.Context, s Streams, cat *lessons.Catalog, l *lessons.Lesson, level render.Level) error {
	p, err := lessons.OpenProgress()
	if err != nil {
		return err
	}
	b, err := o.backend(ctx, l, s.ErrOut)
	if err != nil {
		return err
	}
	defer b.Close()
	ro := render.OptionsFor(s.Out)
	ro.Detail, ro.ShowOwn = level, o.showOwn
	return tutor.Start(ctx, tutor.Config{
		Lesson: l, Number: cat.Index(l), Of: len(cat.Lessons), Backend: b, Progress: p,
		From: o.step, Auto: o.auto, Present: o.present, In: s.In, Out: s.Out, View: ro, Dark: true,
	})
}

type lessonCheckOptions struct {
	backendFlags
	all     bool
	verbose bool
}

func newLessonCheckCmd(s Streams, f *lessonFlags) *cobra.Command {
	o := &lessonCheckOptions{}
	c := &cobra.Command{
		Use:   "check NAME... | --all",
		Short: "Run lessons' own commands and checks, unattended; exit 0 only when every check passes",
		Long: `check runs each lesson's setup, every step's own commands and the cleanup,
and evaluates every check on the calls they made: for CI, and for an
instructor verifying a cluster before class. It saves no progress.`,
		Example: `  kubewire lesson check --all --lab
  kubewire lesson check --offline rbac`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			picked, err := f.pick(c, args, o.all)
			if err != nil {
				return err
			}
			cmdOut := io.Discard
			if o.verbose {
				cmdOut = s.Out
			}
			var failed []string
			for _, l := range picked {
				if _, err := o.check(c.Context(), s, l, cmdOut); err != nil {
					fmt.Fprintf(s.ErrOut, "kubewire: %v\n", err)
					failed = append(failed, l.Name)
				}
			}
			if len(failed) > 0 {
				return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d lesson(s) failed: %v", len(failed), len(picked), failed)}
			}
			fmt.Fprintf(s.Out, "all %d lesson(s) passed\n", len(picked))
			return nil
		},
	}
	o.backendFlags.add(c)
	c.Flags().BoolVar(&o.all, "all", false, "every lesson")
	c.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "show the commands' output")
	return c
}

// pick is the lessons a command names, or all of them with --all.
func (f *lessonFlags) pick(c *cobra.Command, names []string, all bool) ([]*lessons.Lesson, error) {
	if all == (len(names) > 0) {
		return nil, usageError("%s takes lesson names, or --all; see '%s -h'", c.CommandPath(), c.CommandPath())
	}
	cat, err := f.catalog()
	if err != nil {
		return nil, err
	}
	if all {
		return cat.Lessons, nil
	}
	var picked []*lessons.Lesson
	for _, n := range names {
		l, err := cat.Get(n)
		if err != nil {
			return nil, usageError("%v", err)
		}
		picked = append(picked, l)
	}
	return picked, nil
}

// check runs the lesson's own commands and checks (tutor.Check) on the
// backend the flags choose; an error when one did not pass.
func (f *backendFlags) check(ctx context.Context, s Streams, l *lessons.Lesson, cmdOut io.Writer) (*tutor.Report, error) {
	b, err := f.backend(ctx, l, s.ErrOut)
	if err != nil {
		return nil, fmt.Errorf("lesson %s: %w", l.Name, err)
	}
	defer b.Close()
	rep, err := tutor.Check(ctx, l, b, s.Out, cmdOut)
	if err != nil {
		return nil, err
	}
	if !rep.Passed() {
		return nil, fmt.Errorf("lesson %s: a check failed", l.Name)
	}
	return rep, nil
}

func newLessonResetCmd(s Streams, f *lessonFlags) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "reset NAME... | --all",
		Short: "Forget your progress in lessons, so start begins at step 1",
		RunE: func(c *cobra.Command, args []string) error {
			picked, err := f.pick(c, args, all)
			if err != nil {
				return err
			}
			p, err := lessons.OpenProgress()
			if err != nil {
				return err
			}
			for _, l := range picked {
				p.Reset(l.Name)
				fmt.Fprintf(s.Out, "lesson %s: progress forgotten\n", l.Name)
			}
			return p.Save()
		},
	}
	c.Flags().BoolVar(&all, "all", false, "every lesson")
	return c
}

type lessonRecordOptions struct {
	backendFlags
	all bool
	out string
}

func newLessonRecordCmd(s Streams, f *lessonFlags) *cobra.Command {
	o := &lessonRecordOptions{}
	c := &cobra.Command{
		Use:   "record NAME... | --all",
		Short: "Record lessons for offline use: run them as check does, keep the recording when every check passes",
		Long: `record runs each lesson as check does, through kubewire, and writes its calls
(setup, steps, cleanup) to OUT/NAME.jsonl, with every body whole, only when
every check passed; --offline then answers from it. make lesson-recordings
records the bundled lessons from the lab.`,
		Example: `  kubewire lesson record --all --lab --out lessons/recordings`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			if o.offline {
				return usageError("--offline: record makes recordings from a cluster")
			}
			if o.out == "" {
				return usageError("record needs --out DIR, e.g. --out lessons/recordings")
			}
			picked, err := f.pick(c, args, o.all)
			if err != nil {
				return err
			}
			for _, l := range picked {
				if err := o.record(c.Context(), s, l); err != nil {
					return err
				}
			}
			return nil
		},
	}
	o.backendFlags.add(c)
	c.Flags().BoolVar(&o.all, "all", false, "every lesson")
	c.Flags().StringVar(&o.out, "out", "", "directory to write NAME.jsonl in")
	return c
}

func (o *lessonRecordOptions) record(ctx context.Context, s Streams, l *lessons.Lesson) error {
	rep, err := o.check(ctx, s, l, io.Discard)
	if err != nil {
		return fmt.Errorf("%w; no recording written", err)
	}
	var buf bytes.Buffer
	if err := tutor.WriteRecording(&buf, rep, Version()); err != nil {
		return fmt.Errorf("lesson %s: %w", l.Name, err)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(o.out, l.Name+".jsonl")
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("lesson %s: %w", l.Name, err)
	}
	fmt.Fprintf(s.Out, "lesson %s: recorded %s\n", l.Name, path)
	return nil
}
