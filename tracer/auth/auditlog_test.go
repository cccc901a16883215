package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// auditLine returns an audit.k8s.io/v1 Event line like the API server's.
func auditLine(id, stage, user, decision string) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":%q,`+
		`"requestURI":"/api/v1/namespaces/demo/pods?limit=500","verb":"list","user":{"username":%q,"groups":["system:authenticated"]},`+
		`"sourceIPs":["127.0.0.1"],"objectRef":{"resource":"pods","namespace":"demo","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":403},`+
		`"annotations":{"authorization.k8s.io/decision":%q,"authorization.k8s.io/reason":""}}`+"\n", id, stage, user, decision)
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestAuditLogFind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	appendTo(t, path, auditLine("old", "ResponseComplete", "admin", "allow"))
	l, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Lookups wait for events written later, torn in the middle.
	var wg sync.WaitGroup
	ids := []string{"a1", "a2", "a3"}
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, err := l.Find(ctx, id)
			switch {
			case err != nil:
				errs[i] = err
			case ev.AuditID != id || ev.User != "alice" || ev.Decision != "forbid" || ev.Verb != "list" ||
				ev.ObjectRef == nil || ev.ObjectRef.Resource != "pods" || ev.ObjectRef.Namespace != "demo" || ev.Code != 403:
				errs[i] = fmt.Errorf("%s: got %+v", id, ev)
			}
		}()
	}
	// RequestReceived carries no decision: it is skipped.
	appendTo(t, path, auditLine("a1", "RequestReceived", "alice", ""))
	line := auditLine("a1", "ResponseComplete", "alice", "forbid")
	appendTo(t, path, line[:40])
	appendTo(t, path, line[40:])
	appendTo(t, path, auditLine("a2", "ResponseComplete", "alice", "forbid")+"not json\n"+auditLine("a3", "ResponseComplete", "alice", "forbid"))
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	// Events read before the lookup are still found.
	if ev, err := l.Find(ctx, "a2"); err != nil || ev.AuditID != "a2" {
		t.Errorf("late lookup: %v %v", ev, err)
	}
	// Events before open are not read.
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if _, err := l.Find(short, "old"); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "old") {
		t.Errorf("event before open: err %v; want a deadline error naming it", err)
	}
}

func TestAuditLogTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	appendTo(t, path, "")
	l, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	line := auditLine("torn", "ResponseComplete", "bob", "allow")
	half := line[:len(line)/2]
	appendTo(t, path, half)
	// Wait until the follower has read the first half, so the line is torn
	// when it reads it.
	deadline := time.Now().Add(10 * time.Second)
	for l.read.Load() < int64(len(half)) {
		if time.Now().After(deadline) {
			t.Fatalf("the follower read %d bytes, want %d", l.read.Load(), len(half))
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	if _, err := l.Find(ctx, "torn"); err == nil {
		t.Fatal("found the event before its line was complete")
	}
	cancel()
	found := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ev, err := l.Find(ctx, "torn")
		if err == nil && ev.User != "bob" {
			err = fmt.Errorf("got %+v", ev)
		}
		found <- err
	}()
	appendTo(t, path, line[len(line)/2:])
	if err := <-found; err != nil {
		t.Fatal(err)
	}
}

func TestAuditLogRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	appendTo(t, path, auditLine("before", "ResponseComplete", "admin", "allow"))
	l, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Rotate as the API server's lumberjack does: rename, then a new file.
	if err := os.Rename(path, filepath.Join(dir, "audit-2026.log")); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, auditLine("after", "ResponseComplete", "admin", "allow"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ev, err := l.Find(ctx, "after"); err != nil || ev.Decision != "allow" {
		t.Fatalf("after rotation: %v %v", ev, err)
	}
}

func TestAuditLogClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	appendTo(t, path, "")
	l, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() {
		_, err := l.Find(context.Background(), "never")
		res <- err
	}()
	// Close must release a waiting Find.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-res:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Find after Close: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Find still waits after Close")
	}
	if _, err := l.Find(context.Background(), "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Find on closed log: %v", err)
	}
}

func TestOpenAuditLogMissing(t *testing.T) {
	_, err := OpenAuditLog(filepath.Join(t.TempDir(), "nope.log"))
	if err == nil || !strings.Contains(err.Error(), "nope.log") || !strings.Contains(err.Error(), "audit-log-path") {
		t.Errorf("err = %v; want one naming the file with a hint", err)
	}
}
