package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// LineSource gives recording lines one at a time, io.EOF after the last: a
// file being read, or a filter over another source.
type LineSource interface {
	Next() (Line, error)
}

// Reader reads a recording line by line, so a replay can show exchanges as
// it reads them and still show everything before a bad line.
type Reader struct {
	name   string
	br     *bufio.Reader
	lineNo int
	header Header
	warn   []string
}

// NewReader reads and checks the header of the recording in r; name is used
// in messages (usually the file name).
func NewReader(r io.Reader, name string) (*Reader, error) {
	rd := &Reader{name: name, br: bufio.NewReaderSize(r, 64<<10)}
	data, torn, err := rd.readLine()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, not a kubewire recording", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	l, perr := unmarshalLine(data)
	if perr != nil || l.Type != TypeHeader || l.Header.Format != Format {
		reason := `first line is not a kubewire recording header (want {"type":"header","format":"kubewire-recording",...})`
		if torn && perr != nil {
			reason = "recording ends inside its header line"
		}
		return nil, fmt.Errorf("%s:1: %s", name, reason)
	}
	if l.Header.Version != Version {
		return nil, fmt.Errorf("%s:1: recording format version %d is not supported: this kubewire reads version %d; %s",
			name, l.Header.Version, Version, versionHint(l.Header))
	}
	rd.header = *l.Header
	return rd, nil
}

func versionHint(h *Header) string {
	if h.Version > Version {
		return fmt.Sprintf("it was written by kubewire %s: replay it with that version or newer", h.Kubewire)
	}
	return "it is from a development build whose format was never released"
}

// Header returns the recording's header.
func (r *Reader) Header() Header { return r.header }

// Warnings returns what the reader tolerated so far, as FILE:LINE messages.
func (r *Reader) Warnings() []string { return r.warn }

// Next returns the next line, io.EOF after the last one, or an error naming
// FILE:LINE. Lines of types this version does not know are skipped. A last
// line cut short (a recorder killed mid-write) is dropped with a warning.
func (r *Reader) Next() (Line, error) {
	for {
		data, torn, err := r.readLine()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("%s:%d: %w", r.name, r.lineNo, err)
			}
			return Line{}, err
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		l, err := unmarshalLine(data)
		if err != nil {
			if torn {
				r.warn = append(r.warn, fmt.Sprintf("%s:%d: last line is incomplete (the recorder was stopped while writing it); ignored", r.name, r.lineNo))
				return Line{}, io.EOF
			}
			return Line{}, fmt.Errorf("%s:%d: %w", r.name, r.lineNo, err)
		}
		switch l.Type {
		case TypeHeader:
			return Line{}, fmt.Errorf("%s:%d: a second header line; was a recording appended to another?", r.name, r.lineNo)
		case TypeExchange, TypeEvent, TypeEnd, TypeAudit:
			if err := check(l); err != nil {
				return Line{}, fmt.Errorf("%s:%d: %w", r.name, r.lineNo, err)
			}
			return l, nil
		}
		// An unknown line type from a newer writer of the same version.
	}
}

func check(l Line) error {
	switch {
	case l.Seq <= 0:
		return fmt.Errorf("%s line has no valid seq", l.Type)
	case l.Type == TypeExchange && l.Exchange.Request.Method == "":
		return errors.New("exchange line has no request method")
	case l.Type == TypeExchange && l.Exchange.Response != nil && l.Exchange.Error != nil:
		return errors.New("exchange line has both a response and an error")
	}
	return nil
}

// readLine returns the next line without its newline; torn is true when the
// input ended without one.
func (r *Reader) readLine() (data []byte, torn bool, err error) {
	data, err = r.br.ReadBytes('\n')
	if len(data) == 0 && err != nil {
		return nil, false, err
	}
	r.lineNo++
	if err == io.EOF {
		return data, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r")), false, nil
}

// Recording is a whole recording assembled in memory: streams' events and
// ends folded into their exchanges.
type Recording struct {
	Header    Header
	Exchanges []*Exchange
	// Warnings are what the reader tolerated, as FILE:LINE messages.
	Warnings []string
}

// Assembler folds lines into exchanges as they come.
type Assembler struct {
	Recording
	// Audit folds an audit line's event into its exchange; nil keeps it in
	// Annotation.Auth.Audit only (tracer/annotate.Audit also settles the
	// stages it confirms).
	Audit func(x *Exchange, ev *AuditEvent)
	bySeq map[int64]*Exchange
}

// Add folds one line in and returns the exchange it belongs to (nil for a
// line that belongs to none, which is noted as a warning).
func (a *Assembler) Add(l Line, where string) *Exchange {
	if a.bySeq == nil {
		a.bySeq = map[int64]*Exchange{}
	}
	switch l.Type {
	case TypeExchange:
		a.Exchanges = append(a.Exchanges, l.Exchange)
		a.bySeq[l.Seq] = l.Exchange
		return l.Exchange
	case TypeEvent, TypeEnd, TypeAudit:
		x := a.bySeq[l.Seq]
		if x == nil {
			a.Warnings = append(a.Warnings, fmt.Sprintf("%s: %s for exchange %d, which the recording does not hold; ignored", where, l.Type, l.Seq))
			return nil
		}
		if l.Event != nil {
			x.Events = append(x.Events, *l.Event)
		}
		if l.Audit != nil {
			if a.Audit != nil {
				a.Audit(x, l.Audit)
			} else {
				if x.Annotation.Auth == nil {
					x.Annotation.Auth = &Auth{}
				}
				x.Annotation.Auth.Audit = l.Audit
			}
		}
		if l.End != nil {
			x.Timings = l.End.Timings
			if l.End.Error != nil {
				if x.Response == nil {
					x.Error = l.End.Error
				} else {
					x.StreamError = l.End.Error
				}
			}
		}
		return x
	}
	return nil
}

// ReadAll reads a whole recording from r. On a malformed line it returns what
// it read so far together with the error. tracer/annotate.ReadAll also
// annotates what the file does not say.
func ReadAll(r io.Reader, name string) (*Recording, error) {
	return ReadAllWith(r, name, nil)
}

// ReadAllWith is ReadAll with each audit line folded in by audit (see
// Assembler.Audit).
func ReadAllWith(r io.Reader, name string, audit func(*Exchange, *AuditEvent)) (*Recording, error) {
	rd, err := NewReader(r, name)
	if err != nil {
		return nil, err
	}
	a := &Assembler{Recording: Recording{Header: rd.Header()}, Audit: audit}
	for {
		l, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			a.Warnings = append(a.Warnings, rd.Warnings()...)
			return &a.Recording, err
		}
		a.Add(l, fmt.Sprintf("%s:%d", name, rd.lineNo))
	}
	a.Warnings = append(rd.Warnings(), a.Warnings...)
	return &a.Recording, nil
}

// ReadFile reads the recording in the named file.
func ReadFile(name string) (*Recording, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, name)
}
