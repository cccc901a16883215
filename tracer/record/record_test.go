package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func sampleExchange(seq int64) *Exchange {
	return &Exchange{
		Seq:   seq,
		Start: t0.Add(time.Duration(seq) * time.Millisecond),
		Request: Request{
			Method:  "GET",
			URL:     "https://127.0.0.1:6443/api/v1/namespaces/demo/pods",
			Proto:   "HTTP/1.1",
			Headers: http.Header{"Accept": {"application/json"}},
		},
		Response: &Response{
			Status:  200,
			Headers: http.Header{"Content-Type": {"application/json"}},
			Body:    NewBody("application/json", []byte(`{"kind":"PodList"}`), 18, -1),
		},
		Timings:    Timings{FirstByteMs: 1.5, TotalMs: 2.25},
		Annotation: Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, Resource: "pods", Namespace: "demo", Scope: "Namespaced"},
	}
}

func writeRecording(t *testing.T, put func(w *Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Kubewire: "test", Recorded: t0, Source: Source{Mode: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	put(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	plain := sampleExchange(1)
	stream := sampleExchange(2)
	stream.Request.URL += "?watch=1"
	stream.Response.Body = nil
	stream.Response.Stream = true
	stream.Timings = Timings{FirstByteMs: 3}
	ev1 := Event{Time: t0.Add(time.Second), OffsetMs: 1000, Type: "ADDED", Body: NewBody("", []byte(`{"type":"ADDED"}`), 16, -1)}
	ev2 := Event{Time: t0.Add(2 * time.Second), OffsetMs: 2000, Type: "DELETED", Body: NewBody("", []byte{0x6b, 0x38, 0x73, 0x00, 0xff}, 5, -1)}
	failed := &Exchange{Seq: 3, Start: t0, Request: Request{Method: "GET", URL: "https://127.0.0.1:1/version"},
		Error: &Error{Message: "dial tcp 127.0.0.1:1: connection refused", Phase: "upstream", Status: 502}}
	audit := &AuditEvent{AuditID: "a-1", Verb: "list", User: "admin", Decision: "allow"}

	data := writeRecording(t, func(w *Writer) {
		w.Put(Line{Type: TypeExchange, Seq: 1, Exchange: plain})
		w.Put(Line{Type: TypeExchange, Seq: 2, Exchange: stream})
		w.Put(Line{Type: TypeEvent, Seq: 2, Event: &ev1})
		w.Put(Line{Type: TypeEvent, Seq: 2, Event: &ev2})
		w.Put(Line{Type: TypeEnd, Seq: 2, End: &End{Timings: Timings{FirstByteMs: 3, TotalMs: 2500}}})
		w.Put(Line{Type: TypeExchange, Seq: 3, Exchange: failed})
		w.Put(Line{Type: TypeAudit, Seq: 1, Audit: audit})
	})
	if n := bytes.Count(data, []byte("\n")); n != 8 {
		t.Fatalf("want 8 lines (header + 7), got %d:\n%s", n, data)
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if !bytes.HasPrefix(line, []byte(`{"type":"`)) {
			t.Errorf("line %d does not start with its type: %.60s", i+1, line)
		}
	}

	rec, err := ReadAll(bytes.NewReader(data), "s.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Warnings) != 0 {
		t.Errorf("warnings: %v", rec.Warnings)
	}
	if rec.Header.Format != Format || rec.Header.Version != Version || rec.Header.Kubewire != "test" || !rec.Header.Recorded.Equal(t0) {
		t.Errorf("header: %+v", rec.Header)
	}
	if len(rec.Exchanges) != 3 {
		t.Fatalf("want 3 exchanges, got %d", len(rec.Exchanges))
	}
	plain.Annotation.Auth = &Auth{Audit: audit} // folded in as is: tracer/annotate settles what it confirms
	if !reflect.DeepEqual(rec.Exchanges[0], plain) {
		t.Errorf("plain exchange changed:\n got %+v\nwant %+v", rec.Exchanges[0], plain)
	}
	got := rec.Exchanges[1]
	if len(got.Events) != 2 || got.Events[0].Type != "ADDED" || got.Events[1].Type != "DELETED" {
		t.Fatalf("events: %+v", got.Events)
	}
	if !bytes.Equal(got.Events[1].Body.Data(), []byte{0x6b, 0x38, 0x73, 0x00, 0xff}) || got.Events[1].Body.Base64 == "" {
		t.Errorf("binary event body not kept as base64: %+v", got.Events[1].Body)
	}
	if got.Timings.TotalMs != 2500 {
		t.Errorf("end line's timings not applied: %+v", got.Timings)
	}
	if e := rec.Exchanges[2]; e.Response != nil || e.Error == nil || e.Error.Status != 502 {
		t.Errorf("failed exchange: %+v", e)
	}
}

func TestMarshalledKeys(t *testing.T) {
	data, err := Line{Type: TypeExchange, Exchange: sampleExchange(7)}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "seq", "start", "request", "response", "annotation", "timings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("exchange line lacks key %q: %s", k, data)
		}
	}
	var req, resp map[string]json.RawMessage
	_ = json.Unmarshal(m["request"], &req)
	_ = json.Unmarshal(m["response"], &resp)
	for _, k := range []string{"method", "url", "headers"} {
		if _, ok := req[k]; !ok {
			t.Errorf("request lacks %q", k)
		}
	}
	for _, k := range []string{"status", "headers", "body"} {
		if _, ok := resp[k]; !ok {
			t.Errorf("response lacks %q", k)
		}
	}
}

func TestTornLastLine(t *testing.T) {
	data := writeRecording(t, func(w *Writer) {
		w.Put(Line{Type: TypeExchange, Exchange: sampleExchange(1)})
		w.Put(Line{Type: TypeExchange, Exchange: sampleExchange(2)})
	})
	full, _ := Line{Type: TypeExchange, Exchange: sampleExchange(3)}.Marshal()
	torn := append(append([]byte{}, data...), full[:len(full)/2]...)
	rec, err := ReadAll(bytes.NewReader(torn), "killed.jsonl")
	if err != nil {
		t.Fatalf("a torn last line must not be an error: %v", err)
	}
	if len(rec.Exchanges) != 2 {
		t.Errorf("want the 2 complete exchanges, got %d", len(rec.Exchanges))
	}
	if len(rec.Warnings) != 1 || !strings.HasPrefix(rec.Warnings[0], "killed.jsonl:4: ") {
		t.Errorf("want one warning naming killed.jsonl:4, got %q", rec.Warnings)
	}
	// A complete last line without its newline is fine and kept.
	rec, err = ReadAll(bytes.NewReader(append(append([]byte{}, data...), full...)), "x")
	if err != nil || len(rec.Exchanges) != 3 || len(rec.Warnings) != 0 {
		t.Errorf("complete line without newline: err=%v n=%d warnings=%v", err, len(rec.Exchanges), rec.Warnings)
	}
}

func TestMalformedLineNamesFileAndLine(t *testing.T) {
	data := writeRecording(t, func(w *Writer) {
		w.Put(Line{Type: TypeExchange, Exchange: sampleExchange(1)})
	})
	bad := append(append([]byte{}, data...), []byte("{\"type\":\"exchange\",\"seq\":oops}\n")...)
	bad = append(bad, data[bytes.IndexByte(data, '\n')+1:]...)
	rec, err := ReadAll(bytes.NewReader(bad), "s.jsonl")
	if err == nil || !strings.HasPrefix(err.Error(), "s.jsonl:3: ") {
		t.Fatalf("want an error naming s.jsonl:3, got %v", err)
	}
	if rec == nil || len(rec.Exchanges) != 1 {
		t.Errorf("what was read before the bad line must be kept")
	}
	for _, tc := range []struct{ line, want string }{
		{`{"seq":1}`, `no "type" key`},
		{`{"type":"exchange","seq":0,"request":{"method":"GET"}}`, "no valid seq"},
		{`{"type":"exchange","seq":4,"request":{}}`, "no request method"},
		{`{"type":"exchange","seq":4,"request":{"method":"GET"},"response":{"status":200},"error":{"message":"x"}}`, "both a response and an error"},
		{`{"type":"header","format":"kubewire-recording","version":1}`, "second header"},
		{`{"type":"audit","seq":1}`, `no "audit" object`},
	} {
		_, err := ReadAll(bytes.NewReader(append(append([]byte{}, data...), tc.line+"\n"...)), "f")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "f:3: ") {
			t.Errorf("%s: want f:3 error containing %q, got %v", tc.line, tc.want, err)
		}
	}
}

func TestHeaderChecks(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"empty", "", "f: empty file"},
		{"not json", "hello\n", "f:1: first line is not a kubewire recording header"},
		{"other format", `{"type":"header","format":"har","version":1}` + "\n", "f:1: first line is not a kubewire recording header"},
		{"newer version", `{"type":"header","format":"kubewire-recording","version":2,"kubewire":"v9.0.0"}` + "\n", "f:1: recording format version 2 is not supported: this kubewire reads version 1; it was written by kubewire v9.0.0"},
		{"older version", `{"type":"header","format":"kubewire-recording","version":0}` + "\n", "development build"},
		{"torn header", `{"type":"head`, "ends inside its header line"},
	} {
		_, err := ReadAll(strings.NewReader(tc.data), "f")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want error containing %q, got %v", tc.name, tc.want, err)
		}
	}
}

func TestUnknownLineTypesAreSkipped(t *testing.T) {
	data := writeRecording(t, func(w *Writer) { w.Put(Line{Type: TypeExchange, Exchange: sampleExchange(1)}) })
	data = append(data, `{"type":"future-thing","seq":1,"x":true}`+"\n"...)
	rec, err := ReadAll(bytes.NewReader(data), "f")
	if err != nil || len(rec.Exchanges) != 1 {
		t.Fatalf("err=%v exchanges=%d", err, len(rec.Exchanges))
	}
}

func TestOrphanEventIsAWarning(t *testing.T) {
	data := writeRecording(t, func(w *Writer) {
		w.Put(Line{Type: TypeEvent, Seq: 9, Event: &Event{Type: "ADDED"}})
	})
	rec, err := ReadAll(bytes.NewReader(data), "f")
	if err != nil || len(rec.Warnings) != 1 || !strings.Contains(rec.Warnings[0], "exchange 9") {
		t.Fatalf("err=%v warnings=%v", err, rec.Warnings)
	}
}

// Many goroutines writing at once must still give whole, parseable lines:
// the parallel discovery burst kubectl makes is exactly this.
func TestConcurrentWritersNeverInterleave(t *testing.T) {
	const writers, each = 16, 50
	data := writeRecording(t, func(w *Writer) {
		var wg sync.WaitGroup
		for g := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					x := sampleExchange(int64(g*each + i + 1))
					x.Response.Body = NewBody("text/plain", bytes.Repeat([]byte{'a' + byte(g)}, 4096+i), int64(4096+i), -1)
					w.Put(Line{Type: TypeExchange, Exchange: x})
				}
			}()
		}
		wg.Wait()
	})
	rec, err := ReadAll(bytes.NewReader(data), "f")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Exchanges) != writers*each {
		t.Fatalf("want %d exchanges, got %d", writers*each, len(rec.Exchanges))
	}
	seen := map[int64]bool{}
	for _, x := range rec.Exchanges {
		if seen[x.Seq] {
			t.Fatalf("seq %d twice", x.Seq)
		}
		seen[x.Seq] = true
	}
}

func TestWriterErrorsAreSticky(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "r.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(f, Header{})
	if err != nil {
		t.Fatal(err)
	}
	f.Close() // every later write fails
	w.Put(Line{Type: TypeExchange, Exchange: sampleExchange(1)})
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "write recording") {
		t.Errorf("want the write error from Close, got %v", err)
	}
	w.Put(Line{Type: TypeExchange, Exchange: sampleExchange(2)}) // after Close: must not panic
}

func TestNewBody(t *testing.T) {
	b := NewBody("application/json", []byte(`{"a":1}`), 7, -1)
	if b.Text != `{"a":1}` || b.Base64 != "" || b.Truncated || b.Bytes != 7 {
		t.Errorf("text body: %+v", b)
	}
	b = NewBody("", []byte("héllo wörld"), 13, 2) // cut inside "é"
	if !b.Truncated || b.Text != "h" || b.Base64 != "" || b.Bytes != 13 {
		t.Errorf("truncated text must stay text: %+v", b)
	}
	bin := []byte{0, 1, 2, 0xfe, 0xff}
	b = NewBody("application/vnd.kubernetes.protobuf", bin, 5, 1024)
	if b.Text != "" || !bytes.Equal(b.Data(), bin) {
		t.Errorf("binary body: %+v", b)
	}
	if (*Body)(nil).Data() != nil {
		t.Error("nil body has data")
	}
}

func FuzzReader(f *testing.F) {
	good := func() []byte {
		var buf bytes.Buffer
		w, _ := NewWriter(&buf, Header{Kubewire: "fuzz"})
		w.Put(Line{Type: TypeExchange, Exchange: sampleExchange(1)})
		w.Put(Line{Type: TypeEvent, Seq: 1, Event: &Event{Type: "ADDED"}})
		w.Put(Line{Type: TypeEnd, Seq: 1, End: &End{}})
		w.Put(Line{Type: TypeAudit, Seq: 1, Audit: &AuditEvent{AuditID: "x", Decision: "allow"}})
		_ = w.Close()
		return buf.Bytes()
	}()
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add([]byte(`{"type":"header","format":"kubewire-recording","version":1}` + "\n" + `{"type":"event","seq":1}`))
	f.Add([]byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := NewReader(bytes.NewReader(data), "fuzz.jsonl")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.jsonl") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		a := &Assembler{}
		for i := 0; ; i++ {
			l, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "fuzz.jsonl:") {
					t.Fatalf("error does not name FILE:LINE: %v", err)
				}
				break
			}
			a.Add(l, fmt.Sprint(i))
			// Whatever was read must encode again.
			if _, err := l.Marshal(); err != nil {
				t.Fatalf("line read but not writable: %v", err)
			}
		}
	})
}

// Completer hands each exchange over once complete, with its audit event
// and stream events, and holds no more than a window of them.
func TestCompleterHandsOverCompleteExchanges(t *testing.T) {
	var got []int64
	var held []*Exchange
	c := &Completer{Window: 3, Done: func(x *Exchange) { got = append(got, x.Seq); held = append(held, x) }}
	ex := func(seq int64, stream bool) Line {
		return Line{Type: TypeExchange, Seq: seq, Exchange: &Exchange{Seq: seq, Response: &Response{Status: 200, Stream: stream}}}
	}
	audit := func(seq int64) Line {
		return Line{Type: TypeAudit, Seq: seq, Audit: &AuditEvent{AuditID: fmt.Sprint(seq)}}
	}
	c.Add(ex(1, false), "f:2")
	c.Add(ex(2, true), "f:3") // a watch
	c.Add(audit(1), "f:4")    // 1 is complete now
	if fmt.Sprint(got) != "[1]" {
		t.Fatalf("after 1's audit line: %v", got)
	}
	c.Add(audit(2), "f:5") // the watch's audit comes before its end
	c.Add(Line{Type: TypeEvent, Seq: 2, Event: &Event{Type: "ADDED"}}, "f:6")
	c.Add(ex(3, false), "f:7") // never gets an audit line
	c.Add(Line{Type: TypeEnd, Seq: 2, End: &End{Timings: Timings{TotalMs: 9}}}, "f:8")
	if fmt.Sprint(got) != "[1 2]" || len(held[1].Events) != 1 || held[1].Timings.TotalMs != 9 || held[1].Annotation.Auth.Audit == nil {
		t.Fatalf("after the watch's end: %v %+v", got, held[len(held)-1])
	}
	c.Add(ex(4, false), "f:9")
	c.Add(ex(5, false), "f:10")
	if fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("3 must wait a window of 3 exchange lines: %v", got)
	}
	c.Add(ex(6, false), "f:11")
	if fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("after the window: %v", got)
	}
	c.Add(Line{Type: TypeEvent, Seq: 99, Event: &Event{}}, "f:12")
	c.Flush()
	if fmt.Sprint(got) != "[1 2 3 4 5 6]" || len(c.Warnings) != 1 || !strings.HasPrefix(c.Warnings[0], "f:12: event for exchange 99") {
		t.Errorf("after Flush: %v %q", got, c.Warnings)
	}
}

// Next reads lines ahead in batches; what it returns, where it says it
// is, and its errors are as if it read them one by one, however the input
// arrives: all at once, a byte at a time, with blank lines, lines longer
// than its buffer, a bad line or a torn one in the middle of a batch.
func TestReaderPositionsAcrossBatches(t *testing.T) {
	var want []string
	data := writeRecording(t, func(w *Writer) {
		for i := range 100 {
			x := sampleExchange(int64(i + 1))
			if i%7 == 3 {
				big := strings.Repeat("x", 100<<10)
				x.Response.Body = NewBody("text/plain", []byte(big), int64(len(big)), -1)
			}
			w.Put(Line{Type: TypeExchange, Exchange: x})
		}
	})
	lines := strings.SplitAfter(string(data), "\n")
	var in strings.Builder
	lineNo := 0
	for i, l := range lines {
		if l == "" {
			continue
		}
		in.WriteString(l)
		lineNo++
		if i > 0 {
			want = append(want, fmt.Sprintf("f:%d seq %d", lineNo, i))
		}
		if i > 0 && i%10 == 0 {
			in.WriteString("  \n")
			lineNo++
		}
	}
	for _, tc := range []struct {
		name string
		r    func(string) io.Reader
	}{
		{"whole", func(s string) io.Reader { return strings.NewReader(s) }},
		{"a byte at a time", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }},
	} {
		rd, err := NewReader(tc.r(in.String()), "f")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			l, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s seq %d", rd.Pos(), l.Seq))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read\n%s\nwant\n%s", tc.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// A bad line and a torn one, each after lines of the same batch.
		bad := strings.Join(lines[:20], "") + "{\"type\":\"exchange\",\"seq\":oops}\n" + strings.Join(lines[20:], "")
		rd, err = NewReader(tc.r(bad), "f")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for ; ; n++ {
			if _, err = rd.Next(); err != nil {
				break
			}
		}
		if n != 19 || err == nil || !strings.HasPrefix(err.Error(), "f:21: ") {
			t.Errorf("%s: %d lines, then %v; want 19 lines, then an error naming f:21", tc.name, n, err)
		}
		torn := strings.Join(lines[:30], "") + lines[30][:40]
		rd, err = NewReader(tc.r(torn), "f")
		if err != nil {
			t.Fatal(err)
		}
		for n = 0; ; n++ {
			if _, err = rd.Next(); err != nil {
				break
			}
		}
		if w := rd.Warnings(); n != 29 || err != io.EOF || len(w) != 1 || !strings.HasPrefix(w[0], "f:31: ") {
			t.Errorf("%s: %d lines, then %v, warnings %q; want 29 lines, EOF and a warning naming f:31", tc.name, n, err, w)
		}
	}
}
