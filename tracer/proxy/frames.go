package proxy

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/moby/spdystream/spdy"

	"github.com/kubewire/kubewire/tracer/classify"
)

// An upgraded connection (exec, attach, port-forward) carries messages of a
// protocol the API server negotiated: WebSocket messages whose first byte
// names a channel (the channel.k8s.io subprotocols), SPDY/3.1 streams named
// by a streamtype header, or SPDY tunnelled in WebSocket messages
// (port-forward). The relay hands each direction's bytes to a decoder that
// records one event per message with its channel; what cannot be decoded is
// recorded as raw data.

// message is one decoded message of an upgraded connection.
type message struct {
	typ     string // "data", or "open" / "close" of a channel
	channel string // stdin, stdout, stderr, error, resize, data :80, ...
	data    []byte
}

// decoder decodes one direction of an upgraded connection.
type decoder interface {
	// feed takes the next bytes the relay passes on.
	feed(p []byte)
	// close ends the input, recording what is left raw.
	close()
}

// newDecoders returns the decoders of both directions for a 101 response
// with header h, emitting through emit(direction, message). The SPDY
// streams of one connection are named by whichever side opens them, so
// both directions share the names.
func newDecoders(h http.Header, subresource string, emit func(string, message)) (up, down decoder) {
	upEmit := func(m message) { emit("up", m) }
	downEmit := func(m message) { emit("down", m) }
	proto := strings.ToLower(strings.TrimSpace(h.Get("Sec-WebSocket-Protocol")))
	switch {
	case classify.HeaderHasToken(h, "Upgrade", "websocket"):
		if strings.HasPrefix(proto, "spdy/3.1+") {
			names := &spdyNames{ids: map[spdy.StreamId]string{}}
			return newWebSocket(true, newSPDY(names, upEmit), upEmit), newWebSocket(false, newSPDY(names, downEmit), downEmit)
		}
		return newWebSocket(true, channels(proto, subresource, upEmit), upEmit),
			newWebSocket(false, channels(proto, subresource, downEmit), downEmit)
	case strings.HasPrefix(strings.ToLower(h.Get("Upgrade")), "spdy/"):
		names := &spdyNames{ids: map[spdy.StreamId]string{}}
		return newSPDY(names, upEmit), newSPDY(names, downEmit)
	}
	return raw{upEmit}, raw{downEmit}
}

// raw records bytes as they come, for protocols kubewire does not know.
type raw struct{ emit func(message) }

func (r raw) feed(p []byte) { r.emit(message{typ: "data", data: append([]byte(nil), p...)}) }
func (r raw) close()        {}

// channelNames are the channel.k8s.io channels of exec and attach.
var channelNames = []string{"stdin", "stdout", "stderr", "error", "resize"}

// channels returns the decoder of WebSocket messages of subprotocol proto:
// a channel byte (or, in the base64 variants, a channel digit and base64
// text) before the data. Port-forward over channel.k8s.io numbers two
// channels per port, data and error. An unknown subprotocol's messages are
// recorded whole.
func channels(proto, subresource string, emit func(message)) decoder {
	b64 := strings.Contains(proto, "base64.channel.k8s.io")
	if !b64 && !strings.HasSuffix(proto, "channel.k8s.io") && proto != "portforward.k8s.io" {
		return raw{emit}
	}
	return &channelDecoder{b64: b64, v5: strings.HasPrefix(proto, "v5."), portForward: subresource == "portforward", emit: emit}
}

// channelDecoder decodes whole channel.k8s.io messages.
type channelDecoder struct {
	b64, v5, portForward bool
	emit                 func(message)
}

func (d *channelDecoder) name(n int) string {
	switch {
	case n < 0:
		// Not a channel digit in a base64 variant.
	case d.portForward:
		return fmt.Sprintf("%s #%d", [2]string{"data", "error"}[n%2], n/2)
	case n < len(channelNames):
		return channelNames[n]
	}
	return fmt.Sprintf("channel %d", n)
}

func (d *channelDecoder) feed(m []byte) {
	if len(m) == 0 {
		return
	}
	n, data := int(m[0]), m[1:]
	if d.b64 {
		n = int(m[0]) - '0'
		if dec, err := base64.StdEncoding.DecodeString(string(data)); err == nil {
			data = dec
		}
	}
	switch {
	case d.v5 && n == 255 && len(data) == 1:
		// v5's close signal: no more will come on the channel in data[0]
		// (stdin's end of file).
		d.emit(message{typ: "close", channel: d.name(int(data[0]))})
	case len(data) == 0:
		// An empty message on a channel opens it.
		d.emit(message{typ: "open", channel: d.name(n)})
	default:
		d.emit(message{typ: "data", channel: d.name(n), data: append([]byte(nil), data...)})
	}
}

func (d *channelDecoder) close() {}

// webSocket cuts one direction of a WebSocket connection (RFC 6455) into
// messages, joining fragments and unmasking what the client sent, and
// hands each to msgs. Bytes that turn out not to be WebSocket framing are
// recorded raw from there on.
type webSocket struct {
	masked bool
	msgs   decoder
	raw    func(message)
	buf    []byte
	msg    []byte
	inMsg  bool
	broken bool
}

func newWebSocket(fromClient bool, msgs decoder, raw func(message)) *webSocket {
	return &webSocket{masked: fromClient, msgs: msgs, raw: raw}
}

func (w *webSocket) feed(p []byte) {
	if w.broken {
		w.raw(message{typ: "data", data: append([]byte(nil), p...)})
		return
	}
	w.buf = append(w.buf, p...)
	for {
		n, err := w.next()
		if err != nil {
			w.broken = true
			w.raw(message{typ: "data", data: w.buf})
			w.buf = nil
			return
		}
		if n == 0 {
			return
		}
		w.buf = w.buf[n:]
	}
}

// maxFrame bounds what a WebSocket decoder waits for, in one frame or in
// the fragments of one message: Kubernetes sends frames of at most 32 KiB,
// and anything longer is taken for bytes that are not WebSocket framing.
const maxFrame = 16 << 20

// next decodes one frame at the start of buf and returns its length, or 0
// when buf holds only part of one.
func (w *webSocket) next() (int, error) {
	b := w.buf
	if len(b) < 2 {
		return 0, nil
	}
	fin, opcode := b[0]&0x80 != 0, b[0]&0x0f
	mask, n, off := b[1]&0x80 != 0, uint64(b[1]&0x7f), 2
	switch {
	case mask != w.masked:
		return 0, errors.New("websocket frame masked the wrong way")
	case b[0]&0x70 != 0:
		// An extension (permessage-deflate) would change the payload.
		return 0, errors.New("websocket frame with reserved bits")
	case opcode >= 8 && (!fin || n > 125):
		return 0, errors.New("websocket control frame fragmented or long")
	}
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil
		}
		n, off = uint64(binary.BigEndian.Uint16(b[2:4])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil
		}
		n, off = binary.BigEndian.Uint64(b[2:10]), 10
	}
	if n > maxFrame {
		return 0, fmt.Errorf("websocket frame of %d bytes", n)
	}
	var key []byte
	if mask {
		if len(b) < off+4 {
			return 0, nil
		}
		key, off = b[off:off+4], off+4
	}
	if uint64(len(b)-off) < n {
		return 0, nil
	}
	payload := b[off : off+int(n)]
	switch {
	case opcode == 8 || opcode == 9 || opcode == 10:
		// Control frames (close, ping, pong) carry no channel data.
	case opcode == 1 || opcode == 2 || opcode == 0 && w.inMsg:
		if opcode != 0 {
			w.msg, w.inMsg = w.msg[:0], true
		}
		if len(w.msg)+len(payload) > maxFrame {
			// Fragments joined past what one message may hold: what was
			// joined is recorded as it is, the rest raw.
			w.raw(message{typ: "data", data: append([]byte(nil), w.msg...)})
			w.msg, w.inMsg = nil, false
			return 0, fmt.Errorf("websocket message of more than %d bytes", maxFrame)
		}
		start := len(w.msg)
		w.msg = append(w.msg, payload...)
		if key != nil {
			for i := range payload {
				w.msg[start+i] ^= key[i%4]
			}
		}
		if fin {
			w.inMsg = false
			w.msgs.feed(w.msg)
		}
	default:
		return 0, fmt.Errorf("websocket opcode %d", opcode)
	}
	return off + int(n), nil
}

// close records what was left of a frame, if anything, raw.
func (w *webSocket) close() {
	if len(w.buf) > 0 {
		w.raw(message{typ: "data", data: w.buf})
		w.buf = nil
	}
	w.msgs.close()
}

// spdyNames maps the SPDY streams of one connection to channel names.
type spdyNames struct {
	mu  sync.Mutex
	ids map[spdy.StreamId]string
}

func (n *spdyNames) set(id spdy.StreamId, name string) {
	n.mu.Lock()
	n.ids[id] = name
	n.mu.Unlock()
}

func (n *spdyNames) get(id spdy.StreamId) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if name, ok := n.ids[id]; ok {
		return name
	}
	return fmt.Sprintf("stream %d", id)
}

// spdyDecoder reads SPDY/3.1 frames from the bytes fed to it. Every frame
// header gives the frame's length, so it waits for whole frames and hands
// each to spdystream's framer, which keeps the one zlib context per
// direction that header blocks share. It works in the relay's goroutine:
// a stream the client opens is named before its bytes go upstream, so the
// server's answer on it always finds the name.
type spdyDecoder struct {
	names  *spdyNames
	emit   func(message)
	framer *spdy.Framer
	frame  bytes.Reader // the whole frame being read
	buf    []byte       // bytes not yet a whole frame
	broken bool
}

func newSPDY(names *spdyNames, emit func(message)) *spdyDecoder {
	d := &spdyDecoder{names: names, emit: emit}
	f, err := spdy.NewFramer(io.Discard, &d.frame)
	d.framer, d.broken = f, err != nil
	return d
}

func (d *spdyDecoder) feed(p []byte) {
	if d.broken {
		d.emit(message{typ: "data", data: append([]byte(nil), p...)})
		return
	}
	d.buf = append(d.buf, p...)
	for len(d.buf) >= 8 {
		n := 8 + (int(d.buf[5])<<16 | int(d.buf[6])<<8 | int(d.buf[7]))
		if len(d.buf) < n {
			return
		}
		d.frame.Reset(d.buf[:n])
		fr, err := d.framer.ReadFrame()
		if err != nil || d.frame.Len() != 0 {
			// Not SPDY after all: this frame and the rest are kept raw.
			d.broken = true
			d.emit(message{typ: "data", data: d.buf})
			d.buf = nil
			return
		}
		d.handle(fr)
		d.buf = d.buf[n:]
	}
}

func (d *spdyDecoder) handle(frame spdy.Frame) {
	switch fr := frame.(type) {
	case *spdy.SynStreamFrame:
		name := fr.Headers.Get("streamtype")
		if name == "" {
			name = fmt.Sprintf("stream %d", fr.StreamId)
		}
		if port := fr.Headers.Get("port"); port != "" {
			name += " :" + port
		}
		d.names.set(fr.StreamId, name)
		d.emit(message{typ: "open", channel: name})
	case *spdy.DataFrame:
		name := d.names.get(fr.StreamId)
		if len(fr.Data) > 0 {
			d.emit(message{typ: "data", channel: name, data: fr.Data})
		}
		if fr.Flags&spdy.DataFlagFin != 0 {
			d.emit(message{typ: "close", channel: name})
		}
	case *spdy.RstStreamFrame:
		d.emit(message{typ: "close", channel: d.names.get(fr.StreamId)})
	}
}

// close records what was left of a frame, if anything, raw.
func (d *spdyDecoder) close() {
	if len(d.buf) > 0 {
		d.emit(message{typ: "data", data: d.buf})
		d.buf = nil
	}
}
