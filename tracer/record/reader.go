package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// LineSource gives recording lines one at a time, io.EOF after the last: a
// file being read, or a filter over another source.
type LineSource interface {
	Next() (Line, error)
}

// Reader reads a recording line by line, so a replay can show exchanges as
// it reads them and still show everything before a bad line.
type Reader struct {
	name string
	br   *bufio.Reader
	// read counts the lines read; lineNo is the number of the last one
	// Next returned, which may be behind.
	read, lineNo int
	header       Header
	warn         []string
	// pending are lines read ahead and decoded, not yet returned; batch
	// is the array they are read into, again and again.
	pending, batch []pending
}

// pending is a line read ahead of Next.
type pending struct {
	lineNo int
	// text is the line, until it is decoded into line (or err).
	text string
	// torn says the input ended before the line's newline; readErr is
	// the error reading it (io.EOF at the end of the input).
	torn, blank bool
	readErr     error
	line        Line
	err         error
}

// batchLines is how many lines Next reads ahead when the input holds
// them already; they are decoded on two cores when there are two.
const batchLines = 32

// NewReader reads and checks the header of the recording in r; name is used
// in messages (usually the file name).
func NewReader(r io.Reader, name string) (*Reader, error) {
	rd := &Reader{name: name, br: bufio.NewReaderSize(r, 64<<10)}
	data, torn, err := rd.readLine()
	rd.lineNo = rd.read
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, not a kubewire recording", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	l, perr := unmarshalLine(string(data))
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

// Pos is where the reader is, "FILE:LINE" of the last line read.
func (r *Reader) Pos() string { return fmt.Sprintf("%s:%d", r.name, r.lineNo) }

// Header returns the recording's header.
func (r *Reader) Header() Header { return r.header }

// Warnings returns what the reader tolerated so far, as FILE:LINE messages.
func (r *Reader) Warnings() []string { return r.warn }

// Next returns the next line, io.EOF after the last one, or an error naming
// FILE:LINE. Lines of types this version does not know are skipped. A last
// line cut short (a recorder killed mid-write) is dropped with a warning.
func (r *Reader) Next() (Line, error) {
	for {
		if len(r.pending) == 0 {
			r.readAhead()
		}
		p := r.pending[0]
		r.pending[0] = pending{} // the reader keeps no line it returned
		r.pending = r.pending[1:]
		r.lineNo = p.lineNo
		if err := p.readErr; err != nil {
			if err != io.EOF {
				err = fmt.Errorf("%s:%d: %w", r.name, r.lineNo, err)
			}
			return Line{}, err
		}
		if p.blank {
			continue
		}
		l, err := p.line, p.err
		if err != nil {
			if p.torn {
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

// readAhead reads the next line, and the lines after it that the input
// already holds, up to batchLines, and decodes them.
func (r *Reader) readAhead() {
	batch := r.batch[:0]
	for len(batch) < batchLines && (len(batch) == 0 || r.lineBuffered()) {
		data, torn, err := r.readLine()
		batch = append(batch, pending{lineNo: r.read, text: string(data), torn: torn, readErr: err})
		if err != nil || torn {
			break
		}
	}
	if half := len(batch) / 2; half >= batchLines/4 && runtime.GOMAXPROCS(0) > 1 {
		var wg sync.WaitGroup
		wg.Go(func() { decode(batch[half:]) })
		decode(batch[:half])
		wg.Wait()
	} else {
		decode(batch)
	}
	r.batch, r.pending = batch, batch
}

// lineBuffered reports whether the input holds a whole line already, so
// reading it does not wait.
func (r *Reader) lineBuffered() bool {
	buf, _ := r.br.Peek(r.br.Buffered())
	return bytes.IndexByte(buf, '\n') >= 0
}

// decode decodes the lines read, leaving blank ones be.
func decode(batch []pending) {
	for i := range batch {
		p := &batch[i]
		p.blank = strings.TrimSpace(p.text) == ""
		if p.readErr == nil && !p.blank {
			p.line, p.err = unmarshalLine(p.text)
		}
		p.text = ""
	}
}

// readLine returns the next line without its newline; torn is true when the
// input ended without one. The line is the reader's buffer, good until the
// next read: decoding copies what it keeps.
func (r *Reader) readLine() (data []byte, torn bool, err error) {
	data, err = r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A line longer than the buffer (a big body): gather it.
		long := append([]byte(nil), data...)
		for err == bufio.ErrBufferFull {
			data, err = r.br.ReadSlice('\n')
			long = append(long, data...)
		}
		data = long
	}
	if len(data) == 0 && err != nil {
		return nil, false, err
	}
	r.read++
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
	if l.Type == TypeExchange {
		a.Exchanges = append(a.Exchanges, l.Exchange)
		a.bySeq[l.Seq] = l.Exchange
		return l.Exchange
	}
	x, warn := fold(a.bySeq, l, where, a.Audit)
	if warn != "" {
		a.Warnings = append(a.Warnings, warn)
	}
	return x
}

// fold folds an event, end or audit line into its exchange in bySeq, and
// returns it, or a warning when the exchange is not there.
func fold(bySeq map[int64]*Exchange, l Line, where string, audit func(*Exchange, *AuditEvent)) (*Exchange, string) {
	switch l.Type {
	case TypeEvent, TypeEnd, TypeAudit:
	default:
		return nil, ""
	}
	x := bySeq[l.Seq]
	if x == nil {
		return nil, fmt.Sprintf("%s: %s for exchange %d, which the recording does not hold; ignored", where, l.Type, l.Seq)
	}
	if l.Event != nil {
		x.Events = append(x.Events, *l.Event)
	}
	if l.Audit != nil {
		if audit != nil {
			audit(x, l.Audit)
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
	return x, ""
}

// Completer folds lines into exchanges, like Assembler, but hands each
// exchange to Done once it is complete and lets it go, so a recording of
// any length is folded in bounded memory. An exchange is complete at its
// line (or, for a stream, its end line) once its audit line came, or
// Window exchange lines later, since the audit event is looked up after
// the call and arrives soon after it. Exchanges are handed over in the
// order they completed.
type Completer struct {
	// Done receives each complete exchange.
	Done func(*Exchange)
	// Audit folds an audit event in (see Assembler.Audit).
	Audit func(*Exchange, *AuditEvent)
	// Window is how many exchange lines a finished exchange waits for its
	// audit line; 0 means 256.
	Window int
	// Warnings are the lines that belonged to no exchange.
	Warnings []string

	bySeq map[int64]*Exchange
	// audited are the exchanges under way whose audit line came already.
	audited map[int64]bool
	// waiting are finished exchanges waiting for their audit line, with
	// the count of exchange lines when they finished.
	waiting []waiting
	lines   int
}

type waiting struct {
	x  *Exchange
	at int
}

// Add folds one line in.
func (c *Completer) Add(l Line, where string) {
	if c.bySeq == nil {
		c.bySeq, c.audited = map[int64]*Exchange{}, map[int64]bool{}
	}
	window := c.Window
	if window == 0 {
		window = 256
	}
	switch l.Type {
	case TypeExchange:
		c.lines++
		c.bySeq[l.Seq] = l.Exchange
		if r := l.Exchange.Response; r == nil || !r.Stream {
			c.waiting = append(c.waiting, waiting{l.Exchange, c.lines})
		}
	default:
		x, warn := fold(c.bySeq, l, where, c.Audit)
		if warn != "" {
			c.Warnings = append(c.Warnings, warn)
		}
		switch {
		case x == nil:
		case l.Type == TypeEnd && c.audited[x.Seq]:
			c.hand(x)
		case l.Type == TypeEnd:
			c.waiting = append(c.waiting, waiting{x, c.lines})
		case l.Type == TypeAudit && c.finished(x):
			c.hand(x)
		case l.Type == TypeAudit:
			c.audited[x.Seq] = true
		}
	}
	for len(c.waiting) > 0 && c.lines-c.waiting[0].at >= window {
		c.hand(c.waiting[0].x)
	}
}

// finished reports whether x waits for its audit line.
func (c *Completer) finished(x *Exchange) bool {
	for _, w := range c.waiting {
		if w.x == x {
			return true
		}
	}
	return false
}

// hand gives x to Done and forgets it.
func (c *Completer) hand(x *Exchange) {
	for i, w := range c.waiting {
		if w.x == x {
			c.waiting = append(c.waiting[:i], c.waiting[i+1:]...)
			break
		}
	}
	delete(c.bySeq, x.Seq)
	delete(c.audited, x.Seq)
	c.Done(x)
}

// Flush hands over every exchange still held, finished or not (a stream
// whose end the recording lacks), in the order their lines came.
func (c *Completer) Flush() {
	for len(c.waiting) > 0 {
		c.hand(c.waiting[0].x)
	}
	rest := make([]*Exchange, 0, len(c.bySeq))
	for _, x := range c.bySeq {
		rest = append(rest, x)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Seq < rest[j].Seq })
	for _, x := range rest {
		c.hand(x)
	}
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
		a.Add(l, rd.Pos())
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
