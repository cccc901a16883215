// Package cmd holds kubewire's cobra commands, one file per command. Commands
// only parse and validate flags, then hand a typed config to the package that
// does the work (tracer, render, lessons).
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/kubewire/kubewire/tracer/sample"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
)

// version is kubewire's version, set at link time with
// -ldflags "-X github.com/kubewire/kubewire/cmd.version=v1.2.3".
var version = ""

// Version returns kubewire's version: the linked-in one, the module version
// when installed with go install, or "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Streams are the standard streams a command uses.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// ExitError carries an exit code out of a command; Err may be nil when the
// command already said everything (a child process's own failure).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks bad input on the command line: exit code 2.
func usageError(format string, a ...any) error {
	return &ExitError{Code: 2, Err: fmt.Errorf(format, a...)}
}

// Main runs kubewire with os.Args and returns the process exit code.
// Called as kubectl-wire (the kubectl plugin, or a link to kubewire by that
// name) it names itself "kubectl wire".
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f := os.Getenv(cpuProfileEnv); f != "" {
		stopProfile, err := startCPUProfile(f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kubewire: %s: %v\n", cpuProfileEnv, err)
			return 1
		}
		defer stopProfile()
	}
	if f := os.Getenv(memProfileEnv); f != "" {
		writeProfile, err := startMemProfile(f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kubewire: %s: %v\n", memProfileEnv, err)
			return 1
		}
		defer writeProfile()
	}
	return RunAs(ctx, nameFor(os.Args[0]), os.Args[1:], Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
}

// cpuProfileEnv names a file to write a CPU profile of the whole run to,
// for docs/performance.md's profiling (go tool pprof FILE); "%p" in it
// becomes the process ID, so every kubewire a benchmark starts has its own.
const cpuProfileEnv = "KUBEWIRE_CPUPROFILE"

// profileFile creates the profile file name, "%p" in it replaced by the
// process ID.
func profileFile(name string) (*os.File, error) {
	return os.Create(strings.ReplaceAll(name, "%p", strconv.Itoa(os.Getpid())))
}

func startCPUProfile(name string) (func(), error) {
	f, err := profileFile(name)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// memProfileEnv names a file to write an allocation profile to when
// kubewire exits (go tool pprof -sample_index=alloc_space FILE): where the
// bytes a run allocated came from, for docs/performance.md's memory figures.
// "%p" becomes the process ID.
const memProfileEnv = "KUBEWIRE_MEMPROFILE"

// startMemProfile creates the file now, so a bad name fails before the
// run as the CPU profile's does, and returns what writes it at the end.
func startMemProfile(name string) (func(), error) {
	f, err := profileFile(name)
	if err != nil {
		return nil, err
	}
	return func() {
		err := pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "kubewire: %s: %v\n", memProfileEnv, err)
		}
	}, nil
}

// PluginName is the name kubectl finds a plugin by: "kubectl wire".
const PluginName = "kubectl-wire"

// nameFor is the name kubewire goes by when started as argv0.
func nameFor(argv0 string) string {
	base := strings.TrimSuffix(filepath.Base(argv0), ".exe")
	if base == PluginName {
		return "kubectl wire"
	}
	return "kubewire"
}

// Run runs kubewire with args and returns the exit code: 0 on success, 2 for
// bad usage, a child's own exit code for run, 1 for other failures.
func Run(ctx context.Context, args []string, s Streams) int {
	return RunAs(ctx, "kubewire", args, s)
}

// RunAs is Run for kubewire known by name ("kubewire", or "kubectl wire"
// as a kubectl plugin), which its help and messages use.
func RunAs(ctx context.Context, name string, args []string, s Streams) int {
	// Libraries (client-go, the API server's request parser) log through
	// klog; kubewire reports errors itself.
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)

	root := NewRoot(s)
	if name != "kubewire" {
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: name}
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if strings.HasPrefix(err.Error(), "unknown command ") {
		err = usageError("%v; see '%s -h'", err, name)
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(s.ErrOut, "kubewire: %v\n", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(s.ErrOut, "kubewire: %v\n", err)
	return 1
}

// NewRoot builds the command tree.
func NewRoot(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubewire",
		Short: "Show what kubectl really says to a Kubernetes API server",
		Long: `kubewire sits between kubectl (or curl, or any client) and a Kubernetes API
server, records every HTTP call, annotates it (API verb, group, version,
resource, scope, how far it got through authentication, authorization and
admission) and prints it.`,
		Version:       Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// --version has no -v: -v means more detail in every command.
	root.Flags().Bool("version", false, "print kubewire's version (kubewire version also asks the server)")
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		// pflag quotes the whole argument of a shorthand it does not know
		// ("in -tSECRET"): name the flag, not its value.
		msg, _, _ := strings.Cut(err.Error(), " in -")
		return usageError("%s; see '%s -h'", msg, c.CommandPath())
	})
	root.AddCommand(
		newRunCmd(s),
		newProxyCmd(s),
		newReplayCmd(s),
		newServeCmd(s),
		newExportCmd(s),
		newImportCmd(s),
		newExplainCmd(s),
		newLabCmd(s),
		newWhoamiCmd(s),
		newCaniCmd(s),
		newCaCmd(s),
		newLessonCmd(s),
		newLegendCmd(s),
		newVersionCmd(s),
	)
	// Cobra's completion command prints help for a shell it does not know;
	// make that a usage error.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.RunE = func(c *cobra.Command, args []string) error {
				if len(args) == 0 {
					return c.Help()
				}
				return usageError("unknown shell %q; want bash, zsh, fish or powershell", args[0])
			}
		}
	}
	return root
}

// exactArgs is cobra.ExactArgs with kubewire's usage exit code.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError("%s takes %s (got %d argument(s)); see '%s -h'", c.CommandPath(), names, len(args), c.CommandPath())
		}
		return nil
	}
}

// fileOrSample takes FILE, or no argument with --sample (the bundled
// session, which the command verb names: "replays").
func fileOrSample(sample *bool, verb string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		switch {
		case *sample && len(args) > 0:
			return usageError("--sample %s the bundled session: give no FILE with it (got %q); see '%s -h'", verb, args[0], c.CommandPath())
		case *sample:
			return nil
		}
		return exactArgs(1, "FILE, or --sample")(c, args)
	}
}

// openRecording opens what a command reads: the bundled sample, standard
// input for "-", or the file, which the caller closes (f is nil for the
// other two). name names it in FILE:LINE messages.
func openRecording(useSample bool, file string, stdin io.Reader) (in io.Reader, name string, f *os.File, err error) {
	switch {
	case useSample:
		return sample.Open(), sample.Name, nil, nil
	case file == "-":
		return stdin, "standard input", nil, nil
	}
	if f, err = os.Open(file); err != nil {
		return nil, "", nil, fmt.Errorf("open recording: %w", err)
	}
	return f, file, f, nil
}
