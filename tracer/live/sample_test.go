package live

// Records the bundled sample session (tracer/sample): one classroom story,
// the lab's real kubectl through kubewire against the lab's kube-apiserver.
// The recording is checked in every run; with -sample-out it also refreshes
// the bundled file:
//
//	go test ./tracer/live -run TestCaptureSample -sample-out $PWD/tracer/sample/session.jsonl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/record/recordtest"
	"github.com/kubewire/kubewire/tracer/sample"
)

var sampleOut = flag.String("sample-out", "", "write the recording of TestCaptureSample to `FILE` (tracer/sample/session.jsonl)")

// sampleMaxBody caps each stored body of the sample (--max-body): the
// OpenAPI document kubectl apply validates with is 1.6 MB.
const sampleMaxBody = 64 << 10

// traceSample starts kubewire on the lab's admin context as traceAs does,
// storing at most sampleMaxBody bytes of each body.
func traceSample(t *testing.T) *traced {
	t.Helper()
	l := labtest.Lab(t)
	dir := t.TempDir()
	v := recordtest.NewLines()
	rec := filepath.Join(dir, "sample.jsonl")
	tr, err := Start(context.Background(), Options{
		Kubeconfig: l.Kubeconfig, Recordings: []Recording{{Flag: "--record", Path: rec}}, View: v, Version: "test",
		CADir: filepath.Join(dir, "ca"), AuditLog: l.AuditLog, MaxBody: sampleMaxBody,
	}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return &traced{tr: tr, view: v, record: rec}
}

func TestCaptureSample(t *testing.T) {
	ns := sample.Namespace
	// The story creates namespace sample: gone before, and after, so that a
	// lab that is reused (KUBEWIRE_TEST_LAB, -count) starts each run alike.
	gone := func() {
		if _, e, err := direct(t, "", "delete", "namespace", ns, "--ignore-not-found", "--timeout=90s"); err != nil {
			t.Errorf("delete namespace %s: %v %s", ns, err, e)
		}
	}
	gone()
	t.Cleanup(gone)
	pod := strings.TrimSpace(mustDirect(t, "", "get", "pods", "-n", "shop", "-l", "app=frontend",
		"--field-selector=status.phase=Running", "-o", "jsonpath={.items[0].metadata.name}"))
	if pod == "" {
		t.Fatal("the lab's sample app shop/frontend has no Running pod")
	}

	x := traceSample(t)
	kubectl := func(env []string, stdin string, args ...string) (string, string, error) {
		t.Helper()
		return runKubectl(t, append(x.tr.Env(os.Environ()), env...), stdin, args...)
	}
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, e, err := kubectl(nil, stdin, args...)
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, e)
		}
		return out
	}
	refused := func(want string, args ...string) {
		t.Helper()
		if _, e, err := kubectl(nil, "", args...); err == nil || !strings.Contains(e, want) {
			t.Fatalf("kubectl %s: %v %s, want it refused with %q", strings.Join(args, " "), err, e, want)
		}
	}

	// 1. What runs here: the session's cache is fresh, so discovery first.
	if out := must("", "get", "pods", "-A"); !strings.Contains(out, pod) {
		t.Fatalf("get pods -A does not list %s:\n%s", pod, out)
	}
	// 2. The lab's sample app.
	must("", "get", "deployments", "-n", "shop")
	must("", "get", "pods", "-n", "shop", "-o", "wide")

	// 3. Writes: create, apply twice (get and create, then get and patch),
	// patch, delete.
	must("", "create", "namespace", ns)
	must("", "create", "configmap", "greeting", "-n", ns, "--from-literal=hello=world")
	settings := func(colour string) string {
		return fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","namespace":%q},"data":{"colour":%q}}`, ns, colour)
	}
	must(settings("blue"), "apply", "-f", "-")
	must(settings("green"), "apply", "-f", "-")
	must("", "patch", "configmap", "greeting", "-n", ns, "-p", `{"data":{"hello":"class"}}`)
	must("", "delete", "configmap", "greeting", "-n", ns)

	// 4. A watch, while another kubectl (not traced) changes a ConfigMap.
	// It selects a label nothing later in the story has: kubewire does not
	// see kubectl hang up until the next event fails to reach it, and
	// records that event, which kubectl never got.
	watchConfigMaps(t, x, ns)

	// 5. Refusals. A ServiceAccount with no rights, whose token kubectl
	// sends itself: it goes upstream as the client's own credential.
	must("", "create", "serviceaccount", "intern", "-n", ns)
	token := strings.TrimSpace(must("", "create", "token", "intern", "-n", ns))
	refused("Forbidden", "--token="+token, "get", "pods", "-n", "shop")
	refused("Invalid value", "create", "configmap", "Not_Valid", "-n", ns)
	must("", "create", "configmap", "twice", "-n", ns)
	refused("already exists", "create", "configmap", "twice", "-n", ns)
	// kube-root-ca.crt, settings and twice: the quota is full. Quota
	// admission needs the controller-manager to have counted them first.
	must("", "create", "quota", "three-configmaps", "-n", ns, "--hard=configmaps=3")
	labtest.Eventually(t, time.Minute, func() error {
		used := mustDirect(t, "", "get", "quota", "three-configmaps", "-n", ns, "-o", "jsonpath={.status.used.configmaps}")
		if used != "3" {
			return fmt.Errorf("quota three-configmaps counts %q configmaps, want 3", used)
		}
		return nil
	})
	refused("exceeded quota", "create", "configmap", "one-too-many", "-n", ns)

	// 6. Streams, against a pod of the sample app on a KWOK node.
	if out, e, err := kubectl([]string{"KUBECTL_REMOTE_COMMAND_WEBSOCKETS=true"}, "", "exec", "-n", "shop", pod, "--", "echo", "hello"); err != nil || out != "hello\n" {
		t.Fatalf("exec: %q %v %s", out, err, e)
	}
	if out := must("", "logs", "-n", "shop", pod); !strings.Contains(out, "hello from a kwok fake container") {
		t.Fatalf("logs: %q", out)
	}
	portForwardOnce(t, x, pod)

	// 7. Clean up.
	must("", "delete", "namespace", ns, "--wait=false")

	rec := x.finish(t)
	data, err := os.ReadFile(x.record)
	if err != nil {
		t.Fatal(err)
	}
	// The file as it will be bundled reads back, and tells the story.
	bundled, err := record.ReadAll(bytes.NewReader(data), sample.Name)
	if err != nil {
		t.Fatalf("the recording does not read back: %v", err)
	}
	if err := sample.Check(bundled); err != nil {
		t.Errorf("the recording lacks part of the story:\n%v\ncalls: %q", err, verbs(rec))
	}
	secrets := append([]string{x.tr.Session.Token, token}, labSecrets(t)...)
	// The token's claims and signature alone, too.
	if parts := strings.Split(token, "."); len(parts) == 3 {
		secrets = append(secrets, parts[1], parts[2])
	}
	noSecrets(t, "the sample session", data, secrets)
	t.Logf("sample session: %d calls (%d kubewire's own), %d bytes", len(rec.Exchanges), len(rec.Exchanges)-len(clientCalls(rec)), len(data))
	if *sampleOut != "" && !t.Failed() {
		if err := os.WriteFile(*sampleOut, data, 0o644); err != nil {
			t.Fatalf("-sample-out: %v", err)
		}
	}
}

// watchConfigMaps runs kubectl get -w on ConfigMaps labelled lesson=watch in
// ns, while a ConfigMap is created, changed and deleted directly, each step
// once the last reached the trace; then stops kubectl with Ctrl-C.
func watchConfigMaps(t *testing.T, x *traced, ns string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, labtest.Lab(t).Kubectl, "get", "configmaps", "-n", ns, "-l", "lesson=watch", "-w")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.Env = x.tr.Env(os.Environ())
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitWatch(t, x.view, "configmaps", func(w *record.Exchange) bool { return w.Annotation.Namespace == ns })
	mustDirect(t, fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"watched","namespace":%q,"labels":{"lesson":"watch"}},"data":{"colour":"blue"}}`, ns),
		"create", "--validate=false", "-f", "-")
	waitEvent(t, x.view, "ADDED", "watched")
	mustDirect(t, "", "patch", "configmap", "watched", "-n", ns, "-p", `{"data":{"colour":"green"}}`)
	waitEvent(t, x.view, "MODIFIED", "watched")
	mustDirect(t, "", "delete", "configmap", "watched", "-n", ns)
	waitEvent(t, x.view, "DELETED", "watched")
	cancel()
	var exit *exec.ExitError
	if err := cmd.Wait(); err != nil && !errors.As(err, &exit) {
		t.Fatalf("kubectl get -w: %v", err)
	}
	if !strings.Contains(out.String(), "watched") {
		t.Errorf("kubectl get -w did not print the watched ConfigMap:\n%s", out.String())
	}
}

// portForwardOnce forwards a local port to port 80 of pod in shop over
// WebSocket, echoes one line through it (KWOK forwards to cat), and stops
// kubectl with Ctrl-C once both directions are in the trace.
func portForwardOnce(t *testing.T, x *traced, pod string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, labtest.Lab(t).Kubectl, "port-forward", "-n", "shop", "pod/"+pod, "--address=127.0.0.1", ":80")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.Env = append(x.tr.Env(os.Environ()), "KUBECTL_PORT_FORWARD_WEBSOCKETS=true")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	forwarding := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 80`)
	sc := bufio.NewScanner(stdout)
	port := ""
	for port == "" && sc.Scan() {
		if m := forwarding.FindStringSubmatch(sc.Text()); m != nil {
			port = m[1]
		}
	}
	if port == "" {
		t.Fatal("kubectl port-forward printed no Forwarding line")
	}
	go func() {
		for sc.Scan() { // kubectl's "Handling connection" lines
		}
	}()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	const line = "hello through port-forward\n"
	if _, err := c.Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
	if got, err := bufio.NewReader(c).ReadString('\n'); err != nil || got != line {
		t.Fatalf("echo through port-forward: %q %v", got, err)
	}
	for _, dir := range []string{"up", "down"} {
		x.view.WaitFor(t, "the line going "+dir+" on port 80", 10*time.Second, func(l record.Line) bool {
			return l.Type == record.TypeEvent && l.Event.Direction == dir && l.Event.Channel == "data :80" && string(l.Event.Body.Data()) == line
		})
	}
}
