package record

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// benchExchange is a recorded GET of one object with a body of size bytes.
func benchExchange(i int, size int) *Exchange {
	body := []byte(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm","namespace":"bench"},"data":{"a":"` +
		strings.Repeat("x", max(size-100, 0)) + `"}}`)
	return &Exchange{Seq: int64(i + 1), Start: time.Unix(0, 0).UTC().Add(time.Duration(i) * time.Millisecond),
		Request: Request{Method: "GET", URL: fmt.Sprintf("https://127.0.0.1:6443/api/v1/namespaces/bench/configmaps/cm-%d", i), Proto: "HTTP/2.0",
			Headers: http.Header{"Accept": {"application/json"}, "User-Agent": {"kubectl/v1.37.2"}, "Authorization": {"Bearer REDACTED (53 bytes)"}}},
		Response: &Response{Status: 200, Proto: "HTTP/2.0", Headers: http.Header{"Content-Type": {"application/json"}, "Audit-Id": {"5d1c2b3a-0000-4000-8000-000000000001"}},
			Body: NewBody("application/json", body, int64(len(body)), 4<<20)},
		Timings:    Timings{FirstByteMs: 1.2, TotalMs: 2.5},
		Annotation: Annotation{Kind: "resource", Verb: "get", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "configmaps", Namespace: "bench", Name: "cm", Scope: "Namespaced", Outcome: OutcomeServed}}
}

// BenchmarkWriter encodes and writes exchanges through the Writer, as the
// proxy does for every call: Put from the caller, one writer goroutine.
func BenchmarkWriter(b *testing.B) {
	for _, size := range []int{512, 4 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("body=%d", size), func(b *testing.B) {
			x := benchExchange(0, size)
			data, err := Line{Type: TypeExchange, Seq: 1, Exchange: x}.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)) + 1)
			b.ReportAllocs()
			w, err := NewWriter(io.Discard, Header{Kubewire: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for b.Loop() {
				n++
				w.Put(Line{Type: TypeExchange, Seq: int64(n), Exchange: x})
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "exchanges/s")
		})
	}
}
