package proxy

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/kubewire/kubewire/tracer/redact"
)

// Diagnostics receives the proxy's own problems: what goproxy and the HTTP
// server report, and exchanges that did not finish by shutdown. It is
// goproxy's Logger.
type Diagnostics interface {
	Printf(format string, args ...any)
}

// Problems writes each distinct problem once, readable, to a writer (the
// user's terminal): goproxy's session numbers and log levels go, its
// messages get kubewire's words, and a client that went away (recorded in
// its exchange) is not a problem. Close says how often each repeated.
// Problems are reported from the relay path, and a terminal may be paused:
// they are written by a goroutine of their own, and Printf never waits.
type Problems struct {
	mu    sync.Mutex
	w     io.Writer
	seen  map[string]int
	first map[string]string // the message first seen for each key
	order []string
	out   chan string // lines for the writer goroutine
	done  chan struct{}
	lost  int // lines the writer could not take in time
}

// NewProblems returns Problems writing to w.
func NewProblems(w io.Writer) *Problems {
	p := &Problems{w: w, seen: map[string]int{}, first: map[string]string{}, out: make(chan string, 64), done: make(chan struct{})}
	out := p.out
	go func() {
		defer close(p.done)
		for line := range out {
			io.WriteString(p.w, line)
		}
	}()
	return p
}

// say queues a line for the writer; p.mu is held.
func (p *Problems) say(line string) {
	if p.out == nil {
		return // closed
	}
	select {
	case p.out <- line:
	default:
		p.lost++
	}
}

var (
	// goproxy's prefix: "[001] WARN: ".
	goproxyPrefix = regexp.MustCompile(`^\[\d+\] (WARN|INFO): `)
	// Addresses and numbers that make one problem look like many.
	varying = regexp.MustCompile(`127\.0\.0\.1:\d+|\[::1\]:\d+|\b\d+\b`)
)

// clientGone are the errors of a client that closed its connection: its
// exchange records how it ended.
var clientGone = []string{"broken pipe", "connection reset by peer", "use of closed network connection", ": EOF", "i/o timeout"}

// Printf implements Diagnostics.
func (p *Problems) Printf(format string, args ...any) {
	msg := strings.TrimSpace(goproxyPrefix.ReplaceAllString(fmt.Sprintf(format, args...), ""))
	if msg == "" {
		return
	}
	for _, g := range clientGone {
		if strings.Contains(msg, g) {
			return
		}
	}
	msg = redact.String(words(msg))
	key := varying.ReplaceAllString(msg, "N")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[key]++
	if p.seen[key] > 1 {
		return
	}
	p.order, p.first[key] = append(p.order, key), msg
	p.say(fmt.Sprintf("kubewire: proxy: %s\n", msg))
}

// words puts goproxy's messages the way a user can act on them.
func words(msg string) string {
	switch {
	case strings.HasPrefix(msg, "Cannot handshake client "):
		// "Cannot handshake client HOST ERROR"
		_, err, _ := strings.Cut(strings.TrimPrefix(msg, "Cannot handshake client "), " ")
		return "a client could not complete TLS with kubewire (" + err + "); does it trust kubewire's CA? see 'kubewire ca'"
	case strings.HasPrefix(msg, "http: TLS handshake error"):
		return "a client spoke TLS to kubewire's plain-HTTP proxy port: " + msg
	}
	return msg
}

// Close writes how often the problems that repeated came, once what was
// said before is written.
func (p *Problems) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out == nil {
		return nil
	}
	var again []string
	for _, k := range p.order {
		if n := p.seen[k]; n > 1 {
			again = append(again, fmt.Sprintf("kubewire: proxy: %s more: %s", times(n-1), p.first[k]))
		}
	}
	sort.Strings(again)
	if p.lost > 0 {
		again = append(again, fmt.Sprintf("kubewire: proxy: %d more problems came faster than they could be shown", p.lost))
	}
	close(p.out)
	p.out = nil
	<-p.done
	for _, a := range again {
		fmt.Fprintln(p.w, a)
	}
	p.seen, p.first, p.order, p.lost = map[string]int{}, map[string]string{}, nil, 0
	return nil
}

func times(n int) string {
	if n == 1 {
		return "1 time"
	}
	return fmt.Sprintf("%d times", n)
}

type discard struct{}

func (discard) Printf(string, ...any) {}
