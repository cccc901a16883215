package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// path is one way to the API server, with the client the load generator
// uses on it: client-go's transport built from a kubeconfig or a
// rest.Config, as kubectl builds its own.
type path struct {
	name string
	// base is the URL requests go to: the API server's own URL (direct,
	// and kubewire, which kubectl reaches with proxy-url), or the proxy's.
	base   string
	client *http.Client
	// proc is the proxy's process (nil for direct).
	proc *proc
	// kubeconfig is what kubectl uses on this path ("" when none fits).
	kubeconfig string
	// recording is kubewire's --record file.
	recording string
}

// clientFor builds the load generator's client for cfg, without a
// timeout (watches and lists of 5,000 objects take their time).
func clientFor(cfg *rest.Config) (*http.Client, error) {
	// HTTPClientFor has no client-side rate limit (that is RESTClient's):
	// the load generator asks as fast as the path answers.
	return rest.HTTPClientFor(cfg)
}

func (h *harness) directPath() (*path, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", h.lab.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load the lab's kubeconfig: %w", err)
	}
	cfg.Proxy = nil
	hc, err := clientFor(cfg)
	if err != nil {
		return nil, err
	}
	return &path{name: Direct, base: h.lab.Server, client: hc, kubeconfig: h.lab.Kubeconfig}, nil
}

// startKubewire runs `kubewire proxy --record` on a free loopback port,
// its live view going to a file, and returns the path through it: the
// session kubeconfig it wrote (proxy-url, kubewire's CA, the placeholder
// token), loaded as kubectl loads it.
func (h *harness) startKubewire(ctx context.Context, tag string) (*path, error) {
	dir := filepath.Join(h.work, "kubewire-"+tag)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	rec := filepath.Join(dir, "recording.jsonl")
	cmd := exec.Command(h.kubewire, "proxy", "--kubeconfig", h.lab.Kubeconfig, "--record", rec, "--listen", "127.0.0.1:0")
	cmd.Env = cleanEnv()
	logPath := filepath.Join(dir, "stderr.log")
	p, err := h.ps.start("kubewire proxy", cmd, logPath, filepath.Join(dir, "live-view.txt"))
	if err != nil {
		return nil, err
	}
	m, err := p.waitLog(ctx, logPath, regexp.MustCompile(`export KUBECONFIG=(\S+)`), time.Minute)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", m[1])
	if err != nil {
		return nil, fmt.Errorf("load kubewire's session kubeconfig: %w", err)
	}
	hc, err := clientFor(cfg)
	if err != nil {
		return nil, err
	}
	// The session kubeconfig is removed when the proxy stops: keep a copy
	// for kubectl, which reads it on every run.
	kc := filepath.Join(dir, "session.kubeconfig")
	if data, err := os.ReadFile(m[1]); err != nil {
		return nil, err
	} else if err := os.WriteFile(kc, data, 0o600); err != nil {
		return nil, err
	}
	return &path{name: Kubewire, base: h.lab.Server, client: hc, proc: p, kubeconfig: kc, recording: rec}, nil
}

// startKubectlProxy runs the lab's `kubectl proxy` on a free loopback port
// (plain HTTP, the lab's admin credentials).
func (h *harness) startKubectlProxy(ctx context.Context) (*path, error) {
	cmd := exec.Command(h.lab.Kubectl, "--kubeconfig", h.lab.Kubeconfig, "proxy", "--address", "127.0.0.1", "--port", "0")
	cmd.Env = cleanEnv()
	logPath := filepath.Join(h.work, "kubectl-proxy.log")
	p, err := h.ps.start("kubectl proxy", cmd, logPath, "")
	if err != nil {
		return nil, err
	}
	m, err := p.waitLog(ctx, logPath, regexp.MustCompile(`Starting to serve on 127\.0\.0\.1:(\d+)`), time.Minute)
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + m[1]
	hc, err := clientFor(&rest.Config{Host: base})
	if err != nil {
		return nil, err
	}
	return &path{name: KubectlProxy, base: base, client: hc, proc: p}, nil
}

// startMitmproxy runs mitmdump as a reverse proxy to the API server on a
// free loopback port, presenting the lab's admin certificate upstream and
// verifying the server with the lab's CA; the client trusts mitmproxy's
// CA, made fresh in the work directory. mitmdump prints one line per
// flow (its default), to a file. stream lets bodies through as they come
// (stream_large_bodies=1): watches need it; without it mitmproxy holds a
// whole response before sending it on, as it does by default.
func (h *harness) startMitmproxy(ctx context.Context, tag string, stream bool) (*path, error) {
	exe, err := h.mitmdump(ctx)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(h.work, "mitmproxy-"+tag)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	pki := filepath.Join(h.lab.Dir, "pki")
	var pem []byte
	for _, f := range []string{"admin.crt", "admin.key"} {
		b, err := os.ReadFile(filepath.Join(pki, f))
		if err != nil {
			return nil, fmt.Errorf("the lab's admin certificate: %w", err)
		}
		pem = append(pem, b...)
	}
	clientPEM := filepath.Join(dir, "client.pem")
	if err := os.WriteFile(clientPEM, pem, 0o600); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"--mode", "reverse:" + h.lab.Server, "--listen-host", "127.0.0.1", "--listen-port", strconv.Itoa(port),
		"--set", "confdir=" + dir, "--set", "client_certs=" + clientPEM,
		"--set", "ssl_verify_upstream_trusted_ca=" + filepath.Join(pki, "ca.crt")}
	if stream {
		args = append(args, "--set", "stream_large_bodies=1")
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = cleanEnv()
	logPath := filepath.Join(dir, "mitmdump.log")
	p, err := h.ps.start("mitmdump", cmd, logPath, "")
	if err != nil {
		return nil, err
	}
	if err := waitPort(ctx, p, port, time.Minute); err != nil {
		return nil, err
	}
	base := "https://127.0.0.1:" + strconv.Itoa(port)
	hc, err := clientFor(&rest.Config{Host: base, TLSClientConfig: rest.TLSClientConfig{CAFile: filepath.Join(dir, "mitmproxy-ca-cert.pem")}})
	if err != nil {
		return nil, err
	}
	return &path{name: Mitmproxy, base: base, client: hc, proc: p}, nil
}

// mitmdump finds mitmdump, installing Debian's mitmproxy package when it
// is missing and the harness runs as root on a system with apt-get.
func (h *harness) mitmdump(ctx context.Context) (string, error) {
	if exe, err := exec.LookPath("mitmdump"); err == nil {
		return exe, nil
	}
	hint := "install mitmproxy (Debian/Ubuntu: sudo apt-get install -y mitmproxy; elsewhere: pipx install mitmproxy), or leave it out with -paths direct,kubewire,kubectl-proxy"
	apt, err := exec.LookPath("apt-get")
	if err != nil || runtime.GOOS != "linux" || os.Geteuid() != 0 {
		return "", fmt.Errorf("mitmdump is not on PATH: %s", hint)
	}
	h.logf("mitmdump is missing: apt-get install -y mitmproxy (log: %s)", filepath.Join(h.work, "apt-get.log"))
	logf, err := os.Create(filepath.Join(h.work, "apt-get.log"))
	if err != nil {
		return "", err
	}
	defer logf.Close()
	for _, args := range [][]string{{"update"}, {"install", "-y", "mitmproxy"}} {
		cmd := exec.CommandContext(ctx, apt, args...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = append(cleanEnv(), "DEBIAN_FRONTEND=noninteractive")
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("apt-get %s: %v (see %s); %s", strings.Join(args, " "), err, logf.Name(), hint)
		}
	}
	return exec.LookPath("mitmdump")
}

// freePort picks a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitPort waits until p accepts connections on port.
func waitPort(ctx context.Context, p *proc, port int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited (%v) before it listened:\n%s", p.name, p.err, tail(p.log, 15))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening on 127.0.0.1:%d after %s:\n%s", p.name, port, d, tail(p.log, 15))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
