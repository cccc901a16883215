package live

// Captures the renderer's recordings (render/testdata/recordings) from the
// lab: real kubectl and client-go calls through kubewire against the real
// kube-apiserver. Each recording is checked to hold what its name promises,
// so this is an end-to-end test in every run; with -capture-dir it also
// refreshes the fixtures:
//
//	go test ./tracer/live -run TestCaptureRecordings -capture-dir $PWD/render/testdata/recordings

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/record/recordtest"
)

var captureDir = flag.String("capture-dir", "", "copy each recording of TestCaptureRecordings to `DIR`/<name>.jsonl")

const protobufType = "application/vnd.kubernetes.protobuf"

// capture is one recording being made.
type capture struct {
	*traced
	name string
	// warm is a kubectl discovery cache filled beforehand, so the recording
	// holds the calls that matter rather than discovery; "" for the
	// session's fresh cache.
	warm string
	// secrets must not reach the recording.
	secrets []string
	// keepOwn keeps kubewire's own calls in the copy to -capture-dir.
	keepOwn bool
}

// startCapture starts kubewire on a context of the lab for one recording.
func startCapture(t *testing.T, name, context_, warm string) *capture {
	t.Helper()
	return &capture{traced: traceAs(t, context_, false), name: name, warm: warm, secrets: labSecrets(t)}
}

// env is the traced child's environment (the last KUBECACHEDIR wins).
func (c *capture) env() []string {
	env := c.tr.Env(os.Environ())
	if c.warm != "" {
		env = append(env, "KUBECACHEDIR="+c.warm)
	}
	return env
}

// kubectl runs the lab's kubectl through kubewire.
func (c *capture) kubectl(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	return runKubectl(t, c.env(), stdin, args...)
}

// clientset is a client-go typed client on the session kubeconfig that
// speaks protobuf, as controllers do.
func (c *capture) clientset(t *testing.T) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", c.tr.Session.Kubeconfig)
	if err != nil {
		t.Fatalf("session kubeconfig: %v", err)
	}
	cfg.ContentType = protobufType
	cfg.AcceptContentTypes = protobufType
	cfg.UserAgent = "kubewire-capture (client-go typed client)"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// finish ends the recording, copies it to -capture-dir and reads it back.
func (c *capture) finish(t *testing.T) *record.Recording {
	t.Helper()
	token := c.tr.Session.Token
	rec := c.traced.finish(t)
	data, err := os.ReadFile(c.record)
	if err != nil {
		t.Fatal(err)
	}
	if token == "" {
		t.Fatal("the session has no token: the secrets check would miss it")
	}
	noSecrets(t, c.name, data, append([]string{token}, c.secrets...))
	if *captureDir != "" {
		if !c.keepOwn {
			data = withoutOwn(t, data)
		}
		if err := os.WriteFile(filepath.Join(*captureDir, c.name+".jsonl"), data, 0o644); err != nil {
			t.Fatalf("-capture-dir: %v", err)
		}
	}
	return rec
}

// withoutOwn drops kubewire's own calls (flow-schema names, discovery for
// scopes: some 65 KB in every recording) and the lines that belong to them.
// The renderer hides them unless asked, so the fixtures keep them only where
// they matter. The other lines are kept byte for byte, seq numbers too.
func withoutOwn(t *testing.T, data []byte) []byte {
	t.Helper()
	type line struct {
		Type string `json:"type"`
		Seq  int64  `json:"seq"`
		Own  bool   `json:"own"`
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	own := map[int64]bool{}
	parsed := make([]line, len(lines))
	for i, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if err := json.Unmarshal(l, &parsed[i]); err != nil {
			t.Fatalf("recording line %d: %v", i+1, err)
		}
		if parsed[i].Type == string(record.TypeExchange) && parsed[i].Own {
			own[parsed[i].Seq] = true
		}
	}
	var out []byte
	for i, l := range lines {
		if parsed[i].Type == string(record.TypeHeader) || !own[parsed[i].Seq] {
			out = append(out, l...)
		}
	}
	return out
}

// labSecrets are the credentials in the lab's kubeconfig.
func labSecrets(t *testing.T) []string {
	t.Helper()
	raw, err := clientcmd.LoadFromFile(labtest.Lab(t).Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, u := range raw.AuthInfos {
		for _, s := range []string{string(u.ClientKeyData), u.Token, u.Password} {
			if s != "" {
				secrets = append(secrets, s)
			}
		}
		if u.ClientKey != "" {
			k, err := os.ReadFile(u.ClientKey)
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, string(k))
		}
	}
	if len(secrets) == 0 {
		t.Fatal("the lab's kubeconfig holds no credentials: the secrets check would prove nothing")
	}
	return secrets
}

// privateKey matches a PEM private key, not the words in OpenAPI's
// descriptions.
var privateKey = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)

var authorizationHeader = regexp.MustCompile(`"(Proxy-)?Authorization":\["[^"]*"\]`)

// noSecrets checks a recording for credentials: no private key, none of
// secrets (a PEM key also line by line), and Authorization headers only
// redacted.
func noSecrets(t *testing.T, name string, data []byte, secrets []string) {
	t.Helper()
	if privateKey.Match(data) {
		t.Errorf("%s holds a private key", name)
	}
	for _, s := range secrets {
		for _, part := range append(strings.Split(strings.TrimSpace(s), "\n"), s) {
			if len(part) > 16 && !strings.HasPrefix(part, "-----") && bytes.Contains(data, []byte(part)) {
				t.Errorf("%s holds a credential: %.12s...", name, part)
			}
		}
	}
	for _, h := range authorizationHeader.FindAll(data, -1) {
		if !bytes.Contains(h, []byte("REDACTED")) {
			t.Errorf("%s holds an unredacted header: %s", name, h)
		}
	}
}

// mustDirect runs the lab's kubectl without kubewire and fails the test when
// it fails.
func mustDirect(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, e, err := direct(t, stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, e)
	}
	return out
}

// clientCalls are the traced client's exchanges, without kubewire's own.
func clientCalls(rec *record.Recording) []*record.Exchange {
	var out []*record.Exchange
	for _, x := range rec.Exchanges {
		if !x.Own {
			out = append(out, x)
		}
	}
	return out
}

// only returns the one client call with verb and resource (or path, for a
// non-resource request), failing unless there is exactly one.
func only(t *testing.T, rec *record.Recording, verb, what string) *record.Exchange {
	t.Helper()
	var found []*record.Exchange
	for _, x := range clientCalls(rec) {
		a := x.Annotation
		if a.Verb == verb && (a.Resource == what || !a.ResourceRequest && a.Path == what) {
			found = append(found, x)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s %s in the recording, found %d among %q", verb, what, len(found), verbs(rec))
	}
	return found[0]
}

func wantStatus(t *testing.T, x *record.Exchange, code int) {
	t.Helper()
	if x.Response == nil || x.Response.Status != code {
		t.Fatalf("%s %s: response %+v error %+v, want status %d", x.Request.Method, x.Request.URL, x.Response, x.Error, code)
	}
}

// wantPassed asserts the journey went through every stage.
func wantPassed(t *testing.T, x *record.Exchange) {
	t.Helper()
	a := x.Annotation.Auth
	if a == nil || a.StoppedAt != "" {
		t.Fatalf("journey %+v, want every stage passed", a)
	}
	for _, st := range a.Stages {
		if st.Status == record.Rejected || st.Status == record.NotReached {
			t.Errorf("stage %s: %s", st.Name, st.Status)
		}
	}
	if a.Audit == nil || a.Audit.Decision != "allow" {
		t.Errorf("audit join: %+v, want decision allow", a.Audit)
	}
}

// waitEvent waits until the live view has a watch event of type typ whose
// body holds name.
func waitEvent(t *testing.T, v *recordtest.Lines, typ, name string) {
	t.Helper()
	v.WaitFor(t, typ+" event for "+name, time.Minute, func(l record.Line) bool {
		return l.Type == record.TypeEvent && l.Event.Type == typ && bytes.Contains(l.Event.Body.Data(), []byte(name))
	})
}

// waitWatch waits until the live view shows an open watch on resource.
func waitWatch(t *testing.T, v *recordtest.Lines, resource string, open func(*record.Exchange) bool) {
	t.Helper()
	v.WaitFor(t, "open watch on "+resource, time.Minute, func(l record.Line) bool {
		x := l.Exchange
		return l.Type == record.TypeExchange && x.Annotation.Verb == "watch" && x.Annotation.Resource == resource &&
			x.Response != nil && x.Response.Stream && open(x)
	})
}

// eventTypes lists a stream's event types in order.
func eventTypes(x *record.Exchange) []string {
	var out []string
	for _, e := range x.Events {
		out = append(out, e.Type)
	}
	return out
}

// changeConfigMap creates, updates and deletes a ConfigMap directly (not
// through kubewire), each step once the watch in v has shown the last.
func changeConfigMap(t *testing.T, v *recordtest.Lines, name string) {
	t.Helper()
	mustDirect(t, "", "create", "configmap", name, "-n", "demo", "--from-literal=colour=blue")
	waitEvent(t, v, "ADDED", name)
	mustDirect(t, "", "patch", "configmap", name, "-n", "demo", "-p", `{"data":{"colour":"green"}}`)
	waitEvent(t, v, "MODIFIED", name)
	mustDirect(t, "", "delete", "configmap", name, "-n", "demo")
	waitEvent(t, v, "DELETED", name)
}

// TestCaptureRecordings makes one recording per renderer fixture and checks
// that each holds what its name promises.
func TestCaptureRecordings(t *testing.T) {
	if *captureDir != "" {
		if fi, err := os.Stat(*captureDir); err != nil || !fi.IsDir() {
			t.Fatalf("-capture-dir %s: not a directory (%v)", *captureDir, err)
		}
	}
	// A kubectl cache filled directly, shared by the captures that are not
	// about discovery: discovery, and the apps/v1 OpenAPI document (700 KB)
	// that kubectl create -f reads to validate.
	warm := t.TempDir()
	deployment := func(name string, replicas int) string {
		return fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":%q,"namespace":"demo"},`+
			`"spec":{"replicas":%d,"selector":{"matchLabels":{"app":%[1]q}},"template":{"metadata":{"labels":{"app":%[1]q}},`+
			`"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}`, name, replicas)
	}
	for _, args := range [][]string{{"api-resources"}, {"create", "--dry-run=server", "-f", "-"}} {
		l := labtest.Lab(t)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, l.Kubectl, args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+l.Kubeconfig, "KUBECACHEDIR="+warm)
		cmd.Stdin = strings.NewReader(deployment("web-warm", 1))
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("fill the kubectl cache: kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// The objects the captures name, gone from a lab that is reused, and
	// before the next test: web's pods too, so that no test listing pods
	// sees them terminating.
	cleanup := func() {
		direct(t, "", "delete", "deployment", "web", "-n", "demo", "--ignore-not-found", "--cascade=foreground")
		direct(t, "", "delete", "configmap", "watched", "watched-pb", "-n", "demo", "--ignore-not-found")
		labtest.Eventually(t, 2*time.Minute, func() error {
			out, e, err := direct(t, "", "get", "pods", "-n", "demo", "-l", "app=web", "-o", "name")
			if err != nil || out != "" {
				return fmt.Errorf("web's pods are still there: %q %v %s", out, err, e)
			}
			return nil
		})
	}
	cleanup()
	t.Cleanup(cleanup)

	t.Run("create", func(t *testing.T) {
		c := startCapture(t, "create", "", warm)
		if _, e, err := c.kubectl(t, "", "create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "-n", "demo"); err != nil {
			t.Fatalf("%v %s", err, e)
		}
		rec := c.finish(t)
		x := only(t, rec, "create", "deployments")
		wantStatus(t, x, 201)
		wantPassed(t, x)
		// kubectl sends the Deployment as protobuf.
		if x.Request.Body == nil || x.Request.Body.ContentType != protobufType || !bytes.Contains(x.Request.Body.Data(), []byte("nginx:1.27")) {
			t.Errorf("the request body is not the Deployment in protobuf: %+v", x.Request.Body)
		}
		if n := len(clientCalls(rec)); n != 1 {
			t.Errorf("%d client calls, want only the create: %q", n, verbs(rec))
		}
	})

	// The Deployment's pods, scheduled and run by the lab's fake nodes.
	labtest.Eventually(t, 2*time.Minute, func() error {
		out, e, err := direct(t, "", "get", "pods", "-n", "demo", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.status.phase} {.status.podIP}{\"\\n\"}{end}")
		if err != nil {
			return fmt.Errorf("%v %s", err, e)
		}
		if running := regexp.MustCompile(`(?m)^Running 10\.`).FindAllString(out, -1); len(running) != 2 {
			return fmt.Errorf("pods of web not all running with an IP: %q", out)
		}
		return nil
	})

	t.Run("denied", func(t *testing.T) {
		c := startCapture(t, "denied", "alice", warm)
		_, e, err := c.kubectl(t, "", "get", "pods", "-n", "demo")
		if err == nil || !strings.Contains(e, "Forbidden") {
			t.Fatalf("alice should be forbidden: %v %s", err, e)
		}
		rec := c.finish(t)
		x := only(t, rec, "list", "pods")
		wantStatus(t, x, 403)
		a := x.Annotation.Auth
		if a == nil || a.User != "alice" || a.StoppedAt != record.StageAuthorization {
			t.Fatalf("journey %+v, want alice stopped at authorization", a)
		}
		if a.Audit == nil || a.Audit.Decision != "forbid" {
			t.Errorf("audit join %+v, want decision forbid", a.Audit)
		}
		// alice may not list flow schemas: they stay UIDs, and the record
		// says why.
		if sg := x.Annotation.Signals; sg == nil || !strings.Contains(sg.FlowNote, "may not list flowschemas") {
			t.Errorf("signals %+v, want a note that alice cannot name the flow schema", sg)
		}
	})

	t.Run("discovery", func(t *testing.T) {
		c := startCapture(t, "discovery", "", "")
		// Kubewire's own discovery, next to kubectl's.
		c.keepOwn = true
		out, e, err := c.kubectl(t, "", "api-resources", "--api-group=apps")
		if err != nil || !strings.Contains(out, "deployments") {
			t.Fatalf("api-resources: %v %s\n%s", err, e, out)
		}
		// The classic forms, as older clients and client-go's discovery
		// client without aggregation ask for them.
		for _, path := range []string{"/api", "/apis", "/apis/apps/v1"} {
			if _, e, err := c.kubectl(t, "", "get", "--raw", path); err != nil {
				t.Fatalf("get --raw %s: %v %s", path, err, e)
			}
		}
		// The OpenAPI index, then its smallest document by the URL the
		// index gives, as kubectl explain does for the one it needs.
		index, e, err := c.kubectl(t, "", "get", "--raw", "/openapi/v3")
		if err != nil {
			t.Fatalf("get --raw /openapi/v3: %v %s", err, e)
		}
		var paths struct {
			Paths map[string]struct {
				URL string `json:"serverRelativeURL"`
			} `json:"paths"`
		}
		if err := json.Unmarshal([]byte(index), &paths); err != nil || paths.Paths["version"].URL == "" {
			t.Fatalf("the OpenAPI index names no document for version (%v): %.300s", err, index)
		}
		if _, e, err := c.kubectl(t, "", "get", "--raw", paths.Paths["version"].URL); err != nil {
			t.Fatalf("get --raw %s: %v %s", paths.Paths["version"].URL, err, e)
		}
		rec := c.finish(t)
		aggregated, classic := 0, 0
		for _, x := range clientCalls(rec) {
			if x.Annotation.Kind != "discovery" {
				continue
			}
			wantStatus(t, x, 200)
			if strings.Contains(x.Response.Headers.Get("Content-Type"), "as=APIGroupDiscoveryList") {
				aggregated++
			} else {
				classic++
			}
		}
		if aggregated < 2 || classic < 3 {
			t.Errorf("%d aggregated and %d classic discovery calls, want /api and /apis aggregated and three classic: %q", aggregated, classic, verbs(rec))
		}
		wantStatus(t, only(t, rec, "get", "/openapi/v3"), 200)
		if x := only(t, rec, "get", "/openapi/v3/version"); x.Response == nil || !strings.Contains(x.Response.Body.Text, `"openapi":"3.`) {
			t.Errorf("/openapi/v3/version is not an OpenAPI v3 document: %+v", x.Response)
		}
	})

	t.Run("table", func(t *testing.T) {
		c := startCapture(t, "table", "", warm)
		out, e, err := c.kubectl(t, "", "get", "pods", "-n", "demo")
		if err != nil || !strings.Contains(out, "web-") {
			t.Fatalf("get pods: %v %s\n%s", err, e, out)
		}
		rec := c.finish(t)
		x := only(t, rec, "list", "pods")
		wantStatus(t, x, 200)
		wantPassed(t, x)
		// kubectl asks for a Table; the server answers with one, labelled
		// plain application/json.
		if accept := x.Request.Headers.Get("Accept"); !strings.HasPrefix(accept, "application/json;as=Table") {
			t.Errorf("accept %q, want a Table first", accept)
		}
		var table metav1.Table
		if err := json.Unmarshal(x.Response.Body.Data(), &table); err != nil || table.Kind != "Table" {
			t.Fatalf("the body is not a Table (%v): %.300s", err, x.Response.Body.Text)
		}
		var names []string
		for _, r := range table.Rows {
			names = append(names, fmt.Sprint(r.Cells[0]))
		}
		if len(names) != 2 || !strings.HasPrefix(names[0], "web-") || !strings.HasPrefix(names[1], "web-") {
			t.Errorf("table rows %q, want web's two pods", names)
		}
	})

	t.Run("exec", func(t *testing.T) {
		if _, e, err := direct(t, "", "wait", "--for=condition=Ready", "pod", "-l", "app=web", "-n", "demo", "--timeout=90s"); err != nil {
			t.Fatalf("web's pods Ready: %v %s", err, e)
		}
		out, e, err := direct(t, "", "get", "pods", "-n", "demo", "-l", "app=web", "-o", "name")
		pod, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
		if err != nil || pod == "" {
			t.Fatalf("a web pod: %v %s", err, e)
		}
		// The same exec over WebSocket (kubectl's default) and over SPDY.
		c := startCapture(t, "exec", "", warm)
		for _, ws := range []string{"true", "false"} {
			env := append(c.env(), "KUBECTL_REMOTE_COMMAND_WEBSOCKETS="+ws)
			out, e, err := runKubectl(t, env, "", "exec", "-n", "demo", pod, "--", "echo", "hello from exec")
			if err != nil || out != "hello from exec\n" {
				t.Fatalf("exec (websockets %s): %q %v %s", ws, out, err, e)
			}
		}
		rec := c.finish(t)
		var protos []string
		for _, x := range rec.Exchanges {
			if x.Annotation.Subresource != "exec" {
				continue
			}
			protos = append(protos, x.Annotation.Upgrade)
			var stdout []string
			for _, ev := range x.Events {
				if ev.Channel == "stdout" && ev.Type == "data" {
					stdout = append(stdout, string(ev.Body.Data()))
				}
			}
			if strings.Join(stdout, "") != "hello from exec\n" {
				t.Errorf("%s exec: stdout events %q", x.Annotation.Upgrade, stdout)
			}
		}
		if strings.Join(protos, " ") != "websocket spdy" {
			t.Errorf("exec upgrades %q, want websocket then spdy", protos)
		}
	})

	t.Run("status", func(t *testing.T) {
		c := startCapture(t, "status", "", warm)
		if _, e, err := c.kubectl(t, "", "get", "pod", "does-not-exist", "-n", "demo"); err == nil || !strings.Contains(e, "NotFound") {
			t.Fatalf("get a missing pod: %v %s", err, e)
		}
		if _, e, err := c.kubectl(t, deployment("web-bad", -1), "create", "-f", "-"); err == nil || !strings.Contains(e, "Invalid") {
			t.Fatalf("create an invalid deployment: %v %s", err, e)
		}
		if _, e, err := c.kubectl(t, "", "create", "deployment", "web", "--image=nginx:1.27", "-n", "demo"); err == nil || !strings.Contains(e, "already exists") {
			t.Fatalf("create web again: %v %s", err, e)
		}
		rec := c.finish(t)
		wantStatus(t, only(t, rec, "get", "pods"), 404)
		var invalid, exists *record.Exchange
		for _, x := range clientCalls(rec) {
			if x.Annotation.Verb == "create" && x.Response != nil {
				switch x.Response.Status {
				case 422:
					invalid = x
				case 409:
					exists = x
				}
			}
		}
		if invalid == nil || exists == nil {
			t.Fatalf("want a 422 and a 409 create: %q", verbs(rec))
		}
		if a := invalid.Annotation.Auth; a == nil || a.StoppedAt != record.StageValidation || len(a.Causes) == 0 || a.Causes[0].Field != "spec.replicas" {
			t.Errorf("422 journey %+v, want stopped at validation with a cause on spec.replicas", a)
		}
		if a := exists.Annotation.Auth; a == nil || a.StoppedAt != record.StageStorage {
			t.Errorf("409 journey %+v, want stopped at storage", a)
		}
	})

	t.Run("protobuf", func(t *testing.T) {
		c := startCapture(t, "protobuf", "", "")
		cs := c.clientset(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		pods, err := cs.CoreV1().Pods("demo").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil || len(pods.Items) != 2 {
			t.Fatalf("list pods over protobuf: %v (%d pods)", err, len(pods.Items))
		}
		pod, err := cs.CoreV1().Pods("demo").Get(ctx, pods.Items[0].Name, metav1.GetOptions{})
		if err != nil || pod.Status.PodIP == "" {
			t.Fatalf("get pod over protobuf: %v", err)
		}
		rec := c.finish(t)
		for _, x := range []*record.Exchange{only(t, rec, "list", "pods"), only(t, rec, "get", "pods")} {
			wantStatus(t, x, 200)
			if ct := x.Response.Headers.Get("Content-Type"); ct != protobufType {
				t.Errorf("content type %q, want protobuf", ct)
			}
			if !bytes.HasPrefix(x.Response.Body.Data(), []byte("k8s\x00")) {
				t.Errorf("the body does not start with the protobuf magic: %q", x.Response.Body.Data()[:8])
			}
		}
	})

	t.Run("watch-json", func(t *testing.T) {
		c := startCapture(t, "watch-json", "", warm)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, labtest.Lab(t).Kubectl, "get", "configmaps", "-n", "demo", "-w")
		// Stop kubectl as a user would, with Ctrl-C.
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.Env = c.env()
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitWatch(t, c.view, "configmaps", func(*record.Exchange) bool { return true })
		changeConfigMap(t, c.view, "watched")
		cancel()
		err := cmd.Wait()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("kubectl get -w: %v", err)
		}
		if !strings.Contains(out.String(), "watched") {
			t.Errorf("kubectl did not print the watched configmap:\n%s", out.String())
		}
		rec := c.finish(t)
		wantStatus(t, only(t, rec, "list", "configmaps"), 200)
		w := only(t, rec, "watch", "configmaps")
		wantStatus(t, w, 200)
		if got := strings.Join(eventTypes(w), " "); got != "ADDED MODIFIED DELETED" {
			t.Errorf("watch events %q, want ADDED MODIFIED DELETED", got)
		}
		if !strings.HasPrefix(w.Response.Headers.Get("Content-Type"), "application/json") {
			t.Errorf("content type %q, want JSON", w.Response.Headers.Get("Content-Type"))
		}
	})

	t.Run("watch-protobuf", func(t *testing.T) {
		c := startCapture(t, "watch-protobuf", "", "")
		cs := c.clientset(t)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// A watch-list: the current objects as ADDED events, a BOOKMARK
		// marking their end, then the changes.
		yes := true
		w, err := cs.CoreV1().ConfigMaps("demo").Watch(ctx, metav1.ListOptions{SendInitialEvents: &yes, AllowWatchBookmarks: true,
			ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
		if err != nil {
			t.Fatalf("watch over protobuf: %v", err)
		}
		var wg sync.WaitGroup
		drain := func(w watch.Interface) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range w.ResultChan() {
				}
			}()
		}
		drain(w)
		waitWatch(t, c.view, "configmaps", func(*record.Exchange) bool { return true })
		c.view.WaitFor(t, "the initial-events-end bookmark", time.Minute, func(l record.Line) bool {
			return l.Type == record.TypeEvent && l.Event.Type == "BOOKMARK"
		})
		changeConfigMap(t, c.view, "watched-pb")
		w.Stop()
		// A watch-list from a resource version the server has not reached:
		// after waiting for it (3 s) the watch cache ends the stream with an
		// ERROR event, 504 "Too large resource version". (A too old one, 410
		// Expired, depends on how early the lab's cache started, so it is
		// not reliable here.)
		ahead, err := cs.CoreV1().ConfigMaps("demo").Watch(ctx, metav1.ListOptions{SendInitialEvents: &yes, AllowWatchBookmarks: true,
			ResourceVersion: "99999999", ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
		if err != nil {
			t.Fatalf("watch from resource version 99999999: %v", err)
		}
		var status *metav1.Status
		for ev := range ahead.ResultChan() {
			if ev.Type == watch.Error {
				status, _ = ev.Object.(*metav1.Status)
				break
			}
		}
		ahead.Stop()
		wg.Wait()
		if status == nil || status.Code != 504 || !strings.Contains(status.Message, "Too large resource version") {
			t.Fatalf("watch from resource version 99999999 ended with %+v, want a 504 ERROR event", status)
		}
		rec := c.finish(t)
		var watches []*record.Exchange
		for _, x := range clientCalls(rec) {
			if x.Annotation.Verb == "watch" {
				watches = append(watches, x)
			}
		}
		if len(watches) != 2 {
			t.Fatalf("%d watches recorded, want 2: %q", len(watches), verbs(rec))
		}
		for _, x := range watches {
			wantStatus(t, x, 200)
			if ct := x.Response.Headers.Get("Content-Type"); !strings.HasPrefix(ct, protobufType) {
				t.Errorf("content type %q, want protobuf", ct)
			}
		}
		// The server also sends bookmarks of its own every so often.
		got := strings.Join(eventTypes(watches[0]), " ")
		if !regexp.MustCompile(`^(ADDED )+BOOKMARK (BOOKMARK )*ADDED (BOOKMARK )*MODIFIED (BOOKMARK )*DELETED( BOOKMARK)*$`).MatchString(got) {
			t.Errorf("watch-list events %q, want the initial ADDED, a BOOKMARK, then ADDED MODIFIED DELETED", got)
		}
		if got := strings.Join(eventTypes(watches[1]), " "); got != "ERROR" {
			t.Errorf("watch from the future: events %q, want ERROR", got)
		}
	})
}

// syncBuffer is a bytes.Buffer a child process and the test share.
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
