package render

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/record"
)

// waiting gives the lines of src, then waits until release is closed
// before it ends: a recording still being written (replay --follow).
type waiting struct {
	src     record.LineSource
	release chan struct{}
}

func (w *waiting) Next() (record.Line, error) {
	l, err := w.src.Next()
	if err == io.EOF {
		<-w.release
	}
	return l, err
}

// syncBuffer is a bytes.Buffer safe to read while a replay writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A replay buffers its output, yet shows every call read so far while it
// waits for the next one, as a followed recording needs.
func TestReplayShowsWhatItReadWhileItWaits(t *testing.T) {
	want := replayFile(t, "create", Options{Width: 100})
	f, err := os.Open(filepath.Join(recordings, "create.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := record.NewReader(f, "create.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	src := &waiting{src: annotate.ForRecordings().Lines(rd), release: make(chan struct{})}
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- Replay(&out, src, Options{Width: 100}) }()
	for deadline := time.Now().Add(10 * time.Second); out.String() != want; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("while the source waits, the replay shows\n%s\nwant\n%s", out.String(), want)
		}
	}
	close(src.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// failing fails every write after the first n bytes.
type failing struct{ n int }

func (f *failing) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

// A write that fails is an error of the replay, whether it happens while
// rendering or when the buffered rest is written at the end.
func TestReplayReportsWriteErrors(t *testing.T) {
	for _, n := range []int{0, 100, 200 << 10} {
		rd, err := record.NewReader(bytes.NewReader(syntheticRecording(t, 2000)), "big.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		if err := Replay(&failing{n}, rd, Options{Width: 100}); err == nil || !strings.Contains(err.Error(), "write output: disk full") {
			t.Errorf("after %d bytes: replay returned %v, want the write error", n, err)
		}
		rd, err = record.NewReader(bytes.NewReader(syntheticRecording(t, 2000)), "big.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ReplayMachine(&failing{n}, rd, rd.Pos, "json", annotate.Audit, nil); err == nil || !strings.Contains(err.Error(), "write json output: disk full") {
			t.Errorf("after %d bytes: -o json returned %v, want the write error", n, err)
		}
	}
}
