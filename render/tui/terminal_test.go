package tui

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTerminal runs the real kubewire binary on a real terminal, tmux's,
// and reads the screen as a person would see it: replay -i --sample at
// 80×24 and at 160×48, then the flags' usage errors without a terminal.
func TestTerminal(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatal("tmux is not installed, and the real-terminal test needs it: apt-get install tmux (.ci/run installs it on CI)")
	}
	bin := filepath.Join(t.TempDir(), "kubewire")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/kubewire/kubewire/cmd/kubewire").CombinedOutput(); err != nil {
		t.Fatalf("build kubewire: %v\n%s", err, out)
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 48}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			stepThroughSample(t, newTmux(t, tmux, size.w, size.h, shellQuote(bin)+" replay -i --sample"))
		})
	}
	t.Run("usage", func(t *testing.T) { usage(t, bin) })
}

// stepThroughSample filters the sample's errors and finds the intern's
// denial, with its journey; q ends the program.
func stepThroughSample(t *testing.T, tm *tmuxSession) {
	tm.waitFor("the list", func(s string) bool {
		return strings.Contains(s, "> #1  +0.000s  GET→get  /api") && strings.Contains(s, "call 1 of 37")
	})
	tm.keys("j")
	tm.waitFor("#2 selected", func(s string) bool { return strings.Contains(s, "> #2  +") })
	tm.keys("/")
	tm.waitFor("the filter input", func(s string) bool { return strings.Contains(s, "enter apply") })
	tm.typeText("status>=400")
	tm.keys("Enter")
	screen := tm.waitFor("the errors", func(s string) bool { return strings.Contains(s, "call 1 of 6 (37 in all)") })
	if got := listedOn(screen); !slices.Equal(got, errorCalls) {
		t.Errorf("filtered on status>=400 the list is %v, want %v:\n%s", got, errorCalls, screen)
	}
	tm.keys("j", "j")
	screen = tm.waitFor("the denial", func(s string) bool { return strings.Contains(s, "call 3 of 6") })
	for _, want := range []string{
		"> #24  +1.910s  GET→list  v1 GA  pods  ns shop",
		"#24 · journey",
		"system:serviceaccount:sample:intern",
		"403 Forbidden  ✗ authz",
		"client → authn ✓ → APF ✓ → authz ✗ → admission ○ → validation ○ → storage ·",
		`authz      ✗ "system:serviceaccount:sample:intern" may not list pods in`,
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the denial's screen does not show %q:\n%s", want, screen)
		}
	}
	tm.keys("q")
	tm.waitEnded()
}

// usage checks that cmd hands -i and --step to this package as
// docs/replay-tui.md says.
func usage(t *testing.T, bin string) {
	run := func(stdin string, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "-i", "--sample"}, "kubewire: -i needs a terminal on standard input and output; use --step to step through the calls without one\n"},
		{[]string{"replay", "-i", "-o", "json", "--sample"}, "kubewire: -i shows the calls to people and -o prints them for programs: give one; see 'kubewire replay -h'\n"},
		{[]string{"replay", "--step", "--follow", "trace.jsonl"}, "kubewire: --step steps through a whole recording; --follow is for one still being written: give one; see 'kubewire replay -h'\n"},
		{[]string{"replay", "--step", "-"}, "kubewire: --step reads keys from standard input: give the recording as a FILE, not -\n"},
		{[]string{"replay", "-i", "--step", "--sample"}, "kubewire: give -i or --step, not both; see 'kubewire replay -h'\n"},
	} {
		stdout, stderr, code := run("", tc.args...)
		if code != 2 || stderr != tc.want || stdout != "" {
			t.Errorf("kubewire %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, stdout, stderr, tc.want)
		}
	}
	// --step shows the journey unless -d or -v says otherwise, and stops
	// at q; --filter picks its calls.
	stdout, stderr, code := run("\n\nq\n", "replay", "--step", "--sample")
	if got := numbers(stdout); code != 0 || stderr != "" || strings.Join(got, " ") != "#1 #2 #3" || !strings.Contains(stdout, "client → authn") {
		t.Errorf("replay --step --sample: exit %d, stderr %q, calls %v:\n%s", code, stderr, got, stdout)
	}
	stdout, _, code = run("\n", "replay", "--step", "-d", "line", "--filter", "denied", "--sample")
	if got := numbers(stdout); code != 0 || strings.Join(got, " ") != "#24 #29" || strings.Contains(stdout, "client → authn") {
		t.Errorf("replay --step -d line --filter denied --sample: exit %d, calls %v:\n%s", code, got, stdout)
	}
}

// tmuxSession is one program on a tmux terminal of its own, on a private
// tmux server.
type tmuxSession struct {
	t    *testing.T
	tmux string
	sock string
	name string
}

// newTmux starts command on a w×h tmux terminal, without colour; the
// server is killed when the test ends.
func newTmux(t *testing.T, tmux string, w, h int, command string) *tmuxSession {
	tm := &tmuxSession{t: t, tmux: tmux, sock: filepath.Join(t.TempDir(), "tmux.sock"), name: fmt.Sprintf("kubewire-%dx%d", w, h)}
	t.Cleanup(func() { _, _ = tm.run("kill-server") })
	shell := "exec env -u COLUMNS -u LINES NO_COLOR=1 TERM=xterm-256color " + command
	if out, err := tm.run("new-session", "-d", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), "-s", tm.name, shell); err != nil {
		t.Fatalf("start tmux: %v\n%s", err, out)
	}
	return tm
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (tm *tmuxSession) run(args ...string) (string, error) {
	cmd := exec.Command(tm.tmux, append([]string{"-S", tm.sock, "-f", "/dev/null"}, args...)...)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// keys presses keys by tmux's names: "j", "Enter", "Escape".
func (tm *tmuxSession) keys(keys ...string) {
	tm.t.Helper()
	if out, err := tm.run(append([]string{"send-keys", "-t", tm.name}, keys...)...); err != nil {
		tm.t.Fatalf("send-keys %v: %v\n%s", keys, err, out)
	}
}

// typeText types text as it is.
func (tm *tmuxSession) typeText(text string) {
	tm.t.Helper()
	if out, err := tm.run("send-keys", "-t", tm.name, "-l", text); err != nil {
		tm.t.Fatalf("send-keys -l %q: %v\n%s", text, err, out)
	}
}

func (tm *tmuxSession) capture() string {
	tm.t.Helper()
	out, err := tm.run("capture-pane", "-p", "-t", tm.name)
	if err != nil {
		tm.t.Fatalf("capture-pane: %v\n%s", err, out)
	}
	return out
}

// waitTime bounds every wait for the screen.
const waitTime = 30 * time.Second

// waitFor polls the screen until ok says it shows what, and returns it.
func (tm *tmuxSession) waitFor(what string, ok func(screen string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(waitTime)
	for {
		screen := tm.capture()
		if ok(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen did not show %s within %v:\n%s", what, waitTime, screen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitEnded polls until the program has ended, and with it the session.
func (tm *tmuxSession) waitEnded() {
	tm.t.Helper()
	deadline := time.Now().Add(waitTime)
	for {
		if _, err := tm.run("has-session", "-t", tm.name); err != nil {
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the program did not end within %v:\n%s", waitTime, tm.capture())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
