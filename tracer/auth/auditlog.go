package auth

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/kubewire/kubewire/tracer/record"
)

// Audit annotations the authorizer writes.
const (
	annotationDecision = "authorization.k8s.io/decision"
	annotationReason   = "authorization.k8s.io/reason"
)

// Limits of an AuditLog.
const (
	auditKeep       = 4096    // events kept for lookups that come late
	auditMaxLine    = 4 << 20 // longer lines (RequestResponse level) are skipped
	auditPollActive = 20 * time.Millisecond
	auditPollIdle   = 500 * time.Millisecond
)

// ErrClosed is returned by Find on a closed AuditLog.
var ErrClosed = errors.New("audit log closed")

// AuditLog follows the API server's audit log (JSON Lines of audit.k8s.io/v1
// Event, as written by --audit-log-path) from its end at open time, and
// finds events by audit ID. One goroutine reads the file for all lookups;
// it keeps the last few thousand events so a lookup may come after its
// event was written, and copes with a line being written while it reads it
// and with the file being rotated.
type AuditLog struct {
	path string

	mu      sync.Mutex
	events  map[string]*record.AuditEvent
	order   []string // ring of audit IDs in events, oldest first
	waiters map[string][]chan *record.AuditEvent
	err     error // why reading stopped, when it did
	closed  bool

	// read counts the bytes read since open (tests wait on it).
	read atomic.Int64

	wake chan struct{}
	done chan struct{}
	quit chan struct{}
}

// OpenAuditLog starts following the audit log at path. The file must exist.
func OpenAuditLog(path string) (*AuditLog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w; is the API server's --audit-log-path readable?", err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	l := &AuditLog{
		path:    path,
		events:  map[string]*record.AuditEvent{},
		waiters: map[string][]chan *record.AuditEvent{},
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		quit:    make(chan struct{}),
	}
	go l.follow(f)
	return l, nil
}

// Find returns the audit event with auditID, waiting for it to be written
// until ctx is done. It returns the event of the last stage written
// (ResponseComplete, or ResponseStarted for a stream still running).
func (l *AuditLog) Find(ctx context.Context, auditID string) (*record.AuditEvent, error) {
	ch := make(chan *record.AuditEvent, 1)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	if ev := l.events[auditID]; ev != nil {
		l.mu.Unlock()
		return ev, nil
	}
	if l.err != nil {
		err := l.err
		l.mu.Unlock()
		return nil, err
	}
	l.waiters[auditID] = append(l.waiters[auditID], ch)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	select {
	case ev := <-ch:
		if ev == nil {
			return nil, l.stopErr()
		}
		return ev, nil
	case <-ctx.Done():
		l.mu.Lock()
		ws := l.waiters[auditID]
		for i, w := range ws {
			if w == ch {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(l.waiters, auditID)
		} else {
			l.waiters[auditID] = ws
		}
		l.mu.Unlock()
		return nil, fmt.Errorf("audit event %s not found in %s: %w", auditID, l.path, ctx.Err())
	}
}

func (l *AuditLog) stopErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	return ErrClosed
}

// Close stops following the file; pending Finds return ErrClosed.
func (l *AuditLog) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.done
	return nil
}

// follow reads the file until Close, polling for appended data quickly
// while someone waits and slowly otherwise.
func (l *AuditLog) follow(f *os.File) {
	defer close(l.done)
	defer func() {
		l.mu.Lock()
		for id, ws := range l.waiters {
			for _, w := range ws {
				close(w)
			}
			delete(l.waiters, id)
		}
		l.mu.Unlock()
	}()
	r := bufio.NewReaderSize(f, 64<<10)
	var partial []byte
	skipping := false // inside a line longer than auditMaxLine
	for {
		chunk, err := r.ReadSlice('\n')
		l.read.Add(int64(len(chunk)))
		switch {
		case err == nil:
			if !skipping {
				line := chunk
				if len(partial) > 0 {
					line = append(partial, chunk...)
				}
				l.add(line)
			}
			partial, skipping = partial[:0], false
			continue
		case errors.Is(err, bufio.ErrBufferFull):
			if !skipping {
				partial = append(partial, chunk...)
				if len(partial) > auditMaxLine {
					partial, skipping = partial[:0], true
				}
			}
			continue
		case err == io.EOF:
			// A torn last line: keep it and wait for the rest.
			if !skipping {
				partial = append(partial, chunk...)
			}
		default:
			l.fail(fmt.Errorf("read audit log %s: %w", l.path, err))
			f.Close()
			return
		}
		// At the end: wait, then check for rotation.
		poll := auditPollIdle
		l.mu.Lock()
		if len(l.waiters) > 0 {
			poll = auditPollActive
		}
		l.mu.Unlock()
		select {
		case <-l.quit:
			f.Close()
			return
		case <-l.wake:
		case <-time.After(poll):
		}
		if nf, rotated := reopenIfRotated(f, l.path); rotated {
			f.Close()
			f, partial, skipping = nf, partial[:0], false
			l.read.Store(0)
			r.Reset(f)
		}
	}
}

// reopenIfRotated opens path again when it is no longer the file f reads
// (renamed away by log rotation) or was truncated below f's offset.
func reopenIfRotated(f *os.File, path string) (*os.File, bool) {
	cur, err := f.Stat()
	if err != nil {
		return nil, false
	}
	now, err := os.Stat(path)
	if err != nil {
		return nil, false
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, false
	}
	if os.SameFile(cur, now) && now.Size() >= off {
		return nil, false
	}
	nf, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	return nf, true
}

func (l *AuditLog) fail(err error) {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
}

// add parses one line and hands its event to whoever waits for it.
func (l *AuditLog) add(line []byte) {
	ev, ok := ParseAuditEvent(line)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, seen := l.events[ev.AuditID]; !seen {
		l.order = append(l.order, ev.AuditID)
		if len(l.order) > auditKeep {
			delete(l.events, l.order[0])
			l.order = l.order[1:]
		}
	}
	l.events[ev.AuditID] = ev
	for _, w := range l.waiters[ev.AuditID] {
		w <- ev
	}
	delete(l.waiters, ev.AuditID)
}

// ParseAuditEvent decodes one audit log line (an audit.k8s.io/v1 Event) into
// the part kubewire keeps. ok is false for lines that are not events, and
// for the RequestReceived stage, which carries no decision yet.
func ParseAuditEvent(line []byte) (*record.AuditEvent, bool) {
	var e auditv1.Event
	if err := json.Unmarshal(line, &e); err != nil || e.AuditID == "" || e.Stage == auditv1.StageRequestReceived {
		return nil, false
	}
	ev := &record.AuditEvent{
		AuditID:        string(e.AuditID),
		Stage:          string(e.Stage),
		User:           e.User.Username,
		Groups:         e.User.Groups,
		Verb:           e.Verb,
		Decision:       e.Annotations[annotationDecision],
		DecisionReason: e.Annotations[annotationReason],
	}
	if e.ResponseStatus != nil {
		ev.Code = int(e.ResponseStatus.Code)
	}
	if e.ImpersonatedUser != nil {
		ev.Impersonated = e.ImpersonatedUser.Username
	}
	if o := e.ObjectRef; o != nil {
		ev.ObjectRef = &record.ObjectRef{
			Resource:    o.Resource,
			Namespace:   o.Namespace,
			Name:        o.Name,
			APIGroup:    o.APIGroup,
			APIVersion:  o.APIVersion,
			Subresource: o.Subresource,
		}
	}
	return ev, true
}
