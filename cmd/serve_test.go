package cmd_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubewire/kubewire/cmd"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/sample"
)

// Every command the sample says it answers (run's preview suggests them)
// is answered whole by serve --sample, with the lab's kubectl and no
// cluster asked.
func TestSampleAnswersItsCommands(t *testing.T) {
	l := labtest.Lab(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("KUBECONFIG", filepath.Join(home, "no-such-kubeconfig"))
	t.Setenv("NO_COLOR", "1")
	t.Setenv("PATH", l.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, c := range sample.Commands {
		t.Run(c, func(t *testing.T) {
			args := append([]string{"serve", "--sample", "--"}, strings.Fields(c)...)
			stdout, stderr, code := runKubewire(t, args...)
			if code != 0 || stdout == "" {
				t.Fatalf("exit %d, stdout %q\n%s", code, stdout, stderr)
			}
			if strings.Contains(stderr, "not in the recording") || !strings.Contains(stderr, "↺ recorded answer #") {
				t.Errorf("not every call was answered from the sample:\n%s", stderr)
			}
		})
	}
}

// serve --sample with no command serves until stopped: the printed export
// line and the printed commands work from another process, a real
// kubectl, and each of its calls shows in serve's live trace.
func TestServeSampleUntilStopped(t *testing.T) {
	l := labtest.Lab(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("NO_COLOR", "1")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- cmd.Run(ctx, []string{"serve", "--sample"}, cmd.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	}()
	exportLine := regexp.MustCompile(`export KUBECONFIG=(\S+)`)
	var kubeconfig string
	for kubeconfig == "" {
		select {
		case code := <-done:
			t.Fatalf("serve ended (%d) before printing the export line:\n%s", code, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
		if m := exportLine.FindStringSubmatch(errOut.String()); m != nil && strings.Contains(errOut.String(), "Ctrl-C stops serving.") {
			kubeconfig = m[1]
		}
	}
	printed := strings.Contains(errOut.String(), "then try:\n")
	for _, c := range sample.Commands {
		printed = printed && strings.Contains(errOut.String(), "    "+c+"\n")
	}
	if !printed {
		t.Errorf("the commands to try are not printed:\n%s", errOut.String())
	}
	args := strings.Fields(sample.Commands[1]) // kubectl get deployments -n shop
	k := exec.Command(filepath.Join(l.BinDir, "kubectl"), args[1:]...)
	k.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	got, err := k.CombinedOutput()
	if err != nil || !strings.Contains(string(got), "frontend") {
		t.Errorf("%s: %v\n%s", sample.Commands[1], err, got)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d after Ctrl-C:\n%s", code, errOut.String())
	}
	// With no command of its own, the live trace is serve's stdout.
	if !strings.Contains(out.String(), "↺ recorded answer #8  GET→list  apps/v1 GA  deployments  ns shop") {
		t.Errorf("the call is not in serve's live trace:\n%s", out.String())
	}
}
