package lessons

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubewire/kubewire/tracer/record"
)

// A broken lesson file is refused with FILE:LINE and what is wrong.
func TestBrokenLessonsNameTheirLine(t *testing.T) {
	for _, tc := range []struct {
		file string
		want string
	}{
		{"unknown-key.yaml", `unknown-key.yaml:8: step 1: unknown key "chekcs" (did you mean checks?)`},
		{"bad-filter.yaml", `bad-filter.yaml:13: step 2: check 1: expect: filter: unknown field "usr"`},
		{"no-run.yaml", "no-run.yaml:5: step 1: run is missing"},
		{"bad-answer.yaml", `bad-answer.yaml:11: step 1: quiz 1: answer "watch" is not one of the choices (get, list)`},
		{"bad-timeout.yaml", `bad-timeout.yaml:9: step 1: run command 1: timeout: want a duration such as 5s, got "soon"`},
		{"bad-yaml.yaml", "bad-yaml.yaml:5: not valid YAML from here: did not find expected ',' or ']'"},
		{"bad-name.yaml", `bad-name.yaml:1: name: "My Lesson": use lowercase letters`},
		{"missing-hint.yaml", "missing-hint.yaml:9: step 1: check 1: hint is missing"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "broken", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			l, err := Parse(tc.file, data)
			if err == nil {
				t.Fatalf("parsed as %+v, want an error", l)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n  %s\nwant it to start with\n  %s", err, tc.want)
			}
		})
	}
}

// A filter's mistake is shown with a caret under the offending token.
func TestBadFilterShowsCaret(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "broken", "bad-filter.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("bad-filter.yaml", data)
	if err == nil || !strings.Contains(err.Error(), "    verb=list usr=alice\n              ^") {
		t.Errorf("error %v, want the expression with a caret under usr", err)
	}
}

// A directory's lesson of a bundled lesson's name takes its place; a
// broken one stops the load with its file and line.
func TestLoadDir(t *testing.T) {
	bundled, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(bundled.Lessons) == 0 {
		t.Fatal("no bundled lessons")
	}
	first := bundled.Lessons[0]
	dir := t.TempDir()
	own := "name: " + first.Name + "\ntitle: Mine\ngoal: Mine.\nprerequisites: [a terminal]\nsteps:\n  - title: One\n    text: Run it.\n    run: [kubectl get ns]\n"
	if err := os.WriteFile(filepath.Join(dir, "mine.yaml"), []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.Get(first.Name)
	if err != nil {
		t.Fatal(err)
	}
	if l.Title != "Mine" || l.Bundled || c.Index(l) != 1 || len(c.Lessons) != len(bundled.Lessons) {
		t.Errorf("the directory's %s is %q (bundled %v) at %d of %d, want Mine in the first place of %d", first.Name, l.Title, l.Bundled, c.Index(l), len(c.Lessons), len(bundled.Lessons))
	}
	if l.HasRecording() {
		t.Error("a directory's lesson without recordings/NAME.jsonl has a recording")
	}
	bad := strings.Replace(own, "prerequisites: [a terminal]", "prerequisites: [no-such-lesson]", 1)
	if err := os.WriteFile(filepath.Join(dir, "mine.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `mine.yaml: prerequisites: no lesson is named "no-such-lesson"`) {
		t.Errorf("a prerequisite naming no lesson loads with error %v", err)
	}
	if _, err := c.Get("rbca"); err == nil || (c.find("rbac") != nil && !strings.Contains(err.Error(), "did you mean rbac?")) {
		t.Errorf("Get(rbca): %v", err)
	}
}

// Every bundled lesson loads and has a recording, so it works offline.
func TestBundledLessonsHaveRecordings(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range c.Lessons {
		if !l.HasRecording() {
			t.Errorf("lesson %s (%s) has no recording: make lesson-recordings", l.Name, l.File)
			continue
		}
		data, name, err := l.Recording()
		if err != nil || len(data) == 0 || name != filepath.Join("lessons", "recordings", l.Name+".jsonl") {
			t.Errorf("lesson %s: recording %s, %d bytes, %v", l.Name, name, len(data), err)
			continue
		}
		rec, err := record.ReadAll(bytes.NewReader(data), name)
		if err != nil || len(rec.Warnings) > 0 {
			t.Errorf("%s: %v %v", name, err, rec.Warnings)
			continue
		}
		if h := rec.Header; h.Secrets != record.SecretsRedacted || !strings.HasPrefix(h.Source.Server, "https://127.0.0.1:") {
			t.Errorf("%s: secrets %q, server %q; want redacted, from a loopback lab", name, h.Secrets, h.Source.Server)
		}
		for _, leak := range []string{"-----BEGIN EC PRIVATE KEY", "-----BEGIN RSA PRIVATE KEY", "-----BEGIN PRIVATE KEY", "kubewire-session-", `"Bearer ey`} {
			if bytes.Contains(data, []byte(leak)) {
				t.Errorf("%s holds %q", name, leak)
			}
		}
	}
}
