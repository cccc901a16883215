package proxy

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kubewire/kubewire/tracer/classify"
	"github.com/kubewire/kubewire/tracer/codec"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/redact"
)

// stream relays a watch or follow response: the exchange is written now,
// each event as it arrives, and an end line when the stream closes. Nothing
// is held back from the client.
func (c *capture) stream(resp *http.Response) {
	c.x.Response.Stream = true
	c.p.emitStreamStart(c, resp.Header)
	ct := resp.Header.Get("Content-Type")
	var f framer
	switch {
	case c.x.Annotation.Verb != "watch":
		f = &chunkFramer{}
	case strings.Contains(ct, "protobuf"):
		f = &lengthFramer{}
	default:
		f = &jsonFramer{}
	}
	b := &streamBody{rc: resp.Body, c: c, f: f, ct: ct}
	if conn := c.p.clientConn(c.remote); conn != nil && c.cancel != nil {
		// A client that hangs up ends the stream now, not at its next
		// event.
		b.unwatch = conn.watch(c.cancel)
	}
	resp.Body = b
}

// emitStreamStart writes a stream's exchange line when its response begins.
func (p *Proxy) emitStreamStart(c *capture, h http.Header) {
	c.ann.Response(c.x, h, nil)
	// Write a copy: the exchange goes on changing (timings) after this line.
	x := *c.x
	resp := *c.x.Response
	x.Response = &resp
	p.cfg.Sink.Put(record.Line{Type: record.TypeExchange, Seq: x.Seq, Exchange: &x})
	if p.cfg.Joiner != nil {
		p.cfg.Joiner.Recorded(&x)
	}
}

// event records one event of the stream.
func (c *capture) event(typ, direction string, frame []byte) {
	c.eventOn(typ, direction, "", frame)
}

// eventOn records one event of the stream on a channel of an upgraded
// connection. An event without bytes (a channel opened or closed) has no
// body.
func (c *capture) eventOn(typ, direction, channel string, frame []byte) {
	now := time.Now()
	ev := &record.Event{
		Time:      now,
		OffsetMs:  record.Ms(now.Sub(c.x.Start)),
		Type:      typ,
		Direction: direction,
		Channel:   channel,
	}
	switch {
	case !c.p.cfg.RecordStdin && ev.Stdin(c.x.Annotation.Subresource):
		// What a user types into exec or attach (a password at a prompt)
		// is not recorded; its size is.
		ev.Body = &record.Body{Bytes: int64(len(frame)), Omitted: true}
	case len(frame) > 0 || typ == "data":
		ev.Body, _ = c.p.body(c.x.Response.Headers.Get("Content-Type"), frame, int64(len(frame)), c.ctx)
	}
	c.p.cfg.Sink.Put(record.Line{Type: record.TypeEvent, Seq: c.x.Seq, Event: ev})
}

// end closes the stream's record once.
func (c *capture) end(err error) {
	c.once.Do(func() {
		defer c.done()
		defer close(c.finished)
		if c.release != nil {
			defer c.release()
		}
		c.x.Timings.TotalMs = record.Ms(time.Since(c.x.Start))
		end := &record.End{Timings: c.x.Timings}
		if c.aborted.Load() {
			end.Error = &record.Error{Message: errStopped.Error(), Phase: "proxy"}
		} else if err != nil {
			end.Error = &record.Error{Message: redact.String(err.Error()), Phase: "upstream"}
		}
		c.p.cfg.Sink.Put(record.Line{Type: record.TypeEnd, Seq: c.x.Seq, End: end})
	})
}

// streamBody passes a stream through, cutting it into events as it goes.
type streamBody struct {
	rc io.ReadCloser
	c  *capture
	f  framer
	ct string
	// unwatch stops watching the client's connection for its end.
	unwatch func()
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		for _, fr := range b.f.feed(p[:n]) {
			b.c.event(fr.typ, "down", fr.data)
		}
	}
	if err != nil {
		b.stopWatching()
		b.flush()
		if err == io.EOF {
			b.c.end(nil)
		} else {
			b.c.end(streamErr(err))
		}
	}
	return n, err
}

func (b *streamBody) stopWatching() {
	if b.unwatch != nil {
		b.unwatch()
	}
}

func (b *streamBody) Close() error {
	b.stopWatching()
	err := b.rc.Close()
	b.flush()
	b.c.end(nil) // the client went away or the stream was cut: a normal end
	return err
}

func (b *streamBody) flush() {
	for _, fr := range b.f.rest() {
		b.c.event(fr.typ, "down", fr.data)
	}
}

// streamErr keeps a stream's failure unless it is the ordinary end of a
// watch that the client or server closed.
func streamErr(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "use of closed network connection") || strings.Contains(msg, "body closed") ||
		strings.Contains(msg, "context canceled") {
		return nil
	}
	return err
}

type frame struct {
	typ  string
	data []byte
}

// framer cuts a byte stream into events.
type framer interface {
	feed(p []byte) []frame
	rest() []frame
}

// jsonFramer splits a JSON watch stream into its events: one JSON object
// each, whatever the chunking.
type jsonFramer struct{ buf []byte }

func (f *jsonFramer) feed(p []byte) []frame {
	f.buf = append(f.buf, p...)
	var out []frame
	for {
		start := bytes.IndexByte(f.buf, '{')
		if start < 0 {
			f.buf = f.buf[:0]
			return out
		}
		end := objectEnd(f.buf[start:])
		if end < 0 {
			f.buf = f.buf[start:]
			return out
		}
		obj := append([]byte(nil), f.buf[start:start+end]...)
		f.buf = f.buf[start+end:]
		var ev struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(obj, &ev)
		if ev.Type == "" {
			ev.Type = "data"
		}
		out = append(out, frame{ev.Type, obj})
	}
}

func (f *jsonFramer) rest() []frame {
	if len(bytes.TrimSpace(f.buf)) == 0 {
		return nil
	}
	r := frame{"data", append([]byte(nil), f.buf...)}
	f.buf = nil
	return []frame{r}
}

// objectEnd returns the length of the JSON object at the start of b, or -1
// when it is not complete yet.
func objectEnd(b []byte) int {
	depth, inStr, esc := 0, false, false
	for i, ch := range b {
		switch {
		case esc:
			esc = false
		case inStr && ch == '\\':
			esc = true
		case ch == '"':
			inStr = !inStr
		case inStr:
		case ch == '{':
			depth++
		case ch == '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// lengthFramer splits a protobuf watch stream: each frame is a 4-byte
// big-endian length and that many bytes. Events keep the frame without its
// length prefix.
type lengthFramer struct{ buf []byte }

func (f *lengthFramer) feed(p []byte) []frame {
	f.buf = append(f.buf, p...)
	var out []frame
	for len(f.buf) >= 4 {
		n := int(binary.BigEndian.Uint32(f.buf))
		if len(f.buf) < 4+n {
			break
		}
		data := append([]byte(nil), f.buf[4:4+n]...)
		f.buf = f.buf[4+n:]
		out = append(out, frame{codec.EventType(data), data})
	}
	return out
}

func (f *lengthFramer) rest() []frame {
	if len(f.buf) == 0 {
		return nil
	}
	r := frame{"data", append([]byte(nil), f.buf...)}
	f.buf = nil
	return []frame{r}
}

// chunkFramer makes each chunk read an event (logs -f).
type chunkFramer struct{}

func (chunkFramer) feed(p []byte) []frame { return []frame{{"data", append([]byte(nil), p...)}} }
func (chunkFramer) rest() []frame         { return nil }

// upgraded relays a 101 Switching Protocols connection (exec, attach,
// port-forward over WebSocket or SPDY), recording the bytes each way.
func (c *capture) upgraded(resp *http.Response) {
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		c.x.Response.Stream = true
		c.p.emitStreamStart(c, resp.Header)
		c.end(errors.New("the upstream transport gave no bidirectional stream for the upgrade"))
		return
	}
	c.x.Response.Stream = true
	c.p.emitStreamStart(c, resp.Header)
	// The decoders go by the protocol the server chose, before the header
	// changes below.
	u := &upgradeConn{rwc: rwc, c: c}
	u.up, u.down = newDecoders(resp.Header, c.x.Annotation.Subresource, func(direction string, m message) {
		c.eventOn(m.typ, direction, m.channel, m.data)
	})
	// goproxy relays raw bytes only for responses it takes for WebSocket
	// upgrades, and would hang writing any other 101 (SPDY). Adding the
	// token sends SPDY through the same relay; SPDY clients look for
	// "spdy/3.1" in the header and still find it.
	if !classify.HeaderHasToken(resp.Header, "Upgrade", "websocket") {
		resp.Header.Set("Upgrade", resp.Header.Get("Upgrade")+", websocket")
	}
	resp.Body = u
}

// upgradeConn is the upstream side of an upgraded connection. What goes
// each way is decoded into messages and channels as it passes.
type upgradeConn struct {
	rwc      io.ReadWriteCloser
	c        *capture
	mu       sync.Mutex // guards the decoders' input against Close
	closed   bool
	up, down decoder
}

func (u *upgradeConn) Read(p []byte) (int, error) {
	n, err := u.rwc.Read(p)
	if n > 0 {
		u.feed(u.down, p[:n])
	}
	return n, err
}

// Write records what the client sends before it goes upstream: a SPDY
// stream is then named before the server can answer on it.
func (u *upgradeConn) Write(p []byte) (int, error) {
	u.feed(u.up, p)
	return u.rwc.Write(p)
}

func (u *upgradeConn) feed(d decoder, p []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.closed {
		d.feed(p)
	}
}

// Close closes the connection and records its end after the last message.
func (u *upgradeConn) Close() error {
	err := u.rwc.Close()
	u.mu.Lock()
	first := !u.closed
	u.closed = true
	u.mu.Unlock()
	if first {
		u.up.close()
		u.down.close()
	}
	u.c.end(nil)
	return err
}
