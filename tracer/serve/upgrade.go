package serve

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubewire/kubewire/tracer/record"
)

// exec and attach are replayed over WebSocket with the channel.k8s.io
// subprotocols: the recorded channels' messages are sent, as the API server
// sent them, with their timing; what the client sends is read and dropped.
// Port-forward (a SPDY tunnel, or data a client sends to a pod) and SPDY
// upgrades are not replayed: they are answered with a Status saying so.

// channelNumbers are the channel.k8s.io channel numbers of exec and attach.
var channelNumbers = map[string]byte{"stdin": 0, "stdout": 1, "stderr": 2, "error": 3, "resize": 4}

// websocketGUID is RFC 6455's key suffix for Sec-WebSocket-Accept.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, x *record.Exchange) {
	proto := x.Response.Headers.Get("Sec-Websocket-Protocol")
	sub := path.Base(r.URL.Path)
	switch {
	case !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || proto == "":
		s.status(w, x.Seq, "SPDY upgrades are not replayed", http.StatusNotImplemented, metav1.StatusReasonBadRequest,
			"kubewire serve replays exec and attach over WebSocket only; this client asked for a SPDY upgrade (kubectl before 1.30, or KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false)", nil)
		return
	case sub == "portforward":
		s.status(w, x.Seq, "port-forward is not replayed", http.StatusNotImplemented, metav1.StatusReasonBadRequest,
			"kubewire serve does not replay port-forward: a recording cannot answer what a client sends to a pod", nil)
		return
	case strings.Contains(proto, "base64") || !strings.HasSuffix(proto, "channel.k8s.io"):
		s.status(w, x.Seq, "subprotocol "+proto+" is not replayed", http.StatusNotImplemented, metav1.StatusReasonBadRequest,
			"kubewire serve replays the binary channel.k8s.io subprotocols; this call used "+proto, nil)
		return
	}
	offered := false
	for _, p := range strings.Split(r.Header.Get("Sec-Websocket-Protocol"), ",") {
		offered = offered || strings.TrimSpace(p) == proto
	}
	if !offered {
		s.status(w, x.Seq, "the client does not offer "+proto, http.StatusBadRequest, metav1.StatusReasonBadRequest,
			fmt.Sprintf("kubewire serve: the recorded call used subprotocol %s, which this client does not offer (%s)", proto, r.Header.Get("Sec-Websocket-Protocol")), nil)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		s.status(w, x.Seq, "", http.StatusInternalServerError, metav1.StatusReasonInternalError, "kubewire serve: this connection cannot be upgraded (HTTP/2)", nil)
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	sum := sha1.Sum([]byte(r.Header.Get("Sec-Websocket-Key") + websocketGUID))
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: %s\r\n%s: %d %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(sum[:]), proto, record.HeaderReplayed, x.Seq, s.o.Name)
	if err := rw.Flush(); err != nil {
		return
	}
	// Read what the client sends until it closes; its close frame, or the
	// connection ending, ends the replay.
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		drainFrames(rw.Reader)
	}()
	ctx := r.Context()
	start := time.Now()
	v5 := strings.HasPrefix(proto, "v5.")
	for _, ev := range x.Events {
		if ev.Direction != "down" {
			continue
		}
		ch, ok := channelNumbers[ev.Channel]
		if !ok {
			continue
		}
		if !s.delay(ctx, start, ev.OffsetMs) {
			return
		}
		var msg []byte
		switch ev.Type {
		case "open":
			msg = []byte{ch}
		case "close":
			if !v5 {
				continue
			}
			msg = []byte{255, ch}
		case "data":
			msg = append([]byte{ch}, ev.Body.Data()...)
		default:
			continue
		}
		if writeFrame(rw.Writer, 2, msg) != nil || rw.Flush() != nil {
			return
		}
		select {
		case <-gone:
			return
		default:
		}
	}
	// A normal closure, then wait for the client's close (bounded).
	_ = writeFrame(rw.Writer, 8, []byte{0x03, 0xe8})
	_ = rw.Flush()
	select {
	case <-gone:
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
	}
}

// writeFrame writes one unmasked, unfragmented server frame.
func writeFrame(w *bufio.Writer, opcode byte, payload []byte) error {
	hdr := []byte{0x80 | opcode}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, byte(n))
	case n < 1<<16:
		hdr = append(hdr, 126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// drainFrames reads client frames until a close frame or an error.
func drainFrames(r *bufio.Reader) {
	for {
		var h [2]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if h[1]&0x80 != 0 {
			n += 4 // the mask key
		}
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return
		}
		if h[0]&0x0f == 8 {
			return
		}
	}
}
