package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/kubewire/kubewire/tracer/lab"
)

// Machine describes where the harness ran. Fields it cannot learn on this
// OS say "unknown".
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	Memory     string `json:"memory"`
	OS         string `json:"os"`
	Go         string `json:"go"`
	Kubernetes string `json:"kubernetes"`
	Mitmproxy  string `json:"mitmproxy,omitempty"`
	Kubewire   string `json:"kubewire"`
	// Load is the load average at the start and the end of the run
	// (Linux): other work on the machine skews every figure.
	Load string `json:"load,omitempty"`
}

func describe(ctx context.Context, l *lab.Lab, kubewire string, mitm bool) Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), Memory: "unknown", OS: runtime.GOOS + "/" + runtime.GOARCH,
		Go: runtime.Version(), Kubernetes: l.Version, Kubewire: "unknown"}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.CPU = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		if kb, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64); err == nil {
			m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	if v := procField("/etc/os-release", "PRETTY_NAME"); v != "" {
		m.OS = strings.Trim(v, `"`) + ", " + m.OS
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += ", kernel " + strings.TrimSpace(string(data))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, kubewire, "version", "-o", "json", "--kubeconfig", l.Kubeconfig).Output(); err == nil {
		var v struct{ Kubewire string }
		if json.Unmarshal(out, &v) == nil && v.Kubewire != "" {
			m.Kubewire = v.Kubewire
		}
	}
	if out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Kubewire += " (checkout " + strings.TrimSpace(string(out)) + ")"
	}
	if mitm {
		if out, err := exec.CommandContext(ctx, "mitmdump", "--version").Output(); err == nil {
			first, _, _ := strings.Cut(string(out), "\n")
			m.Mitmproxy = strings.TrimSpace(strings.TrimPrefix(first, "Mitmproxy:"))
		}
	}
	return m
}

// procField is the value of the first "key: value" or key=value line of a
// file, or "".
func procField(file, key string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		for _, sep := range []string{":", "="} {
			if k, v, ok := strings.Cut(line, sep); ok && strings.TrimSpace(k) == key {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}

// loadAverage is the 1, 5 and 15 minute load average (Linux), or "unknown".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}
