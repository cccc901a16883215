package record

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// Writer writes a recording. Its methods may be called from any goroutine:
// lines are encoded by the caller and written, each with a single Write, by
// one writer goroutine, so lines never interleave. Close drains what was
// queued. Write errors are sticky and returned by Close.
type Writer struct {
	out   io.Writer
	lines chan []byte
	done  chan struct{}

	mu     sync.Mutex // guards closed and sending on lines
	closed bool

	errMu sync.Mutex
	err   error
}

// NewWriter writes the header line to out and returns a Writer for the rest.
func NewWriter(out io.Writer, h Header) (*Writer, error) {
	h.Format, h.Version = Format, Version
	data, err := Line{Type: TypeHeader, Header: &h}.Marshal()
	if err != nil {
		return nil, err
	}
	if _, err := out.Write(append(data, '\n')); err != nil {
		return nil, fmt.Errorf("write recording header: %w", err)
	}
	w := &Writer{out: out, lines: make(chan []byte, 256), done: make(chan struct{})}
	go w.loop()
	return w, nil
}

func (w *Writer) loop() {
	defer close(w.done)
	for data := range w.lines {
		if _, err := w.out.Write(data); err != nil {
			w.setErr(fmt.Errorf("write recording: %w", err))
		}
	}
}

func (w *Writer) setErr(err error) {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

// Put queues one line. It is the Sink method.
func (w *Writer) Put(l Line) {
	data, err := l.marshalLine()
	if err != nil {
		w.setErr(err)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.setErr(errors.New("line written after the recording was closed"))
		return
	}
	w.lines <- data
}

// Close writes every queued line and returns the first error met.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.lines)
	}
	w.mu.Unlock()
	<-w.done
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

// Sink receives recording lines as they happen: the recording writer, the
// live renderer, a test collecting records.
type Sink interface {
	Put(Line)
}

// Sinks fans lines out to several sinks in order.
type Sinks []Sink

// Put gives the line to every sink.
func (s Sinks) Put(l Line) {
	for _, k := range s {
		k.Put(l)
	}
}
