package tutor

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubewire/kubewire/lessons"
	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/live"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// labOptions trace the test's lab, with its kubectl.
func labOptions(t *testing.T) live.Options {
	l := labtest.Lab(t)
	return live.Options{Kubeconfig: l.Kubeconfig, PathDir: l.BinDir, AuditLog: l.AuditLog, MaxBody: -1, CADir: t.TempDir()}
}

// testLesson is the lesson of that name in testdata.
func testLesson(t *testing.T, name string) *lessons.Lesson {
	t.Helper()
	cat, err := lessons.Load("testdata")
	if err != nil {
		t.Fatal(err)
	}
	l, err := cat.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// testProgress is empty progress in a file of the test's own.
func testProgress(t *testing.T) *lessons.Progress {
	t.Helper()
	p, err := lessons.LoadProgress(filepath.Join(t.TempDir(), "lessons.json"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// labBackend traces the test's lab, closed when the test ends.
func labBackend(t *testing.T) *Backend {
	b := Live(labOptions(t))
	t.Cleanup(b.Close)
	return b
}

// Every bundled lesson passes its own checks live on the lab, and
// offline from its recording, with the lab's kubectl.
func TestBundledLessons(t *testing.T) {
	cat, err := lessons.Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range cat.Lessons {
		t.Run(l.Name+"/live", func(t *testing.T) {
			var out strings.Builder
			b := labBackend(t)
			rep, err := Check(context.Background(), l, b, &out, io.Discard)
			if err != nil || !rep.Passed() {
				t.Errorf("live: %v\n%s", err, out.String())
			}
		})
		t.Run(l.Name+"/offline", func(t *testing.T) {
			o := labOptions(t)
			o.Kubeconfig, o.AuditLog = "", ""
			b, err := Offline(l, o)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			var out strings.Builder
			rep, err := Check(context.Background(), l, b, &out, io.Discard)
			if err != nil || !rep.Passed() {
				t.Errorf("offline: %v\n%s", err, out.String())
			}
		})
	}
}

// A learner who runs the wrong command gets the check's hint, not a
// pass; the right one then passes, the quiz is asked and the progress
// says done.
func TestWrongCommandGetsTheHint(t *testing.T) {
	l := testLesson(t, "namespaces-test")
	p := testProgress(t)
	b := labBackend(t)
	var out strings.Builder
	in := strings.NewReader("kubectl get pods -n shop\n\nkubectl get namespaces\n2\n")
	err := Start(context.Background(), Config{Lesson: l, Backend: b, Progress: p,
		In: in, Out: &out, View: render.Options{Width: 100}})
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	wrong, right, ok := strings.Cut(text, "kubectl get namespaces lists them.")
	if !ok {
		t.Fatalf("the wrong command got no hint:\n%s", text)
	}
	for _, want := range []string{"✗ no call matches verb=list resource=namespaces", "✗ no call may match verb=list resource=pods, but 1 did", "hint: Pods are not namespaces."} {
		if !strings.Contains(wrong+right, want) {
			t.Errorf("after the wrong command, no %q:\n%s", want, text)
		}
	}
	if !strings.Contains(right, "write the command yourself") {
		t.Errorf("Enter on a task did not ask for a command:\n%s", right)
	}
	for _, want := range []string{"✓ verb=list resource=namespaces (1 call)", "✓ no call matches verb=list resource=pods", "Question: Is a Namespace namespaced?", "✓ right", "Lesson namespaces-test complete."} {
		if !strings.Contains(right, want) {
			t.Errorf("after the right command, no %q:\n%s", want, right)
		}
	}
	if s := p.Of(l.Name); !s.Done || len(s.Passed) != 1 {
		t.Errorf("progress %+v, want done with step 1 passed", s)
	}
}

// --auto --present runs the lesson's own commands, one Enter per step
// and per call, each call with its journey, and answers the quiz itself.
func TestPresentAuto(t *testing.T) {
	l := testLesson(t, "namespaces-test")
	b := labBackend(t)
	var out strings.Builder
	err := Start(context.Background(), Config{Lesson: l, Backend: b, Auto: true, Present: true,
		In: strings.NewReader(strings.Repeat("\n", 20)), Out: &out, View: render.Options{Width: 100}})
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"▸ Enter runs the step's command",
		"$ kubectl get namespaces",
		"▸ Enter for call 2 of",
		"client → authn ✓",
		"✓ verb=list resource=namespaces (1 call)",
		"answer: no",
		"Lesson namespaces-test complete.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "your answer") {
		t.Errorf("--auto asked the quiz:\n%s", text)
	}
}

// A learner who stops once a step passed resumes at the next step, and
// is told so.
func TestStopAfterAPassedStep(t *testing.T) {
	l := testLesson(t, "two-steps-test")
	p := testProgress(t)
	b := labBackend(t)
	var out strings.Builder
	err := Start(context.Background(), Config{Lesson: l, Backend: b, Progress: p,
		In: strings.NewReader("\nq\n"), Out: &out, View: render.Options{Width: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Of(l.Name); s.Step != 2 || s.Done {
		t.Errorf("progress %+v, want at step 2", s)
	}
	if !strings.Contains(out.String(), "stopped at step 2 of 2; 'kubewire lesson start two-steps-test' resumes here") {
		t.Errorf("no resume message for step 2:\n%s", out.String())
	}
}
