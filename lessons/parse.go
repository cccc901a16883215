package lessons

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kubewire/kubewire/tracer/filter"
)

// Error is a mistake in a lesson file: FILE:LINE: what is wrong.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

var namePattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Parse reads one lesson file; file names it in errors.
func Parse(file string, data []byte) (*Lesson, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Msg: "a lesson file holds one lesson: remove the second document (after ---)"}
	}
	p := &parser{file: file}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	l := &Lesson{File: file}
	err := p.mapping(root, "", map[string]func(*yaml.Node) error{
		"name":          func(v *yaml.Node) error { return p.str(v, "name", &l.Name) },
		"title":         func(v *yaml.Node) error { return p.str(v, "title", &l.Title) },
		"goal":          func(v *yaml.Node) error { return p.str(v, "goal", &l.Goal) },
		"prerequisites": func(v *yaml.Node) error { return p.strs(v, "prerequisites", &l.Prerequisites) },
		"setup":         func(v *yaml.Node) error { return p.commands(v, "setup", &l.Setup) },
		"cleanup":       func(v *yaml.Node) error { return p.commands(v, "cleanup", &l.Cleanup) },
		"steps":         func(v *yaml.Node) error { return p.steps(v, &l.Steps) },
	}, "name", "title", "goal", "steps")
	if err != nil {
		return nil, err
	}
	if !namePattern.MatchString(l.Name) {
		return nil, p.errf(p.keyLine(root, "name"), "name: %q: use lowercase letters, digits and '-' (it is typed on the command line)", l.Name)
	}
	return l, nil
}

// yamlError turns yaml's "yaml: line N: msg" into FILE:N: msg.
func yamlError(file string, err error) error {
	msg := err.Error()
	var line int
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if n, _ := fmt.Sscanf(rest, "%d:", &line); n == 1 {
			_, msg, _ = strings.Cut(rest, ": ")
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if errors.Is(err, io.EOF) {
		return &Error{File: file, Msg: "the file is empty: a lesson needs name, title, goal and steps"}
	}
	// yaml names the line where the construct it could not finish began.
	return &Error{File: file, Line: line, Msg: "not valid YAML from here: " + msg}
}

type parser struct {
	file string
}

func (p *parser) errf(line int, format string, args ...any) error {
	return &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) keyLine(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1].Line
		}
	}
	return m.Line
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}

// mapping walks a map's keys; where prefixes messages ("step 2: ").
func (p *parser) mapping(n *yaml.Node, where string, fields map[string]func(*yaml.Node) error, required ...string) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n.Line, "%swant a map of %s, got %s", where, strings.Join(slices.Sorted(maps.Keys(fields)), ", "), kindName(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := fields[k.Value]
		if !ok {
			hint := ""
			if s := filter.Suggest(k.Value, slices.Sorted(maps.Keys(fields))); s != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", s)
			}
			return p.errf(k.Line, "%sunknown key %q%s; want one of %s", where, k.Value, hint, strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
		}
		if seen[k.Value] {
			return p.errf(k.Line, "%s%s is given twice", where, k.Value)
		}
		seen[k.Value] = true
		if err := f(v); err != nil {
			var le *Error
			if errors.As(err, &le) {
				if where != "" && !strings.HasPrefix(le.Msg, where) {
					le.Msg = where + le.Msg
				}
				return le
			}
			return p.errf(v.Line, "%s%s: %v", where, k.Value, err)
		}
	}
	for _, r := range required {
		if !seen[r] {
			return p.errf(n.Line, "%s%s is missing", where, r)
		}
	}
	return nil
}

func (p *parser) str(v *yaml.Node, key string, dst *string) error {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return p.errf(v.Line, "%s: want text, got %s", key, kindName(v))
	}
	s := strings.TrimSpace(v.Value)
	if s == "" {
		return p.errf(v.Line, "%s is empty", key)
	}
	*dst = s
	return nil
}

func (p *parser) boolean(v *yaml.Node, key string, dst *bool) error {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		return p.errf(v.Line, "%s: want true or false, got %s", key, kindName(v))
	}
	return v.Decode(dst)
}

func (p *parser) strs(v *yaml.Node, key string, dst *[]string) error {
	if v.Kind != yaml.SequenceNode {
		return p.errf(v.Line, "%s: want a list, got %s", key, kindName(v))
	}
	for i, e := range v.Content {
		var s string
		if err := p.str(e, fmt.Sprintf("%s item %d", key, i+1), &s); err != nil {
			return err
		}
		*dst = append(*dst, s)
	}
	return nil
}

func (p *parser) commands(v *yaml.Node, key string, dst *[]Command) error {
	if v.Kind != yaml.SequenceNode {
		return p.errf(v.Line, "%s: want a list of commands, got %s", key, kindName(v))
	}
	for i, e := range v.Content {
		where := fmt.Sprintf("%s command %d: ", key, i+1)
		c := Command{Line: e.Line}
		if e.Kind == yaml.ScalarNode {
			if err := p.str(e, strings.TrimSuffix(where, ": "), &c.Cmd); err != nil {
				return err
			}
		} else {
			err := p.mapping(e, where, map[string]func(*yaml.Node) error{
				"cmd":        func(v *yaml.Node) error { return p.str(v, "cmd", &c.Cmd) },
				"background": func(v *yaml.Node) error { return p.boolean(v, "background", &c.Background) },
				"fails":      func(v *yaml.Node) error { return p.boolean(v, "fails", &c.Fails) },
				"timeout": func(v *yaml.Node) error {
					d, err := time.ParseDuration(v.Value)
					if v.Kind != yaml.ScalarNode || err != nil || d <= 0 {
						return p.errf(v.Line, "timeout: want a duration such as 5s, got %s", kindName(v))
					}
					c.Timeout = d
					return nil
				},
			}, "cmd")
			if err != nil {
				return err
			}
		}
		*dst = append(*dst, c)
	}
	return nil
}

func (p *parser) steps(v *yaml.Node, dst *[]Step) error {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		return p.errf(v.Line, "steps: want a list of at least one step, got %s", kindName(v))
	}
	for i, e := range v.Content {
		where := fmt.Sprintf("step %d: ", i+1)
		s := Step{Line: e.Line}
		err := p.mapping(e, where, map[string]func(*yaml.Node) error{
			"title":  func(v *yaml.Node) error { return p.str(v, "title", &s.Title) },
			"text":   func(v *yaml.Node) error { return p.str(v, "text", &s.Text) },
			"task":   func(v *yaml.Node) error { return p.str(v, "task", &s.Task) },
			"look":   func(v *yaml.Node) error { return p.str(v, "look", &s.Look) },
			"run":    func(v *yaml.Node) error { return p.commands(v, "run", &s.Run) },
			"checks": func(v *yaml.Node) error { return p.checks(v, &s.Checks) },
			"quiz":   func(v *yaml.Node) error { return p.quiz(v, &s.Quiz) },
		}, "title", "text", "run")
		if err != nil {
			return err
		}
		if len(s.Run) == 0 {
			return p.errf(p.keyLine(e, "run"), "%srun: want at least one command", where)
		}
		if !slices.ContainsFunc(s.Run, func(c Command) bool { return !c.Background }) {
			return p.errf(p.keyLine(e, "run"), "%srun: every command is in the background; the step needs one to wait for", where)
		}
		*dst = append(*dst, s)
	}
	return nil
}

func (p *parser) checks(v *yaml.Node, dst *[]Check) error {
	if v.Kind != yaml.SequenceNode {
		return p.errf(v.Line, "checks: want a list, got %s", kindName(v))
	}
	for i, e := range v.Content {
		where := fmt.Sprintf("check %d: ", i+1)
		c := Check{Line: e.Line}
		var exprNode *yaml.Node
		err := p.mapping(e, where, map[string]func(*yaml.Node) error{
			"expect": func(v *yaml.Node) error { exprNode = v; return p.str(v, "expect", &c.Expect) },
			"absent": func(v *yaml.Node) error { return p.boolean(v, "absent", &c.Absent) },
			"hint":   func(v *yaml.Node) error { return p.str(v, "hint", &c.Hint) },
		}, "expect", "hint")
		if err != nil {
			return err
		}
		f, err := filter.Parse(c.Expect)
		if err != nil {
			msg := err.Error()
			var se *filter.SyntaxError
			if errors.As(err, &se) {
				msg = se.Error() + "\n" + indent(se.Caret(), "    ")
			}
			return p.errf(exprNode.Line, "%sexpect: %s", where, msg)
		}
		c.filter = f
		*dst = append(*dst, c)
	}
	return nil
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = by + lines[i]
	}
	return strings.Join(lines, "\n")
}

func (p *parser) quiz(v *yaml.Node, dst *[]Question) error {
	if v.Kind != yaml.SequenceNode {
		return p.errf(v.Line, "quiz: want a list of questions, got %s", kindName(v))
	}
	for i, e := range v.Content {
		where := fmt.Sprintf("quiz %d: ", i+1)
		var q Question
		var answer *yaml.Node
		err := p.mapping(e, where, map[string]func(*yaml.Node) error{
			"question": func(v *yaml.Node) error { return p.str(v, "question", &q.Question) },
			"choices":  func(v *yaml.Node) error { return p.strs(v, "choices", &q.Choices) },
			"answer":   func(v *yaml.Node) error { answer = v; return p.str(v, "answer", &q.Answer) },
			"explain":  func(v *yaml.Node) error { return p.str(v, "explain", &q.Explain) },
		}, "question", "choices", "answer", "explain")
		if err != nil {
			return err
		}
		if len(q.Choices) < 2 {
			return p.errf(p.keyLine(e, "choices"), "%schoices: want two or more", where)
		}
		if !slices.Contains(q.Choices, q.Answer) {
			return p.errf(answer.Line, "%sanswer %q is not one of the choices (%s)", where, q.Answer, strings.Join(q.Choices, ", "))
		}
		*dst = append(*dst, q)
	}
	return nil
}
