package render

import (
	"bufio"
	"io"
	"sync"
	"time"

	"github.com/kubewire/kubewire/tracer/record"
)

// A replay reads and decodes a recording on one core while it renders on
// another: ahead reads its source in a goroutine of its own, a little
// ahead of the view, and hands the lines over in batches (one wake-up per
// batch, not per line). It holds at most aheadLines lines, or aheadBytes
// of their bodies, so memory stays flat however long the recording.
const (
	aheadBatch = 32
	aheadLines = 256
	aheadBytes = 16 << 20
	// aheadWait is how long the view waits for a batch to fill before it
	// takes what there is: a recording still being written (--follow)
	// gives its lines one by one, seconds apart.
	aheadWait = 20 * time.Millisecond
)

type ahead struct {
	mu sync.Mutex
	// queue are the lines read and not yet taken, with where each was
	// read (pos); bytes the size of their bodies.
	queue []aheadLine
	bytes int
	// err is the source's error, io.EOF at its end, once it came.
	err error
	// ready says a batch is ready or the source ended; room that the
	// view took the queue.
	ready, room chan struct{}
	tick        *time.Ticker

	// The view's side: the batch it took, and the next line in it.
	taken []aheadLine
	next  int
}

type aheadLine struct {
	line record.Line
	pos  string
}

// readAhead starts reading src. pos, when set, says where src is after
// each line (record.Reader.Pos); it is asked as each line is read.
// The view must read to the end (Next returning an error), which ends
// the goroutine.
func readAhead(src record.LineSource, pos func() string) *ahead {
	a := &ahead{ready: make(chan struct{}, 1), room: make(chan struct{}, 1), tick: time.NewTicker(aheadWait)}
	go a.fill(src, pos)
	return a
}

// signal wakes whoever waits on c, once however often it is called.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (a *ahead) fill(src record.LineSource, pos func() string) {
	for {
		l, err := src.Next()
		where := ""
		if err == nil && pos != nil {
			where = pos()
		}
		a.mu.Lock()
		if err != nil {
			a.err = err
		} else {
			a.queue = append(a.queue, aheadLine{l, where})
			a.bytes += bodyBytes(l)
		}
		n, full := len(a.queue), a.full()
		a.mu.Unlock()
		if err != nil || full || n >= aheadBatch {
			signal(a.ready)
		}
		if err != nil {
			return
		}
		for full {
			<-a.room
			a.mu.Lock()
			full = a.full()
			a.mu.Unlock()
		}
	}
}

func (a *ahead) full() bool { return len(a.queue) >= aheadLines || a.bytes >= aheadBytes }

// Next returns the next line and where it was read, or the source's
// error once every line before it was returned. Whenever it has to wait
// for the source it first calls idle (the view flushes its output).
func (a *ahead) Next(idle func()) (record.Line, string, error) {
	for a.next == len(a.taken) {
		clear(a.taken)
		a.mu.Lock()
		a.taken, a.queue = a.queue, a.taken[:0]
		a.bytes = 0
		err := a.err
		a.mu.Unlock()
		a.next = 0
		if len(a.taken) > 0 {
			signal(a.room)
			break
		}
		if err != nil {
			a.tick.Stop()
			return record.Line{}, "", err
		}
		idle()
		select {
		case <-a.ready:
		case <-a.tick.C:
		}
	}
	l := a.taken[a.next]
	a.next++
	return l.line, l.pos, nil
}

// bodyBytes is the size of the bodies a line holds, what makes a line big.
func bodyBytes(l record.Line) int {
	n := 0
	add := func(b *record.Body) {
		if b != nil {
			n += len(b.Text) + len(b.Base64)
		}
	}
	switch {
	case l.Exchange != nil:
		add(l.Exchange.Request.Body)
		if r := l.Exchange.Response; r != nil {
			add(r.Body)
		}
		for i := range l.Exchange.Events {
			add(l.Exchange.Events[i].Body)
		}
	case l.Event != nil:
		add(l.Event.Body)
	}
	return n
}

// output buffers what a replay writes, flushing it when the buffer is
// full, when the replay waits for its source, and at the end, so a
// replay makes few writes and a followed recording still shows each call
// as it comes.
type output struct {
	*bufio.Writer
	err error
}

func newOutput(w io.Writer) *output { return &output{Writer: bufio.NewWriterSize(w, 64<<10)} }

// flush writes out what is buffered, keeping the first error.
func (o *output) flush() {
	if err := o.Flush(); err != nil && o.err == nil {
		o.err = err
	}
}
