package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KwokVersion is the KWOK release the lab installs for its fake nodes.
const KwokVersion = "v0.8.0"

const kwokModule = "sigs.k8s.io/kwok"

// Binaries are the lab's built programs, cached per Kubernetes version.
type Binaries struct {
	// Version is the Kubernetes version of the control plane and kubectl.
	Version string
	// Dir holds kubewire-lab, a kubectl link to it and, if built, kwok.
	Dir string
	// Lab is the control-plane binary (kube-apiserver with etcd,
	// kube-controller-manager, kube-scheduler, kubectl).
	Lab string
	// Kubectl is the link to Lab named kubectl.
	Kubectl string
	// Kwok is the KWOK binary, or "" when it is not built.
	Kwok string
	// KwokData holds KWOK's CRDs (crd/) and stages (stage/), or "".
	KwokData string
}

// BuildOptions configure Build.
type BuildOptions struct {
	// Source is the lab module's directory; "" means FindSource.
	Source string
	// CacheDir is where binaries are cached, one directory per Kubernetes
	// version; "" means DefaultCacheDir.
	CacheDir string
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
	// NoKwok skips installing KWOK (no fake nodes: Pods stay Pending).
	NoKwok bool
}

// DefaultCacheDir is os.UserCacheDir()/kubewire/lab.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for the lab's binaries: %w; set XDG_CACHE_HOME or HOME", err)
	}
	return filepath.Join(d, "kubewire", "lab"), nil
}

// versionLDFlags stamp the Kubernetes version into the binary; without them
// discovery reports v0.0.0. They only affect linking, so changing them does
// not recompile anything.
func versionLDFlags(v string) string {
	major, minor := "", ""
	if parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3); len(parts) >= 2 {
		major, minor = parts[0], parts[1]
	}
	var b strings.Builder
	for i, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "-X %s.gitVersion=%s -X %s.gitMajor=%s -X %s.gitMinor=%s", pkg, v, pkg, major, pkg, minor)
	}
	return b.String()
}

// Locate returns the binaries of the lab source's Kubernetes version in the
// cache without building anything; ok is false when they are missing or
// stale (built from another source).
func Locate(o BuildOptions) (b *Binaries, ok bool, err error) {
	b, stamp, err := plan(o)
	if err != nil {
		return nil, false, err
	}
	return b, upToDate(b, stamp, o.NoKwok), nil
}

func plan(o BuildOptions) (*Binaries, string, error) {
	src := o.Source
	if src == "" {
		s, err := FindSource()
		if err != nil {
			return nil, "", err
		}
		src = s
	}
	version, err := kubernetesVersion(filepath.Join(src, "go.mod"))
	if err != nil {
		return nil, "", err
	}
	cache := o.CacheDir
	if cache == "" {
		if cache, err = DefaultCacheDir(); err != nil {
			return nil, "", err
		}
	}
	stamp, err := sourceStamp(src, versionLDFlags(version))
	if err != nil {
		return nil, "", err
	}
	dir := filepath.Join(cache, version, "bin")
	b := &Binaries{
		Version:  version,
		Dir:      dir,
		Lab:      filepath.Join(dir, "kubewire-lab"),
		Kubectl:  filepath.Join(dir, "kubectl"),
		Kwok:     filepath.Join(dir, "kwok"),
		KwokData: filepath.Join(cache, version, "kwok"),
	}
	return b, src + "\n" + stamp, nil
}

func upToDate(b *Binaries, stamp string, noKwok bool) bool {
	got, err := os.ReadFile(filepath.Join(b.Dir, ".lab-stamp"))
	if err != nil || string(got) != stamp || !exists(b.Lab) || !exists(b.Kubectl) {
		return false
	}
	if noKwok {
		b.Kwok, b.KwokData = "", ""
		return true
	}
	got, err = os.ReadFile(filepath.Join(b.Dir, ".kwok-stamp"))
	return err == nil && string(got) == KwokVersion && exists(b.Kwok) && exists(filepath.Join(b.KwokData, "stage"))
}

// Build builds the lab's binaries if they are missing or stale and returns
// them. A cold build compiles Kubernetes: about 13 minutes on 2 cores, with a
// progress line every few percent; a warm one takes seconds. Concurrent
// builds (several test binaries) wait for each other.
func Build(ctx context.Context, o BuildOptions) (*Binaries, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	b, stamp, err := plan(o)
	if err != nil {
		// Without the source (kubewire installed elsewhere), binaries built
		// earlier still serve.
		if o.Source == "" && os.Getenv(SourceEnv) == "" {
			if cached := newestCached(o); cached != nil {
				return cached, nil
			}
		}
		return nil, err
	}
	if upToDate(b, stamp, o.NoKwok) {
		return b, nil
	}
	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create lab cache: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(filepath.Dir(b.Dir), "build.lock"), progress)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if upToDate(b, stamp, o.NoKwok) { // another process built it meanwhile
		return b, nil
	}
	goBin, err := goCommand()
	if err != nil {
		return nil, err
	}
	src := strings.SplitN(stamp, "\n", 2)[0]
	got, _ := os.ReadFile(filepath.Join(b.Dir, ".lab-stamp"))
	if string(got) != stamp || !exists(b.Lab) || !exists(b.Kubectl) {
		if err := buildLab(ctx, goBin, src, b, progress); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(b.Dir, ".lab-stamp"), []byte(stamp), 0o644); err != nil {
			return nil, err
		}
	}
	if o.NoKwok {
		b.Kwok, b.KwokData = "", ""
		return b, nil
	}
	got, _ = os.ReadFile(filepath.Join(b.Dir, ".kwok-stamp"))
	if string(got) != KwokVersion || !exists(b.Kwok) || !exists(filepath.Join(b.KwokData, "stage")) {
		if err := installKwok(ctx, goBin, b, progress); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(b.Dir, ".kwok-stamp"), []byte(KwokVersion), 0o644); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// newestCached returns the binaries of the highest Kubernetes version in the
// cache that has a complete build, or nil.
func newestCached(o BuildOptions) *Binaries {
	cache := o.CacheDir
	if cache == "" {
		var err error
		if cache, err = DefaultCacheDir(); err != nil {
			return nil
		}
	}
	entries, _ := os.ReadDir(cache)
	var best *Binaries
	for _, e := range entries {
		dir := filepath.Join(cache, e.Name(), "bin")
		b := &Binaries{Version: e.Name(), Dir: dir, Lab: filepath.Join(dir, "kubewire-lab"), Kubectl: filepath.Join(dir, "kubectl"),
			Kwok: filepath.Join(dir, "kwok"), KwokData: filepath.Join(cache, e.Name(), "kwok")}
		if !exists(filepath.Join(dir, ".lab-stamp")) || !exists(b.Lab) || !exists(b.Kubectl) {
			continue
		}
		if o.NoKwok || !exists(filepath.Join(dir, ".kwok-stamp")) || !exists(b.Kwok) {
			b.Kwok, b.KwokData = "", ""
		}
		if best == nil || semverLess(best.Version, b.Version) {
			best = b
		}
	}
	return best
}

// semverLess compares "vMAJOR.MINOR.PATCH" versions numerically.
func semverLess(a, b string) bool {
	pa, pb := strings.Split(strings.TrimPrefix(a, "v"), "."), strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		if ea != nil || eb != nil {
			if pa[i] != pb[i] {
				return pa[i] < pb[i]
			}
			continue
		}
		if na != nb {
			return na < nb
		}
	}
	return len(pa) < len(pb)
}

func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	return "", errors.New("the lab is built with the go command, which is not on PATH; install Go (see go.mod for the version) and put it on PATH")
}

// buildLab compiles the lab module into b.Lab, counting compiled packages
// against the module's dependencies for progress.
func buildLab(ctx context.Context, goBin, src string, b *Binaries, progress io.Writer) error {
	start := time.Now()
	fmt.Fprintf(progress, "lab: building Kubernetes %s control plane and kubectl from %s (cold: about 13 min on 2 cores; cached: seconds)\n", b.Version, src)
	total := 0
	list := exec.CommandContext(ctx, goBin, "list", "-deps", ".")
	list.Dir = src
	var listErr bytes.Buffer
	list.Stderr = &listErr
	out, err := list.Output()
	if err != nil {
		return fmt.Errorf("go list in %s: %v: %s; check that the Go module proxy is reachable", src, err, strings.TrimSpace(listErr.String()))
	}
	total = bytes.Count(out, []byte("\n"))

	tmp := b.Lab + ".tmp"
	cmd := exec.CommandContext(ctx, goBin, "build", "-v", "-o", tmp, "-ldflags", versionLDFlags(b.Version), ".")
	cmd.Dir = src
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	var errLines []string
	var compiled atomic.Int64
	stop := heartbeat(progress, 30*time.Second, func() string {
		return fmt.Sprintf("lab: still building: %d packages compiled, %s (linking takes a minute or two)", compiled.Load(), time.Since(start).Round(time.Second))
	})
	defer stop()
	lastPct := -1
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.ContainsAny(line, " \t:") {
			errLines = append(errLines, line)
			continue
		}
		n := int(compiled.Add(1))
		pct := 0
		if total > 0 {
			pct = n * 100 / total
		}
		if pct/5 != lastPct/5 {
			fmt.Fprintf(progress, "lab: compiled %d of at most %d packages (%d%%, %s)\n", n, total, pct, time.Since(start).Round(time.Second))
			lastPct = pct
		}
	}
	if err := cmd.Wait(); err != nil {
		os.Remove(tmp)
		if len(errLines) > 20 {
			errLines = errLines[len(errLines)-20:]
		}
		return fmt.Errorf("go build in %s: %v\n%s", src, err, strings.Join(errLines, "\n"))
	}
	if err := os.Rename(tmp, b.Lab); err != nil {
		return err
	}
	os.Remove(b.Kubectl)
	if err := os.Symlink(filepath.Base(b.Lab), b.Kubectl); err != nil {
		return fmt.Errorf("link kubectl: %w", err)
	}
	stop()
	fmt.Fprintf(progress, "lab: built %s in %s (%d packages compiled)\n", b.Lab, time.Since(start).Round(time.Second), compiled.Load())
	return nil
}

// installKwok installs KWOK with go install (outside the lab module: KWOK
// has its own Kubernetes dependencies) and copies its CRDs and stages from
// the module cache.
func installKwok(ctx context.Context, goBin string, b *Binaries, progress io.Writer) error {
	start := time.Now()
	fmt.Fprintf(progress, "lab: installing KWOK %s for fake nodes (cold: about 3 min)\n", KwokVersion)
	tmp, err := os.MkdirTemp("", "kubewire-kwok-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	env := append(os.Environ(), "GOBIN="+b.Dir, "GOFLAGS=-mod=mod", "GOWORK=off")
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir, cmd.Env = tmp, env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	stop := heartbeat(progress, 30*time.Second, func() string {
		return fmt.Sprintf("lab: still installing KWOK, %s", time.Since(start).Round(time.Second))
	})
	_, err = run("install", kwokModule+"/cmd/kwok@"+KwokVersion)
	stop()
	if err != nil {
		return fmt.Errorf("install kwok: %w; or pass --no-kwok for a lab without fake nodes", err)
	}
	out, err := run("mod", "download", "-json", kwokModule+"@"+KwokVersion)
	if err != nil {
		return err
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return fmt.Errorf("go mod download %s: no module directory in %q", kwokModule, out)
	}
	if err := os.RemoveAll(b.KwokData); err != nil {
		return err
	}
	copies := map[string][]string{
		"crd": {"kustomize/crd/bases/*.yaml"},
		"stage": {
			"kustomize/stage/node/fast/node-initialize.yaml",
			"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
			"kustomize/stage/pod/fast/pod-ready.yaml",
			"kustomize/stage/pod/fast/pod-complete.yaml",
			"kustomize/stage/pod/fast/pod-delete.yaml",
		},
	}
	for sub, globs := range copies {
		dst := filepath.Join(b.KwokData, sub)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		for _, g := range globs {
			matches, _ := filepath.Glob(filepath.Join(mod.Dir, g))
			if len(matches) == 0 {
				return fmt.Errorf("kwok %s: no %s in %s", KwokVersion, g, mod.Dir)
			}
			for _, m := range matches {
				data, err := os.ReadFile(m)
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dst, filepath.Base(m)), data, 0o644); err != nil {
					return err
				}
			}
		}
	}
	fmt.Fprintf(progress, "lab: installed KWOK in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// sourceStamp hashes the lab module's go.mod, go.sum and Go files, and the
// link flags, so a changed source rebuilds the cached binary.
func sourceStamp(src, ldflags string) (string, error) {
	var files []string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != src && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		name := d.Name()
		if !d.IsDir() && (name == "go.mod" || name == "go.sum" || strings.HasSuffix(name, ".go")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read lab source: %w", err)
	}
	sort.Strings(files)
	h := sha256.New()
	fmt.Fprintf(h, "ldflags %s\n", ldflags)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(src, f)
		fmt.Fprintf(h, "%s %d\n", rel, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// heartbeat prints msg() every d until stop is called, so a long silent
// step (linking, go install) still shows it is alive. stop may be called
// twice.
func heartbeat(w io.Writer, d time.Duration, msg func() string) (stop func()) {
	done := make(chan struct{})
	var once sync.Once
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintln(w, msg())
			}
		}
	}()
	return func() { once.Do(func() { close(done); <-finished }) }
}
