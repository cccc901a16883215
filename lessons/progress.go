package lessons

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/kubewire/kubewire/tracer/atomicfile"
)

// Progress is where a learner is in each lesson, kept in a JSON file.
type Progress struct {
	path string
	// Lessons maps a lesson's name to its state.
	Lessons map[string]*State `json:"lessons"`
}

// State is one lesson's progress.
type State struct {
	// Step is the step to do next, from 1.
	Step int `json:"step"`
	// Passed are the steps whose checks passed.
	Passed []int `json:"passed,omitempty"`
	// Skipped are the steps the learner skipped.
	Skipped []int `json:"skipped,omitempty"`
	// Done is set once the last step is behind the learner.
	Done bool `json:"done,omitempty"`
	// Updated is when the state last changed.
	Updated time.Time `json:"updated"`
}

// ProgressPath is the progress file: $KUBEWIRE_LESSON_STATE, else
// kubewire/lessons.json in the user's config directory.
func ProgressPath() (string, error) {
	if p := os.Getenv("KUBEWIRE_LESSON_STATE"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("where to keep lesson progress: %w (set KUBEWIRE_LESSON_STATE to a file)", err)
	}
	return filepath.Join(dir, "kubewire", "lessons.json"), nil
}

// OpenProgress loads the progress file at ProgressPath.
func OpenProgress() (*Progress, error) {
	path, err := ProgressPath()
	if err != nil {
		return nil, err
	}
	return LoadProgress(path)
}

// LoadProgress reads the progress file; a missing one is empty progress.
func LoadProgress(path string) (*Progress, error) {
	p := &Progress{path: path, Lessons: map[string]*State{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lesson progress: %w", err)
	}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("lesson progress %s: %v (delete it, or set KUBEWIRE_LESSON_STATE to another file, to start afresh)", path, err)
	}
	if p.Lessons == nil {
		p.Lessons = map[string]*State{}
	}
	return p, nil
}

// Of returns the lesson's state; a lesson never started is at step 1.
func (p *Progress) Of(name string) State {
	if s, ok := p.Lessons[name]; ok && s.Step >= 1 {
		return *s
	}
	return State{Step: 1}
}

// At records that the learner is at step n (from 1) of the lesson.
func (p *Progress) At(name string, n int) {
	s := p.Of(name)
	s.Step, s.Updated = n, time.Now().UTC()
	p.Lessons[name] = &s
}

// Pass records that step n passed and moves on to the next; total is
// the lesson's number of steps.
func (p *Progress) Pass(name string, n, total int) { p.leave(name, n, total, false) }

// Skip records that step n was skipped and moves on to the next.
func (p *Progress) Skip(name string, n, total int) { p.leave(name, n, total, true) }

func (p *Progress) leave(name string, n, total int, skipped bool) {
	s := p.Of(name)
	if skipped {
		if !slices.Contains(s.Passed, n) && !slices.Contains(s.Skipped, n) {
			s.Skipped = append(s.Skipped, n)
		}
	} else {
		s.Skipped = slices.DeleteFunc(s.Skipped, func(i int) bool { return i == n })
		if !slices.Contains(s.Passed, n) {
			s.Passed = append(s.Passed, n)
		}
	}
	slices.Sort(s.Passed)
	slices.Sort(s.Skipped)
	s.Step, s.Updated = n+1, time.Now().UTC()
	if s.Step > total {
		s.Step, s.Done = total, true
	}
	p.Lessons[name] = &s
}

// Reset forgets the lesson's progress.
func (p *Progress) Reset(name string) { delete(p.Lessons, name) }

// Save writes the progress file, atomically: a crash leaves the old one.
func (p *Progress) Save() error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p.path), 0o700); err != nil {
		return fmt.Errorf("lesson progress: %w", err)
	}
	if err := atomicfile.WriteFile(p.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("lesson progress: %w", err)
	}
	return nil
}

// Path is the progress file's path.
func (p *Progress) Path() string { return p.path }
