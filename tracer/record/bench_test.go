package record

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkReader reads a recording of small calls, as replay does before
// annotating and rendering them.
func BenchmarkReader(b *testing.B) {
	const n = 20000
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Kubewire: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Unix(0, 0).UTC()
	for i := range n {
		x := &Exchange{Seq: int64(i + 1), Start: start.Add(time.Duration(i) * time.Millisecond),
			Request: Request{Method: "GET", URL: fmt.Sprintf("https://127.0.0.1:6443/api/v1/namespaces/demo/pods/web-%d", i), Proto: "HTTP/1.1",
				Headers: http.Header{"Accept": {"application/json"}, "User-Agent": {"kubectl/v1.37.2"}, "Kubectl-Command": {"kubectl get"}}},
			Response: &Response{Status: 200, Proto: "HTTP/2.0", Headers: http.Header{"Content-Type": {"application/json"}},
				Body: NewBody("application/json", []byte(`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"demo"},"status":{"phase":"Running"}}`), 104, -1)},
			Timings:    Timings{FirstByteMs: 1.2, TotalMs: 2.5},
			Annotation: Annotation{Kind: "resource", Verb: "get", ResourceRequest: true, Resource: "pods", Namespace: "demo", Name: "web", Outcome: OutcomeServed}}
		w.Put(Line{Type: TypeExchange, Seq: x.Seq, Exchange: x})
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(data), "bench.jsonl")
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := rd.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "lines/s")
}
