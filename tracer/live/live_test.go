package live

// End-to-end: the lab's real kubectl through kubewire against the lab's real
// kube-apiserver.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/klog/v2"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/record/recordtest"
)

func TestMain(m *testing.M) {
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	labtest.Main(m)
}

type traced struct {
	tr     *Trace
	view   *recordtest.Lines // what the live view is given
	record string
}

// trace starts kubewire on the lab's admin context, recording to a file.
func trace(t *testing.T, showSecrets bool) *traced {
	return traceAs(t, "", showSecrets)
}

// traceAs starts kubewire on a context of the lab, joined with its audit log.
func traceAs(t *testing.T, context_ string, showSecrets bool) *traced {
	t.Helper()
	l := labtest.Lab(t)
	dir := t.TempDir()
	v := recordtest.NewLines()
	rec := filepath.Join(dir, "s.jsonl")
	tr, err := Start(context.Background(), Options{
		Kubeconfig: l.Kubeconfig, Context: context_, Recordings: []Recording{{Flag: "--record", Path: rec}}, View: v, Version: "test",
		CADir: filepath.Join(dir, "ca"), ShowSecrets: showSecrets, AuditLog: l.AuditLog,
	}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return &traced{tr: tr, view: v, record: rec}
}

// kubectl runs the lab's kubectl through kubewire.
func (x *traced) kubectl(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	return runKubectl(t, x.tr.Env(os.Environ()), stdin, args...)
}

// direct runs the lab's kubectl without kubewire.
func direct(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	l := labtest.Lab(t)
	return runKubectl(t, append(os.Environ(), "KUBECONFIG="+l.Kubeconfig, "KUBECACHEDIR="+t.TempDir()), stdin, args...)
}

// runKubectl runs the lab's kubectl with env and stdin, for at most two
// minutes, and returns what it printed.
func runKubectl(t *testing.T, env []string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, labtest.Lab(t).Kubectl, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// finish stops kubewire and reads the recording back.
func (x *traced) finish(t *testing.T) *record.Recording {
	t.Helper()
	if err := x.tr.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	rec, err := annotate.ForRecordings().ReadFile(x.record)
	if err != nil {
		t.Fatalf("the recording does not read back: %v", err)
	}
	if len(rec.Warnings) > 0 {
		t.Errorf("recording warnings: %v", rec.Warnings)
	}
	return rec
}

var ages = regexp.MustCompile(`\b(\d+(\.\d+)?(s|m|h|d|y))+\b|<invalid>`)

func normalize(s string) string { return ages.ReplaceAllString(s, "AGE") }

// verbs lists "verb resource" of the client's (not kubewire's own) calls.
func verbs(rec *record.Recording) []string {
	var out []string
	for _, x := range rec.Exchanges {
		if x.Own {
			continue
		}
		a := x.Annotation
		what := a.Resource
		if a.Subresource != "" {
			what += "/" + a.Subresource
		}
		if !a.ResourceRequest {
			what = a.Kind + " " + a.Path
		}
		out = append(out, a.Verb+" "+what)
	}
	return out
}

func contains(list []string, want string) bool {
	for _, s := range list {
		if s == want {
			return true
		}
	}
	return false
}

// runID tells apart the objects of each run of a test against one lab.
var runID = strconv.FormatInt(time.Now().UnixNano()%(36*36*36*36), 36)

// Each kubectl command gives the same output through kubewire as without,
// and the recording holds its calls with the right verbs.
func TestKubectlPassesThroughUnchanged(t *testing.T) {
	cm := func(name string) string {
		return fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q,"namespace":"demo"},"data":{"k":"v"}}`, name)
	}
	cases := []struct {
		name  string
		stdin string
		args  func(suffix string) []string
		want  []string // verbs that must be recorded
	}{
		{"get ns", "", func(string) []string { return []string{"get", "ns"} }, []string{"list namespaces", "get discovery /api", "get discovery /apis"}},
		{"get pods -A", "", func(string) []string { return []string{"get", "pods", "-A"} }, []string{"list pods"}},
		{"api-resources", "", func(string) []string { return []string{"api-resources", "--api-group=apps"} }, []string{"get discovery /apis"}},
		{"create", "", func(s string) []string {
			return []string{"create", "configmap", "cm-" + s, "-n", "demo", "--from-literal=a=b"}
		}, []string{"create configmaps"}},
		// A first client-side apply creates the object.
		{"apply", "", func(s string) []string { return []string{"apply", "-f", "-"} }, []string{"get configmaps", "create configmaps"}},
		{"server-side apply", "", func(s string) []string { return []string{"apply", "--server-side", "-f", "-"} }, []string{"patch configmaps"}},
		{"patch", "", func(s string) []string {
			return []string{"patch", "configmap", "cm-" + s, "-n", "demo", "-p", `{"data":{"x":"y"}}`}
		}, []string{"patch configmaps"}},
		{"replace", "", func(s string) []string { return []string{"replace", "-f", "-"} }, []string{"update configmaps"}},
		{"delete", "", func(s string) []string { return []string{"delete", "configmap", "cm-" + s, "-n", "demo"} }, []string{"delete configmaps"}},
		// kubectl delete --all lists, then deletes one object at a time: it
		// never sends a deletecollection.
		{"delete --all", "", func(s string) []string { return []string{"delete", "configmaps", "--all", "-n", "demo-" + s} }, []string{"list configmaps", "delete configmaps"}},
		{"delete --raw on a collection", "", func(s string) []string {
			return []string{"delete", "--raw", "/api/v1/namespaces/demo-" + s + "/configmaps"}
		}, []string{"deletecollection configmaps"}},
		{"auth can-i", "", func(string) []string { return []string{"auth", "can-i", "list", "pods", "-n", "demo"} }, []string{"create selfsubjectaccessreviews"}},
		{"create token", "", func(string) []string { return []string{"create", "token", "default", "-n", "demo"} }, []string{"create serviceaccounts/token"}},
		{"explain", "", func(string) []string { return []string{"explain", "pods.spec.restartPolicy"} }, []string{"get openapi /openapi/v3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each side works on its own objects, so both runs do the same.
			run := func(via string) (string, string, *record.Recording, error) {
				// runID keeps a second run against the same lab (-count,
				// KUBEWIRE_TEST_LAB) off the objects of the first.
				s := strings.ReplaceAll(strings.ToLower(tc.name), " ", "-") + "-" + runID + "-" + via
				s = strings.ReplaceAll(strings.ReplaceAll(s, "--", ""), "server-side-", "ssa-")
				t.Cleanup(func() {
					direct(t, "", "delete", "configmap", "cm-"+s, "-n", "demo", "--ignore-not-found")
					direct(t, "", "delete", "namespace", "demo-"+s, "--ignore-not-found", "--wait=false")
				})
				stdin := tc.stdin
				// Set up what the command needs, directly.
				switch tc.name {
				case "apply", "server-side apply", "replace":
					stdin = cm("cm-" + s)
					if tc.name == "replace" {
						if _, e, err := direct(t, stdin, "create", "-f", "-"); err != nil {
							t.Fatalf("setup: %v %s", err, e)
						}
					}
				case "patch", "delete":
					if _, e, err := direct(t, "", "create", "configmap", "cm-"+s, "-n", "demo"); err != nil {
						t.Fatalf("setup: %v %s", err, e)
					}
				case "delete --all", "delete --raw on a collection":
					if _, e, err := direct(t, "", "create", "namespace", "demo-"+s); err != nil {
						t.Fatalf("setup: %v %s", err, e)
					}
					for i := range 3 {
						direct(t, "", "create", "configmap", fmt.Sprintf("c%d", i), "-n", "demo-"+s)
					}
				}
				if via == "direct" {
					o, e, err := direct(t, stdin, tc.args(s)...)
					return o, e, nil, err
				}
				x := trace(t, false)
				o, e, err := x.kubectl(t, stdin, tc.args(s)...)
				return o, e, x.finish(t), err
			}
			dOut, dErr, _, dRunErr := run("direct")
			kOut, kErr, rec, kRunErr := run("kw")
			if (dRunErr == nil) != (kRunErr == nil) {
				t.Fatalf("exit differs: direct %v (%s), through kubewire %v (%s)", dRunErr, dErr, kRunErr, kErr)
			}
			norm := func(s string) string {
				return normalize(strings.NewReplacer("-direct", "-X", "-kw", "-X").Replace(s))
			}
			// A token and a deleted list (uids, timestamps) differ on every run.
			differs := tc.name == "create token" || tc.name == "delete --raw on a collection"
			if !differs && norm(dOut) != norm(kOut) {
				t.Errorf("stdout differs\n direct: %q\nkubewire: %q", dOut, kOut)
			}
			if tc.name == "create token" && (len(kOut) < 100 || strings.Count(kOut, ".") != 2) {
				t.Errorf("create token through kubewire printed no token: %q", kOut)
			}
			got := verbs(rec)
			for _, w := range tc.want {
				if !contains(got, w) {
					t.Errorf("recording lacks %q; has %q", w, got)
				}
			}
			if tc.name == "create token" {
				raw, _ := json.Marshal(rec)
				if strings.Contains(string(raw), strings.TrimSpace(kOut)) {
					t.Errorf("the token reached the recording")
				}
			}
		})
	}
}

// kubectl get -w: each event reaches the live view while the watch is still
// open.
func TestWatchShowsEachEventAsItArrives(t *testing.T) {
	x := trace(t, false)
	l := labtest.Lab(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, l.Kubectl, "get", "configmaps", "-n", "demo", "-w", "--output-watch-events")
	cmd.Env = x.tr.Env(os.Environ())
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	// Wait until the watch is open (kubectl prints the current list first).
	open := x.view.WaitFor(t, "open watch", time.Minute, func(l record.Line) bool {
		return l.Type == record.TypeExchange && l.Exchange.Annotation.Verb == "watch" && l.Exchange.Response != nil && l.Exchange.Response.Stream
	})
	name := fmt.Sprintf("watched-%d", time.Now().UnixNano())
	if _, e, err := direct(t, "", "create", "configmap", name, "-n", "demo"); err != nil {
		t.Fatalf("create: %v %s", err, e)
	}
	x.view.WaitFor(t, "ADDED event for "+name, time.Minute, func(l record.Line) bool {
		return l.Type == record.TypeEvent && l.Event.Type == "ADDED" && strings.Contains(l.Event.Body.Text, name)
	})
	// And kubectl printed it too, before the watch ended.
	found := make(chan bool, 1)
	go func() {
		for lines.Scan() {
			if strings.Contains(lines.Text(), name) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatal("kubectl never printed the new configmap")
		}
	case <-time.After(time.Minute):
		t.Fatal("kubectl did not print the event within a minute")
	}
	cancel()
	_ = cmd.Wait()
	// kubectl is gone: the watch ends now, not at its next event, and as a
	// normal end (not one cut short when kubewire stops).
	end := x.view.WaitFor(t, "the watch's end once kubectl quit", time.Minute, func(l record.Line) bool {
		return l.Type == record.TypeEnd && l.Seq == open.Exchange.Seq
	})
	if end.End.Error != nil {
		t.Errorf("the watch kubectl left should end normally, got %+v", end.End.Error)
	}
	rec := x.finish(t)
	var watch *record.Exchange
	for _, ex := range rec.Exchanges {
		if ex.Annotation.Verb == "watch" && ex.Annotation.Resource == "configmaps" {
			watch = ex
		}
	}
	if watch == nil || len(watch.Events) == 0 {
		t.Fatalf("the recording holds no watch with events")
	}
}

// The burst of calls kubectl makes (discovery and the list) is recorded
// completely: every call the API server audited under kubewire's Audit-Ids is
// in the recording, and the recording reads back line by line.
func TestEveryCallIsRecorded(t *testing.T) {
	l := labtest.Lab(t)
	x := trace(t, false)
	begin := time.Now()
	if _, e, err := x.kubectl(t, "", "api-resources"); err != nil {
		t.Fatalf("%v %s", err, e)
	}
	if _, e, err := x.kubectl(t, "", "get", "pods", "-A"); err != nil {
		t.Fatalf("%v %s", err, e)
	}
	end := time.Now()
	rec := x.finish(t)
	ids := map[string]bool{}
	for _, ex := range rec.Exchanges {
		if ex.Own || ex.Request.Upstream == nil {
			continue
		}
		id := ex.Request.Upstream.Headers.Get("Audit-Id")
		if id == "" {
			t.Fatalf("exchange %d went upstream without an Audit-Id", ex.Seq)
		}
		ids[id] = true
	}
	if len(ids) < 3 {
		t.Fatalf("only %d client calls recorded", len(ids))
	}
	// Every kubewire Audit-Id the server logged must be in the recording,
	// and every recorded one must be in the server's log.
	labtest.Eventually(t, 30*time.Second, func() error {
		data, err := os.ReadFile(l.AuditLog)
		if err != nil {
			return err
		}
		logged := map[string]bool{}
		for _, line := range bytes.Split(data, []byte("\n")) {
			var ev struct {
				AuditID   string    `json:"auditID"`
				UserAgent string    `json:"userAgent"`
				Received  time.Time `json:"requestReceivedTimestamp"`
			}
			if json.Unmarshal(line, &ev) != nil {
				continue
			}
			if ids[ev.AuditID] {
				logged[ev.AuditID] = true
			} else if strings.HasPrefix(ev.UserAgent, "kubectl") && ev.Received.After(begin) && ev.Received.Before(end) {
				return fmt.Errorf("the server audited kubectl call %s that the recording lacks", ev.AuditID)
			}
		}
		if len(logged) != len(ids) {
			return fmt.Errorf("%d of %d recorded calls are in the audit log", len(logged), len(ids))
		}
		return nil
	})
}

func findExchange(t *testing.T, rec *record.Recording, verb, resource string) *record.Exchange {
	t.Helper()
	for _, x := range rec.Exchanges {
		if !x.Own && x.Annotation.Verb == verb && x.Annotation.Resource == resource {
			return x
		}
	}
	t.Fatalf("no %s %s in the recording: %q", verb, resource, verbs(rec))
	return nil
}

// The journey of real calls: who sent them and where they stopped, with the
// API server's audit decision joined in.
func TestJourneyOfRealCalls(t *testing.T) {
	t.Run("admin list passes every stage", func(t *testing.T) {
		x := trace(t, false)
		if _, e, err := x.kubectl(t, "", "get", "pods", "-n", "demo"); err != nil {
			t.Fatalf("%v %s", err, e)
		}
		ex := findExchange(t, x.finish(t), "list", "pods")
		wantPassed(t, ex)
		if a := ex.Annotation.Auth; a.Method != "x509" || !contains(a.Groups, "system:masters") {
			t.Fatalf("auth %+v", a)
		}
		if ex.Annotation.Signals == nil || ex.Annotation.Signals.AuditID == "" || ex.Annotation.Signals.PriorityLevel == "" {
			t.Errorf("signals %+v", ex.Annotation.Signals)
		}
	})
	t.Run("alice is stopped at authorization", func(t *testing.T) {
		x := traceAs(t, "alice", false)
		_, stderr, err := x.kubectl(t, "", "get", "pods", "-n", "demo")
		if err == nil || !strings.Contains(stderr, "Forbidden") {
			t.Fatalf("alice should be forbidden: %v %s", err, stderr)
		}
		ex := findExchange(t, x.finish(t), "list", "pods")
		a := ex.Annotation.Auth
		if a == nil || a.StoppedAt != record.StageAuthorization || a.User != "alice" {
			t.Fatalf("auth %+v", a)
		}
		if a.Denial == nil || a.Denial.User != "alice" || a.Denial.Verb != "list" || a.Denial.Resource != "pods" || a.Denial.Namespace != "demo" {
			t.Errorf("denial %+v", a.Denial)
		}
		if a.Audit == nil || a.Audit.Decision != "forbid" {
			t.Errorf("audit join should say forbid: %+v", a.Audit)
		}
		for _, st := range a.Stages {
			if st.Name == record.StageAuthorization && (st.Status != record.Rejected || st.Inferred) {
				t.Errorf("authorization stage %+v should be an observed rejection", st)
			}
		}
	})
	t.Run("a bad token through kubewire proxy stops at authentication", func(t *testing.T) {
		x := trace(t, false)
		resp := viaProxy(t, x, "/api/v1/namespaces/demo/pods", "Bearer not-a-real-token")
		if resp != 401 {
			t.Fatalf("status %d, want 401", resp)
		}
		ex := findExchange(t, x.finish(t), "list", "pods")
		if a := ex.Annotation.Auth; a == nil || a.StoppedAt != record.StageAuthentication || a.Origin != "client" {
			t.Fatalf("auth %+v", a)
		}
	})
	t.Run("a ServiceAccount token is decoded", func(t *testing.T) {
		token, e, err := direct(t, "", "create", "token", "default", "-n", "demo")
		if err != nil {
			t.Fatalf("%v %s", err, e)
		}
		x := trace(t, false)
		viaProxy(t, x, "/api/v1/namespaces/demo/pods", "Bearer "+strings.TrimSpace(token))
		rec := x.finish(t)
		ex := findExchange(t, rec, "list", "pods")
		a := ex.Annotation.Auth
		if a == nil || a.Method != "serviceaccount" || a.User != "system:serviceaccount:demo:default" ||
			a.Credential == nil || a.Credential.ServiceAccount != "demo/default" {
			t.Fatalf("auth %+v cred %+v", a, a.Credential)
		}
		raw, _ := os.ReadFile(x.record)
		if bytes.Contains(raw, []byte(strings.TrimSpace(token))) {
			t.Error("the token reached the recording")
		}
	})
}

// viaProxy sends one request the way curl --proxy --cacert would, with the
// given Authorization, and returns the status.
func viaProxy(t *testing.T, x *traced, path, authz string) int {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(x.tr.CA.PEM)
	pu, _ := url.Parse(x.tr.Proxy.URL())
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: time.Minute}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest("GET", x.tr.Target.Server.String()+path, nil)
	req.Header.Set("Authorization", authz)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s via kubewire: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
