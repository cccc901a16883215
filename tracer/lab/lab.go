// Package lab builds, starts and stops the kubewire lab: a real Kubernetes
// control plane (kube-apiserver with an embedded etcd, kube-controller-manager,
// kube-scheduler) and KWOK fake nodes, each its own process on 127.0.0.1,
// with a generated PKI, learner users and an audit log. The lab is what
// learners trace without a cluster of their own, and the fixture of every
// end-to-end test (see package labtest).
package lab

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubewire/kubewire/tracer/atomicfile"
)

// Ports are the loopback ports a lab listens on.
type Ports struct {
	APIServer         int `json:"apiserver"`
	EtcdClient        int `json:"etcdClient"`
	EtcdPeer          int `json:"etcdPeer"`
	ControllerManager int `json:"controllerManager"`
	Scheduler         int `json:"scheduler"`
	// Kwok serves the fake kubelets' API (logs, exec, port-forward).
	Kwok int `json:"kwok"`
}

// DefaultPorts are the user's lab's ports, chosen away from the usual
// Kubernetes ports so a real local cluster can run alongside.
func DefaultPorts() Ports {
	return Ports{APIServer: 16443, EtcdClient: 16379, EtcdPeer: 16380, ControllerManager: 16257, Scheduler: 16259, Kwok: 16250}
}

// FreePorts picks free ephemeral loopback ports, for isolated labs in tests.
func FreePorts() (Ports, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ps [6]int
	for i := range ps {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return Ports{}, fmt.Errorf("pick a free port: %w", err)
		}
		ls = append(ls, l)
		ps[i] = l.Addr().(*net.TCPAddr).Port
	}
	return Ports{APIServer: ps[0], EtcdClient: ps[1], EtcdPeer: ps[2], ControllerManager: ps[3], Scheduler: ps[4], Kwok: ps[5]}, nil
}

func (p Ports) list() []namedPort {
	return []namedPort{
		{"apiserver", p.APIServer}, {"etcd client", p.EtcdClient}, {"etcd peer", p.EtcdPeer},
		{"controller-manager", p.ControllerManager}, {"scheduler", p.Scheduler}, {"kwok", p.Kwok},
	}
}

type namedPort struct {
	name string
	port int
}

// Config describes one lab.
type Config struct {
	// Dir holds the lab's state: PKI, kubeconfigs, etcd data, logs, audit log.
	Dir string
	// Ports are the loopback ports to listen on.
	Ports Ports
	// Binaries are the built programs (see Build). With Binaries.Kwok empty
	// the lab has no nodes.
	Binaries *Binaries
	// Attached ties the lab's processes to the calling process: they get
	// SIGKILL when it dies. For tests; a CLI lab outlives the command.
	Attached bool
	// Nodes is the number of KWOK fake nodes; 0 means 2.
	Nodes int
	// Progress receives a line per start-up step; nil discards them.
	Progress io.Writer
}

// Lab is a running lab.
type Lab struct {
	// Dir is the lab's state directory.
	Dir string
	// Kubeconfig has contexts admin (current), alice and bob.
	Kubeconfig string
	// AuditLog is the API server's audit log (JSON Lines, Metadata level).
	AuditLog string
	// Server is the API server's URL.
	Server string
	// BinDir holds the lab's kubectl (same version as the server).
	BinDir string
	// Kubectl is the lab's kubectl.
	Kubectl string
	// Version is the Kubernetes version.
	Version string
	// Ports are the ports in use.
	Ports Ports
	// Processes are the lab's processes, in start order.
	Processes []Process
	// Nodes is the number of fake nodes (0 without KWOK).
	Nodes int
	// AlreadyRunning is true when Up found the lab running and started
	// nothing.
	AlreadyRunning bool
	// Timings measures the start-up; zero when AlreadyRunning.
	Timings Timings
}

// Timings measure a lab's start-up from the first process started.
type Timings struct {
	// Ready is when the API server's /readyz said ok.
	Ready time.Duration
	// Seeded is when namespace demo, its RBAC and its default
	// ServiceAccount existed.
	Seeded time.Duration
	// NodesReady is when every fake node was Ready (0 without KWOK).
	NodesReady time.Duration
}

// state is the lab's state file, dir/lab.json.
type state struct {
	Version   string    `json:"version"`
	Ports     Ports     `json:"ports"`
	BinDir    string    `json:"binDir"`
	Kubectl   string    `json:"kubectl"`
	Nodes     int       `json:"nodes"`
	Processes []Process `json:"processes"`
	Started   time.Time `json:"started"`
}

const stateFile = "lab.json"

// Files in a lab directory.
func kubeconfigPath(dir string) string { return filepath.Join(dir, "kubeconfig") }
func auditLogPath(dir string) string   { return filepath.Join(dir, "logs", "audit.log") }

// Up starts the lab described by c and waits until it is usable: API server
// ready, namespace demo seeded with its default ServiceAccount and, with
// KWOK, every fake node Ready. When the lab already runs it returns it with
// AlreadyRunning set. On failure it stops whatever it started.
func Up(ctx context.Context, c Config) (*Lab, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	dir, err := absDir(c.Dir)
	if err != nil {
		return nil, err
	}
	c.Dir = dir
	progress := c.Progress
	if progress == nil {
		progress = io.Discard
	}
	if st, err := readState(dir); err == nil {
		var alive, dead []string
		for _, p := range st.Processes {
			if p.alive(dir) {
				alive = append(alive, p.Name)
			} else {
				dead = append(dead, p.Name)
			}
		}
		switch {
		case len(alive) > 0 && len(dead) == 0:
			l := st.lab(dir)
			l.AlreadyRunning = true
			if err := waitReady(ctx, l, 10*time.Second); err != nil {
				return nil, fmt.Errorf("the lab in %s runs (%s) but is not ready: %w; try 'kubewire lab down' then 'up'", dir, pidString(st.Processes), err)
			}
			return l, nil
		case len(alive) > 0:
			return nil, fmt.Errorf("the lab in %s is partly running (%s up, %s gone); run 'kubewire lab down' first", dir, strings.Join(alive, ", "), strings.Join(dead, ", "))
		}
	}
	if c.Binaries == nil {
		return nil, errors.New("lab up: no binaries; build them first (kubewire lab build)")
	}
	if c.Nodes == 0 {
		c.Nodes = 2
	}
	if c.Binaries.Kwok == "" {
		c.Nodes = 0
	}
	if err := checkPorts(c.Ports); err != nil {
		return nil, err
	}
	for _, sub := range []string{"logs", "etcd", "kwok", "kube-cache"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("create lab directory: %w", err)
		}
	}
	if err := writeFiles(c); err != nil {
		return nil, err
	}
	st := &state{Version: c.Binaries.Version, Ports: c.Ports, BinDir: c.Binaries.Dir, Kubectl: c.Binaries.Kubectl, Nodes: c.Nodes, Started: time.Now()}
	l := st.lab(dir)
	started := time.Now()
	ok := false
	defer func() {
		if !ok {
			stopAll(dir, st.Processes)
			st.Processes = nil
			_ = writeState(dir, st)
		}
	}()
	env := append(os.Environ(), "KWOK_WORKDIR="+filepath.Join(dir, "kwok"))
	launch := func(name, exe string, args ...string) (<-chan struct{}, error) {
		p, done, err := start(name, exe, args, filepath.Join(dir, "logs", name+".log"), env, c.Attached)
		if err != nil {
			return nil, err
		}
		st.Processes = append(st.Processes, *p)
		l.Processes = st.Processes
		return done, writeState(dir, st)
	}

	fmt.Fprintf(progress, "lab: starting kube-apiserver %s with etcd on https://127.0.0.1:%d\n", c.Binaries.Version, c.Ports.APIServer)
	done, err := launch("apiserver", c.Binaries.Lab, apiserverArgs(c)...)
	if err != nil {
		return nil, err
	}
	if err := waitReadyOrExit(ctx, l, done, 120*time.Second); err != nil {
		return nil, fmt.Errorf("kube-apiserver: %w\n%s", err, tail(filepath.Join(dir, "logs", "apiserver.log"), 15))
	}
	l.Timings.Ready = time.Since(started)
	fmt.Fprintf(progress, "lab: API server ready after %s\n", l.Timings.Ready.Round(100*time.Millisecond))

	if _, err := launch("controller-manager", c.Binaries.Lab, controllerManagerArgs(c)...); err != nil {
		return nil, err
	}
	if _, err := launch("scheduler", c.Binaries.Lab, schedulerArgs(c)...); err != nil {
		return nil, err
	}
	if err := l.apply(ctx, seedManifest); err != nil {
		return nil, fmt.Errorf("seed namespace demo: %w", err)
	}
	// The controller-manager creates each namespace's default
	// ServiceAccount; without it no Pod can be created.
	if _, err := l.kubectl(ctx, "wait", "--for=create", "serviceaccount/default", "-n", "demo", "--timeout=180s"); err != nil {
		return nil, fmt.Errorf("wait for the controller-manager to create serviceaccount demo/default: %w\n%s", err, tail(filepath.Join(dir, "logs", "controller-manager.log"), 15))
	}
	l.Timings.Seeded = time.Since(started)
	fmt.Fprintf(progress, "lab: controller-manager and scheduler up, namespace demo seeded after %s\n", l.Timings.Seeded.Round(100*time.Millisecond))

	if c.Nodes > 0 {
		if err := startKwok(ctx, c, l, launch); err != nil {
			return nil, fmt.Errorf("kwok: %w\n%s", err, tail(filepath.Join(dir, "logs", "kwok.log"), 15))
		}
		l.Timings.NodesReady = time.Since(started)
		fmt.Fprintf(progress, "lab: %d KWOK fake nodes Ready after %s\n", c.Nodes, l.Timings.NodesReady.Round(100*time.Millisecond))
		// The sample app, Available before Up returns so that what a
		// learner (or a test) sees first does not change under them.
		if err := l.apply(ctx, sampleManifest); err != nil {
			return nil, fmt.Errorf("sample app shop/frontend: %w", err)
		}
		if _, err := l.kubectl(ctx, "wait", "--for=condition=Available", "deployment/frontend", "-n", "shop", "--timeout=180s"); err != nil {
			return nil, fmt.Errorf("sample app shop/frontend not Available: %w", err)
		}
		fmt.Fprintf(progress, "lab: sample app shop/frontend (2 pods, a Service) Available after %s\n", time.Since(started).Round(100*time.Millisecond))
	}
	// A process that died during start-up (a port taken meanwhile) fails Up.
	for _, p := range st.Processes {
		if !p.alive(dir) {
			return nil, fmt.Errorf("%s exited during start-up:\n%s", p.Name, tail(p.Log, 15))
		}
	}
	ok = true
	return l, nil
}

// AttachLog is the file that `kubectl attach` to any pod of the lab in dir
// follows: lines appended to it in CRI log format ("TIME stdout F TEXT")
// reach the attached client.
func AttachLog(dir string) string { return filepath.Join(dir, "kwok", "attach.log") }

func startKwok(ctx context.Context, c Config, l *Lab, launch func(string, string, ...string) (<-chan struct{}, error)) error {
	b := c.Binaries
	if _, err := l.kubectl(ctx, "apply", "--server-side", "-f", filepath.Join(b.KwokData, "crd")); err != nil {
		return fmt.Errorf("apply CRDs: %w", err)
	}
	if _, err := l.kubectl(ctx, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"); err != nil {
		return err
	}
	// Stages go to KWOK in a config file, not as Stage objects: KWOK v0.8.0
	// starts its stage controllers from Stage objects only when its
	// informer's sync signal arrives after the informer's resource version
	// is set, and a busy machine can lose that race, leaving the nodes
	// NotReady for good. Stages from a file start before KWOK watches.
	stages, err := kwokStages(filepath.Join(b.KwokData, "stage"))
	if err != nil {
		return err
	}
	stagesFile := filepath.Join(c.Dir, "kwok", "stages.yaml")
	if err := os.WriteFile(stagesFile, stages, 0o644); err != nil {
		return err
	}
	logs := filepath.Join(c.Dir, "kwok", "pod.log")
	if err := os.WriteFile(logs, []byte(podLog), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(AttachLog(c.Dir), nil, 0o644); err != nil {
		return err
	}
	if err := l.apply(ctx, kwokManifest(logs, AttachLog(c.Dir))); err != nil {
		return err
	}
	p := pki{dir: filepath.Join(c.Dir, "pki")}
	if _, err := launch("kwok", b.Kwok,
		"--kubeconfig="+filepath.Join(c.Dir, "kwok.kubeconfig"),
		"--config="+stagesFile,
		"--manage-all-nodes",
		"--node-ip=127.0.0.1",
		"--node-port="+strconv.Itoa(c.Ports.Kwok),
		"--server-address=127.0.0.1:"+strconv.Itoa(c.Ports.Kwok),
		"--tls-cert-file="+p.Cert("kwok-serving"),
		"--tls-private-key-file="+p.Key("kwok-serving"),
		"--cidr=10.244.0.0/16",
		"--node-lease-duration-seconds=40",
		"--enable-crds=Exec,ClusterExec,Logs,ClusterLogs,PortForward,ClusterPortForward,Attach,ClusterAttach",
	); err != nil {
		return err
	}
	if err := l.apply(ctx, nodeManifest(c.Nodes)); err != nil {
		return fmt.Errorf("create nodes: %w", err)
	}
	if _, err := l.kubectl(ctx, "wait", "--for=condition=Ready", "node", "--all", "--timeout=180s"); err != nil {
		return fmt.Errorf("nodes not Ready: %w", err)
	}
	return nil
}

// kwokStages joins the stage manifests in dir into one multi-document
// KWOK config file.
func kwokStages(dir string) ([]byte, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no KWOK stages in %s: rebuild with kubewire lab build", dir)
	}
	var out bytes.Buffer
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(bytes.TrimSpace(data))
		out.WriteString("\n")
	}
	return out.Bytes(), nil
}

func apiserverArgs(c Config) []string {
	p := pki{dir: filepath.Join(c.Dir, "pki")}
	a := []string{
		"apiserver",
		"--etcd-data=" + filepath.Join(c.Dir, "etcd"),
		"--etcd-client=http://127.0.0.1:" + strconv.Itoa(c.Ports.EtcdClient),
		"--etcd-peer=http://127.0.0.1:" + strconv.Itoa(c.Ports.EtcdPeer),
		"--etcd-log=" + filepath.Join(c.Dir, "logs", "etcd.log"),
		"--",
		"--advertise-address=127.0.0.1",
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(c.Ports.APIServer),
		"--cert-dir=" + filepath.Join(c.Dir, "pki", "apiserver-generated"),
		"--client-ca-file=" + p.CACert(),
		"--tls-cert-file=" + p.Cert("apiserver"),
		"--tls-private-key-file=" + p.Key("apiserver"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.SAPub(),
		"--service-account-signing-key-file=" + p.SAKey(),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=Node,RBAC",
		"--audit-policy-file=" + filepath.Join(c.Dir, "audit-policy.yaml"),
		"--audit-log-path=" + auditLogPath(c.Dir),
		"--audit-log-maxsize=100",
		"--audit-log-maxbackup=2",
		// With advertise address 127.0.0.1 the default reconciler refuses
		// to start.
		"--endpoint-reconciler-type=none",
		"--kubelet-client-certificate=" + p.Cert("apiserver-kubelet-client"),
		"--kubelet-client-key=" + p.Key("apiserver-kubelet-client"),
		"--kubelet-certificate-authority=" + p.CACert(),
		"--kubelet-preferred-address-types=InternalIP",
		"--profiling=false",
	}
	return a
}

func controllerManagerArgs(c Config) []string {
	p := pki{dir: filepath.Join(c.Dir, "pki")}
	kc := filepath.Join(c.Dir, "controller-manager.kubeconfig")
	return []string{
		"controller-manager",
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(c.Ports.ControllerManager),
		"--cert-dir=" + filepath.Join(c.Dir, "pki", "controller-manager-generated"),
		"--service-account-private-key-file=" + p.SAKey(),
		"--root-ca-file=" + p.CACert(),
		"--use-service-account-credentials",
		"--cluster-signing-cert-file=" + p.CACert(),
		"--cluster-signing-key-file=" + p.CAKey(),
		"--allocate-node-cidrs",
		"--cluster-cidr=10.244.0.0/16",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--flex-volume-plugin-dir=" + filepath.Join(c.Dir, "flexvolume"),
		// A restarted lab would otherwise wait ~18 s for its own old lease.
		"--leader-elect=false",
		"--profiling=false",
	}
}

func schedulerArgs(c Config) []string {
	kc := filepath.Join(c.Dir, "scheduler.kubeconfig")
	return []string{
		"scheduler",
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(c.Ports.Scheduler),
		"--cert-dir=" + filepath.Join(c.Dir, "pki", "scheduler-generated"),
		"--leader-elect=false",
		"--profiling=false",
	}
}

// writeFiles writes the PKI (kept when present), the audit policy and the
// kubeconfigs.
func writeFiles(c Config) error {
	p := pki{dir: filepath.Join(c.Dir, "pki")}
	if err := p.ensure(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.Dir, "audit-policy.yaml"), []byte(auditPolicy), 0o644); err != nil {
		return fmt.Errorf("write audit policy: %w", err)
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", c.Ports.APIServer)
	ca, err := os.ReadFile(p.CACert())
	if err != nil {
		return err
	}
	// The learner's kubeconfig embeds its credentials so it can be copied.
	users := map[string]string{"admin": "admin", "alice": "alice", "bob": "bob"}
	if err := writeKubeconfig(kubeconfigPath(c.Dir), server, ca, p, users, "admin"); err != nil {
		return err
	}
	for _, name := range []string{"controller-manager", "scheduler", "kwok"} {
		if err := writeKubeconfig(filepath.Join(c.Dir, name+".kubeconfig"), server, ca, p, map[string]string{name: name}, name); err != nil {
			return err
		}
	}
	return nil
}

// writeKubeconfig writes a kubeconfig with one context per user (context
// name -> certificate name), current names the current context.
func writeKubeconfig(path, server string, ca []byte, p pki, users map[string]string, current string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubewire-lab"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	for ctxName, cert := range users {
		crt, err := os.ReadFile(p.Cert(cert))
		if err != nil {
			return err
		}
		key, err := os.ReadFile(p.Key(cert))
		if err != nil {
			return err
		}
		cfg.AuthInfos[ctxName] = &clientcmdapi.AuthInfo{ClientCertificateData: crt, ClientKeyData: key}
		cfg.Contexts[ctxName] = &clientcmdapi.Context{Cluster: "kubewire-lab", AuthInfo: ctxName, Namespace: "default"}
	}
	cfg.CurrentContext = current
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return os.Chmod(path, 0o600)
}

// checkPorts fails naming the first port something already listens on.
func checkPorts(p Ports) error {
	seen := map[int]string{}
	for _, np := range p.list() {
		if np.port <= 0 || np.port > 65535 {
			return fmt.Errorf("%s port %d is not a valid port", np.name, np.port)
		}
		if other, ok := seen[np.port]; ok {
			return fmt.Errorf("%s and %s both want port %d", other, np.name, np.port)
		}
		seen[np.port] = np.name
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(np.port)))
		if err != nil {
			return fmt.Errorf("port %d (lab %s) on 127.0.0.1 is in use: %w; stop what listens there (ss -ltnp 'sport = :%d') or run 'kubewire lab down'", np.port, np.name, err, np.port)
		}
		l.Close()
	}
	return nil
}

// Down stops the lab in dir: only the processes its state file names, and
// only while they are still the programs it started. With wipe it deletes
// the lab's directory too; otherwise PKI, etcd data and logs are kept for
// the next Up.
func Down(dir string, wipe bool) error {
	dir, err := absDir(dir)
	if err != nil {
		return err
	}
	st, err := readState(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if st != nil {
		if err := stopAll(dir, st.Processes); err != nil {
			return err
		}
		st.Processes = nil
		if !wipe {
			if err := writeState(dir, st); err != nil {
				return err
			}
		}
	}
	if wipe && st != nil {
		return os.RemoveAll(dir)
	}
	if wipe && exists(dir) {
		return fmt.Errorf("%s has no %s: not a lab directory, not wiping it", dir, stateFile)
	}
	return nil
}

// stopAll stops ps in reverse start order (nodes first, API server last).
func stopAll(dir string, ps []Process) error {
	var errs []error
	for i := len(ps) - 1; i >= 0; i-- {
		if err := ps[i].stop(dir, 15*time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Status describes a lab directory.
type Status struct {
	// Lab is the lab as its state file describes it; nil when dir holds no
	// lab.
	Lab *Lab
	// Running lists the processes still running; Stopped those gone.
	Running, Stopped []Process
	// Ready is true when the API server answered /readyz with ok.
	Ready bool
	// ReadyErr says why not, when it did not.
	ReadyErr error
}

// GetStatus reports on the lab in dir.
func GetStatus(ctx context.Context, dir string) (*Status, error) {
	dir, err := absDir(dir)
	if err != nil {
		return nil, err
	}
	st, err := readState(dir)
	if errors.Is(err, os.ErrNotExist) {
		return &Status{}, nil
	}
	if err != nil {
		return nil, err
	}
	s := &Status{Lab: st.lab(dir)}
	for _, p := range st.Processes {
		if p.alive(dir) {
			s.Running = append(s.Running, p)
		} else {
			s.Stopped = append(s.Stopped, p)
		}
	}
	if len(s.Running) > 0 {
		s.ReadyErr = checkReady(ctx, s.Lab)
		s.Ready = s.ReadyErr == nil
	}
	return s, nil
}

// Open returns the running lab in dir, or an error saying why it is not
// usable.
func Open(ctx context.Context, dir string) (*Lab, error) {
	s, err := GetStatus(ctx, dir)
	if err != nil {
		return nil, err
	}
	switch {
	case s.Lab == nil:
		return nil, fmt.Errorf("no lab in %s; start one with 'kubewire lab up'", dir)
	case len(s.Running) == 0:
		return nil, fmt.Errorf("the lab in %s is stopped; start it with 'kubewire lab up'", dir)
	case len(s.Stopped) > 0:
		return nil, fmt.Errorf("the lab in %s is partly running (%s gone); run 'kubewire lab down' then 'up'", dir, pidString(s.Stopped))
	case !s.Ready:
		return nil, fmt.Errorf("the lab in %s is not ready: %w", dir, s.ReadyErr)
	}
	return s.Lab, nil
}

func (st *state) lab(dir string) *Lab {
	return &Lab{
		Dir:        dir,
		Kubeconfig: kubeconfigPath(dir),
		AuditLog:   auditLogPath(dir),
		Server:     fmt.Sprintf("https://127.0.0.1:%d", st.Ports.APIServer),
		BinDir:     st.BinDir,
		Kubectl:    st.Kubectl,
		Version:    st.Version,
		Ports:      st.Ports,
		Processes:  st.Processes,
		Nodes:      st.Nodes,
	}
}

func readState(dir string) (*state, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %w; delete the lab directory or run 'kubewire lab down --wipe'", filepath.Join(dir, stateFile), err)
	}
	return &st, nil
}

func writeState(dir string, st *state) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, stateFile), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	return nil
}

// HTTPClient returns a client that trusts the lab's CA and presents the
// admin certificate.
func (l *Lab) HTTPClient() (*http.Client, error) {
	p := pki{dir: filepath.Join(l.Dir, "pki")}
	ca, err := os.ReadFile(p.CACert())
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(p.Cert("admin"), p.Key("admin"))
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			Proxy:           nil, // loopback only, never a user's proxy
			TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}},
		},
	}, nil
}

func checkReady(ctx context.Context, l *Lab) error {
	hc, err := l.HTTPClient()
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.Server+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

func waitReady(ctx context.Context, l *Lab, d time.Duration) error {
	return waitReadyOrExit(ctx, l, nil, d)
}

// waitReadyOrExit polls /readyz until ok, the process exits (done closed)
// or d passes.
func waitReadyOrExit(ctx context.Context, l *Lab, done <-chan struct{}, d time.Duration) error {
	deadline := time.Now().Add(d)
	var last error
	for {
		if last = checkReady(ctx, l); last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", d, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return errors.New("exited before it was ready")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// KubectlCommand returns an exec.Cmd running the lab's kubectl against the
// lab (admin context unless args say otherwise), with its own discovery
// cache.
func (l *Lab) KubectlCommand(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{"--kubeconfig=" + l.Kubeconfig, "--cache-dir=" + filepath.Join(l.Dir, "kube-cache")}, args...)
	cmd := exec.CommandContext(ctx, l.Kubectl, full...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+l.Kubeconfig)
	return cmd
}

func (l *Lab) kubectl(ctx context.Context, args ...string) ([]byte, error) {
	cmd := l.KubectlCommand(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func (l *Lab) apply(ctx context.Context, manifest string) error {
	cmd := l.KubectlCommand(ctx, "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kubectl apply: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Env returns the shell lines that point a shell at the lab: KUBECONFIG,
// PATH with the lab's kubectl first, and KUBEWIRE_AUDIT_LOG.
func (l *Lab) Env() string {
	return fmt.Sprintf("export KUBECONFIG=%s\nexport PATH=%s:\"$PATH\"\nexport %s=%s\n",
		shellQuote(l.Kubeconfig), shellQuote(l.BinDir), AuditLogEnv, shellQuote(l.AuditLog))
}

// AuditLogEnv names the environment variable through which kubewire finds
// the API server's audit log.
const AuditLogEnv = "KUBEWIRE_AUDIT_LOG"

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
