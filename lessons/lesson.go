// Package lessons holds kubewire's classroom walkthroughs: the lesson
// format (YAML, specified in docs/lessons.md), the lessons bundled with
// kubewire and their recordings, the checks a step's calls must pass, and
// a learner's progress. Running a lesson in a terminal is lessons/tutor's
// work; this package never touches a cluster.
package lessons

import (
	"time"

	"github.com/kubewire/kubewire/tracer/filter"
	"github.com/kubewire/kubewire/tracer/record"
)

// Lesson is one walkthrough.
type Lesson struct {
	// Name is what `kubewire lesson start NAME` takes.
	Name string
	// Title is one line.
	Title string
	// Goal says, in Markdown, what the learner will know.
	Goal string
	// Prerequisites are lesson names or plain text.
	Prerequisites []string
	// Setup runs before the first step and when a lesson resumes; Cleanup
	// after the last step and on reset. Their traces are not shown.
	Setup, Cleanup []Command
	// Steps are the lesson's steps, at least one.
	Steps []Step
	// File is where the lesson was read from, for messages: a bundled
	// lesson's is "lessons/NAME.yaml".
	File string
	// Bundled is true for a lesson embedded in kubewire.
	Bundled bool
	// recording opens the lesson's recording; nil when it has none.
	recording func() ([]byte, error)
	// recordingName names it in messages.
	recordingName string
}

// Step is one step of a lesson.
type Step struct {
	// Title is one line.
	Title string
	// Text is the step's prose, in Markdown.
	Text string
	// Task, when set, asks the learner to write the command themselves
	// ("run your own command that …"); Run is then the model answer.
	Task string
	// Run are the step's commands, in order.
	Run []Command
	// Look says, in Markdown, what to look at in the trace.
	Look string
	// Checks are what the step's calls must show.
	Checks []Check
	// Quiz is asked once the checks pass.
	Quiz []Question
	// Line is the step's line in its file.
	Line int
}

// Command is one command of a step, run by sh -c.
type Command struct {
	// Cmd is the shell command.
	Cmd string
	// Timeout stops the command, as Ctrl-C would, after this long; 0 waits.
	Timeout time.Duration
	// Background starts the command and goes on; it is stopped when the
	// step's last foreground command ends.
	Background bool
	// Fails says the command is expected to exit non-zero.
	Fails bool
	// Line is the command's line in its file.
	Line int
}

// Check is what some call of a step must show (or, Absent, none may).
type Check struct {
	// Expect is the filter as written.
	Expect string
	// Absent inverts the check: no call may match.
	Absent bool
	// Hint says what to try when the check fails.
	Hint string
	// Line is the check's line in its file.
	Line int

	filter *filter.Filter
}

// Question is a multiple-choice quiz question.
type Question struct {
	Question string
	Choices  []string
	// Answer is one of Choices, as written.
	Answer  string
	Explain string
}

// Result is how one check fared against a step's calls.
type Result struct {
	Check *Check
	// Matched counts the calls that matched the check's filter.
	Matched int
	// Pass is whether the check holds.
	Pass bool
}

// Evaluate runs the step's checks over the calls its commands made.
// kubewire's own lookups are never seen by a check.
func (s *Step) Evaluate(calls []*record.Exchange) []Result {
	results := make([]Result, len(s.Checks))
	for i := range s.Checks {
		c := &s.Checks[i]
		n := 0
		for _, x := range calls {
			if !x.Own && c.filter.Match(x) {
				n++
			}
		}
		results[i] = Result{Check: c, Matched: n, Pass: (n > 0) != c.Absent}
	}
	return results
}

// Passed reports whether every result passed.
func Passed(results []Result) bool {
	for _, r := range results {
		if !r.Pass {
			return false
		}
	}
	return true
}

// HasRecording reports whether the lesson has a recording to be played
// offline.
func (l *Lesson) HasRecording() bool { return l.recording != nil }

// Recording returns the lesson's recording and the name it goes by in
// messages.
func (l *Lesson) Recording() ([]byte, string, error) {
	if l.recording == nil {
		return nil, "", &NoRecordingError{Lesson: l.Name}
	}
	data, err := l.recording()
	return data, l.recordingName, err
}

// NoRecordingError says a lesson has no recording to play offline.
type NoRecordingError struct{ Lesson string }

func (e *NoRecordingError) Error() string {
	return "lesson " + e.Lesson + " has no recording to play offline; make one from the lab with 'kubewire lesson record " + e.Lesson + "'"
}
