// Package labtest gives end-to-end tests a running kubewire lab: a real
// kube-apiserver, controller-manager, scheduler and KWOK nodes on loopback.
//
// A test package starts one lab per test binary from TestMain:
//
//	func TestMain(m *testing.M) { labtest.Main(m) }
//
// and its tests get it with labtest.Lab(t). Each test binary's lab has its
// own temporary directory and free ports, so packages may test in parallel;
// it stops when the tests end, and its processes die with the test binary
// if that crashes. With KUBEWIRE_TEST_LAB=<dir> the tests use the lab
// already running in dir instead (started by `kubewire lab up --dir`) and
// leave it running.
//
// A lab that cannot start fails the test binary, with or without CI=true:
// end-to-end tests are never skipped silently.
package labtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/lab"
)

// Env names the environment variable that points tests at a running lab.
const Env = "KUBEWIRE_TEST_LAB"

// shared is the test binary's lab, set before the tests run.
var shared *lab.Lab

// Main starts the lab, runs the tests and stops the lab, then exits with
// the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Runner runs tests: a *testing.M, or testscript's wrapper of one.
type Runner interface{ Run() int }

// Run starts the lab (or opens the one KUBEWIRE_TEST_LAB names), runs m,
// stops the lab and returns m's status, or 1 when the lab failed. Main is
// Run for a plain TestMain; testscript's Main takes a Runner that calls it.
func Run(m Runner) int {
	ctx := context.Background()
	if dir := os.Getenv(Env); dir != "" {
		l, err := lab.Open(ctx, dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "labtest: %s=%s: %v\n", Env, dir, err)
			return 1
		}
		shared = l
		return m.Run()
	}
	l, cleanup, err := Start(ctx, os.Stderr)
	if err != nil {
		ci := ""
		if os.Getenv("CI") == "true" {
			ci = " (CI=true: a lab that cannot start is a failure)"
		}
		fmt.Fprintf(os.Stderr, "labtest: the lab did not start%s: %v\n", ci, err)
		return 1
	}
	// Stop the lab on Ctrl-C or SIGTERM; when the test binary crashes or
	// is killed, the processes die by their parent-death signal.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		cleanup()
		os.Exit(1)
	}()
	shared = l
	code := m.Run()
	signal.Stop(sig)
	if err := cleanup(); err != nil {
		fmt.Fprintf(os.Stderr, "labtest: stop the lab: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Start builds the lab if needed and starts an isolated one in a new
// temporary directory on free ports, its processes tied to this process.
// cleanup stops it and deletes the directory; it is safe to call twice.
func Start(ctx context.Context, progress io.Writer) (*lab.Lab, func() error, error) {
	bins, err := lab.Build(ctx, lab.BuildOptions{Progress: progress})
	if err != nil {
		return nil, nil, err
	}
	sweep(ctx)
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, nil, err
	}
	var once sync.Once
	var cerr error
	cleanup := func() error {
		once.Do(func() {
			cerr = lab.Down(dir, true)
			if cerr != nil {
				os.RemoveAll(dir)
			}
		})
		return cerr
	}
	var l *lab.Lab
	// Free ports can be taken between picking and binding: try again.
	for attempt := 0; ; attempt++ {
		ports, err := lab.FreePorts()
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		l, err = lab.Up(ctx, lab.Config{Dir: dir, Ports: ports, Binaries: bins, Attached: true, Progress: progress})
		if err == nil {
			break
		}
		if attempt == 2 || !strings.Contains(err.Error(), "in use") {
			cleanup()
			return nil, nil, err
		}
	}
	return l, cleanup, nil
}

const tempPrefix = "kubewire-lab-test-"

// sweep deletes the directories of test labs whose test binary was killed
// (SIGKILL leaves no chance to clean up; the processes died with it): no
// process running and untouched for ten minutes, so labs other test
// binaries are starting right now are safe.
func sweep(ctx context.Context) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		if err != nil || time.Since(fi.ModTime()) < 10*time.Minute {
			continue
		}
		if st, err := lab.GetStatus(ctx, dir); err == nil && len(st.Running) == 0 {
			os.RemoveAll(dir)
		}
	}
}

// Lab returns the test binary's lab. It fails the test when TestMain did
// not call Main.
func Lab(t testing.TB) *lab.Lab {
	t.Helper()
	if shared == nil {
		t.Fatal("labtest: no lab; call labtest.Main(m) from TestMain")
	}
	return shared
}

// Result is what a kubectl run printed and how it ended.
type Result struct {
	Stdout, Stderr string
	// Err is the run's error (an *exec.ExitError on a non-zero exit).
	Err error
}

// Kubectl runs the lab's kubectl with args against the lab (admin context
// unless args name another) and returns its output; it never fails the
// test itself, so tests can assert on failures.
func Kubectl(t testing.TB, args ...string) Result {
	t.Helper()
	l := Lab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := l.KubectlCommand(ctx, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return Result{Stdout: out.String(), Stderr: errOut.String(), Err: err}
}

// MustKubectl runs the lab's kubectl and fails the test when it fails.
func MustKubectl(t testing.TB, args ...string) string {
	t.Helper()
	r := Kubectl(t, args...)
	if r.Err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), r.Err, r.Stderr)
	}
	return r.Stdout
}

// Eventually polls cond every 100 ms until it returns nil or d passes, then
// fails the test with cond's last error.
func Eventually(t testing.TB, d time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after %s: %v", d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ExitCode is the kubectl run's exit status, -1 when it did not run.
func (r Result) ExitCode() int {
	if r.Err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(r.Err, &ee) {
		return ee.ExitCode()
	}
	return -1
}
