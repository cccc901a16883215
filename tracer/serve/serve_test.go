package serve

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubewire/kubewire/tracer/pki"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/sample"
)

// start serves the bundled sample (recorded from the lab) on loopback
// and returns a client that trusts kubewire's CA only.
func start(t *testing.T, o Options) (*Server, *http.Client, *record.Recording) {
	s, c, _, rec := startWithTokenClient(t, o)
	return s, c, rec
}

// startWithTokenClient also returns a client with no certificate, for
// calls sent with a bearer token.
func startWithTokenClient(t *testing.T, o Options) (*Server, *http.Client, *http.Client, *record.Recording) {
	t.Helper()
	rec, err := record.ReadAll(sample.Open(), sample.Name)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if o.Name == "" {
		o.Name = sample.Name
	}
	s, err := New(rec, o)
	if err != nil {
		t.Fatal(err)
	}
	// The sample was recorded as the lab's admin: present that identity,
	// as serve's kubeconfig does.
	client, err := ca.IssueClient("kubewire-admin", []string{"system:masters"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("", cert); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{*client}}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	tokenTr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tokenTr.CloseIdleConnections)
	return s, &http.Client{Transport: tr}, &http.Client{Transport: tokenTr}, rec
}

// jwt is an unsigned token naming sub, the way a ServiceAccount token
// names its ServiceAccount; serve reads, and cannot verify, its claims.
func jwt(sub string) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{"iss": "https://kubernetes.default.svc.cluster.local", "sub": sub})
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc(claims) + "." + enc([]byte("signature"))
}

// replay sends a recorded request again, as the recorded client sent it.
func replay(t *testing.T, s *Server, c *http.Client, x *record.Exchange, edit func(*http.Request)) *http.Response {
	t.Helper()
	u, _ := url.Parse(x.Request.URL)
	var body io.Reader
	if x.Request.Body != nil {
		body = strings.NewReader(string(x.Request.Body.Data()))
	}
	req, err := http.NewRequest(x.Request.Method, s.URL()+u.RequestURI(), body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range x.Request.Headers {
		if k != "Authorization" && k != "Accept-Encoding" {
			req.Header[k] = vs
		}
	}
	if edit != nil {
		edit(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func find(t *testing.T, rec *record.Recording, seq int64) *record.Exchange {
	t.Helper()
	for _, x := range rec.Exchanges {
		if x.Seq == seq {
			return x
		}
	}
	t.Fatalf("no call #%d in the sample", seq)
	return nil
}

func status(t *testing.T, resp *http.Response) metav1.Status {
	t.Helper()
	defer resp.Body.Close()
	var st metav1.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("a %d without a Status: %v", resp.StatusCode, err)
	}
	return st
}

// Every recorded call with a whole, ordinary answer is answered with its
// recorded status and body, once, and marked with the call it came from.
func TestEveryRecordedCallIsAnsweredAsRecorded(t *testing.T) {
	s, admin, token, rec := startWithTokenClient(t, Options{})
	n := 0
	for _, x := range rec.Exchanges {
		c, edit := admin, func(*http.Request) {}
		if au := x.Annotation.Auth; au != nil && au.Origin == "client" {
			// Sent with the client's own token (kubectl --token).
			c, edit = token, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+jwt(au.User)) }
		}
		if x.Response == nil || x.Response.Stream || (x.Response.Body != nil && x.Response.Body.Truncated) {
			continue
		}
		if b := x.Request.Body; b != nil && (b.Redacted || b.Truncated) {
			continue
		}
		resp := replay(t, s, c, x, edit)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != x.Response.Status {
			t.Errorf("#%d %s %s: status %d, recorded %d (%s)", x.Seq, x.Request.Method, x.Request.URL, resp.StatusCode, x.Response.Status, got)
			continue
		}
		if string(got) != string(x.Response.Body.Data()) {
			t.Errorf("#%d: the body differs from the recorded one", x.Seq)
		}
		rp := record.ReplayedFrom(resp.Header)
		if rp == nil || rp.Recording != sample.Name {
			t.Errorf("#%d: answer not marked as replayed: %v", x.Seq, resp.Header)
		} else if rp.Seq != x.Seq && !sameRequest(find(t, rec, rp.Seq), x) {
			t.Errorf("#%d answered by #%d, a different call", x.Seq, rp.Seq)
		}
		n++
	}
	if n < 25 {
		t.Errorf("only %d calls were tried; the sample has more", n)
	}
}

func sameRequest(a, b *record.Exchange) bool {
	ua, _ := url.Parse(a.Request.URL)
	ub, _ := url.Parse(b.Request.URL)
	return a.Request.Method == b.Request.Method && ua.Path == ub.Path
}

// Query order and client-go's timeouts do not matter; the recorded
// answers of one call are given in order, once each, then never again
// without Reuse, and from the first with it.
func TestMatchingAndOrder(t *testing.T) {
	s, c, rec := start(t, Options{})
	// #12 and #17 are both kubectl apply's GET /openapi/v3?timeout=32s.
	first := find(t, rec, 12)
	resp := replay(t, s, c, first, func(r *http.Request) { r.URL.RawQuery = "timeout=1s" })
	resp.Body.Close()
	if rp := record.ReplayedFrom(resp.Header); rp == nil || rp.Seq != 12 {
		t.Fatalf("first answer %v, want #12", resp.Header)
	}
	resp = replay(t, s, c, first, nil)
	resp.Body.Close()
	if rp := record.ReplayedFrom(resp.Header); rp == nil || rp.Seq != 17 {
		t.Fatalf("second answer %v, want #17", resp.Header)
	}
	st := status(t, replay(t, s, c, first, nil))
	if st.Code != 404 || !strings.Contains(st.Message, "all given; serve --reuse") {
		t.Errorf("third time: %d %q", st.Code, st.Message)
	}

	// #13, the OpenAPI of /api/v1, was cut at the sample's 64 KiB cap: it
	// is answered with a 503 that says so, not as if whole.
	st = status(t, replay(t, s, c, find(t, rec, 13), nil))
	if st.Code != http.StatusServiceUnavailable || !strings.Contains(st.Message, "cut short") || !strings.Contains(st.Message, "--full-bodies") {
		t.Errorf("a cut-short answer: %d %q", st.Code, st.Message)
	}

	// The label selector and limit in another order are the same query.
	list := find(t, rec, 24)
	resp = replay(t, s, c, list, func(r *http.Request) { r.URL.RawQuery = "limit=500&labelSelector=lesson%3Dwatch" })
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("reordered query: %d", resp.StatusCode)
	}

	// A Table was recorded: a client asking for plain JSON gets no Table.
	pods := find(t, rec, 9)
	st = status(t, replay(t, s, c, pods, func(r *http.Request) { r.Header.Set("Accept", "application/json") }))
	if st.Code != 404 || !strings.Contains(st.Message, "Accept (the recorded answer is application/json;as=Table;g=meta.k8s.io;v=v1)") {
		t.Errorf("plain JSON for a recorded Table: %d %q", st.Code, st.Message)
	}
	// Another kubectl's wording of the same Accept still gets the Table.
	resp = replay(t, s, c, pods, func(r *http.Request) {
		r.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io, application/json")
	})
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("reworded Accept: %d", resp.StatusCode)
	}

	// The same list as another user is another call: #28 was the
	// ServiceAccount intern's, refused.
	intern := find(t, rec, 28)
	if intern.Annotation.Auth.User != "system:serviceaccount:sample:intern" {
		t.Fatalf("#28 was sent as %s", intern.Annotation.Auth.User)
	}
	if resp.Header.Get(record.HeaderReplayed) != "9 "+sample.Name {
		t.Errorf("the admin's list was answered by %q, want #9", resp.Header.Get(record.HeaderReplayed))
	}
	st = status(t, replay(t, s, c, pods, nil))
	if st.Code != 404 || !strings.Contains(st.Message, "all given") {
		t.Errorf("the admin's list again, with only the intern's left: %d %q", st.Code, st.Message)
	}

	s2, c2, _ := start(t, Options{Reuse: true})
	for i, want := range []int64{12, 17, 12, 17} {
		resp := replay(t, s2, c2, first, nil)
		resp.Body.Close()
		if rp := record.ReplayedFrom(resp.Header); rp == nil || rp.Seq != want {
			t.Errorf("with Reuse, answer %d: %v, want #%d", i+1, resp.Header.Get(record.HeaderReplayed), want)
		}
	}
}

// A write matches on its body: the same create with another body is a
// different object, not the recorded one.
func TestWritesMatchOnTheirBody(t *testing.T) {
	s, c, rec := start(t, Options{})
	create := find(t, rec, 11) // kubectl create configmap greeting
	st := status(t, replay(t, s, c, create, func(r *http.Request) {
		body := strings.Replace(string(create.Request.Body.Data()), "greeting", "welcome", 1)
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
	}))
	if st.Code != 404 || !strings.Contains(st.Message, "which differs in request body") {
		t.Errorf("another body: %d %q", st.Code, st.Message)
	}
	resp := replay(t, s, c, create, nil)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("the recorded body: %d", resp.StatusCode)
	}
}

// A request nothing matches names the closest recorded calls, nearest
// first, and how they differ.
func TestMissNamesTheClosestCalls(t *testing.T) {
	s, c, rec := start(t, Options{})
	pods := find(t, rec, 9) // GET /api/v1/namespaces/shop/pods?limit=500
	st := status(t, replay(t, s, c, pods, func(r *http.Request) {
		r.URL.Path = "/api/v1/namespaces/other/pods"
	}))
	if st.Code != 404 || st.Reason != metav1.StatusReasonNotFound {
		t.Fatalf("%d %s", st.Code, st.Reason)
	}
	want := "no recorded call matches GET /api/v1/namespaces/other/pods?limit=500; closest is #9 GET /api/v1/namespaces/shop/pods?limit=500, which differs in path"
	if !strings.Contains(st.Message, want) {
		t.Errorf("message %q\nwant it to contain %q", st.Message, want)
	}
	if st.Details == nil || len(st.Details.Causes) == 0 || len(st.Details.Causes) > 3 {
		t.Fatalf("causes %+v", st.Details)
	}
	st = status(t, replay(t, s, c, pods, func(r *http.Request) { r.URL.Path = "/apis/example.com/v1/widgets" }))
	if !strings.Contains(st.Message, "nothing recorded is close") {
		t.Errorf("an unrelated path: %q", st.Message)
	}
}

// A watch's events come with their recorded spacing (scaled by Speed),
// each flushed as sent; the stream then stays open until the client goes.
func TestWatchReplaysEventsThenHoldsOpen(t *testing.T) {
	s, c, rec := start(t, Options{Speed: 2})
	watch := find(t, rec, 25)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	begin := time.Now()
	resp := replay(t, s, c, watch, func(r *http.Request) { *r = *r.WithContext(ctx) })
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	var types []string
	var last time.Duration
	for range 3 {
		line, err := br.ReadBytes('\n')
		if err != nil {
			t.Fatalf("after %v: %v", types, err)
		}
		var ev struct{ Type string }
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("event %q: %v", line, err)
		}
		types = append(types, ev.Type)
		last = time.Since(begin)
	}
	if strings.Join(types, " ") != "ADDED MODIFIED DELETED" {
		t.Errorf("events %v", types)
	}
	// The DELETED came 337 ms after the request; at speed 2, after 168 ms.
	recorded := time.Duration(watch.Events[len(watch.Events)-1].OffsetMs * float64(time.Millisecond))
	if last < recorded/2 {
		t.Errorf("the last event came after %v, before its scaled time %v", last, recorded/2)
	}
	got := make(chan error, 1)
	go func() {
		_, err := br.ReadByte()
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the stream ended (%v) while the client was still there", err)
	case <-time.After(recorded):
	}
	cancel()
	if err := <-got; err == nil {
		t.Error("read more after the client went away")
	}
}

// Instant sends every event at once, even one recorded an hour in; Close
// ends a stream under way.
func TestInstantAndClose(t *testing.T) {
	s, c, rec := start(t, Options{Instant: true})
	watch := find(t, rec, 25)
	watch.Events[len(watch.Events)-1].OffsetMs += float64(time.Hour / time.Millisecond)
	resp := replay(t, s, c, watch, nil)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for range 3 {
		if _, err := br.ReadBytes('\n'); err != nil {
			t.Fatal(err)
		}
	}
	ended := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(br)
		ended <- err
	}()
	_ = s.Close()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream was still open 10 s after Close")
	}
}

// Selector terms in another order select the same objects.
func TestCanonicalSelector(t *testing.T) {
	for _, c := range [][2]string{
		{"involvedObject.uid=1,involvedObject.name=frontend", "involvedObject.name=frontend,involvedObject.uid=1"},
		{"tier in (web,api),app=shop", "app=shop,tier in (web,api)"},
		{"app=shop", "app=shop"},
	} {
		if got, want := canonicalSelector(c[0]), canonicalSelector(c[1]); got != want {
			t.Errorf("%q → %q, %q → %q", c[0], got, c[1], want)
		}
	}
	if got := canonicalSelector("tier in (web,api),app=shop"); got != "app=shop,tier in (web,api)" {
		t.Errorf("set-based term split: %q", got)
	}
}

func TestStartRefusesAnythingButLoopback(t *testing.T) {
	rec, err := record.ReadAll(sample.Open(), sample.Name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("0.0.0.0:0", &tls.Certificate{}); err == nil || !strings.Contains(err.Error(), "loopback only") {
		t.Errorf("0.0.0.0: %v", err)
	}
	if _, err := New(&record.Recording{}, Options{}); err == nil {
		t.Error("an empty recording was accepted")
	}
}
