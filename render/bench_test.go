package render

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/record"
)

// syntheticRecording is n small calls (bodies under 2 KiB), copies of the
// captured ones of the fixtures (lists, a denial, a create, a 404, a 422),
// numbered anew.
func syntheticRecording(b *testing.B, n int) []byte {
	b.Helper()
	var calls []*record.Exchange
	for _, name := range []string{"table", "denied", "create", "status"} {
		rec, err := annotate.ForRecordings().ReadFile(filepath.Join(recordings, name+".jsonl"))
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range rec.Exchanges {
			if !x.Own && (x.Response == nil || !x.Response.Stream) && x.Response != nil && x.Response.Body != nil && x.Response.Body.Bytes < 2048 {
				calls = append(calls, x)
			}
		}
	}
	var buf bytes.Buffer
	w, err := record.NewWriter(&buf, record.Header{Kubewire: "bench", Recorded: time.Unix(0, 0).UTC(), Secrets: record.SecretsRedacted})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Unix(0, 0).UTC()
	for i := range n {
		x := *calls[i%len(calls)]
		x.Seq, x.Start = int64(i+1), start.Add(time.Duration(i)*time.Millisecond)
		w.Put(record.Line{Type: record.TypeExchange, Seq: x.Seq, Exchange: &x})
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchReplay(b *testing.B, o Options) {
	const n = 20000
	data := syntheticRecording(b, n)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		rd, err := record.NewReader(bytes.NewReader(data), "bench.jsonl")
		if err != nil {
			b.Fatal(err)
		}
		if err := Replay(io.Discard, annotate.ForRecordings().Lines(rd), o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "exchanges/s")
}

func BenchmarkReplayLine(b *testing.B)    { benchReplay(b, Options{Width: 100}) }
func BenchmarkReplayJourney(b *testing.B) { benchReplay(b, Options{Width: 100, Detail: LevelJourney}) }

func BenchmarkReplayMachine(b *testing.B) {
	const n = 20000
	data := syntheticRecording(b, n)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		rd, err := record.NewReader(bytes.NewReader(data), "bench.jsonl")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ReplayMachine(io.Discard, annotate.ForRecordings().Lines(rd), rd.Pos, "json", annotate.Audit, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "exchanges/s")
}
