package proxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/record/recordtest"
)

// stalledSink holds every line until it is released, as a live view whose
// terminal nobody reads would.
type stalledSink struct {
	gate  chan struct{}
	once  sync.Once
	lines *recordtest.Lines
}

func newStalledSink() *stalledSink {
	return &stalledSink{gate: make(chan struct{}), lines: recordtest.NewLines()}
}

func (s *stalledSink) Put(l record.Line) {
	<-s.gate
	s.lines.Put(l)
}

func (s *stalledSink) release() { s.once.Do(func() { close(s.gate) }) }

// Traffic does not wait for kubewire's sinks: with every sink stalled,
// hundreds of calls complete and a watch's headers and first event reach
// the client. Once the sinks move again, every call is recorded once, and
// each stream's lines come in order.
func TestTrafficFlowsWhileSinksStall(t *testing.T) {
	sink := newStalledSink()
	events := make(chan struct{})
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("watch") == "true" {
			fl := w.(http.Flusher)
			fl.Flush() // headers first, before any event
			<-events
			io.WriteString(w, `{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a"}}}`+"\n")
			fl.Flush()
			return
		}
		fmt.Fprintf(w, `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":%q}}`, r.URL.Path)
	}))
	t.Cleanup(up.Close)
	f := startFor(t, up, func(c *Config) { c.Sink = sink })
	t.Cleanup(sink.release) // before the proxy's Close, which drains
	f.client.Timeout = waitTime

	// Many more lines than any queue between the relay and the sinks
	// could hold if it blocked, from 16 clients at once.
	const calls, clients = 300, 16
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	next := make(chan int, calls)
	for i := range calls {
		next <- i
	}
	close(next)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f.getConfigMap(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a call did not complete while the sinks were stalled: %v", err)
	}

	resp := f.get(t, "/api/v1/namespaces/demo/configmaps?watch=true", "Bearer "+f.token)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("watch: %s", resp.Status)
	}
	close(events)
	first, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.Contains(first, `"ADDED"`) {
		t.Fatalf("the watch's first event did not reach the client while the sinks were stalled: %q %v", first, err)
	}
	if n := len(sink.lines.Snapshot()); n != 0 {
		t.Fatalf("the stalled sink got %d lines", n)
	}

	sink.release()
	sink.lines.WaitFor(t, "the watch's ADDED event", waitTime, func(l record.Line) bool {
		return l.Type == record.TypeEvent && l.Event.Type == "ADDED"
	})
	resp.Body.Close()
	sink.lines.WaitFor(t, "the watch's end", waitTime, func(l record.Line) bool { return l.Type == record.TypeEnd })
	seen := map[string]int{}
	firstLine := map[int64]record.LineType{}
	for _, l := range sink.lines.Snapshot() {
		if _, ok := firstLine[l.Seq]; !ok {
			firstLine[l.Seq] = l.Type
		}
		if l.Type == record.TypeExchange && strings.Contains(l.Exchange.Request.URL, "/configmaps/cm-") {
			seen[l.Exchange.Request.URL]++
		}
	}
	if len(seen) != calls {
		t.Errorf("%d of %d calls recorded", len(seen), calls)
	}
	for u, n := range seen {
		if n != 1 {
			t.Errorf("%s recorded %d times", u, n)
		}
	}
	for seq, typ := range firstLine {
		if typ != record.TypeExchange {
			t.Errorf("#%d: first line is %s, not its exchange", seq, typ)
		}
	}
}

// A body past what kubewire keeps is counted, not held: the record has
// its size and its first part; a request body that large is streamed
// upstream whole, and hashed so kubewire serve can match it.
func TestBodyPastTheCapIsCounted(t *testing.T) {
	const size = 3 << 20
	big := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	var got []byte
	f := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			got, _ = io.ReadAll(r.Body)
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write(big)
	}))
	sum := sha256.Sum256(big)
	want := hex.EncodeToString(sum[:])

	resp := f.get(t, "/api/v1/namespaces/demo/pods/web/log", "Bearer "+f.token)
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n != size {
		t.Fatalf("client got %d of %d bytes", n, size)
	}
	x := f.sink.WaitFor(t, "the log's exchange", waitTime, exchangeLine("/log")).Exchange
	b := x.Response.Body
	if b.Bytes != size || !b.Truncated || len(b.Text) > 1<<20 || b.SHA256 != "" {
		t.Errorf("response body: %d bytes, truncated %v, %d stored, sha256 %q; want %d, truncated, at most 1 MiB, no hash",
			b.Bytes, b.Truncated, len(b.Text), b.SHA256, size)
	}

	req, _ := http.NewRequest("POST", f.upstream.URL+"/api/v1/namespaces/demo/configmaps", io.MultiReader(bytes.NewReader(big)))
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !bytes.Equal(got, big) {
		t.Fatalf("the API server got %d bytes of the %d sent", len(got), size)
	}
	x = f.sink.WaitFor(t, "the create", waitTime, func(l record.Line) bool {
		return l.Type == record.TypeExchange && l.Exchange.Request.Method == "POST"
	}).Exchange
	if b := x.Request.Body; b == nil || b.Bytes != size || !b.Truncated || b.SHA256 != want {
		t.Errorf("request body %+v: want %d bytes, truncated, sha256 %s", b, size, want)
	}
}

// A body cut short that may hold a secret is dropped, and not hashed.
func TestBodyPastTheCapThatMayHoldSecretsIsDropped(t *testing.T) {
	const size = 2 << 20
	f := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"kind":"ConfigMapList","items":[{"data":{"password":"hunter2"}}`)
		w.Write(bytes.Repeat([]byte(" "), size))
		io.WriteString(w, `]}`)
	}))
	resp := f.get(t, "/api/v1/namespaces/demo/configmaps", "Bearer "+f.token)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	b := f.sink.WaitFor(t, "the list", waitTime, exchangeLine("/configmaps")).Exchange.Response.Body
	if !b.Redacted || b.Text != "" || b.SHA256 != "" || b.Bytes <= size {
		t.Errorf("body: redacted %v, text %d bytes, sha256 %q, %d bytes; want redacted, none stored, no hash", b.Redacted, len(b.Text), b.SHA256, b.Bytes)
	}
}

// The JSON framer cuts the same events whatever the chunking, scanning
// each byte once.
func TestJSONFramerWhateverTheChunking(t *testing.T) {
	stream := `{"type":"ADDED","object":{"metadata":{"name":"a{"}}}` + "\n" +
		`{"type":"MODIFIED","object":{"data":{"k":"\"}\\"}}}` + "\n" +
		`{"type":"DELETED","object":{}}` + "\n"
	whole := (&jsonFramer{}).feed([]byte(stream))
	if len(whole) != 3 || whole[0].typ != "ADDED" || whole[1].typ != "MODIFIED" || whole[2].typ != "DELETED" {
		t.Fatalf("frames of the whole stream: %+v", whole)
	}
	f := &jsonFramer{}
	var bytewise []frame
	for i := range len(stream) {
		for _, fr := range f.feed([]byte{stream[i]}) {
			fr.data = append([]byte(nil), fr.data...)
			bytewise = append(bytewise, fr)
		}
	}
	if len(bytewise) != len(whole) {
		t.Fatalf("byte by byte: %d frames, want %d", len(bytewise), len(whole))
	}
	for i := range whole {
		if bytewise[i].typ != whole[i].typ || string(bytewise[i].data) != string(whole[i].data) {
			t.Errorf("frame %d: %s %q, want %s %q", i, bytewise[i].typ, bytewise[i].data, whole[i].typ, whole[i].data)
		}
	}
}

// An event longer than a framer holds is recorded by its first part and
// its size; a length-prefixed stream goes on with the next frame.
func TestFramersBoundWhatTheyHold(t *testing.T) {
	j := &jsonFramer{}
	chunk := append([]byte(`{"type":"ADDED","object":{"data":"`), bytes.Repeat([]byte("x"), 1<<20)...)
	var out []frame
	for i := 0; i < 40 && len(out) == 0; i++ {
		out = j.feed(chunk)
		chunk = bytes.Repeat([]byte("x"), 1<<20)
	}
	if len(out) != 1 || out[0].typ != "data" || len(out[0].data) <= maxEvent || len(j.buf) != 0 {
		t.Fatalf("an overlong JSON event: %d frames, %d bytes held", len(out), len(j.buf))
	}
	if more := j.feed([]byte("tail")); len(more) != 1 || string(more[0].data) != "tail" {
		t.Errorf("after an overlong event, chunks are events of their own: %+v", more)
	}

	l := &lengthFramer{}
	long := maxEvent + 10
	var stream []byte
	stream = binary.BigEndian.AppendUint32(stream, uint32(long))
	stream = append(stream, bytes.Repeat([]byte("y"), long)...)
	stream = binary.BigEndian.AppendUint32(stream, 3)
	stream = append(stream, "abc"...)
	var frames []frame
	for len(stream) > 0 {
		n := min(len(stream), 64<<10)
		frames = append(frames, l.feed(stream[:n])...)
		stream = stream[n:]
	}
	if len(frames) != 2 || frames[0].size != int64(long) || len(frames[0].data) != maxEvent || string(frames[1].data) != "abc" {
		t.Fatalf("an overlong protobuf frame then a short one: %d frames", len(frames))
	}
}

// getConfigMap gets configmap cm-I through kubewire and checks the answer.
func (f *fixture) getConfigMap(i int) error {
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/namespaces/demo/configmaps/cm-%d", f.upstream.URL, i), nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || !strings.Contains(string(body), fmt.Sprintf("cm-%d", i)) {
		return fmt.Errorf("call %d: %q %v", i, body, err)
	}
	return nil
}

// An HTTP/2 client that reads an answer of unknown length and resets its
// stream before the answer's end is recorded as having closed it after the
// bytes it had, not as gone before the answer reached it. An answer of
// announced length that the client read whole is recorded whole.
func TestHTTP2ClientClosesBeforeTheEnd(t *testing.T) {
	body := `{"kind":"ConfigMap","data":{"k":"` + strings.Repeat("v", 300<<10) + `"}}`
	for _, announced := range []bool{false, true} {
		t.Run(fmt.Sprintf("length announced %v", announced), func(t *testing.T) {
			f := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/v1/namespaces/demo/configmaps/x" {
					http.NotFound(w, r) // discovery: the built-in scopes do
					return
				}
				w.Header().Set("Content-Type", "application/json")
				if announced {
					w.Header().Set("Content-Length", fmt.Sprint(len(body)))
				}
				io.WriteString(w, body)
				w.(http.Flusher).Flush()
				if !announced {
					// The end comes only once kubewire ended the request:
					// after the client reset its stream.
					select {
					case <-r.Context().Done():
					case <-time.After(waitTime):
					}
				}
			}))
			f.client.Transport.(*http.Transport).ForceAttemptHTTP2 = true
			resp := f.get(t, "/api/v1/namespaces/demo/configmaps/x", "Bearer "+f.token)
			if resp.Proto != "HTTP/2.0" {
				t.Fatalf("the client speaks %s to kubewire, want HTTP/2.0", resp.Proto)
			}
			if _, err := io.ReadFull(resp.Body, make([]byte, len(body))); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			x := f.sink.WaitFor(t, "the exchange", waitTime, exchangeLine("/configmaps/x")).Exchange
			if got := x.Response.Body.Bytes; got != int64(len(body)) {
				t.Errorf("recorded %d bytes relayed, the client read %d", got, len(body))
			}
			switch {
			case announced && (x.StreamError != nil || x.Response.Body.Truncated):
				t.Errorf("the client had every announced byte, yet the answer is recorded as cut short: %+v", x.StreamError)
			case !announced && (x.StreamError == nil || x.StreamError.Phase != "client" || !strings.Contains(x.StreamError.Message, "closed the response after")):
				t.Errorf("the client closed an answer of unknown length before its end; recorded as %+v, want the client's closing after its bytes", x.StreamError)
			}
		})
	}
}
