package cmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/render/tui"
	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/filter"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/redact"
)

type replayOptions struct {
	file string
	levelFlags
	output      string
	bodyFormat  string
	bodyLines   int
	width       int
	color       string
	showSecret  bool
	sample      bool
	filterExpr  string
	follow      bool
	interactive bool
	step        bool

	filter *filter.Filter
	level  render.Level
}

func newReplayCmd(s Streams) *cobra.Command {
	o := &replayOptions{}
	c := &cobra.Command{
		Use:   "replay [flags] FILE | --sample",
		Short: "Show a recording the way the live trace showed it",
		Long: `replay renders a kubewire recording (JSON Lines, written by 'kubewire run
--record') with the same renderer as the live trace. FILE "-" reads standard
input; --sample replays the session bundled with kubewire (a classroom
story recorded from the lab: discovery, reads, writes, a watch, a denial,
a 422, a 409, a quota refusal, exec, logs, port-forward), no cluster
needed. Detail levels:

  0 line      one line per call (the default)
  1 journey   + the stages the request passed through, identity, signals,
                one line per watch event
  2 headers   + request and response headers
  3 bodies    + bodies, decoded (JSON, YAML, Table, protobuf, Status,
                discovery, OpenAPI) and folded

Each -v raises the level by one. Colour only on a terminal; NO_COLOR is
honoured. -o json|yaml prints the exchanges for programs, never styled.
'kubewire legend' explains every symbol and colour.

-i (--interactive) steps through the calls on a full screen, for the
classroom: the list of calls, the selected one at the detail chosen
(journey unless -d or -v says otherwise), keys to filter, search, jump to
the next error and enlarge the detail for a projector; ? lists the keys.
--step shows one call per Enter with no full screen, for dumb terminals and
screen readers. See docs/replay-tui.md.

A recording made with --show-secrets or --record-stdin holds secrets in
clear; replay redacts them as the live trace would have, unless
--show-secrets is given here too.`,
		Example: `  kubewire replay --sample -v
  kubewire replay -i --sample              # step through on a full screen
  kubewire replay --step --filter denied trace.jsonl
  kubewire replay trace.jsonl
  kubewire replay -vv trace.jsonl          # with headers
  kubewire replay --detail bodies --body-format yaml trace.jsonl
  kubewire replay -o json trace.jsonl | jq '.[].annotation.verb'`,
		Args: fileOrSample(&o.sample, "replays"),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.file = args[0]
			}
			if err := o.validate(c, s); err != nil {
				return err
			}
			return o.run(c.Context(), s)
		},
	}
	f := c.Flags()
	o.levelFlags.add(f)
	f.BoolVar(&o.sample, "sample", false, "replay the session bundled with kubewire instead of a FILE")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "step through the calls on a full screen: list, detail, filter, search, errors (see docs/replay-tui.md)")
	f.BoolVar(&o.step, "step", false, "show one call per Enter, with no full screen (dumb terminals, screen readers); q then Enter quits")
	f.BoolVar(&o.follow, "follow", false, "keep reading a recording still being written (kubewire proxy --record), until Ctrl-C")
	addFilterFlag(f, &o.filterExpr, "show")
	f.StringVarP(&o.output, "output", "o", "", "machine output: json or yaml (all exchanges, never styled)")
	f.StringVar(&o.bodyFormat, "body-format", "json", "show structured bodies as json or yaml")
	f.IntVar(&o.bodyLines, "body-lines", render.DefaultBodyLines, "fold bodies after this many lines (-1 shows them whole)")
	f.IntVar(&o.width, "width", 0, "wrap at this many columns (default: the terminal's width, $COLUMNS, or 100)")
	f.StringVar(&o.color, "color", "auto", "colour: auto (only on a terminal, not with NO_COLOR), always or never")
	f.BoolVar(&o.showSecret, "show-secrets", false, "show the secrets and stdin a recording made with --show-secrets or --record-stdin holds (by default they are redacted on replay)")
	return c
}

func (o *replayOptions) validate(c *cobra.Command, s Streams) error {
	var err error
	if o.follow && (o.sample || o.file == "-") {
		return usageError("--follow reads a FILE as it grows; not --sample or standard input")
	}
	if err := o.validateStepping(c, s); err != nil {
		return err
	}
	if o.filter, err = parseFilter(o.filterExpr); err != nil {
		return err
	}
	if o.level, err = o.levelFlags.level(c); err != nil {
		return err
	}
	if (o.interactive || o.step) && !c.Flags().Changed("detail") && !c.Flags().Changed("verbose") {
		// One call at a time: its journey is what there is to see.
		o.level = render.LevelJourney
	}
	switch o.output {
	case "", "json", "yaml":
	default:
		return usageError("unknown --output %q; want json or yaml", o.output)
	}
	switch o.bodyFormat {
	case "json", "yaml":
	default:
		return usageError("unknown --body-format %q; want json or yaml", o.bodyFormat)
	}
	switch o.color {
	case "auto", "always", "never":
	default:
		return usageError("unknown --color %q; want auto, always or never", o.color)
	}
	if o.bodyLines == 0 || o.bodyLines < -1 {
		return usageError("--body-lines must be positive, or -1 for whole bodies (got %d)", o.bodyLines)
	}
	if o.width < 0 {
		return usageError("--width must be positive (got %d)", o.width)
	}
	return nil
}

// validateStepping checks -i and --step: each shows calls to a person
// reading them one by one, so neither goes with -o (for programs),
// --follow or a recording on standard input (which the keys come from);
// -i draws on a terminal.
func (o *replayOptions) validateStepping(c *cobra.Command, s Streams) error {
	flag := "-i"
	switch {
	case o.interactive && o.step:
		return usageError("give -i or --step, not both; see '%s -h'", c.CommandPath())
	case o.step:
		flag = "--step"
	case !o.interactive:
		return nil
	}
	switch {
	case o.output != "":
		return usageError("%s shows the calls to people and -o prints them for programs: give one; see '%s -h'", flag, c.CommandPath())
	case o.follow:
		return usageError("%s steps through a whole recording; --follow is for one still being written: give one; see '%s -h'", flag, c.CommandPath())
	case o.file == "-":
		return usageError("%s reads keys from standard input: give the recording as a FILE, not -", flag)
	case o.interactive && !(isTerminal(s.In) && isTerminal(s.Out)):
		return usageError("-i needs a terminal on standard input and output; use --step to step through the calls without one")
	}
	return nil
}

// isTerminal reports whether f is a terminal.
func isTerminal(f any) bool {
	fd, ok := f.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(fd.Fd())
}

func (o *replayOptions) options(w io.Writer) render.Options {
	ro := render.OptionsFor(w)
	switch o.color {
	case "always":
		ro.Color = true
	case "never":
		ro.Color = false
	}
	if o.width > 0 {
		ro.Width = o.width
	}
	ro.Detail, ro.BodyFormat, ro.BodyLines, ro.ShowOwn, ro.Show = o.level, o.bodyFormat, o.bodyLines, o.showOwn, o.show()
	return ro
}

func (o *replayOptions) run(ctx context.Context, s Streams) error {
	in, name, f, err := openRecording(o.sample, o.file, s.In)
	if err != nil {
		return err
	}
	if f != nil {
		defer f.Close()
		if o.follow {
			in = record.Follow(ctx, f, 200*time.Millisecond)
		}
	}
	rd, err := record.NewReader(in, name)
	if err != nil {
		return err
	}
	var src record.LineSource = rd
	if secrets, stdin := o.redaction(s, name, rd.Header()); secrets {
		src = redact.Lines(rd, stdin)
	}
	src = annotate.ForRecordings().Lines(src)
	switch {
	case o.interactive:
		err = tui.Run(ctx, s.In, s.Out, src, tui.Config{Name: name, Options: o.options(s.Out), Width: o.width, Filter: o.filter})
		o.warn(s, rd.Warnings())
		return err
	case o.step:
		calls, readErr := tui.Calls(src, o.showOwn)
		err = tui.Step(s.In, s.Out, calls, o.options(s.Out))
		o.warn(s, rd.Warnings())
		if err != nil {
			return err
		}
		return readErr
	}
	if o.output != "" {
		warnings, err := render.ReplayMachine(s.Out, src, rd.Pos, o.output, annotate.Audit, o.show())
		o.warn(s, append(rd.Warnings(), warnings...))
		return err
	}
	err = render.Replay(s.Out, src, o.options(s.Out))
	o.warn(s, rd.Warnings())
	return err
}

// show is the filter as a predicate, nil for none.
func (o *replayOptions) show() func(*record.Exchange) bool {
	if o.filterExpr == "" {
		return nil
	}
	return o.filter.Match
}

// redaction decides whether the recording is redacted again as it is
// read, and says so (see redaction).
func (o *replayOptions) redaction(s Streams, name string, h record.Header) (secrets, stdin bool) {
	return redaction(s, name, h, o.showSecret, "replay")
}

func (o *replayOptions) warn(s Streams, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(s.ErrOut, "kubewire: warning: %s\n", w)
	}
}
