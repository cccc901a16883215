//go:build unix

package live

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/record"
)

// Run passes the child's exit code through, and signals reach the child;
// either way the recording is complete when kubewire exits.
func TestRunExitCodesAndSignals(t *testing.T) {
	l := labtest.Lab(t)
	opts := func(rec string, v record.Sink) Options {
		return Options{Kubeconfig: l.Kubeconfig, Recordings: []Recording{{Flag: "--record", Path: rec}}, View: v, Version: "test",
			CADir: filepath.Join(t.TempDir(), "ca"), AuditLog: l.AuditLog}
	}
	t.Run("exit code", func(t *testing.T) {
		rec := filepath.Join(t.TempDir(), "s.jsonl")
		var out, errOut bytes.Buffer
		code, err := Run(context.Background(), opts(rec, nil), []string{l.Kubectl, "get", "pod", "no-such-pod", "-n", "demo"}, nil, &out, &errOut)
		if err != nil || code != 1 || !strings.Contains(errOut.String(), "NotFound") {
			t.Fatalf("code %d err %v stderr %q", code, err, errOut.String())
		}
		r, err := annotate.ForRecordings().ReadFile(rec)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range r.Exchanges {
			if x.Annotation.Verb == "get" && x.Response != nil && x.Response.Status == 404 && x.Annotation.Auth.StoppedAt == record.StageStorage {
				found = true
			}
		}
		if !found {
			t.Errorf("the 404 is not recorded as stopped at storage: %q", verbs(r))
		}
	})
	// Signals are tested on the real CLI in its own process group, as a
	// terminal runs it: Ctrl-C goes to the whole group; SIGTERM to kubewire
	// alone must be passed on to the child.
	bin := filepath.Join(t.TempDir(), "kubewire")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/kubewire/kubewire/cmd/kubewire").CombinedOutput(); err != nil {
		t.Fatalf("build kubewire: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name  string
		group bool
		sig   syscall.Signal
	}{{"Ctrl-C to the process group", true, syscall.SIGINT}, {"SIGTERM to kubewire alone", false, syscall.SIGTERM}} {
		t.Run(tc.name, func(t *testing.T) {
			rec := filepath.Join(t.TempDir(), "s.jsonl")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "run", "--kubeconfig", l.Kubeconfig, "--record", rec, "--", l.Kubectl, "get", "namespaces", "-w")
			cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			stderr, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The live view is on stderr: wait for the watch.
			sc := bufio.NewScanner(stderr)
			sc.Buffer(make([]byte, 1<<20), 16<<20)
			open := false
			for sc.Scan() {
				if strings.Contains(sc.Text(), "GET→watch") {
					open = true
					break
				}
			}
			if !open {
				t.Fatal("the watch never opened")
			}
			go io.Copy(io.Discard, stderr)
			target := cmd.Process.Pid
			if tc.group {
				target = -target
			}
			if err := syscall.Kill(target, tc.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Errorf("kubewire should exit with kubectl's non-zero status, got %v", err)
			}
			r, rerr := annotate.ForRecordings().ReadFile(rec)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if len(r.Warnings) > 0 {
				t.Errorf("recording not complete: %v", r.Warnings)
			}
			var watch *record.Exchange
			for _, x := range r.Exchanges {
				if x.Annotation.Verb == "watch" {
					watch = x
				}
			}
			if watch == nil || watch.Timings.TotalMs == 0 {
				t.Errorf("the watch and its end are not in the recording: %+v", watch)
			}
		})
	}
}
