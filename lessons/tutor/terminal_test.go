package tutor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kubewire/kubewire/lessons"
	"github.com/kubewire/kubewire/render/termtest"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
)

// TestLearnerAtTheTerminal is a learner at a real terminal (tmux's), live
// on the lab: lesson rest from start to end, then lesson rbac stopped at
// its third step and resumed there the next time, to its end.
func TestLearnerAtTheTerminal(t *testing.T) {
	termtest.Tmux(t)
	bin := filepath.Join(t.TempDir(), "kubewire")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/kubewire/kubewire/cmd/kubewire").CombinedOutput(); err != nil {
		t.Fatalf("build kubewire: %v\n%s", err, out)
	}
	cat, err := lessons.Load("")
	if err != nil {
		t.Fatal(err)
	}
	lb := labtest.Lab(t)
	state := filepath.Join(t.TempDir(), "lessons.json")
	start := func(name string) *termtest.Session {
		command := fmt.Sprintf("env KUBEWIRE_LESSON_STATE=%s XDG_CONFIG_HOME=%s PATH=%s %s lesson start %s --kubeconfig %s",
			termtest.ShellQuote(state), termtest.ShellQuote(t.TempDir()), termtest.ShellQuote(lb.BinDir+string(os.PathListSeparator)+os.Getenv("PATH")),
			termtest.ShellQuote(bin), name, termtest.ShellQuote(lb.Kubeconfig))
		return termtest.New(t, 160, 48, command)
	}
	old := termtest.WaitTime
	termtest.WaitTime = 2 * time.Minute
	t.Cleanup(func() { termtest.WaitTime = old })

	rest, err := cat.Get("rest")
	if err != nil {
		t.Fatal(err)
	}
	tm := start("rest")
	learn(t, tm, rest, 0)
	tm.WaitForHistory("the end of lesson rest", func(h string) bool { return strings.Contains(h, "Lesson rest complete.") })
	tm.WaitEnded()

	rbac, err := cat.Get("rbac")
	if err != nil {
		t.Fatal(err)
	}
	if len(rbac.Steps) < 4 {
		t.Fatalf("lesson rbac has %d steps; the test stops at the third and resumes", len(rbac.Steps))
	}
	tm = start("rbac")
	learn(t, tm, rbac, 3)
	tm.WaitForHistory("the stop", func(h string) bool {
		return strings.Contains(h, fmt.Sprintf("stopped at step 3 of %d; 'kubewire lesson start rbac' resumes here", len(rbac.Steps)))
	})
	tm.WaitEnded()
	tm = start("rbac")
	tm.WaitForHistory("the resumption", func(h string) bool {
		return strings.Contains(h, fmt.Sprintf("resuming at step 3 of %d", len(rbac.Steps))) && strings.Contains(h, "Step 3 of")
	})
	history := learn(t, tm, rbac, 0)
	if strings.Contains(history, "Step 1 of") {
		t.Errorf("the resumed lesson showed step 1 again:\n%s", history)
	}
	tm.WaitForHistory("the end of lesson rbac", func(h string) bool { return strings.Contains(h, "Lesson rbac complete.") })
	tm.WaitEnded()
}

var (
	stepLine     = regexp.MustCompile(`Step (\d+) of \d+`)
	questionLine = regexp.MustCompile(`Question: (.+)`)
)

// learn answers a lesson's prompts as a learner who follows it: Enter to
// run a step's command, the model answer typed for a task, the right
// answer to every question. At the first prompt of step stop (0: never)
// it types q. It returns the screen's history once the lesson ended.
func learn(t *testing.T, tm *termtest.Session, l *lessons.Lesson, stop int) string {
	t.Helper()
	answered := 0
	for {
		var prompts []int // line index of each prompt
		var lines []string
		history := tm.WaitForHistory(fmt.Sprintf("prompt %d of lesson %s", answered+1, l.Name), func(h string) bool {
			lines = strings.Split(h, "\n")
			prompts = prompts[:0]
			for i, line := range lines {
				if strings.Contains(line, "▸ ") {
					prompts = append(prompts, i)
				}
			}
			return len(prompts) > answered || strings.Contains(h, "complete.") || strings.Contains(h, "stopped at step")
		})
		if len(prompts) <= answered {
			return history
		}
		at := prompts[answered]
		prompt := lines[at]
		step, question := 0, ""
		for i := at; i >= 0; i-- {
			if m := stepLine.FindStringSubmatch(lines[i]); m != nil && step == 0 {
				step, _ = strconv.Atoi(m[1])
			}
			if m := questionLine.FindStringSubmatch(lines[i]); m != nil && question == "" && step == 0 {
				question = strings.TrimSpace(m[1])
			}
		}
		if step == 0 {
			t.Fatalf("prompt %q comes before any step:\n%s", prompt, history)
		}
		if strings.Contains(history, "Try again") {
			t.Fatalf("lesson %s: the lesson's own command failed a check:\n%s", l.Name, history)
		}
		s := l.Steps[step-1]
		answered++
		switch {
		case strings.Contains(prompt, "Enter runs it"), strings.Contains(prompt, "type your command"):
			if step == stop {
				tm.Type("q")
				tm.Keys("Enter")
				continue
			}
			if s.Task != "" {
				var cmds []string
				for _, c := range s.Run {
					cmds = append(cmds, c.Cmd)
				}
				tm.Type(strings.Join(cmds, "; "))
			}
			tm.Keys("Enter")
		case strings.Contains(prompt, "your answer"):
			n := 0
			for _, q := range s.Quiz {
				if q.Question == question {
					for i, c := range q.Choices {
						if c == q.Answer {
							n = i + 1
						}
					}
				}
			}
			if n == 0 {
				t.Fatalf("step %d: no question %q in the lesson", step, question)
			}
			tm.Type(strconv.Itoa(n))
			tm.Keys("Enter")
		case strings.Contains(prompt, "Enter for the next step"):
			tm.Keys("Enter")
		default:
			t.Fatalf("unexpected prompt %q", prompt)
		}
	}
}
