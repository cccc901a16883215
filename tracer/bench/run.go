package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubewire/kubewire/tracer/lab"
)

// Namespaces the harness seeds.
const (
	nsSmall = "bench-small" // 100 ConfigMaps: GET one, kubectl get cm
	nsLarge = "bench-large" // 5,000 ConfigMaps: one list
	nsWatch = "bench-watch" // 10 small ConfigMaps, updated for the watch
)

// getTarget is the object the GET workloads ask for.
const getTarget = "/api/v1/namespaces/" + nsSmall + "/configmaps/cm-00042"

type harness struct {
	c        Config
	sz       Sizes
	work     string
	kubewire string
	ps       procs
	lab      *lab.Lab
	direct   *path
	res      *Results
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.c.Progress, "bench: "+format+"\n", args...)
}

func (h *harness) runs(w string) bool { return slices.Contains(h.c.Workloads, w) }

// Run runs the harness as c says and writes the results to c.OutDir.
func Run(ctx context.Context, c Config) (res *Results, err error) {
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if len(c.Paths) == 0 {
		c.Paths = AllPaths
	}
	if len(c.Workloads) == 0 {
		c.Workloads = AllWorkloads
	}
	h := &harness{c: c, sz: c.sizes(), res: &Results{Started: time.Now(), Quick: c.Quick, Paths: c.Paths, Sizes: c.sizes()}}
	if h.work, err = os.MkdirTemp("", "kubewire-bench-"); err != nil {
		return nil, err
	}
	var stopLab func() error
	defer func() {
		if serr := h.ps.stopAll(); serr != nil && err == nil {
			err = step("stop the harness's processes", serr)
		}
		if stopLab != nil {
			if lerr := stopLab(); lerr != nil && err == nil {
				err = step("stop the lab", lerr)
			}
		}
		if err != nil || c.Keep {
			fmt.Fprintf(c.Progress, "bench: work directory (process logs, recordings) kept in %s\n", h.work)
		} else {
			os.RemoveAll(h.work)
		}
	}()
	start := time.Now()
	if err := step("build kubewire", h.buildKubewire(ctx)); err != nil {
		return nil, err
	}
	if stopLab, err = h.startLab(ctx); err != nil {
		return nil, step("start the lab", err)
	}
	load := loadAverage()
	if err := step("seed the lab", h.seed(ctx)); err != nil {
		return nil, err
	}
	h.logf("ready after %s; measuring", since(start))
	if err := h.measure(ctx); err != nil {
		return nil, err
	}
	h.res.Took = time.Since(start)
	h.res.Machine = describe(ctx, h.lab, h.kubewire, slices.Contains(c.Paths, Mitmproxy))
	h.res.Machine.Load = load + " at the start, " + loadAverage() + " at the end"
	if err := step("write the results", h.res.write(c.OutDir)); err != nil {
		return nil, err
	}
	return h.res, nil
}

func (h *harness) buildKubewire(ctx context.Context) error {
	if h.c.Kubewire != "" {
		abs, err := filepath.Abs(h.c.Kubewire)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("-kubewire %s: %w (make bench builds bin/kubewire)", h.c.Kubewire, err)
		}
		h.kubewire = abs
		return nil
	}
	h.kubewire = filepath.Join(h.work, "kubewire")
	if runtime.GOOS == "windows" {
		h.kubewire += ".exe"
	}
	h.logf("go build ./cmd/kubewire")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", h.kubewire, "github.com/kubewire/kubewire/cmd/kubewire")
	cmd.Stdout, cmd.Stderr = h.c.Progress, h.c.Progress
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w (run from kubewire's module, or give -kubewire)", err)
	}
	return nil
}

// startLab opens the lab -lab names or starts a fresh one (no KWOK nodes:
// the workloads need none) in a temporary directory on free ports, and
// returns what stops it.
func (h *harness) startLab(ctx context.Context) (func() error, error) {
	if h.c.LabDir != "" {
		l, err := lab.Open(ctx, h.c.LabDir)
		if err != nil {
			return nil, fmt.Errorf("-lab %s: %w", h.c.LabDir, err)
		}
		h.lab = l
		return nil, nil
	}
	t := time.Now()
	h.logf("lab binaries (waits for a build already running, never starts a second one)")
	bins, err := lab.Build(ctx, lab.BuildOptions{Progress: h.c.Progress, NoKwok: true})
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(h.work, "lab")
	stop := func() error { return lab.Down(dir, true) }
	for attempt := 0; ; attempt++ {
		ports, err := lab.FreePorts()
		if err != nil {
			return stop, err
		}
		h.lab, err = lab.Up(ctx, lab.Config{Dir: dir, Ports: ports, Binaries: bins, Attached: true, Progress: h.c.Progress})
		if err == nil {
			break
		}
		if attempt == 2 || ctx.Err() != nil || !strings.Contains(err.Error(), "in use") {
			return stop, err
		}
	}
	h.logf("lab up at %s (Kubernetes %s) in %s", h.lab.Server, h.lab.Version, since(t))
	return stop, nil
}

func (h *harness) seed(ctx context.Context) error {
	var err error
	if h.direct, err = h.directPath(); err != nil {
		return err
	}
	t := time.Now()
	for _, s := range []struct {
		ns   string
		n    int
		data func(int) map[string]string
	}{
		{nsSmall, h.sz.SmallObjects, configMapData},
		{nsLarge, h.sz.Objects, configMapData},
		{nsWatch, watchObjects, func(int) map[string]string { return map[string]string{"k": "v"} }},
	} {
		h.logf("seed %d ConfigMaps in %s", s.n, s.ns)
		if err := seed(ctx, h.direct, s.ns, s.n, s.data); err != nil {
			return fmt.Errorf("namespace %s: %w", s.ns, err)
		}
	}
	h.logf("seeded in %s", since(t))
	return nil
}

// measure runs the selected workloads.
func (h *harness) measure(ctx context.Context) error {
	if h.runs(WGet1) || h.runs(WGet16) || h.runs(WWatch) {
		if err := h.requests(ctx); err != nil {
			return err
		}
	}
	if h.runs(WList) {
		if err := step("workload list", h.lists(ctx)); err != nil {
			return err
		}
	}
	if h.runs(WKubectl) {
		if err := step("workload kubectl", h.kubectl(ctx)); err != nil {
			return err
		}
	}
	if h.runs(WReplay) {
		if err := step("workload replay", h.replay(ctx)); err != nil {
			return err
		}
	}
	return nil
}

// startPaths starts a proxy for every selected path but direct. tag names
// kubewire's and mitmproxy's work directories; stream asks mitmproxy to
// stream bodies.
func (h *harness) startPaths(ctx context.Context, tag string, stream bool) (map[string]*path, error) {
	ps := map[string]*path{Direct: h.direct}
	for _, name := range h.c.Paths {
		var p *path
		var err error
		switch name {
		case Direct:
			continue
		case Kubewire:
			p, err = h.startKubewire(ctx, tag)
		case KubectlProxy:
			p, err = h.startKubectlProxy(ctx)
		case Mitmproxy:
			p, err = h.startMitmproxy(ctx, tag, stream)
		}
		if err != nil {
			return nil, step("start "+name, err)
		}
		ps[name] = p
	}
	return ps, nil
}

func (h *harness) stopPaths(ps map[string]*path) error {
	var errs []error
	for _, p := range ps {
		if p.proc != nil {
			errs = append(errs, h.ps.stop(p.proc))
		}
	}
	return errors.Join(errs...)
}

// warm sends a few GETs on every path: connections, TLS sessions and
// kubewire's discovery are set up before anything is measured.
func (h *harness) warm(ctx context.Context, ps map[string]*path) error {
	for _, name := range h.c.Paths {
		if _, _, err := load(ctx, ps[name].client, ps[name].base+getTarget, 50, 4); err != nil {
			return step("warm up "+name, err)
		}
	}
	return nil
}

// requests runs GET c=1, GET c=16 and the watch on one set of proxies;
// kubewire's recording of them is what replay replays.
func (h *harness) requests(ctx context.Context) error {
	ps, err := h.startPaths(ctx, "requests", false)
	if err != nil {
		return err
	}
	if err := h.warm(ctx, ps); err != nil {
		return err
	}
	for _, w := range []struct {
		name string
		n, c int
		out  *map[string]*GetResult
	}{{WGet1, h.sz.Get1, 1, &h.res.Get1}, {WGet16, h.sz.Get16, 16, &h.res.Get16}} {
		if !h.runs(w.name) {
			continue
		}
		*w.out = map[string]*GetResult{}
		for r := range h.sz.Rounds {
			for _, name := range rounds(h.c.Paths, r) {
				lat, wall, err := load(ctx, ps[name].client, ps[name].base+getTarget, w.n, w.c)
				if err != nil {
					return step(fmt.Sprintf("workload %s, %s, round %d", w.name, name, r+1), err)
				}
				g := (*w.out)[name]
				if g == nil {
					g = &GetResult{}
					(*w.out)[name] = g
				}
				g.Latencies = append(g.Latencies, lat...)
				g.Throughput = append(g.Throughput, float64(w.n)/wall.Seconds())
				h.logf("%s %-13s round %d: %5.0f req/s, p50 %s", w.name, name, r+1, float64(w.n)/wall.Seconds(), percentile(lat, 50))
			}
		}
	}
	if h.runs(WWatch) {
		if err := step("workload watch", h.watch(ctx, ps)); err != nil {
			return err
		}
	}
	if p := ps[Kubewire]; p != nil {
		h.res.Recording = p.recording
	}
	return step("stop the proxies", h.stopPaths(ps))
}

// watch measures watch delivery on every path. mitmproxy holds whole
// responses by default, which a watch never ends, so the watch goes
// through a second mitmdump that streams.
func (h *harness) watch(ctx context.Context, ps map[string]*path) error {
	paths := maps.Clone(ps)
	if old := ps[Mitmproxy]; old != nil {
		if err := h.ps.stop(old.proc); err != nil {
			return err
		}
		p, err := h.startMitmproxy(ctx, "watch", true)
		if err != nil {
			return step("start mitmproxy (streaming)", err)
		}
		paths[Mitmproxy] = p
		ps[Mitmproxy] = p
	}
	h.res.Watch = map[string][]time.Duration{}
	per := h.sz.WatchEvents / h.sz.Rounds
	for r := range h.sz.Rounds {
		for _, name := range rounds(h.c.Paths, r) {
			run := fmt.Sprintf("%s-%d-%d", name, r, time.Now().UnixNano())
			lat, err := watchLatency(ctx, paths[name], h.direct, nsWatch, per, 10*time.Millisecond, run)
			if err != nil {
				return step(fmt.Sprintf("%s, round %d", name, r+1), err)
			}
			h.res.Watch[name] = append(h.res.Watch[name], lat...)
			h.logf("watch %-13s round %d: p50 %s p99 %s", name, r+1, percentile(lat, 50), percentile(lat, 99))
		}
	}
	return nil
}

// lists lists the 5,000 ConfigMaps on every path, through a kubewire
// proxy started for it, whose memory is read before and after.
func (h *harness) lists(ctx context.Context) error {
	ps, err := h.startPaths(ctx, "list", false)
	if err != nil {
		return err
	}
	if err := h.warm(ctx, ps); err != nil {
		return err
	}
	url := "/api/v1/namespaces/" + nsLarge + "/configmaps"
	// One list first, unmeasured and straight to the server, so no path
	// pays for the server's first list of the namespace.
	if _, err := get(ctx, h.direct.client, http.MethodGet, h.direct.base+url, "", nil, http.StatusOK); err != nil {
		return step("warm-up list", err)
	}
	var kw *path
	if p := ps[Kubewire]; p != nil {
		kw = p
		time.Sleep(time.Second) // let the warm-up's garbage settle
		rss, peak, err := readRSS(kw.proc.pid())
		h.res.ListRSS = &RSSResult{Before: rss, PeakBefore: peak}
		if err != nil {
			h.res.ListRSS.Err = err.Error()
		}
	}
	h.res.List = map[string]*ListResult{}
	for r := range h.sz.Lists {
		for _, name := range rounds(h.c.Paths, r) {
			p := ps[name]
			t := time.Now()
			n, err := get(ctx, p.client, http.MethodGet, p.base+url, "", nil, http.StatusOK)
			d := time.Since(t)
			if err != nil {
				return step(fmt.Sprintf("%s, round %d", name, r+1), err)
			}
			l := h.res.List[name]
			if l == nil {
				l = &ListResult{}
				h.res.List[name] = l
			}
			l.Times = append(l.Times, d)
			l.Bytes = n
			h.logf("list %-13s round %d: %s, %.1f MB", name, r+1, d.Round(time.Millisecond), float64(n)/1e6)
		}
	}
	if kw != nil && h.res.ListRSS.Err == "" {
		rss, peak, err := readRSS(kw.proc.pid())
		if err != nil {
			h.res.ListRSS.Err = err.Error()
		}
		h.res.ListRSS.After, h.res.ListRSS.Peak = rss, peak
		h.res.ListRSS.Body = h.res.List[Direct].Bytes
	}
	return step("stop the proxies", h.stopPaths(ps))
}

// The kubectl variants, in the table's order.
const (
	KDirectWarm  = "direct, warm cache"
	KDirectFresh = "direct, fresh cache"
	KRun         = "kubewire run (fresh cache)"
	KProxy       = "kubewire proxy, warm cache"
)

// kubectl times `kubectl get cm -n bench-small` (100 objects): directly
// with a warm discovery cache and with a fresh one, under `kubewire run`
// (which gives kubectl a fresh cache on every run) and through a running
// `kubewire proxy` with its session kubeconfig and a warm cache.
func (h *harness) kubectl(ctx context.Context) error {
	variants := []string{KDirectWarm, KDirectFresh, KRun}
	var kw *path
	if slices.Contains(h.c.Paths, Kubewire) {
		var err error
		if kw, err = h.startKubewire(ctx, "kubectl"); err != nil {
			return step("start kubewire", err)
		}
		variants = append(variants, KProxy)
	} else {
		variants = variants[:2]
	}
	warmDirect := filepath.Join(h.work, "kubectl-cache-direct")
	warmProxy := filepath.Join(h.work, "kubectl-cache-proxy")
	args := []string{"get", "cm", "-n", nsSmall}
	fresh := 0
	one := func(v string) (time.Duration, error) {
		var cmd *exec.Cmd
		switch v {
		case KDirectWarm:
			cmd = exec.CommandContext(ctx, h.lab.Kubectl, args...)
			cmd.Env = cleanEnv("KUBECONFIG="+h.lab.Kubeconfig, "KUBECACHEDIR="+warmDirect)
		case KDirectFresh:
			fresh++
			cmd = exec.CommandContext(ctx, h.lab.Kubectl, args...)
			cmd.Env = cleanEnv("KUBECONFIG="+h.lab.Kubeconfig, "KUBECACHEDIR="+filepath.Join(h.work, "kubectl-cache-fresh-"+strconv.Itoa(fresh)))
		case KRun:
			cmd = exec.CommandContext(ctx, h.kubewire, append([]string{"run", "--kubeconfig", h.lab.Kubeconfig, "--", h.lab.Kubectl}, args...)...)
			cmd.Env = cleanEnv()
		case KProxy:
			cmd = exec.CommandContext(ctx, h.lab.Kubectl, args...)
			cmd.Env = cleanEnv("KUBECONFIG="+kw.kubeconfig, "KUBECACHEDIR="+warmProxy)
		}
		return timeKubectl(cmd, nsSmall, h.sz.SmallObjects)
	}
	// Fill the warm caches.
	for _, v := range variants {
		if v == KDirectWarm || v == KProxy {
			if _, err := one(v); err != nil {
				return step(v+", warming the cache", err)
			}
		}
	}
	h.res.Kubectl = map[string][]time.Duration{}
	h.res.KubectlVariants = variants
	for r := range h.sz.KubectlRuns {
		for _, v := range rounds(variants, r) {
			d, err := one(v)
			if err != nil {
				return step(fmt.Sprintf("%s, run %d", v, r+1), err)
			}
			h.res.Kubectl[v] = append(h.res.Kubectl[v], d)
		}
	}
	for _, v := range variants {
		h.logf("kubectl %-27s median %s", v, median(h.res.Kubectl[v]))
	}
	if kw != nil {
		return step("stop kubewire", h.ps.stop(kw.proc))
	}
	return nil
}

// timeKubectl runs cmd and checks it printed the n ConfigMaps the harness
// seeded (cm-…; the namespace's kube-root-ca.crt is listed too).
func timeKubectl(cmd *exec.Cmd, ns string, n int) (time.Duration, error) {
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	t := time.Now()
	err := cmd.Run()
	d := time.Since(t)
	if err != nil {
		return 0, fmt.Errorf("%s: %v: %s", cmd.Args[0], err, trim(errOut.String()))
	}
	rows := 0
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "cm-") {
			rows++
		}
	}
	if rows != n {
		return 0, fmt.Errorf("%s printed %d of the %d ConfigMaps of %s:\n%s%s", cmd.Args[0], rows, n, ns, trim(out.String()), trim(errOut.String()))
	}
	return d, nil
}

// trim keeps the first 4 KiB of a program's output, for an error.
func trim(s string) string {
	if len(s) > 4096 {
		return s[:4096] + "…"
	}
	return s
}
