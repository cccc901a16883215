package proxy

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kubewire/kubewire/tracer/classify"
	"github.com/kubewire/kubewire/tracer/codec"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/redact"
)

// stream relays a watch or follow response: the exchange is written now,
// each event as it arrives, and an end line when the stream closes. Nothing
// is held back from the client: the relay copies each chunk for the
// pipeline, which cuts the stream into events.
func (c *capture) stream(resp *http.Response) {
	c.x.Response.Stream = true
	c.startStream()
	ct := resp.Header.Get("Content-Type")
	var f framer
	switch {
	case c.rel.Verb != "watch":
		f = &chunkFramer{}
	case strings.Contains(ct, "protobuf"):
		f = &lengthFramer{}
	default:
		f = &jsonFramer{}
	}
	b := &streamBody{rc: resp.Body, c: c, f: f}
	if conn := c.conn(); conn != nil && c.cancel != nil {
		// A client that hangs up ends the stream now, not at its next
		// event.
		b.unwatch = conn.watch(c.cancel)
	}
	resp.Body = b
}

// startStream writes a stream's exchange line when its response begins.
func (c *capture) startStream() {
	c.p.q.push(func() {
		c.describe()
		c.ann.Response(c.x, c.respHeader, nil)
		// Write a copy: the exchange goes on changing (timings) after this
		// line.
		x := *c.x
		resp := *c.x.Response
		x.Response = &resp
		c.p.cfg.Sink.Put(record.Line{Type: record.TypeExchange, Seq: x.Seq, Exchange: &x})
		if c.p.cfg.Joiner != nil {
			c.p.cfg.Joiner.Recorded(&x)
		}
	})
}

// eventAt records one event of the stream, which arrived at t, on a
// channel of an upgraded connection ("" otherwise): frame, or the first
// part of an event of size bytes (0: all of it). An event without bytes
// (a channel opened or closed) has no body. The pipeline calls it.
func (c *capture) eventAt(t time.Time, typ, direction, channel string, frame []byte, size int64) {
	ev := &record.Event{
		Time:      t,
		OffsetMs:  record.Ms(t.Sub(c.x.Start)),
		Type:      typ,
		Direction: direction,
		Channel:   channel,
	}
	switch {
	case !c.p.cfg.RecordStdin && ev.Stdin(c.x.Annotation.Subresource):
		// What a user types into exec or attach (a password at a prompt)
		// is not recorded; its size is.
		ev.Body = &record.Body{Bytes: max(size, int64(len(frame))), Omitted: true}
	case len(frame) > 0 || typ == "data":
		// A frame is a part of the framer's buffer, which the stored text
		// would otherwise keep whole for as long as the event's line is
		// queued (for the live view, thousands of them): keep its bytes
		// alone.
		k := kept{data: bytes.Clone(frame), total: max(size, int64(len(frame)))}
		ev.Body, _ = c.p.body(c.x.Response.Headers.Get("Content-Type"), k, c.ctx)
	}
	c.p.cfg.Sink.Put(record.Line{Type: record.TypeEvent, Seq: c.x.Seq, Event: ev})
}

// end closes the stream's record once; the pipeline writes the end line
// after the stream's last event.
func (c *capture) end(err error) {
	c.once.Do(func() {
		total := time.Since(c.x.Start)
		if c.release != nil {
			c.release()
		}
		aborted := c.aborted.Load()
		c.p.q.push(func() {
			defer c.done()
			c.x.Timings.TotalMs = record.Ms(total)
			end := &record.End{Timings: c.x.Timings}
			if aborted {
				end.Error = &record.Error{Message: errStopped.Error(), Phase: "proxy"}
			} else if err != nil {
				end.Error = &record.Error{Message: redact.String(err.Error()), Phase: "upstream"}
			}
			c.p.cfg.Sink.Put(record.Line{Type: record.TypeEnd, Seq: c.x.Seq, End: end})
		})
	})
}

// streamBody passes a stream through; the pipeline cuts it into events.
type streamBody struct {
	rc io.ReadCloser
	c  *capture
	f  framer // the pipeline's
	// unwatch stops watching the client's connection for its end.
	unwatch func()
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.pass(p[:n])
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

// pass hands a copy of the bytes just relayed to the pipeline.
func (b *streamBody) pass(p []byte) {
	chunk, t := append([]byte(nil), p...), time.Now()
	b.c.p.q.push(func() {
		for _, fr := range b.f.feed(chunk) {
			b.c.eventAt(t, fr.typ, "down", "", fr.data, fr.size)
		}
	})
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

// flush records what is left of the stream as a last event.
func (b *streamBody) flush() {
	t := time.Now()
	b.c.p.q.push(func() {
		for _, fr := range b.f.rest() {
			b.c.eventAt(t, fr.typ, "down", "", fr.data, fr.size)
		}
	})
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
	// size is the event's size when data is only its first part.
	size int64
}

// framer cuts a byte stream into events.
type framer interface {
	feed(p []byte) []frame
	rest() []frame
}

// maxEvent bounds what a framer holds of one event while it waits for the
// event's end. Kubernetes objects are at most a few MiB (etcd's request
// limit); past the bound the stream is not what the framer took it for,
// and the rest of it is recorded as it comes, chunk by chunk.
const maxEvent = 16 << 20

// jsonFramer splits a JSON watch stream into its events: one JSON object
// each, whatever the chunking. It scans each byte once, keeping its place
// in the object under way.
type jsonFramer struct {
	buf []byte
	// The scan's state at buf[pos]: depth inside the object, in a string,
	// after a backslash in one.
	pos        int
	depth      int
	inStr, esc bool
	// raw is set once an event outgrew maxEvent: from then on each chunk
	// is an event of its own.
	raw bool
}

func (f *jsonFramer) feed(p []byte) []frame {
	if f.raw {
		return []frame{{typ: "data", data: p}}
	}
	f.buf = append(f.buf, p...)
	var out []frame
	for {
		if f.depth == 0 {
			// Between objects: skip to the next one.
			start := bytes.IndexByte(f.buf[f.pos:], '{')
			if start < 0 {
				f.buf, f.pos = f.buf[:0], 0
				return out
			}
			f.buf, f.pos = f.buf[f.pos+start:], 0
		}
		end := f.scan()
		if end < 0 {
			if len(f.buf) > maxEvent {
				f.raw = true
				out = append(out, frame{typ: "data", data: f.buf})
				f.buf = nil
			}
			return out
		}
		obj := f.buf[:end:end]
		f.buf, f.pos = f.buf[end:], 0
		var ev struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(obj, &ev)
		if ev.Type == "" {
			ev.Type = "data"
		}
		out = append(out, frame{typ: ev.Type, data: obj})
	}
}

// scan goes on from pos and returns the length of the object at the start
// of buf, or -1 when it is not complete yet.
func (f *jsonFramer) scan() int {
	for i := f.pos; i < len(f.buf); i++ {
		ch := f.buf[i]
		switch {
		case f.esc:
			f.esc = false
		case f.inStr && ch == '\\':
			f.esc = true
		case ch == '"':
			f.inStr = !f.inStr
		case f.inStr:
		case ch == '{':
			f.depth++
		case ch == '}':
			f.depth--
			if f.depth == 0 {
				return i + 1
			}
		}
	}
	f.pos = len(f.buf)
	return -1
}

func (f *jsonFramer) rest() []frame {
	if len(bytes.TrimSpace(f.buf)) == 0 {
		return nil
	}
	r := frame{typ: "data", data: f.buf}
	f.buf, f.pos = nil, 0
	return []frame{r}
}

// lengthFramer splits a protobuf watch stream: each frame is a 4-byte
// big-endian length and that many bytes. Events keep the frame without its
// length prefix. A frame longer than maxEvent is recorded by its first
// maxEvent bytes and its length; the framer counts the rest away.
type lengthFramer struct {
	buf []byte
	// skip is what is left of an overlong frame; long is its event.
	skip int64
	long *frame
}

func (f *lengthFramer) feed(p []byte) []frame {
	var out []frame
	if f.skip > 0 {
		n := min(int64(len(p)), f.skip)
		if room := maxEvent - len(f.long.data); room > 0 {
			f.long.data = append(f.long.data, p[:min(int64(room), n)]...)
		}
		f.skip -= n
		p = p[n:]
		if f.skip > 0 {
			return nil
		}
		out = append(out, *f.long)
		f.long = nil
	}
	f.buf = append(f.buf, p...)
	for len(f.buf) >= 4 {
		n := int(binary.BigEndian.Uint32(f.buf))
		if n > maxEvent {
			// Keep the first part of it; count the rest away.
			long := frame{"data", append([]byte(nil), f.buf[4:min(len(f.buf), 4+maxEvent)]...), int64(n)}
			if len(f.buf) >= 4+n {
				f.buf = f.buf[4+n:]
				out = append(out, long)
				continue
			}
			f.long, f.skip, f.buf = &long, int64(4+n-len(f.buf)), nil
			return out
		}
		if len(f.buf) < 4+n {
			break
		}
		data := f.buf[4 : 4+n : 4+n]
		f.buf = f.buf[4+n:]
		out = append(out, frame{typ: codec.EventType(data), data: data})
	}
	return out
}

func (f *lengthFramer) rest() []frame {
	var out []frame
	if f.long != nil {
		out = append(out, *f.long)
		f.long = nil
	}
	if len(f.buf) > 0 {
		out = append(out, frame{typ: "data", data: f.buf})
		f.buf = nil
	}
	return out
}

// chunkFramer makes each chunk read an event (logs -f).
type chunkFramer struct{}

func (chunkFramer) feed(p []byte) []frame { return []frame{{typ: "data", data: p}} }
func (chunkFramer) rest() []frame         { return nil }

// upgraded relays a 101 Switching Protocols connection (exec, attach,
// port-forward over WebSocket or SPDY), recording the bytes each way.
func (c *capture) upgraded(resp *http.Response) {
	c.x.Response.Stream = true
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		c.startStream()
		c.end(errors.New("the upstream transport gave no bidirectional stream for the upgrade"))
		return
	}
	c.startStream()
	// The decoders go by the protocol the server chose, before the header
	// changes below; the pipeline alone feeds them.
	u := &upgradeConn{rwc: rwc, c: c}
	u.up, u.down = newDecoders(c.respHeader, c.rel.Subresource, func(direction string, m message) {
		c.eventAt(u.at, m.typ, direction, m.channel, m.data, 0)
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

// upgradeConn is the upstream side of an upgraded connection. The relay
// copies what goes each way for the pipeline, which decodes it into
// messages and channels.
type upgradeConn struct {
	rwc io.ReadWriteCloser
	c   *capture
	// The pipeline's: the decoders, the time of the bytes being decoded,
	// whether the connection was closed.
	up, down decoder
	at       time.Time
	closed   bool
}

func (u *upgradeConn) Read(p []byte) (int, error) {
	n, err := u.rwc.Read(p)
	if n > 0 {
		u.pass(u.down, p[:n])
	}
	return n, err
}

// Write records what the client sends before it goes upstream: a SPDY
// stream is then named before the server can answer on it.
func (u *upgradeConn) Write(p []byte) (int, error) {
	u.pass(u.up, p)
	return u.rwc.Write(p)
}

// pass hands a copy of bytes relayed one way to the pipeline.
func (u *upgradeConn) pass(d decoder, p []byte) {
	chunk, t := append([]byte(nil), p...), time.Now()
	u.c.p.q.push(func() {
		if !u.closed {
			u.at = t
			d.feed(chunk)
		}
	})
}

// Close closes the connection and records its end after the last message.
func (u *upgradeConn) Close() error {
	err := u.rwc.Close()
	t := time.Now()
	u.c.p.q.push(func() {
		if !u.closed {
			u.closed, u.at = true, t
			u.up.close()
			u.down.close()
		}
	})
	u.c.end(nil)
	return err
}
