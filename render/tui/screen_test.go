package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/sample"
)

// screen drives the top model as Bubble Tea would, without a terminal:
// each message goes to Update and each command it returns is run to its
// end, its message sent in turn, before the next key. So the work done in
// commands (reading, indexing, filtering, searching) has finished when a
// key returns, with no sleeping.
type screen struct {
	t    *testing.T
	m    tea.Model
	w, h int
	quit bool
}

// sampleConfig is replay -i --sample's: no colour, journey.
func sampleConfig() Config {
	return Config{Name: sample.Name, Options: render.Options{Detail: render.LevelJourney}}
}

// start opens the sample on a w×h screen.
func start(t *testing.T, w, h int, cfg Config) *screen {
	t.Helper()
	s := &screen{t: t, m: newModel(sampleSource(t), cfg)}
	s.resize(w, h)
	s.run(s.m.Init())
	return s
}

func (s *screen) resize(w, h int) {
	s.w, s.h = w, h
	s.send(tea.WindowSizeMsg{Width: w, Height: h})
}

func (s *screen) send(msg tea.Msg) {
	m, cmd := s.m.Update(msg)
	s.m = m
	s.run(cmd)
}

func (s *screen) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			s.run(c)
		}
	case tea.QuitMsg:
		s.quit = true
	default:
		s.send(msg)
	}
}

// press sends keys by name: "j", "G", "enter", "esc", "tab", "ctrl+f"…
func (s *screen) press(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		s.send(keyPress(s.t, k))
	}
}

// typeText types text into the input, one key per character.
func (s *screen) typeText(text string) {
	for _, r := range text {
		s.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyPress(t *testing.T, k string) tea.KeyPressMsg {
	t.Helper()
	named := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "backspace": tea.KeyBackspace,
		"up": tea.KeyUp, "down": tea.KeyDown, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
		"home": tea.KeyHome, "end": tea.KeyEnd,
	}
	if code, ok := named[k]; ok {
		return tea.KeyPressMsg{Code: code}
	}
	if c, ok := strings.CutPrefix(k, "ctrl+"); ok && len(c) == 1 {
		return tea.KeyPressMsg{Code: rune(c[0]), Mod: tea.ModCtrl}
	}
	if r := []rune(k); len(r) == 1 {
		return tea.KeyPressMsg{Code: r[0], Text: k}
	}
	t.Fatalf("no key %q", k)
	return tea.KeyPressMsg{}
}

// view is the screen as text, without styling. It checks the frame: as
// many lines as the screen has, none wider.
func (s *screen) view() string {
	s.t.Helper()
	raw := s.m.View().Content
	text := ansi.Strip(raw)
	lines := strings.Split(text, "\n")
	if len(lines) != s.h {
		s.t.Errorf("the screen has %d lines, want %d:\n%s", len(lines), s.h, text)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > s.w {
			s.t.Errorf("line %d is %d columns wide, more than %d: %q", i+1, w, s.w, l)
		}
	}
	return text
}

// shows fails unless every text is on the screen.
func (s *screen) shows(texts ...string) {
	s.t.Helper()
	v := s.view()
	for _, text := range texts {
		if !strings.Contains(v, text) {
			s.t.Errorf("the screen does not show %q:\n%s", text, v)
		}
	}
}

// hides fails if any text is on the screen.
func (s *screen) hides(texts ...string) {
	s.t.Helper()
	v := s.view()
	for _, text := range texts {
		if strings.Contains(v, text) {
			s.t.Errorf("the screen shows %q:\n%s", text, v)
		}
	}
}

// selected is the selected call's line in the list, without its marker.
func (s *screen) selected() string {
	s.t.Helper()
	for _, l := range strings.Split(s.view(), "\n") {
		if rest, ok := strings.CutPrefix(l, "> "); ok {
			return strings.TrimSpace(rest)
		}
	}
	s.t.Fatalf("no call is selected:\n%s", s.view())
	return ""
}

// listed are the numbers (#N) of the calls in the list, in order.
func (s *screen) listed() []string {
	s.t.Helper()
	return listedOn(s.view())
}

// listedOn are the numbers (#N) of the calls in a screen's list, in
// order: the lines with a marker, "> " or "  ", before the number.
func listedOn(screen string) []string {
	var out []string
	for _, l := range strings.Split(screen, "\n") {
		l, ok := strings.CutPrefix(l, "> ")
		if !ok {
			l, ok = strings.CutPrefix(l, "  ")
		}
		if n, _, cut := strings.Cut(l, "  +"); ok && cut && strings.HasPrefix(n, "#") {
			out = append(out, n)
		}
	}
	return out
}
