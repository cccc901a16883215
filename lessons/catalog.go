package lessons

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/kubewire/kubewire/tracer/filter"
)

// bundled holds the lessons shipped with kubewire, NN-name.yaml in
// course order, and their recordings.
//
//go:embed *.yaml recordings
var bundled embed.FS

// Catalog is the lessons on offer, in course order: the bundled ones
// (ordered by file name), then those loaded from a directory. A lesson
// from a directory replaces a bundled one of the same name, in its place.
type Catalog struct {
	Lessons []*Lesson
}

// Load reads the bundled lessons and, when dir is not "", every *.yaml
// in dir.
func Load(dir string) (*Catalog, error) {
	c := &Catalog{}
	if err := c.add(bundled, ".", "lessons", true); err != nil {
		return nil, err
	}
	if dir != "" {
		if st, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("--dir: %w", err)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("--dir %s: not a directory", dir)
		}
		if err := c.add(os.DirFS(dir), ".", dir, false); err != nil {
			return nil, err
		}
	}
	for _, l := range c.Lessons {
		for _, p := range l.Prerequisites {
			// Lowercase-with-dashes names a lesson; anything else is
			// plain text ("a terminal", "Go 1.25").
			if namePattern.MatchString(p) && c.find(p) == nil {
				return nil, &Error{File: l.File, Msg: fmt.Sprintf("prerequisites: no lesson is named %q%s", p, c.hint(p))}
			}
		}
	}
	return c, nil
}

func (c *Catalog) add(fsys fs.FS, dir, shown string, isBundled bool) error {
	files, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	seen := map[string]string{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return err
		}
		name := filepath.Join(shown, path.Base(f))
		l, err := Parse(name, data)
		if err != nil {
			return err
		}
		if other, ok := seen[l.Name]; ok {
			return &Error{File: name, Msg: fmt.Sprintf("name %q is also the name of %s", l.Name, other)}
		}
		seen[l.Name] = name
		l.Bundled = isBundled
		rec := path.Join(dir, "recordings", l.Name+".jsonl")
		if _, err := fs.Stat(fsys, rec); err == nil {
			l.recording = func() ([]byte, error) { return fs.ReadFile(fsys, rec) }
			l.recordingName = filepath.Join(shown, "recordings", l.Name+".jsonl")
		}
		if old := c.find(l.Name); old != nil {
			*old = *l
			continue
		}
		c.Lessons = append(c.Lessons, l)
	}
	return nil
}

func (c *Catalog) find(name string) *Lesson {
	for _, l := range c.Lessons {
		if l.Name == name {
			return l
		}
	}
	return nil
}

func (c *Catalog) names() []string {
	names := make([]string, len(c.Lessons))
	for i, l := range c.Lessons {
		names[i] = l.Name
	}
	return names
}

func (c *Catalog) hint(name string) string {
	if s := filter.Suggest(name, c.names()); s != "" {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return ""
}

// Get returns the lesson of that name.
func (c *Catalog) Get(name string) (*Lesson, error) {
	if l := c.find(name); l != nil {
		return l, nil
	}
	return nil, fmt.Errorf("no lesson is named %q%s; 'kubewire lesson list' shows them", name, c.hint(name))
}

// Index returns the lesson's place in the course, from 1.
func (c *Catalog) Index(l *Lesson) int {
	for i, m := range c.Lessons {
		if m == l {
			return i + 1
		}
	}
	return 0
}
