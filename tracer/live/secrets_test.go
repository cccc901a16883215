package live

// The trust test: Secrets created the way people create them (kubectl
// apply, so the last-applied annotation holds them), then every everyday
// flow that carries a secret, through kubewire against the lab. No canary,
// raw or base64, may reach the recording, the live view at any detail
// level, replay at any level, -o json|yaml or kubewire's own messages;
// kubectl's own output still shows the user what they asked for.

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/codec"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/record/recordtest"
)

// canaries are secret values, by the flow that carries each.
type canaries map[string]string

func (c canaries) add(flow string) string {
	v := fmt.Sprintf("cnry%s%s%d", strings.ReplaceAll(flow, "-", ""), runID, time.Now().UnixNano()%1e6)
	c[flow] = v
	return v
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// absent fails for every canary found in data, raw or base64.
func (c canaries) absent(t *testing.T, where string, data []byte) {
	t.Helper()
	for flow, v := range c {
		for _, form := range []string{v, b64(v), base64.RawURLEncoding.EncodeToString([]byte(v))} {
			if bytes.Contains(data, []byte(form)) {
				t.Errorf("the %s secret reached %s", flow, where)
				break
			}
		}
	}
}

// namespace creates a namespace for the test, deleted after it, once its
// default ServiceAccount exists.
func namespace(t *testing.T, ns string) string {
	t.Helper()
	labtest.MustKubectl(t, "create", "namespace", ns)
	t.Cleanup(func() { labtest.Kubectl(t, "delete", "namespace", ns, "--wait=false") })
	labtest.MustKubectl(t, "wait", "--for=create", "serviceaccount/default", "-n", ns, "--timeout=60s")
	return ns
}

// views are the live renderer at every detail level, whole bodies shown.
type views [render.LevelBodies + 1]*bytes.Buffer

func newViews() (views, record.Sinks) {
	var v views
	var sinks record.Sinks
	for lvl := range v {
		v[lvl] = &bytes.Buffer{}
		sinks = append(sinks, render.NewLive(v[lvl], render.Options{Width: 100, Detail: render.Level(lvl), BodyLines: -1, ShowOwn: true}))
	}
	return v, sinks
}

func TestCanarySecretsStayOut(t *testing.T) {
	l := labtest.Lab(t)
	c := canaries{}
	ns := namespace(t, "canary-"+runID)
	streamNS, pod := runningPod(t)

	dir := t.TempDir()
	rec := filepath.Join(dir, "trust.jsonl")
	lines := recordtest.NewLines()
	v, sinks := newViews()
	var errOut bytes.Buffer
	tr, err := Start(context.Background(), Options{
		Kubeconfig: l.Kubeconfig, Recordings: []Recording{{Flag: "--record", Path: rec}},
		View: append(sinks, lines), Version: "test", CADir: filepath.Join(dir, "ca"), AuditLog: l.AuditLog, ErrOut: &errOut,
	}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	x := &traced{tr: tr, view: lines, record: rec}
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, e, err := x.kubectl(t, stdin, args...)
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, e)
		}
		return out
	}

	// kubectl apply, so the last-applied annotation holds the data too.
	applied, appliedData := c.add("apply-stringData"), c.add("apply-data")
	must(fmt.Sprintf(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":%q},"stringData":{"password":%q},"data":{"token":%q}}`,
		ns, applied, b64(appliedData)), "apply", "-f", "-")
	if out := must("", "get", "secrets", "-n", ns); !strings.Contains(out, "db") {
		t.Errorf("kubectl get secrets printed %q", out)
	}
	// The user asked to see it: kubectl shows it, kubewire keeps it out
	// of its own output.
	if out := must("", "get", "secret", "db", "-n", ns, "-o", "yaml"); !strings.Contains(out, b64(applied)) || !strings.Contains(out, b64(appliedData)) {
		t.Errorf("kubectl get -o yaml through kubewire should show the data to its user:\n%s", out)
	}

	// A watch (Table rows of PartialObjectMetadata, the annotation in
	// each) while the Secret is applied again with a new value.
	func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cmd := exec.CommandContext(ctx, l.Kubectl, "get", "secrets", "-n", ns, "-w")
		cmd.Env = tr.Env(os.Environ())
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); _ = cmd.Wait() }()
		watch := lines.WaitFor(t, "the secrets watch", time.Minute, func(l record.Line) bool {
			return l.Type == record.TypeExchange && l.Exchange.Annotation.Verb == "watch" && l.Exchange.Annotation.Resource == "secrets"
		}).Seq
		watched := c.add("watched")
		if _, e, err := direct(t, fmt.Sprintf(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":%q},"stringData":{"password":%q}}`, ns, watched), "apply", "-f", "-"); err != nil {
			t.Fatalf("apply: %v %s", err, e)
		}
		lines.WaitFor(t, "the watch's MODIFIED event", time.Minute, func(l record.Line) bool {
			return l.Type == record.TypeEvent && l.Seq == watch && l.Event.Type == "MODIFIED"
		})
	}()

	// Every patch type, aimed at the Secret.
	must("", "patch", "secret", "db", "-n", ns, "-p", fmt.Sprintf(`{"stringData":{"smp":%q}}`, c.add("strategic-merge-patch")))
	must("", "patch", "secret", "db", "-n", ns, "--type=merge", "-p", fmt.Sprintf(`{"data":{"merge":%q}}`, b64(c.add("merge-patch"))))
	must("", "patch", "secret", "db", "-n", ns, "--type=json", "-p", fmt.Sprintf(`[{"op":"add","path":"/data/json","value":%q}]`, b64(c.add("json-patch"))))
	must(fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: ssa\n  namespace: %s\nstringData:\n  key: %s\n", ns, c.add("server-side-apply")),
		"apply", "--server-side", "-f", "-")
	// kubectl edit: the editor swaps a value, kubectl sends the patch.
	t.Setenv("KUBE_EDITOR", fmt.Sprintf("sed -i s|%s|%s|", b64(appliedData), b64(c.add("edit"))))
	must("", "edit", "secret", "db", "-n", ns)
	t.Setenv("KUBE_EDITOR", "")

	must("", "create", "secret", "generic", "literal", "-n", ns, "--from-literal=k="+c.add("from-literal"))
	c["create-token"] = strings.TrimSpace(must("", "create", "token", "default", "-n", ns))
	// kubectl with its own --token: the client's credential goes upstream.
	tok, e, err := direct(t, "", "create", "token", "default", "-n", ns)
	if err != nil {
		t.Fatalf("create token: %v %s", err, e)
	}
	c["--token"] = strings.TrimSpace(tok)
	if _, e, err := x.kubectl(t, "", "--token="+c["--token"], "get", "secrets", "-n", ns); err == nil || !strings.Contains(e, "Forbidden") {
		t.Errorf("the default ServiceAccount should be forbidden to list secrets: %v %s", err, e)
	}

	// What is typed into exec (read, not echoed: stdout is recorded). KWOK
	// never closes piped stdin, so the exec is stopped once its stdin has
	// gone through.
	func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cmd := exec.CommandContext(ctx, l.Kubectl, "exec", "-i", "-n", streamNS, pod, "--", "sh", "-c", "read -r line; echo read ${#line} bytes")
		cmd.Env = tr.Env(os.Environ())
		cmd.Stdin = strings.NewReader(c.add("exec-stdin") + "\n")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); _ = cmd.Wait() }()
		stdin := lines.WaitFor(t, "exec's stdin", time.Minute, func(l record.Line) bool {
			return l.Type == record.TypeEvent && l.Event.Direction == "up" && l.Event.Channel == "stdin" && l.Event.Type == "data"
		}).Event.Body
		if !stdin.Omitted || stdin.Bytes != int64(len(c["exec-stdin"])+1) {
			t.Errorf("exec's stdin should be recorded by its size only: %+v", stdin)
		}
	}()

	if err := tr.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	raw, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	c.absent(t, "the recording", raw)
	for lvl, out := range v {
		c.absent(t, fmt.Sprintf("the live view at detail %d", lvl), out.Bytes())
	}
	c.absent(t, "kubewire's messages", errOut.Bytes())
	// The bodies were shown: the test did not pass on empty views.
	for _, want := range []string{"REDACTED (", `"op": "add"`, `"smp": "REDACTED (`, "MODIFIED", "↑ stdin", "not recorded"} {
		if !strings.Contains(v[render.LevelBodies].String(), want) {
			t.Errorf("the bodies view lacks %q", want)
		}
	}
	for lvl := render.LevelLine; lvl <= render.LevelBodies; lvl++ {
		var out bytes.Buffer
		f, err := os.Open(rec)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := record.NewReader(f, rec)
		if err != nil {
			t.Fatal(err)
		}
		if err := render.Replay(&out, rd, render.Options{Width: 80, Detail: lvl, BodyLines: -1, BodyFormat: "yaml", ShowOwn: true}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		c.absent(t, fmt.Sprintf("replay at detail %d", lvl), out.Bytes())
	}
	all, err := annotate.ForRecordings().ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"json", "yaml"} {
		var out bytes.Buffer
		if err := render.WriteMachine(&out, all.Exchanges, format); err != nil {
			t.Fatal(err)
		}
		c.absent(t, "replay -o "+format, out.Bytes())
	}
	// kubectl create token speaks protobuf: the token is replaced in the
	// decoded TokenRequest, which is stored whole, encoded again.
	for _, ex := range all.Exchanges {
		if ex.Annotation.Resource != "serviceaccounts" || ex.Annotation.Subresource != "token" || ex.Response == nil {
			continue
		}
		b := ex.Response.Body
		obj, err := codec.Decode(b.Data())
		if err != nil || b.Truncated || !b.Redacted {
			t.Fatalf("the TokenRequest response should be stored whole and redacted: %v %+v", err, b)
		}
		if tr, ok := obj.(*authenticationv1.TokenRequest); !ok || !strings.HasPrefix(tr.Status.Token, "REDACTED (") || tr.Status.ExpirationTimestamp.IsZero() {
			t.Errorf("TokenRequest %+v: want its token marked and the rest kept", obj)
		}
	}
	if all.Header.Secrets != record.SecretsRedacted || all.Header.Stdin != record.StdinOmitted {
		t.Errorf("the header should say secrets were redacted and stdin omitted: %+v", all.Header)
	}

	// The same flows with --show-secrets put the values in: the test sees
	// what redaction hides.
	y := trace(t, true)
	if _, e, err := y.kubectl(t, "", "get", "secrets", "-n", ns); err != nil {
		t.Fatalf("%v %s", err, e)
	}
	y.kubectl(t, "", "patch", "secret", "db", "-n", ns, "-p", `{"stringData":{"smp":"`+c["strategic-merge-patch"]+`"}}`)
	y.finish(t)
	shown, _ := os.ReadFile(y.record)
	for _, flow := range []string{"watched", "strategic-merge-patch"} {
		if !bytes.Contains(shown, []byte(b64(c[flow]))) && !bytes.Contains(shown, []byte(c[flow])) {
			t.Errorf("with --show-secrets the %s secret should be recorded", flow)
		}
	}
}

// The command line is redacted in the recording's header and in kubewire's
// messages; kubectl still gets it whole.
func TestCommandLineIsRedacted(t *testing.T) {
	l := labtest.Lab(t)
	c := canaries{}
	ns := namespace(t, "canary-cmd-"+runID)
	tok := strings.TrimSpace(labtest.MustKubectl(t, "create", "token", "default", "-n", ns))
	c["--token"] = tok
	literal := c.add("from-literal")
	for _, command := range [][]string{
		{l.Kubectl, "create", "secret", "generic", "cmd", "-n", ns, "--from-literal=k=" + literal},
		{l.Kubectl, "--token=" + tok, "get", "pods", "-n", ns},
	} {
		rec := filepath.Join(t.TempDir(), "s.jsonl")
		v, sinks := newViews()
		var out, errOut bytes.Buffer
		_, err := Run(context.Background(), Options{Kubeconfig: l.Kubeconfig, Recordings: []Recording{{Flag: "--record", Path: rec}},
			View: sinks, Version: "test", CADir: filepath.Join(t.TempDir(), "ca"), ErrOut: &errOut}, command, nil, &out, &errOut)
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		raw, _ := os.ReadFile(rec)
		c.absent(t, "the recording", raw)
		c.absent(t, "kubewire's output", errOut.Bytes())
		for lvl, o := range v {
			c.absent(t, fmt.Sprintf("the live view at detail %d", lvl), o.Bytes())
		}
		r, err := annotate.ForRecordings().ReadFile(rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(r.Header.Source.Command, " "); !strings.Contains(got, "REDACTED (") || len(r.Header.Source.Command) != len(command) {
			t.Errorf("header command %q should keep its shape with the value marked", got)
		}
	}
	if out := labtest.MustKubectl(t, "get", "secret", "cmd", "-n", ns, "-o", "jsonpath={.data.k}"); out != b64(literal) {
		t.Errorf("kubectl should have created the secret with the real value, got %q", out)
	}
}
