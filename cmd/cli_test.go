package cmd_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
			"exits": cmdExits,
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
