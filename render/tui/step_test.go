package tui

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/filter"
)

// callLine is the first line of a call as the replay prints it.
var callLine = regexp.MustCompile(`(?m)^#(\d+)  \+\d`)

// numbers are the calls out shows, in order.
func numbers(out string) []string {
	var n []string
	for _, m := range callLine.FindAllStringSubmatch(out, -1) {
		n = append(n, "#"+m[1])
	}
	return n
}

func sampleCalls(t *testing.T) []*render.Call {
	t.Helper()
	calls, err := Calls(sampleSource(t), false)
	if err != nil {
		t.Fatal(err)
	}
	return calls
}

// Enter shows the next call, q then Enter quits: two Enters and a q are
// three calls, each exactly as the replay renders it.
func TestStep(t *testing.T) {
	calls := sampleCalls(t)
	o := render.Options{Detail: render.LevelJourney, Width: 80}
	var out bytes.Buffer
	if err := Step(strings.NewReader("\n\nq\n"), &out, calls, o); err != nil {
		t.Fatal(err)
	}
	if got := numbers(out.String()); strings.Join(got, " ") != "#1 #2 #3" {
		t.Errorf("Step showed %v, want #1 #2 #3:\n%s", got, out.String())
	}
	want := calls[0].Render(o) + "-- 1 of 37: Enter for the next, q then Enter to quit --\n" +
		calls[1].Render(o) + "-- 2 of 37: Enter for the next, q then Enter to quit --\n" +
		calls[2].Render(o) + "-- 3 of 37: Enter for the next, q then Enter to quit --\n"
	if out.String() != want {
		t.Errorf("Step wrote\n%s\nwant\n%s", out.String(), want)
	}
	if !strings.Contains(out.String(), "client → authn ✓") {
		t.Error("Step did not show the journey")
	}
}

// The end of the input quits, like q.
func TestStepEOF(t *testing.T) {
	var out bytes.Buffer
	if err := Step(strings.NewReader("\n"), &out, sampleCalls(t), render.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := numbers(out.String()); strings.Join(got, " ") != "#1 #2" {
		t.Errorf("Step showed %v, want #1 #2", got)
	}
}

// With a filter only its calls are shown, numbered as in the whole
// replay, and the last says it is the end.
func TestStepFilter(t *testing.T) {
	f, err := filter.Parse("denied")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Step(strings.NewReader("\n\n\n\n"), &out, sampleCalls(t), render.Options{Show: f.Match}); err != nil {
		t.Fatal(err)
	}
	if got := numbers(out.String()); strings.Join(got, " ") != "#24 #29" {
		t.Errorf("Step showed %v, want #24 #29", got)
	}
	if !strings.HasSuffix(out.String(), "-- end: 2 of 2 --\n") {
		t.Errorf("Step did not end with the end:\n%s", out.String())
	}

	out.Reset()
	none, _ := filter.Parse("status=500")
	if err := Step(strings.NewReader(""), &out, sampleCalls(t), render.Options{Show: none.Match}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "no call matches the filter\n" {
		t.Errorf("Step with no call to show wrote %q", out.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// A write error stops the stepping and is returned.
func TestStepWriteError(t *testing.T) {
	err := Step(strings.NewReader("\n"), failingWriter{}, sampleCalls(t), render.Options{})
	if err == nil || !strings.Contains(err.Error(), "write output: disk full") {
		t.Errorf("Step returned %v, want the write error", err)
	}
}
