package proxy

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/moby/spdystream/spdy"
)

// messages collects what a decoder emits.
type messages struct {
	mu  sync.Mutex
	got []message
}

func (m *messages) emit(msg message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, msg)
}

// String lists the messages one per line: type, channel, data.
func (m *messages) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, msg := range m.got {
		fmt.Fprintf(&b, "%s %q %q\n", msg.typ, msg.channel, msg.data)
	}
	return b.String()
}

// rawBytes joins the data of the messages with no channel (recorded raw).
func (m *messages) rawBytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b []byte
	for _, msg := range m.got {
		if msg.channel == "" {
			b = append(b, msg.data...)
		}
	}
	return b
}

// feedBy feeds d the stream in pieces of n bytes, as a relay might read it,
// then closes it.
func feedBy(d decoder, stream []byte, n int) {
	for len(stream) > 0 {
		k := min(n, len(stream))
		d.feed(stream[:k])
		stream = stream[k:]
	}
	d.close()
}

// wsFrameWith is one WebSocket frame with the given first byte (FIN and opcode).
func wsFrameWith(first byte, masked bool, payload []byte) []byte {
	b := wsFrame(masked, payload)
	b[0] = first
	return b
}

func TestWebSocketChannels(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 300)
	huge := bytes.Repeat([]byte("y"), 70000)
	cases := []struct {
		name, proto, subresource string
		fromClient               bool
		stream                   [][]byte
		want                     string
	}{
		{
			name: "client fragments, a ping between them, 16-bit length, v5 close", proto: "v5.channel.k8s.io", fromClient: true,
			stream: [][]byte{
				wsFrameWith(0x02, true, []byte("\x00ab")), // binary, not final
				wsFrameWith(0x89, true, []byte("ping")),   // a control frame may come between
				wsFrameWith(0x80, true, []byte("cd")),     // final continuation
				wsFrame(true, append([]byte{0}, long...)),
				wsFrame(true, []byte{255, 0}),
			},
			want: "data \"stdin\" \"abcd\"\n" + fmt.Sprintf("data \"stdin\" %q\n", long) + "close \"stdin\" \"\"\n",
		},
		{
			name: "server: open, 64-bit length, error channel", proto: "v4.channel.k8s.io",
			stream: [][]byte{
				wsFrame(false, []byte{1}),
				wsFrame(false, append([]byte{2}, huge...)),
				wsFrame(false, []byte("\x03{\"status\":\"Success\"}")),
			},
			want: "open \"stdout\" \"\"\n" + fmt.Sprintf("data \"stderr\" %q\n", huge) + "data \"error\" \"{\\\"status\\\":\\\"Success\\\"}\"\n",
		},
		{
			name: "base64 variant in text frames", proto: "v4.base64.channel.k8s.io",
			stream: [][]byte{wsFrameWith(0x81, false, []byte("1"+base64.StdEncoding.EncodeToString([]byte("hi\n"))))},
			want:   "data \"stdout\" \"hi\\n\"\n",
		},
		{
			name: "port-forward numbers two channels per port", proto: "v4.channel.k8s.io", subresource: "portforward",
			stream: [][]byte{wsFrame(false, []byte("\x00\x50\x00")), wsFrame(false, []byte("\x01oops")), wsFrame(false, []byte("\x02ok"))},
			want:   "data \"data #0\" \"P\\x00\"\ndata \"error #0\" \"oops\"\ndata \"data #1\" \"ok\"\n",
		},
		{
			name: "unknown subprotocol: messages whole", proto: "example.com",
			stream: [][]byte{wsFrame(false, []byte("\x01hello"))},
			want:   "data \"\" \"\\x01hello\"\n",
		},
	}
	for _, tc := range cases {
		for _, n := range []int{1, 7, 1 << 20} {
			t.Run(fmt.Sprintf("%s/by %d", tc.name, n), func(t *testing.T) {
				var m messages
				d := newWebSocket(tc.fromClient, channels(tc.proto, tc.subresource, m.emit), m.emit)
				feedBy(d, bytes.Join(tc.stream, nil), n)
				if got := m.String(); got != tc.want {
					t.Errorf("got\n%s\nwant\n%s", truncate(got), truncate(tc.want))
				}
			})
		}
	}
}

func truncate(s string) string {
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return s
}

// Bytes that are not WebSocket framing are recorded raw, every one of them,
// whether they break the framing at once or leave a frame unfinished.
func TestWebSocketNotFramingIsKeptRaw(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fromClient bool
		stream     []byte
	}{
		{"masked from the server", false, wsFrame(true, []byte("\x01x"))},
		{"reserved bits", false, append([]byte{0xc2, 1, 1}, "tail"...)},
		{"text that reads as an unfinished frame", false, []byte("hello world")},
		{"a frame longer than any Kubernetes sends", false, []byte{0x82, 127, 0, 0, 1, 0, 0, 0, 0, 0, 'x'}},
		{"a valid frame, then garbage", false, append(wsFrame(false, []byte("\x01ok")), 0x83, 0x00)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m messages
			d := newWebSocket(tc.fromClient, channels("v5.channel.k8s.io", "exec", m.emit), m.emit)
			feedBy(d, tc.stream, 3)
			all := tc.stream
			if strings.HasPrefix(tc.name, "a valid frame") {
				all = tc.stream[len(wsFrame(false, []byte("\x01ok"))):]
				if !strings.HasPrefix(m.String(), "data \"stdout\" \"ok\"\n") {
					t.Errorf("the valid frame was not decoded:\n%s", m.String())
				}
			}
			if got := m.rawBytes(); !bytes.Equal(got, all) {
				t.Errorf("raw bytes %q, want %q\n%s", got, all, m.String())
			}
		})
	}
}

// A message whose fragments join past maxFrame is not held whole: what
// was joined is recorded, and the rest raw.
func TestWebSocketMessageIsBounded(t *testing.T) {
	var m messages
	d := newWebSocket(false, channels("v5.channel.k8s.io", "exec", m.emit), m.emit)
	chunk := bytes.Repeat([]byte("y"), 1<<20)
	frag := func(opcode byte) []byte {
		return append([]byte{opcode, 127, 0, 0, 0, 0, 0, 0x10, 0, 0}, chunk...)
	}
	d.feed(frag(0x02)) // a binary message's first fragment, not final
	for range 16 {
		d.feed(frag(0x00))
	}
	if !d.broken || len(d.msg) != 0 {
		t.Fatalf("after %d MiB of fragments: broken %v, %d bytes held", 17, d.broken, len(d.msg))
	}
	if got := m.rawBytes(); len(got) < maxFrame {
		t.Errorf("%d bytes recorded raw, want the joined part at least", len(got))
	}
}

// spdyStream writes SPDY frames as one side of a connection would.
func spdyStream(t *testing.T, frames ...spdy.Frame) []byte {
	t.Helper()
	var b bytes.Buffer
	f, err := spdy.NewFramer(&b, &b)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		if err := f.WriteFrame(fr); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func streamType(typ, port string) http.Header {
	h := http.Header{}
	h.Set("streamtype", typ)
	if port != "" {
		h.Set("port", port)
	}
	return h
}

// The client opens the streams and names them; the server's data on them
// is named too. Header blocks share one compression context per direction,
// so the second SYN_STREAM only decodes if the first was read.
func TestSPDYStreams(t *testing.T) {
	for _, n := range []int{1, 5, 1 << 20} {
		t.Run(fmt.Sprintf("by %d", n), func(t *testing.T) {
			names := &spdyNames{ids: map[spdy.StreamId]string{}}
			var up, down messages
			upStream := spdyStream(t,
				&spdy.SynStreamFrame{StreamId: 1, Headers: streamType("error", "")},
				&spdy.SynStreamFrame{StreamId: 3, Headers: streamType("stdin", "")},
				&spdy.SynStreamFrame{StreamId: 5, Headers: streamType("stdout", "")},
				&spdy.SynStreamFrame{StreamId: 7, Headers: streamType("data", "8080")},
				&spdy.DataFrame{StreamId: 3, Data: []byte("ls\n")},
				&spdy.DataFrame{StreamId: 3, Flags: spdy.DataFlagFin},
				&spdy.PingFrame{Id: 1},
			)
			d := newSPDY(names, up.emit)
			feedBy(d, upStream, n)
			downStream := spdyStream(t,
				&spdy.SynReplyFrame{StreamId: 5, Headers: http.Header{}},
				&spdy.DataFrame{StreamId: 5, Data: []byte("file\n")},
				&spdy.DataFrame{StreamId: 7, Data: []byte("pong")},
				&spdy.DataFrame{StreamId: 9, Data: []byte("?")},
				&spdy.RstStreamFrame{StreamId: 1, Status: spdy.Cancel},
			)
			feedBy(newSPDY(names, down.emit), downStream, n)
			wantUp := `open "error" ""
open "stdin" ""
open "stdout" ""
open "data :8080" ""
data "stdin" "ls\n"
close "stdin" ""
`
			wantDown := `data "stdout" "file\n"
data "data :8080" "pong"
data "stream 9" "?"
close "error" ""
`
			if got := up.String(); got != wantUp {
				t.Errorf("up:\n%s\nwant\n%s", got, wantUp)
			}
			if got := down.String(); got != wantDown {
				t.Errorf("down:\n%s\nwant\n%s", got, wantDown)
			}
		})
	}
}

// Bytes the SPDY framer cannot read are recorded raw, including those it
// had read of the frame that failed.
func TestSPDYNotFramingIsKeptRaw(t *testing.T) {
	good := spdyStream(t, &spdy.DataFrame{StreamId: 1, Data: []byte("ok")})
	bad := []byte{0x80, 0x03, 0x00, 0x63, 0x00, 0x00, 0x00, 0x02, 'n', 'o'} // control frame of an unknown type
	var m messages
	feedBy(newSPDY(&spdyNames{ids: map[spdy.StreamId]string{}}, m.emit), append(good, bad...), 4)
	if !strings.HasPrefix(m.String(), "data \"stream 1\" \"ok\"\n") {
		t.Errorf("the good frame was not decoded:\n%s", m.String())
	}
	if got := m.rawBytes(); !bytes.Equal(got, bad) {
		t.Errorf("raw bytes %q, want %q", got, bad)
	}
}

// FuzzWebSocket feeds arbitrary bytes, in arbitrary pieces, to the
// WebSocket decoder with each kind of message decoder behind it.
func FuzzWebSocket(f *testing.F) {
	f.Add(wsFrame(false, []byte("\x01hello")), 3, false, uint8(0))
	f.Add(wsFrameWith(0x02, true, []byte("\x00ab")), 1, true, uint8(1))
	f.Add(wsFrameWith(0x81, false, []byte("!aGk=")), 1, false, uint8(2)) // not a channel digit
	f.Add([]byte("hello world"), 4, false, uint8(3))
	f.Fuzz(func(t *testing.T, stream []byte, n int, fromClient bool, kind uint8) {
		if n <= 0 {
			n = 1
		}
		var m messages
		var msgs decoder
		switch kind % 4 {
		case 0:
			msgs = channels("v5.channel.k8s.io", "exec", m.emit)
		case 1:
			msgs = channels("v4.channel.k8s.io", "portforward", m.emit)
		case 2:
			msgs = channels("base64.channel.k8s.io", "portforward", m.emit)
		default:
			msgs = newSPDY(&spdyNames{ids: map[spdy.StreamId]string{}}, m.emit)
		}
		d := newWebSocket(fromClient, msgs, m.emit)
		feedBy(d, stream, n)
		var total int
		for _, msg := range m.got {
			total += len(msg.data)
		}
		if kind%4 != 2 && total > len(stream) {
			// (base64 decodes to fewer bytes, never more.)
			t.Fatalf("decoded %d bytes out of %d", total, len(stream))
		}
	})
}
