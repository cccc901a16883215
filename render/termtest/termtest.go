// Package termtest runs a program on a real terminal, tmux's, for tests
// that read the screen as a person would see it: the step-through view,
// a lesson at the prompt.
package termtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Tmux returns tmux's path, failing the test when it is not installed.
func Tmux(t testing.TB) string {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatal("tmux is not installed, and the real-terminal test needs it: apt-get install tmux (.ci/run installs it on CI)")
	}
	return tmux
}

// Session is one program on a tmux terminal of its own, on a private
// tmux server.
type Session struct {
	t    testing.TB
	tmux string
	sock string
	name string
}

// New starts command (a sh command line) on a w×h tmux terminal, without
// colour; the server is killed when the test ends.
func New(t testing.TB, w, h int, command string) *Session {
	t.Helper()
	tm := &Session{t: t, tmux: Tmux(t), sock: filepath.Join(t.TempDir(), "tmux.sock"), name: fmt.Sprintf("kubewire-%dx%d", w, h)}
	t.Cleanup(func() { _, _ = tm.run("kill-server") })
	shell := "exec env -u COLUMNS -u LINES NO_COLOR=1 TERM=xterm-256color " + command
	// The pane stays when the program ends, so its last screen can still
	// be read; the history is kept whole, for History.
	if out, err := tm.run("set-option", "-g", "remain-on-exit", "on", ";", "set-option", "-g", "history-limit", "100000", ";",
		"new-session", "-d", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), "-s", tm.name, shell); err != nil {
		t.Fatalf("start tmux: %v\n%s", err, out)
	}
	return tm
}

// ShellQuote quotes s for sh.
func ShellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (tm *Session) run(args ...string) (string, error) {
	cmd := exec.Command(tm.tmux, append([]string{"-S", tm.sock, "-f", "/dev/null"}, args...)...)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Keys presses keys by tmux's names: "j", "Enter", "Escape".
func (tm *Session) Keys(keys ...string) {
	tm.t.Helper()
	if out, err := tm.run(append([]string{"send-keys", "-t", tm.name}, keys...)...); err != nil {
		tm.t.Fatalf("send-keys %v: %v\n%s", keys, err, out)
	}
}

// Type types text as it is.
func (tm *Session) Type(text string) {
	tm.t.Helper()
	if out, err := tm.run("send-keys", "-t", tm.name, "-l", text); err != nil {
		tm.t.Fatalf("send-keys -l %q: %v\n%s", text, err, out)
	}
}

// Capture returns the screen.
func (tm *Session) Capture() string { return tm.capture("capture-pane", "-p", "-t", tm.name) }

// History returns everything the terminal showed, scrolled off or not.
func (tm *Session) History() string {
	return tm.capture("capture-pane", "-p", "-S", "-", "-E", "-", "-t", tm.name)
}

func (tm *Session) capture(args ...string) string {
	tm.t.Helper()
	out, err := tm.run(args...)
	if err != nil {
		tm.t.Fatalf("capture-pane: %v\n%s", err, out)
	}
	return out
}

// WaitTime bounds every wait for the screen.
var WaitTime = 30 * time.Second

// WaitFor polls the screen until ok says it shows what, and returns it.
func (tm *Session) WaitFor(what string, ok func(screen string) bool) string {
	tm.t.Helper()
	return tm.wait(what, tm.Capture, ok)
}

// WaitForHistory is WaitFor over the whole history.
func (tm *Session) WaitForHistory(what string, ok func(history string) bool) string {
	tm.t.Helper()
	return tm.wait(what, tm.History, ok)
}

func (tm *Session) wait(what string, read func() string, ok func(string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(WaitTime)
	for {
		screen := read()
		if ok(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen did not show %s within %v:\n%s", what, WaitTime, screen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitEnded polls until the program has ended.
func (tm *Session) WaitEnded() {
	tm.t.Helper()
	deadline := time.Now().Add(WaitTime)
	for {
		if out, err := tm.run("display-message", "-p", "-t", tm.name, "#{pane_dead}"); err != nil || strings.TrimSpace(out) == "1" {
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the program did not end within %v:\n%s", WaitTime, tm.Capture())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
