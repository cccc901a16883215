package render

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/record"
)

// syntheticRecording is n small calls (bodies under 2 KiB), copies of the
// captured ones of the fixtures (lists, a denial, a create, a 404, a 422),
// numbered anew.
func syntheticRecording(b testing.TB, n int) []byte {
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

var bigRecording = flag.String("big", "", "write a recording of -big-calls small calls to this file, for timing kubewire replay end to end")
var bigCalls = flag.Int("big-calls", 100000, "how many calls -big writes")

// TestWriteBigRecording writes the benchmarks' recording, larger, for
// timing the command (docs/rendering.md):
//
//	go test ./render -run TestWriteBigRecording -big /tmp/big.jsonl
//	time kubewire replay /tmp/big.jsonl >/dev/null
func TestWriteBigRecording(t *testing.T) {
	if *bigRecording == "" {
		t.Skip("no -big FILE")
	}
	if err := os.WriteFile(*bigRecording, syntheticRecording(t, *bigCalls), 0o644); err != nil {
		t.Fatal(err)
	}
}

// benchReplay replays a recording of small calls with replay, reporting
// calls per second.
func benchReplay(b *testing.B, replay func(rd *record.Reader, src record.LineSource) error) {
	const n = 20000
	data := syntheticRecording(b, n)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		rd, err := record.NewReader(bytes.NewReader(data), "bench.jsonl")
		if err != nil {
			b.Fatal(err)
		}
		if err := replay(rd, annotate.ForRecordings().Lines(rd)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "exchanges/s")
}

func benchText(o Options) func(*record.Reader, record.LineSource) error {
	return func(_ *record.Reader, src record.LineSource) error { return Replay(io.Discard, src, o) }
}

func BenchmarkReplayLine(b *testing.B) { benchReplay(b, benchText(Options{Width: 100})) }
func BenchmarkReplayJourney(b *testing.B) {
	benchReplay(b, benchText(Options{Width: 100, Detail: LevelJourney}))
}

func BenchmarkReplayMachine(b *testing.B) {
	benchReplay(b, func(rd *record.Reader, src record.LineSource) error {
		_, err := ReplayMachine(io.Discard, src, rd.Pos, "json", annotate.Audit, nil)
		return err
	})
}

// A 100 MB recording replays in bounded memory, as text and as -o json:
// the heap never holds more than a small part of it.
func TestReplayMemoryStaysFlat(t *testing.T) {
	const size = 100 << 20
	one := syntheticRecording(t, 64) // header + 64 calls, repeated below
	header, body, _ := bytes.Cut(one, []byte("\n"))
	header = append(header, '\n')
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			pr, pw := io.Pipe()
			go func() {
				// Every call anew, numbered on, until size bytes went by.
				w := bufio.NewWriterSize(pw, 1<<20)
				w.Write(header)
				written, seq := len(header), int64(0)
				for written < size {
					for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
						seq++
						line = seqField.ReplaceAll(line, []byte(fmt.Sprintf(`"seq":%d,`, seq)))
						n, err := w.Write(append(line, '\n'))
						if err != nil {
							return
						}
						written += n
					}
				}
				w.Flush()
				pw.Close()
			}()
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for {
					metrics.Read(s)
					if v := s[0].Value.Uint64(); v > peak.Load() {
						peak.Store(v)
					}
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()
			rd, err := record.NewReader(pr, "big.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			src := annotate.ForRecordings().Lines(rd)
			if format == "json" {
				_, err = ReplayMachine(io.Discard, src, rd.Pos, "json", annotate.Audit, nil)
			} else {
				err = Replay(io.Discard, src, Options{Width: 100})
			}
			close(stop)
			<-sampled
			if err != nil {
				t.Fatal(err)
			}
			const bound = 64 << 20
			if p := peak.Load(); p > bound {
				t.Errorf("replaying %d MB as %s held up to %d MB of heap, want at most %d MB", size>>20, format, p>>20, bound>>20)
			}
			t.Logf("%s: heap peak %d MB for a %d MB recording", format, peak.Load()>>20, size>>20)
		})
	}
}

var seqField = regexp.MustCompile(`"seq":\d+,`)
