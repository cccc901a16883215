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

	"github.com/kubewire/kubewire/render/termtest"
)

// TestTerminal runs the real kubewire binary on a real terminal, tmux's,
// and reads the screen as a person would see it: replay -i --sample at
// 80×24 and at 160×48, then the flags' usage errors without a terminal.
func TestTerminal(t *testing.T) {
	termtest.Tmux(t)
	bin := filepath.Join(t.TempDir(), "kubewire")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/kubewire/kubewire/cmd/kubewire").CombinedOutput(); err != nil {
		t.Fatalf("build kubewire: %v\n%s", err, out)
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 48}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			stepThroughSample(t, termtest.New(t, size.w, size.h, termtest.ShellQuote(bin)+" replay -i --sample"))
		})
	}
	t.Run("usage", func(t *testing.T) { usage(t, bin) })
}

// stepThroughSample filters the sample's errors and finds the intern's
// denial, with its journey; q ends the program.
func stepThroughSample(t *testing.T, tm *termtest.Session) {
	tm.WaitFor("the list", func(s string) bool {
		return strings.Contains(s, "> #1  +0.000s  GET→get  /api") && strings.Contains(s, "call 1 of 37")
	})
	tm.Keys("j")
	tm.WaitFor("#2 selected", func(s string) bool { return strings.Contains(s, "> #2  +") })
	tm.Keys("/")
	tm.WaitFor("the filter input", func(s string) bool { return strings.Contains(s, "enter apply") })
	tm.Type("status>=400")
	tm.Keys("Enter")
	screen := tm.WaitFor("the errors", func(s string) bool { return strings.Contains(s, "call 1 of 6 (37 in all)") })
	if got := listedOn(screen); !slices.Equal(got, errorCalls) {
		t.Errorf("filtered on status>=400 the list is %v, want %v:\n%s", got, errorCalls, screen)
	}
	tm.Keys("j", "j")
	screen = tm.WaitFor("the denial", func(s string) bool { return strings.Contains(s, "call 3 of 6") })
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
	tm.Keys("q")
	tm.WaitEnded()
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
