package render

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/kubewire/kubewire/tracer/doc"
	"github.com/kubewire/kubewire/tracer/record"
)

// Machine writes exchanges for programs, never styled, one at a time as
// they come, so output of any length takes bounded memory: format "json"
// is a JSON array of exchange records as the recording format defines them,
// streams' events and ends folded in; "yaml" is the same as a YAML list.
type Machine struct {
	w      io.Writer
	format string
	n      int
	err    error
}

// NewMachine returns a Machine writing format ("json" or "yaml") to w.
func NewMachine(w io.Writer, format string) (*Machine, error) {
	switch format {
	case "json", "yaml":
		return &Machine{w: w, format: format}, nil
	}
	return nil, fmt.Errorf("unknown machine output format %q; want json or yaml", format)
}

// Write writes one exchange.
func (m *Machine) Write(x *record.Exchange) error {
	if m.err != nil {
		return m.err
	}
	var out string
	switch m.format {
	case "json":
		data, err := json.MarshalIndent(x, "  ", "  ")
		if err != nil {
			return m.fail(fmt.Errorf("encode exchange %d: %w", x.Seq, err))
		}
		sep := ",\n  "
		if m.n == 0 {
			sep = "[\n  "
		}
		out = sep + string(data)
	case "yaml":
		data, err := json.Marshal([]*record.Exchange{x})
		if err != nil {
			return m.fail(fmt.Errorf("encode exchange %d: %w", x.Seq, err))
		}
		if out, err = doc.ToYAML(data); err != nil {
			return m.fail(fmt.Errorf("encode exchange %d: %w", x.Seq, err))
		}
	}
	m.n++
	if _, err := io.WriteString(m.w, out); err != nil {
		return m.fail(fmt.Errorf("write %s output: %w", m.format, err))
	}
	return nil
}

func (m *Machine) fail(err error) error {
	m.err = err
	return err
}

// Close ends the array or list.
func (m *Machine) Close() error {
	if m.err != nil {
		return m.err
	}
	end := "\n]\n"
	switch {
	case m.n == 0:
		end = "[]\n"
	case m.format == "yaml":
		end = "" // a YAML list has no closing bracket
	}
	if _, err := io.WriteString(m.w, end); err != nil {
		return fmt.Errorf("write %s output: %w", m.format, err)
	}
	return nil
}

// WriteMachine writes exchanges as a Machine does.
func WriteMachine(w io.Writer, exchanges []*record.Exchange, format string) error {
	m, err := NewMachine(w, format)
	if err != nil {
		return err
	}
	for _, x := range exchanges {
		if err := m.Write(x); err != nil {
			return err
		}
	}
	return m.Close()
}

// ReplayMachine writes the recording read from src as machine output,
// each exchange once complete (record.Completer, folding audit lines in
// with audit), in bounded memory; keep, when set, picks the exchanges to
// write, complete. pos says where src is, for warnings. It returns the
// warnings and src's error, after writing everything before it.
func ReplayMachine(w io.Writer, src record.LineSource, pos func() string, format string,
	audit func(*record.Exchange, *record.AuditEvent), keep func(*record.Exchange) bool) ([]string, error) {
	out := newOutput(w)
	m, err := NewMachine(out, format)
	if err != nil {
		return nil, err
	}
	var werr error
	c := &record.Completer{Audit: audit, Done: func(x *record.Exchange) {
		if werr == nil && (keep == nil || keep(x)) {
			werr = m.Write(x)
		}
	}}
	// src is read ahead of the encoding, on another core (see ahead).
	ahead := readAhead(src, pos)
	for {
		line, where, err := ahead.Next(out.flush)
		if err != nil {
			c.Flush()
			if werr == nil {
				werr = m.Close()
			}
			if out.flush(); werr == nil && out.err != nil {
				werr = fmt.Errorf("write %s output: %w", format, out.err)
			}
			if err == io.EOF {
				err = nil
			}
			if werr != nil {
				return c.Warnings, werr
			}
			return c.Warnings, err
		}
		c.Add(line, where)
	}
}
