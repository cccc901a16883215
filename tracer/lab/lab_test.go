package lab_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/lab"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
)

func TestMain(m *testing.M) { labtest.Main(m) }

func TestNamespaces(t *testing.T) {
	out := labtest.MustKubectl(t, "get", "ns", "-o", "name")
	for _, ns := range []string{"default", "demo", "kube-system"} {
		if !strings.Contains(out, "namespace/"+ns+"\n") {
			t.Errorf("kubectl get ns lists no %s:\n%s", ns, out)
		}
	}
}

// The sample app is up when the lab is: two Running pods behind a Service
// whose EndpointSlice lists them.
func TestSampleApp(t *testing.T) {
	pods := labtest.MustKubectl(t, "get", "pods", "-n", "shop", "-l", "app=frontend",
		"-o", "jsonpath={range .items[*]}{.status.phase} {.status.podIP}{\"\\n\"}{end}")
	if running := regexp.MustCompile(`(?m)^Running 10\.244\.\d+\.\d+$`).FindAllString(pods, -1); len(running) != 2 {
		t.Fatalf("shop/frontend pods, want 2 Running with an IP:\n%s", pods)
	}
	labtest.Eventually(t, time.Minute, func() error {
		eps := labtest.Kubectl(t, "get", "endpointslices", "-n", "shop", "-l", "kubernetes.io/service-name=frontend",
			"-o", "jsonpath={.items[*].endpoints[*].addresses[0]}").Stdout
		if n := len(strings.Fields(eps)); n != 2 {
			return fmt.Errorf("the frontend Service has %d endpoints (%q), want 2", n, eps)
		}
		return nil
	})
}

func TestVersionsMatch(t *testing.T) {
	l := labtest.Lab(t)
	var v struct {
		Client struct{ GitVersion string } `json:"clientVersion"`
		Server struct{ GitVersion string } `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(labtest.MustKubectl(t, "version", "-o", "json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Client.GitVersion != l.Version || v.Server.GitVersion != l.Version {
		t.Errorf("kubectl %s, server %s; want both %s", v.Client.GitVersion, v.Server.GitVersion, l.Version)
	}
}

func TestAliceIsForbidden(t *testing.T) {
	r := labtest.Kubectl(t, "--context", "alice", "get", "pods", "-n", "demo")
	if r.ExitCode() != 1 {
		t.Fatalf("alice listed pods in demo (exit %d): %s%s", r.ExitCode(), r.Stdout, r.Stderr)
	}
	want := `pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "demo"`
	if !strings.Contains(r.Stderr, want) {
		t.Errorf("stderr = %q; want it to contain %q", r.Stderr, want)
	}
}

func TestBobReadsDemoOnly(t *testing.T) {
	if r := labtest.Kubectl(t, "--context", "bob", "get", "pods", "-n", "demo"); r.Err != nil {
		t.Errorf("bob cannot list pods in demo: %v: %s", r.Err, r.Stderr)
	}
	r := labtest.Kubectl(t, "--context", "bob", "get", "pods", "-n", "default")
	if !strings.Contains(r.Stderr, `User "bob" cannot list resource "pods"`) {
		t.Errorf("bob in default: exit %d, stderr %q; want forbidden", r.ExitCode(), r.Stderr)
	}
	r = labtest.Kubectl(t, "--context", "bob", "delete", "rolebinding", "bob-view", "-n", "demo")
	if !strings.Contains(r.Stderr, "forbidden") {
		t.Errorf("bob deleting in demo: exit %d, stderr %q; want forbidden", r.ExitCode(), r.Stderr)
	}
}

// auditEvent is the part of an audit.k8s.io/v1 Event the tests read.
type auditEvent struct {
	AuditID string `json:"auditID"`
	Stage   string `json:"stage"`
	Verb    string `json:"verb"`
	User    struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef struct {
		Resource  string `json:"resource"`
		Namespace string `json:"namespace"`
	} `json:"objectRef"`
	ResponseStatus struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	Annotations map[string]string `json:"annotations"`
}

func readAudit(path string) ([]auditEvent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var evs []auditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e auditEvent
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			evs = append(evs, e)
		}
	}
	return evs, sc.Err()
}

func TestAuditLogHoldsRequests(t *testing.T) {
	l := labtest.Lab(t)
	labtest.MustKubectl(t, "get", "ns")
	labtest.Kubectl(t, "--context", "alice", "get", "pods", "-n", "demo")
	labtest.Eventually(t, 10*time.Second, func() error {
		evs, err := readAudit(l.AuditLog)
		if err != nil {
			return err
		}
		var admin, alice bool
		for _, e := range evs {
			if e.Stage == "RequestReceived" {
				return fmt.Errorf("audit log has a RequestReceived event; the policy omits that stage")
			}
			if e.User.Username == "system:apiserver" {
				return fmt.Errorf("audit log has the API server's own requests; the policy drops them")
			}
			if e.User.Username == "kubewire-admin" && e.Verb == "list" && e.ObjectRef.Resource == "namespaces" && e.ResponseStatus.Code == 200 {
				admin = true
			}
			if e.User.Username == "alice" && e.Verb == "list" && e.ObjectRef.Resource == "pods" && e.ObjectRef.Namespace == "demo" &&
				e.ResponseStatus.Code == 403 && e.Annotations["authorization.k8s.io/decision"] == "forbid" {
				alice = true
			}
		}
		if !admin || !alice {
			return fmt.Errorf("%d events; admin list namespaces found: %v, alice's forbidden list pods in demo found: %v", len(evs), admin, alice)
		}
		return nil
	})
}

func TestServiceAccountsAndNamespaceDeletion(t *testing.T) {
	labtest.MustKubectl(t, "create", "namespace", "lab-test-ns")
	// The controller-manager creates the default ServiceAccount, and
	// with it a token can be issued.
	labtest.MustKubectl(t, "wait", "--for=create", "serviceaccount/default", "-n", "lab-test-ns", "--timeout=60s")
	tok := labtest.MustKubectl(t, "create", "token", "default", "-n", "lab-test-ns")
	if strings.Count(strings.TrimSpace(tok), ".") != 2 {
		t.Errorf("kubectl create token printed %q; want a JWT", tok)
	}
	// The namespace controller empties and removes a deleted namespace.
	labtest.MustKubectl(t, "delete", "namespace", "lab-test-ns", "--wait=true", "--timeout=90s")
	r := labtest.Kubectl(t, "get", "namespace", "lab-test-ns")
	if !strings.Contains(r.Stderr, "NotFound") {
		t.Errorf("namespace still there after delete: %s%s", r.Stdout, r.Stderr)
	}
}

// TestDeploymentOnKwokNodes covers the controller-manager (ReplicaSet,
// Pods), the scheduler (binding) and KWOK (nodes, Pod status, logs, exec,
// port-forward).
func TestDeploymentOnKwokNodes(t *testing.T) {
	l := labtest.Lab(t)
	if l.Nodes == 0 {
		t.Fatal("the test lab has no KWOK nodes")
	}
	ns := "lab-test-deploy"
	labtest.MustKubectl(t, "create", "namespace", ns)
	t.Cleanup(func() { labtest.Kubectl(t, "delete", "namespace", ns, "--wait=false") })
	labtest.MustKubectl(t, "wait", "--for=create", "serviceaccount/default", "-n", ns, "--timeout=60s")
	labtest.MustKubectl(t, "create", "deployment", "web", "-n", ns, "--image=nginx", "--replicas=3", "--port=80")
	labtest.Eventually(t, 60*time.Second, func() error {
		out := labtest.MustKubectl(t, "get", "pods", "-n", ns, "-l", "app=web", "-o", `jsonpath={range .items[*]}{.status.phase} {.spec.nodeName}{"\n"}{end}`)
		lines := strings.Fields(strings.ReplaceAll(out, "\n", " "))
		running := strings.Count(out, "Running lab-node-")
		if running != 3 {
			return fmt.Errorf("%d of 3 pods Running on lab nodes: %q", running, lines)
		}
		return nil
	})
	pod := strings.TrimPrefix(strings.TrimSpace(labtest.MustKubectl(t, "get", "pods", "-n", ns, "-l", "app=web", "-o", "name", "--sort-by=.metadata.name")), "pod/")
	pod = strings.SplitN(pod, "\n", 2)[0]
	pod = strings.TrimPrefix(pod, "pod/")

	t.Run("logs", func(t *testing.T) {
		out := labtest.MustKubectl(t, "logs", "-n", ns, pod)
		if !strings.Contains(out, "hello from a kwok fake container") {
			t.Errorf("kubectl logs = %q", out)
		}
	})
	for _, ws := range []string{"true", "false"} {
		t.Run("exec/websockets="+ws, func(t *testing.T) {
			t.Setenv("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", ws)
			out := labtest.MustKubectl(t, "exec", "-n", ns, pod, "--", "echo", "hello", "from", "exec")
			if strings.TrimSpace(out) != "hello from exec" {
				t.Errorf("kubectl exec echo printed %q", out)
			}
		})
		t.Run("port-forward/websockets="+ws, func(t *testing.T) {
			t.Setenv("KUBECTL_PORT_FORWARD_WEBSOCKETS", ws)
			portForwardEcho(t, l, ns, pod)
		})
	}
}

// portForwardEcho forwards a local port to the pod's port 80, which the
// lab's KWOK connects to cat, and checks that what is sent comes back.
func portForwardEcho(t *testing.T, l *lab.Lab, ns, pod string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := l.KubectlCommand(ctx, "port-forward", "-n", ns, "pod/"+pod, "--address=127.0.0.1", ":80")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	re := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 80`)
	sc := bufio.NewScanner(stdout)
	var port string
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			port = m[1]
			break
		}
	}
	if port == "" {
		t.Fatal("kubectl port-forward printed no Forwarding line")
	}
	go io.Copy(io.Discard, stdout)
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte("ping through the lab\n")); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != "ping through the lab\n" {
		t.Errorf("echo through port-forward returned %q, %v", got, err)
	}
}

func TestSecondUpSaysAlreadyRunning(t *testing.T) {
	l := labtest.Lab(t)
	again, err := lab.Up(context.Background(), lab.Config{Dir: l.Dir, Ports: l.Ports})
	if err != nil {
		t.Fatal(err)
	}
	if !again.AlreadyRunning || again.Server != l.Server {
		t.Errorf("second Up: AlreadyRunning=%v server %s; want true, %s", again.AlreadyRunning, again.Server, l.Server)
	}
	if fmt.Sprint(again.Processes) != fmt.Sprint(l.Processes) {
		t.Errorf("second Up changed the processes: %v, was %v", again.Processes, l.Processes)
	}
}

func TestPortInUse(t *testing.T) {
	l := labtest.Lab(t)
	ports, err := lab.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ports.Scheduler = busy.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	bins := &lab.Binaries{Version: l.Version, Dir: l.BinDir, Lab: filepath.Join(l.BinDir, "kubewire-lab"), Kubectl: l.Kubectl}
	_, err = lab.Up(context.Background(), lab.Config{Dir: dir, Ports: ports, Binaries: bins, Attached: true})
	want := fmt.Sprintf("port %d (lab scheduler) on 127.0.0.1 is in use", ports.Scheduler)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Up with a busy port: %v; want an error containing %q", err, want)
	}
	if st, err := lab.GetStatus(context.Background(), dir); err != nil || st.Lab != nil {
		t.Errorf("Up with a busy port left a lab behind: %+v, %v", st, err)
	}
}

// TestDownStopsOnlyItsOwn starts a second, smaller lab (no nodes), stops it
// and checks every process is gone; a state file naming a process that is
// not the lab's (a reused PID) must leave that process alone.
func TestDownStopsOnlyItsOwn(t *testing.T) {
	l := labtest.Lab(t)
	ports, err := lab.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bins := &lab.Binaries{Version: l.Version, Dir: l.BinDir, Lab: filepath.Join(l.BinDir, "kubewire-lab"), Kubectl: l.Kubectl}
	small, err := lab.Up(context.Background(), lab.Config{Dir: dir, Ports: ports, Binaries: bins, Attached: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(small.Processes) != 3 {
		t.Errorf("a lab without KWOK runs %d processes; want 3 (apiserver, controller-manager, scheduler)", len(small.Processes))
	}
	if err := lab.Down(dir, false); err != nil {
		t.Fatal(err)
	}
	for _, p := range small.Processes {
		if running(p.PID) {
			t.Errorf("%s (pid %d) still runs after Down", p.Name, p.PID)
		}
	}
	if !exists(filepath.Join(dir, "pki", "ca.crt")) {
		t.Error("Down without wipe deleted the lab's PKI")
	}

	// A stranger with a PID in the state file survives Down.
	stranger := exec.Command("sleep", "60")
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stranger.Process.Kill(); stranger.Wait() }()
	st := map[string]any{"version": l.Version, "processes": []map[string]any{{"name": "apiserver", "pid": stranger.Process.Pid, "exe": bins.Lab}}}
	data, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(dir, "lab.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := lab.Down(dir, true); err != nil {
		t.Fatal(err)
	}
	if !running(stranger.Process.Pid) {
		t.Error("Down killed a process that was not the lab's")
	}
	if exists(dir) {
		t.Error("Down --wipe left the lab directory")
	}
}

func TestEnvPointsAShellAtTheLab(t *testing.T) {
	l := labtest.Lab(t)
	script := l.Env() + `command -v kubectl; kubectl config get-contexts -o name; kubectl config current-context; echo "$KUBEWIRE_AUDIT_LOG"`
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, out)
	}
	want := strings.Join([]string{filepath.Join(l.BinDir, "kubectl"), "admin", "alice", "bob", "admin", l.AuditLog}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("shell after lab env printed\n%s\nwant\n%s", out, want)
	}
}

func TestFindSource(t *testing.T) {
	dir, err := lab.FindSource()
	if err != nil {
		t.Fatal(err)
	}
	if !exists(filepath.Join(dir, "main.go")) {
		t.Errorf("FindSource = %s, which has no main.go", dir)
	}
	t.Setenv(lab.SourceEnv, t.TempDir())
	if _, err := lab.FindSource(); err == nil || !strings.Contains(err.Error(), lab.SourceEnv) {
		t.Errorf("FindSource with a wrong %s: %v; want an error naming it", lab.SourceEnv, err)
	}
}

// running reports whether pid is a live process (not a zombie).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && len(stat) > i+2 && stat[i+2] != 'Z' && stat[i+2] != 'X'
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
