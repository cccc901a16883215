package cmd_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kubewire/kubewire/cmd"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
)

// TestMain makes the test binary the kubewire command of the scripts
// (testscript runs it again under that name, where it only runs kubewire)
// and, in the test run proper, starts one lab for all scripts.
func TestMain(m *testing.M) {
	testscript.Main(withLab{m}, map[string]func(){
		"kubewire": func() { os.Exit(cmd.Main()) },
		// On PATH under the plugin's name: the lab's kubectl finds it, as
		// "kubectl wire".
		cmd.PluginName: func() { os.Exit(cmd.Main()) },
	})
}

// withLab runs the tests with a lab up, the way labtest.Main does; it is
// a testscript.TestingM so that testscript's own setup and clean-up wrap it.
type withLab struct{ m *testing.M }

func (w withLab) Run() int { return labtest.Run(w.m) }

// TestScripts runs testdata/script/*.txtar: kubewire as a user runs it,
// against the lab. Each script has its own HOME (so kubewire's CA is made
// in $WORK), the lab's kubeconfig and audit log, the lab's kubectl first
// on PATH, and no colour.
func TestScripts(t *testing.T) {
	l := labtest.Lab(t)
	testscript.Run(t, testscript.Params{
		Dir:                filepath.Join("testdata", "script"),
		RequireUniqueNames: true,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
			env.Setenv("KUBECONFIG", l.Kubeconfig)
			env.Setenv("KUBEWIRE_AUDIT_LOG", l.AuditLog)
			env.Setenv("PATH", l.BinDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("NO_COLOR", "1")
			return os.MkdirAll(home, 0o755)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":     cmdExits,
			"normalize": cmdNormalize,
		},
	})
}

// cmdExits runs a program and checks its exit code, which "!" alone cannot:
//
//	exits 2 kubewire explain BOGUS /api
//
// Its stdout and stderr are then checked like exec's.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...] (no '!': the code says what is expected)")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: exit code %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// What differs between a trace (or kubectl's output) recorded from the lab
// and the same served from that recording, by nature: the time of each
// call, how long it took, ages computed from the clock (and the padding of
// the columns they are in), and the serve marks themselves.
var (
	replayedMark = regexp.MustCompile(`↺ recorded answer #\d+  `)
	servedRow    = regexp.MustCompile(`(?m)^ *recording +answered by kubewire serve.*\n`)
	offsetTime   = regexp.MustCompile(`\+\d+\.\d+s`)
	duration     = regexp.MustCompile(`\b\d+(\.\d+)?(ms|µs|s|m|h|d)(\d+(s|m|h))?\b`)
	// Columns padded to an age's width move with it.
	spaces = regexp.MustCompile(` +`)
	// kubectl builds some field selectors from a map: any term order.
	selector      = regexp.MustCompile(`(selector fields )(\S+)`)
	querySelector = regexp.MustCompile(`fieldSelector=[^&\s]+`)
	// Random per run: kubectl's session, the Audit-Id kubewire sends
	// upstream, the ports; and HTTP framing (serve sets Content-Length).
	uuid        = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	port        = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	framingLine = regexp.MustCompile(`(?m)^ *< (Content-Length|Kubewire-Replayed(-Note)?): .*\n`)
	// No API server audited a served call.
	auditLine = regexp.MustCompile(`(?m)^#\d+ audit log .*\n`)
)

// cmdNormalize writes IN to OUT without what differs by nature between a
// recorded and a served run (see above):
//
//	normalize served.txt served.norm
//	normalize -calls trace.txt trace.norm
//
// With -calls, IN is a trace: its calls are numbered and put in order by
// when their requests arrived, and kubectl sends some at once (discovery
// beside a list, OpenAPI beside a get), so the calls are compared as a
// set: each call's block of lines, without its number, sorted.
func cmdNormalize(ts *testscript.TestScript, neg bool, args []string) {
	calls := len(args) > 0 && args[0] == "-calls"
	if calls {
		args = args[1:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: normalize [-calls] IN OUT")
	}
	s := ts.ReadFile(args[0])
	s = uuid.ReplaceAllString(s, "UUID")
	s = querySelector.ReplaceAllStringFunc(s, func(m string) string {
		k, v, _ := strings.Cut(m, "=")
		terms := strings.Split(v, "%2C")
		sort.Strings(terms)
		return k + "=" + strings.Join(terms, "%2C")
	})
	s = replayedMark.ReplaceAllString(s, "")
	s = servedRow.ReplaceAllString(s, "")
	s = offsetTime.ReplaceAllString(s, "+T")
	s = duration.ReplaceAllString(s, "D")
	s = spaces.ReplaceAllString(s, " ")
	s = auditLine.ReplaceAllString(s, "")
	s = framingLine.ReplaceAllString(s, "")
	s = port.ReplaceAllString(s, "127.0.0.1:PORT")
	s = selector.ReplaceAllStringFunc(s, func(m string) string {
		sub := selector.FindStringSubmatch(m)
		terms := strings.Split(sub[2], ",")
		sort.Strings(terms)
		return sub[1] + strings.Join(terms, ",")
	})
	if calls {
		s = callBlocks(s)
	}
	if err := os.WriteFile(ts.MkAbs(args[1]), []byte(s), 0o644); err != nil {
		ts.Fatalf("%v", err)
	}
}

// callNumber starts a trace line that begins a call's block, or one of its
// stream events.
var callNumber = regexp.MustCompile(`^#\d+ `)

// callBlocks sorts a trace's blocks (a line starting with a call number
// and the lines under it), each without its number.
func callBlocks(s string) string {
	var blocks []string
	for _, line := range strings.SplitAfter(s, "\n") {
		if callNumber.MatchString(line) || len(blocks) == 0 {
			blocks = append(blocks, "")
		}
		blocks[len(blocks)-1] += callNumber.ReplaceAllString(line, "# ")
	}
	sort.Strings(blocks)
	return strings.Join(blocks, "")
}
