package live

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/lab"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/record"
)

// runningPod starts a Deployment on the lab's KWOK nodes and returns a
// Running pod's namespace and name.
func runningPod(t *testing.T) (string, string) {
	t.Helper()
	ns := namespace(t, fmt.Sprintf("live-streams-%d", time.Now().UnixNano()%1e6))
	labtest.MustKubectl(t, "create", "deployment", "web", "-n", ns, "--image=nginx", "--port=80")
	var pod string
	labtest.Eventually(t, 90*time.Second, func() error {
		out := labtest.Kubectl(t, "get", "pods", "-n", ns, "-l", "app=web", "--field-selector=status.phase=Running", "-o", "name").Stdout
		if pod = strings.TrimPrefix(strings.TrimSpace(out), "pod/"); pod == "" || strings.Contains(pod, "\n") {
			return fmt.Errorf("no single Running pod yet: %q", out)
		}
		return nil
	})
	return ns, pod
}

// exec, logs and port-forward go through kubewire, over WebSocket and over
// SPDY, and their streams are recorded.
func TestStreamsThroughKubewire(t *testing.T) {
	ns, pod := runningPod(t)
	for _, ws := range []string{"true", "false"} {
		proto := map[string]string{"true": "websocket", "false": "spdy"}[ws]
		t.Run("exec/"+proto, func(t *testing.T) {
			t.Setenv("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", ws)
			x := trace(t, false)
			out, e, err := x.kubectl(t, "", "exec", "-n", ns, pod, "--", "echo", "hello", "through", "kubewire")
			if err != nil || strings.TrimSpace(out) != "hello through kubewire" {
				t.Fatalf("exec through kubewire: %q %v %s", out, err, e)
			}
			got := upgraded(t, x.finish(t), "exec", proto)
			auditJoined(t, got)
			// The frames are decoded into channels, whichever the protocol.
			down := map[string]string{}
			for _, ev := range got.Events {
				if ev.Direction == "down" && ev.Type == "data" {
					down[ev.Channel] += string(ev.Body.Data())
				}
			}
			if !strings.Contains(down["stdout"], "hello through kubewire") {
				t.Errorf("the exec output is not on the recorded stdout channel: %q", down)
			}
			if !strings.Contains(down["error"], `"status":"Success"`) {
				t.Errorf("the exec's Success status is not on the recorded error channel: %q", down)
			}
		})
		t.Run("attach/"+proto, func(t *testing.T) {
			t.Setenv("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", ws)
			x := trace(t, false)
			l := labtest.Lab(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, l.Kubectl, "attach", "-n", ns, pod)
			cmd.Env = x.tr.Env(os.Environ())
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); _ = cmd.Wait() }()
			lines := make(chan string, 64)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			// KWOK follows the lab's attach log from its end once the
			// stream is set up, which nothing outside it signals: append
			// numbered lines until one comes through.
			want := regexp.MustCompile(`^attached through kubewire \(` + proto + ` \d+\)$`)
			var got string
			for i := 0; got == "" && ctx.Err() == nil; i++ {
				appendLine(t, lab.AttachLog(l.Dir), fmt.Sprintf("attached through kubewire (%s %d)", proto, i))
				select {
				case line, ok := <-lines:
					if !ok {
						t.Fatalf("kubectl attach through kubewire ended before any output: %v", cmd.Wait())
					}
					if !want.MatchString(line) {
						t.Fatalf("kubectl attach through kubewire printed %q", line)
					}
					got = line
				case <-time.After(time.Second):
				case <-ctx.Done():
				}
			}
			if got == "" {
				t.Fatal("kubectl attach through kubewire printed nothing in a minute")
			}
			x.view.WaitFor(t, "the attached line in a recorded frame", 10*time.Second, func(l record.Line) bool {
				return l.Type == record.TypeEvent && l.Event.Direction == "down" && l.Event.Channel == "stdout" && strings.Contains(string(l.Event.Body.Data()), got)
			})
			cancel()
			_ = cmd.Wait()
			auditJoined(t, upgraded(t, x.finish(t), "attach", proto))
		})
		t.Run("port-forward/"+proto, func(t *testing.T) {
			t.Setenv("KUBECTL_PORT_FORWARD_WEBSOCKETS", ws)
			x := trace(t, false)
			l := labtest.Lab(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, l.Kubectl, "port-forward", "-n", ns, "pod/"+pod, "--address=127.0.0.1", ":80")
			cmd.Env = x.tr.Env(os.Environ())
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); _ = cmd.Wait() }()
			re := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 80`)
			sc := bufio.NewScanner(stdout)
			port := ""
			for sc.Scan() {
				if m := re.FindStringSubmatch(sc.Text()); m != nil {
					port = m[1]
					break
				}
			}
			if port == "" {
				t.Fatal("kubectl port-forward through kubewire printed no Forwarding line")
			}
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := c.Write([]byte("ping through kubewire\n")); err != nil {
				t.Fatal(err)
			}
			got, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || got != "ping through kubewire\n" {
				t.Fatalf("echo through port-forward: %q %v", got, err)
			}
			x.view.WaitFor(t, "port-forward upgrade", 10*time.Second, func(l record.Line) bool {
				return l.Type == record.TypeExchange && l.Exchange.Annotation.Subresource == "portforward" &&
					l.Exchange.Response != nil && l.Exchange.Response.Status == 101 && l.Exchange.Annotation.Upgrade == proto
			})
			// Over SPDY, or SPDY tunnelled in WebSocket messages, the
			// bytes each way are on the data stream of port 80.
			for _, dir := range []string{"up", "down"} {
				x.view.WaitFor(t, dir+" bytes on the data stream of port 80", 10*time.Second, func(l record.Line) bool {
					return l.Type == record.TypeEvent && l.Event.Direction == dir && l.Event.Channel == "data :80" &&
						string(l.Event.Body.Data()) == "ping through kubewire\n"
				})
			}
			c.Close()
			cancel()
			_ = cmd.Wait()
			auditJoined(t, upgraded(t, x.finish(t), "portforward", proto))
		})
	}
	t.Run("logs -f", func(t *testing.T) {
		x := trace(t, false)
		l := labtest.Lab(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, l.Kubectl, "logs", "-f", "-n", ns, pod)
		cmd.Env = x.tr.Env(os.Environ())
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); _ = cmd.Wait() }()
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || !strings.Contains(line, "hello from a kwok fake container") {
			t.Fatalf("logs -f through kubewire: %q %v", line, err)
		}
		x.view.WaitFor(t, "a log chunk event", 10*time.Second, func(l record.Line) bool {
			return l.Type == record.TypeEvent && strings.Contains(l.Event.Body.Text, "hello from a kwok fake container")
		})
	})
}

// auditJoined checks that an upgraded call (whose 101 carries no Audit-Id)
// is named by the Audit-Id kubewire sent, that the API server's audit log
// holds it under that ID, and that authorization is then observed.
func auditJoined(t *testing.T, ex *record.Exchange) {
	t.Helper()
	sig, a := ex.Annotation.Signals, ex.Annotation.Auth
	if sig == nil || sig.AuditID == "" || sig.AuditID != ex.Request.Upstream.Headers.Get("Audit-Id") {
		t.Fatalf("the audit ID should be the one kubewire sent: %+v", sig)
	}
	if a == nil || a.Audit == nil || a.Audit.AuditID != sig.AuditID || a.Audit.Code != 101 {
		t.Fatalf("the lab's audit log should hold %s: %+v", sig.AuditID, a)
	}
	for _, st := range a.Stages {
		if st.Name == record.StageAuthorization && (st.Status != record.Passed || st.Inferred) {
			t.Errorf("authorization should be observed once the audit event joined: %+v", st)
		}
	}
}

// upgraded returns the exchange of rec that upgraded subresource to proto
// (websocket or spdy).
func upgraded(t *testing.T, rec *record.Recording, subresource, proto string) *record.Exchange {
	t.Helper()
	for _, ex := range rec.Exchanges {
		if ex.Annotation.Subresource == subresource && ex.Response != nil && ex.Response.Status == 101 && ex.Annotation.Upgrade == proto {
			return ex
		}
	}
	t.Fatalf("no %s %s upgrade in the recording: %q", proto, subresource, verbs(rec))
	return nil
}

// appendLine appends text to a CRI-format log file that KWOK follows.
func appendLine(t *testing.T, file, text string) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := time.Now().UTC().Format(time.RFC3339Nano) + " stdout F " + text + "\n"
	if _, err := f.WriteString(line); err != nil {
		t.Fatal(err)
	}
}
