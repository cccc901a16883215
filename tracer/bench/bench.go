// Package bench is kubewire's benchmark harness (make bench): it starts a
// lab, seeds it, and runs the same Go load generator and the same kubectl
// commands against the API server directly, through kubewire proxy
// --record, through kubectl proxy and through mitmproxy, then reports
// medians, ratios to direct and the targets of docs/performance.md in one
// Markdown table.
//
// It measures programs as people run them: the built kubewire binary, the
// lab's kubectl, Debian's mitmdump, each a separate process on 127.0.0.1.
// Every process it starts is stopped at the end, on failure and on Ctrl-C.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// The paths a request can take.
const (
	Direct       = "direct"
	Kubewire     = "kubewire"
	KubectlProxy = "kubectl-proxy"
	Mitmproxy    = "mitmproxy"
)

// AllPaths are every path, in the table's column order.
var AllPaths = []string{Direct, Kubewire, KubectlProxy, Mitmproxy}

// The workloads.
const (
	WGet1    = "get1"
	WGet16   = "get16"
	WList    = "list"
	WKubectl = "kubectl"
	WWatch   = "watch"
	WReplay  = "replay"
)

// AllWorkloads are every workload, in the order they run.
var AllWorkloads = []string{WGet1, WGet16, WWatch, WList, WKubectl, WReplay}

// Config configures one run of the harness.
type Config struct {
	// Kubewire is the kubewire binary to measure; "" builds one from the
	// module in the working directory.
	Kubewire string
	// OutDir receives results-DATE.md and results-DATE.json.
	OutDir string
	// LabDir names a running lab (kubewire lab up --dir) to use and leave
	// running; "" starts a fresh lab in a temporary directory.
	LabDir string
	// Quick runs fewer requests, for a try in a few minutes.
	Quick bool
	// Paths and Workloads select what runs (Direct always does).
	Paths, Workloads []string
	// Keep keeps the work directory (logs, recordings) after a success.
	Keep bool
	// Progress receives a line per step.
	Progress io.Writer
}

// Sizes are how much each workload does.
type Sizes struct {
	Get1, Get16, Rounds   int // requests per round, rounds per path
	Lists                 int // lists of the large namespace per path
	KubectlRuns           int // runs per kubectl variant
	WatchEvents           int // events per path, over Rounds rounds
	ReplayRuns            int
	SmallObjects, Objects int // ConfigMaps in the small and large namespaces
}

func (c Config) sizes() Sizes {
	if c.Quick {
		return Sizes{Get1: 100, Get16: 500, Rounds: 2, Lists: 1, KubectlRuns: 3, WatchEvents: 200, ReplayRuns: 1, SmallObjects: 100, Objects: 5000}
	}
	return Sizes{Get1: 500, Get16: 3000, Rounds: 2, Lists: 3, KubectlRuns: 30, WatchEvents: 1000, ReplayRuns: 3, SmallObjects: 100, Objects: 5000}
}

// Main parses the command line and runs the harness: kubewire-bench's
// whole program. It returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	c, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubewire-bench: %v\n", err)
		return 2
	}
	c.Progress = stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := Run(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted: %w", err)
		}
		fmt.Fprintf(stderr, "kubewire-bench: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, res.Markdown())
	fmt.Fprintf(stderr, "\nresults written to %s\n", res.File)
	return 0
}

func parse(args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("kubewire-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `kubewire-bench measures kubewire against the API server directly, kubectl
proxy and mitmproxy, on a lab it starts on 127.0.0.1 (see docs/performance.md).

usage: kubewire-bench [flags]

`)
		fs.PrintDefaults()
	}
	var c Config
	var paths, workloads string
	fs.StringVar(&c.Kubewire, "kubewire", "", "kubewire binary to measure (default: go build ./cmd/kubewire into the work directory)")
	fs.StringVar(&c.OutDir, "o", filepath.Join(os.TempDir(), "kubewire-bench"), "directory for results-DATE.md and results-DATE.json")
	fs.StringVar(&c.LabDir, "lab", "", "use the lab running in this directory (kubewire lab up --dir DIR) and leave it running; default: start a fresh one")
	fs.BoolVar(&c.Quick, "quick", false, "fewer requests and runs: a try in a few minutes, not a measurement")
	fs.StringVar(&paths, "paths", strings.Join(AllPaths, ","), "paths to measure; direct always runs")
	fs.StringVar(&workloads, "workloads", strings.Join(AllWorkloads, ","), "workloads to run")
	fs.BoolVar(&c.Keep, "keep", false, "keep the work directory (process logs, recordings) after a successful run")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q; see kubewire-bench -h", fs.Arg(0))
	}
	var err error
	if c.Paths, err = list("-paths", paths, AllPaths); err != nil {
		return c, err
	}
	if !slices.Contains(c.Paths, Direct) {
		c.Paths = append([]string{Direct}, c.Paths...)
	}
	if c.Workloads, err = list("-workloads", workloads, AllWorkloads); err != nil {
		return c, err
	}
	if slices.Contains(c.Workloads, WReplay) && !slices.Contains(c.Workloads, WGet1) && !slices.Contains(c.Workloads, WGet16) {
		return c, errors.New("-workloads replay replays the recording of get1 and get16: add one of them")
	}
	return c, nil
}

// list parses a comma-separated selection, keeping all's order.
func list(flagName, s string, all []string) ([]string, error) {
	var out []string
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if !slices.Contains(all, v) {
			return nil, fmt.Errorf("%s: unknown %q; want some of %s", flagName, v, strings.Join(all, ","))
		}
	}
	for _, v := range all {
		if slices.Contains(strings.Split(strings.ReplaceAll(s, " ", ""), ","), v) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: nothing selected", flagName)
	}
	return out, nil
}

// rounds returns the paths in the order of round r: each round starts one
// path later, so no path always runs first (on a cold cache) or last.
func rounds(paths []string, r int) []string {
	n := len(paths)
	out := make([]string, n)
	for i := range paths {
		out[i] = paths[(i+r)%n]
	}
	return out
}

// step wraps a step's error with its name, so a failure says where.
func step(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }
