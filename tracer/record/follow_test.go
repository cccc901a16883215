package record

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Lines appended to a recording reach a follower as they are written, a
// half-written line is waited for, and the follower ends when told to.
func TestFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, Header{Kubewire: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	got := make(chan Line)
	done := make(chan error, 1)
	go func() {
		rd, err := NewReader(Follow(ctx, in, 5*time.Millisecond), path)
		if err != nil {
			done <- err
			return
		}
		for {
			l, err := rd.Next()
			if err != nil {
				done <- err
				return
			}
			got <- l
		}
	}()
	next := func() Line {
		t.Helper()
		select {
		case l := <-got:
			return l
		case err := <-done:
			t.Fatalf("the follower ended: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no line within 10s")
		}
		return Line{}
	}
	w.Put(Line{Type: TypeExchange, Seq: 1, Exchange: &Exchange{Seq: 1, Request: Request{Method: "GET", URL: "https://127.0.0.1:6443/api"}}})
	if l := next(); l.Seq != 1 {
		t.Fatalf("first line %+v", l)
	}
	// Half a line, then the rest: one line, not a torn one.
	data, _ := Line{Type: TypeExchange, Seq: 2, Exchange: &Exchange{Seq: 2, Request: Request{Method: "GET", URL: "https://127.0.0.1:6443/apis"}}}.Marshal()
	if _, err := f.Write(data[:10]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(append(data[10:], '\n')); err != nil {
		t.Fatal(err)
	}
	if l := next(); l.Seq != 2 {
		t.Fatalf("second line %+v", l)
	}
	cancel()
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("after cancel: %v, want io.EOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the follower did not end")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
