package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Results are one run's measurements, in results-DATE.json; Markdown
// turns them into the report.
type Results struct {
	Started time.Time     `json:"started"`
	Took    time.Duration `json:"took"`
	Quick   bool          `json:"quick"`
	Machine Machine       `json:"machine"`
	Paths   []string      `json:"paths"`
	Sizes   Sizes         `json:"sizes"`
	// Get1 and Get16 are GET one ConfigMap at concurrency 1 and 16, by path.
	Get1  map[string]*GetResult `json:"get1,omitempty"`
	Get16 map[string]*GetResult `json:"get16,omitempty"`
	// Watch are the watch delivery latencies by path.
	Watch map[string][]time.Duration `json:"watch,omitempty"`
	// List is one list of the 5,000 ConfigMaps, by path; ListRSS is
	// kubewire's memory around those lists.
	List    map[string]*ListResult `json:"list,omitempty"`
	ListRSS *RSSResult             `json:"listRSS,omitempty"`
	// Kubectl are kubectl get cm's wall times by variant.
	Kubectl         map[string][]time.Duration `json:"kubectl,omitempty"`
	KubectlVariants []string                   `json:"kubectlVariants,omitempty"`
	// Recording is kubewire's recording of the GET and watch workloads;
	// Replay is kubewire replay of it.
	Recording string        `json:"recording,omitempty"`
	Replay    *ReplayResult `json:"replay,omitempty"`
	// File is the Markdown report's path.
	File string `json:"-"`
}

// GetResult is one path's GETs over every round.
type GetResult struct {
	Latencies  []time.Duration `json:"latencies"`
	Throughput []float64       `json:"throughput"` // requests per second, one per round
}

// ListResult is one path's lists.
type ListResult struct {
	Times []time.Duration `json:"times"`
	Bytes int64           `json:"bytes"` // of the list's body
}

// RSSResult is the kubewire proxy's resident memory (bytes) before and after
// the lists; Peak is VmHWM, the most it ever held.
type RSSResult struct {
	Before, PeakBefore, After, Peak, Body int64
	Err                                   string `json:",omitempty"`
}

// Growth is how much the peak rose over the memory held before the lists.
func (r *RSSResult) Growth() int64 { return r.Peak - r.Before }

// ReplayResult is kubewire replay's runs.
type ReplayResult struct {
	Exchanges int             `json:"exchanges"`
	Bytes     int64           `json:"bytes"`
	Times     []time.Duration `json:"times"`
	PeakRSS   int64           `json:"peakRSS"` // 0 when unknown
}

func (r *Results) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	stamp := r.Started.Format("2006-01-02-150405")
	r.File = filepath.Join(dir, "results-"+stamp+".md")
	if err := os.WriteFile(r.File, []byte(r.Markdown()), 0o644); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results-"+stamp+".json"), append(data, '\n'), 0o644)
}

// columns are the table's path columns.
var columns = []struct{ path, title string }{
	{Direct, "direct"}, {Kubewire, "kubewire"}, {KubectlProxy, "kubectl proxy"}, {Mitmproxy, "mitmproxy"},
}

// row is one line of the table.
type row struct {
	workload, metric string
	cells            map[string]string
	target, verdict  string
}

// Markdown is the report: one table of medians and ratios to direct with
// kubewire's targets, then the machine and the details.
func (r *Results) Markdown() string {
	var b strings.Builder
	kind := "full run"
	if r.Quick {
		kind = "quick run: too few requests to be a measurement"
	}
	fmt.Fprintf(&b, "## kubewire benchmark, %s (%s)\n\n", r.Started.Format("2006-01-02 15:04 MST"), kind)
	var cols []string
	for _, c := range columns {
		if slices.Contains(r.Paths, c.path) {
			cols = append(cols, c.path)
		}
	}
	b.WriteString("| workload | metric |")
	for _, c := range columns {
		if slices.Contains(cols, c.path) {
			fmt.Fprintf(&b, " %s |", c.title)
		}
	}
	b.WriteString(" kubewire target | met |\n|---|---|")
	for range cols {
		b.WriteString("---:|")
	}
	b.WriteString("---|---|\n")
	for _, rw := range r.rows() {
		fmt.Fprintf(&b, "| %s | %s |", rw.workload, rw.metric)
		for _, c := range cols {
			v := rw.cells[c]
			if v == "" {
				v = "—"
			}
			fmt.Fprintf(&b, " %s |", v)
		}
		fmt.Fprintf(&b, " %s | %s |\n", orDash(rw.target), orDash(rw.verdict))
	}
	b.WriteString("\nRatios are to direct (for throughput, higher is better; for times, lower). ")
	b.WriteString("Every path ran the same Go load generator (client-go's transport) or the same kubectl, rounds alternating the order of the paths.\n\n")
	m := r.Machine
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s memory; %s; %s; Kubernetes %s (lab, etcd embedded, no KWOK nodes)", m.CPU, m.Cores, m.Memory, m.OS, m.Go, m.Kubernetes)
	if m.Mitmproxy != "" {
		fmt.Fprintf(&b, "; mitmproxy %s", m.Mitmproxy)
	}
	fmt.Fprintf(&b, "; kubewire %s. Load average %s. The run took %s.\n\n", m.Kubewire, orDash(m.Load), r.Took.Round(time.Second))
	b.WriteString(r.details())
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func (r *Results) rows() []row {
	var rows []row
	sz := r.Sizes
	if g := r.Get1; g != nil {
		d := percentile(g[Direct].Latencies, 50)
		p50 := row{workload: fmt.Sprintf("GET one ConfigMap, c=1 (%s × %d)", num(sz.Get1), sz.Rounds), metric: "p50 latency", cells: map[string]string{}, target: "added ≤ 0.5 ms"}
		thr := row{workload: p50.workload, metric: "throughput", cells: map[string]string{}}
		for name, res := range g {
			v := percentile(res.Latencies, 50)
			p50.cells[name] = ms(v)
			if name != Direct {
				p50.cells[name] += " (" + delta(v-d) + ")"
			}
			thr.cells[name] = rate(medianF(res.Throughput), medianF(g[Direct].Throughput), name)
		}
		if k := g[Kubewire]; k != nil {
			p50.verdict = verdict(percentile(k.Latencies, 50)-d <= 500*time.Microsecond)
		}
		rows = append(rows, p50, thr)
	}
	if g := r.Get16; g != nil {
		thr := row{workload: fmt.Sprintf("GET one ConfigMap, c=16 (%s × %d)", num(sz.Get16), sz.Rounds), metric: "throughput", cells: map[string]string{},
			target: "≥ 0.90× direct, ≥ 3× mitmproxy"}
		for name, res := range g {
			thr.cells[name] = rate(medianF(res.Throughput), medianF(g[Direct].Throughput), name)
		}
		if k := g[Kubewire]; k != nil {
			kr := medianF(k.Throughput) / medianF(g[Direct].Throughput)
			ok := kr >= 0.90
			thr.verdict = fmt.Sprintf("%.2f× direct", kr)
			if m := g[Mitmproxy]; m != nil {
				km := medianF(k.Throughput) / medianF(m.Throughput)
				ok = ok && km >= 3
				thr.verdict += fmt.Sprintf(", %.1f× mitmproxy", km)
			}
			thr.verdict = verdict(ok) + " (" + thr.verdict + ")"
		}
		rows = append(rows, thr)
	}
	if l := r.List; l != nil {
		body := l[Direct].Bytes
		t := row{workload: fmt.Sprintf("one LIST of %s ConfigMaps (%.1f MB), median of %d", num(sz.Objects), float64(body)/1e6, sz.Lists), metric: "time",
			cells: map[string]string{}, target: "≤ 1.15× direct"}
		d := median(l[Direct].Times)
		for name, res := range l {
			v := median(res.Times)
			t.cells[name] = ms(v)
			if name != Direct {
				t.cells[name] += fmt.Sprintf(" (%.2f×)", float64(v)/float64(d))
			}
		}
		if k := l[Kubewire]; k != nil {
			t.verdict = verdict(float64(median(k.Times)) <= 1.15*float64(d))
		}
		rows = append(rows, t)
		if rss := r.ListRSS; rss != nil {
			m := row{workload: t.workload, metric: "kubewire RSS growth (fresh proxy)", cells: map[string]string{}, target: "≤ 1.5× the body"}
			if rss.Err != "" {
				m.cells[Kubewire], m.verdict = "n/a", "n/a"
			} else {
				ratio := float64(rss.Growth()) / float64(rss.Body)
				m.cells[Kubewire] = fmt.Sprintf("%.1f MB (%.2f× body)", float64(rss.Growth())/1e6, ratio)
				m.verdict = verdict(ratio <= 1.5)
			}
			rows = append(rows, m)
		}
	}
	if k := r.Kubectl; k != nil {
		w := fmt.Sprintf("kubectl get cm (%d objects), median of %d", sz.SmallObjects, sz.KubectlRuns)
		pair := func(metric, direct, via, target string, limit float64) row {
			rw := row{workload: w, metric: metric, cells: map[string]string{Direct: ms(median(k[direct]))}, target: target}
			if k[via] != nil {
				ratio := float64(median(k[via])) / float64(median(k[direct]))
				rw.cells[Kubewire] = fmt.Sprintf("%s (%.2f×)", ms(median(k[via])), ratio)
				rw.verdict = verdict(ratio <= limit)
			}
			return rw
		}
		rows = append(rows,
			pair("warm cache; kubewire: through a running kubewire proxy", KDirectWarm, KProxy, "≤ 1.03× direct", 1.03),
			pair("fresh cache; kubewire: kubewire run -- kubectl", KDirectFresh, KRun, "≤ 1.05× direct", 1.05))
	}
	if wt := r.Watch; wt != nil {
		w := fmt.Sprintf("watch delivery, update sent → event received (%s events)", num(sz.WatchEvents))
		p50 := row{workload: w, metric: "p50", cells: map[string]string{}}
		p99 := row{workload: w, metric: "p99", cells: map[string]string{}, target: "p99 added ≤ 2 ms"}
		d50, d99 := percentile(wt[Direct], 50), percentile(wt[Direct], 99)
		for name, lat := range wt {
			v50, v99 := percentile(lat, 50), percentile(lat, 99)
			p50.cells[name], p99.cells[name] = ms(v50), ms(v99)
			if name != Direct {
				p50.cells[name] += " (" + delta(v50-d50) + ")"
				p99.cells[name] += " (" + delta(v99-d99) + ")"
			}
		}
		if k := wt[Kubewire]; k != nil {
			p99.verdict = verdict(percentile(k, 99)-d99 <= 2*time.Millisecond)
		}
		rows = append(rows, p50, p99)
	}
	if rp := r.Replay; rp != nil && len(rp.Times) > 0 {
		d := median(rp.Times)
		rw := row{workload: fmt.Sprintf("kubewire replay -d line, %s exchanges (%.1f MB), median of %d", num(rp.Exchanges), float64(rp.Bytes)/1e6, len(rp.Times)),
			metric: "exchanges/s; peak RSS", cells: map[string]string{}}
		peak := "n/a"
		if rp.PeakRSS > 0 {
			peak = fmt.Sprintf("%.0f MB", float64(rp.PeakRSS)/1e6)
		}
		rw.cells[Kubewire] = fmt.Sprintf("%s/s; %s", num(int(float64(rp.Exchanges)/d.Seconds())), peak)
		rows = append(rows, rw)
	}
	return rows
}

// details are the per-round figures behind the medians.
func (r *Results) details() string {
	var b strings.Builder
	b.WriteString("<details><summary>Per-round figures</summary>\n\n```text\n")
	for _, w := range []struct {
		name string
		g    map[string]*GetResult
	}{{"GET c=1", r.Get1}, {"GET c=16", r.Get16}} {
		for _, name := range r.Paths {
			if g := w.g[name]; g != nil {
				fmt.Fprintf(&b, "%-9s %-13s req/s per round:", w.name, name)
				for _, t := range g.Throughput {
					fmt.Fprintf(&b, " %.0f", t)
				}
				fmt.Fprintf(&b, "; p50 %s p90 %s p99 %s\n", ms(percentile(g.Latencies, 50)), ms(percentile(g.Latencies, 90)), ms(percentile(g.Latencies, 99)))
			}
		}
	}
	for _, name := range r.Paths {
		if l := r.List[name]; l != nil {
			fmt.Fprintf(&b, "LIST      %-13s %s\n", name, durations(l.Times))
		}
	}
	if rss := r.ListRSS; rss != nil {
		if rss.Err != "" {
			fmt.Fprintf(&b, "kubewire RSS: %s\n", rss.Err)
		} else {
			fmt.Fprintf(&b, "kubewire RSS: %.1f MB before the lists (peak %.1f MB so far), %.1f MB after, peak %.1f MB; body %.1f MB\n",
				mb(rss.Before), mb(rss.PeakBefore), mb(rss.After), mb(rss.Peak), mb(rss.Body))
		}
	}
	for _, v := range r.KubectlVariants {
		fmt.Fprintf(&b, "kubectl   %-27s %s\n", v, durations(r.Kubectl[v]))
	}
	for _, name := range r.Paths {
		if lat := r.Watch[name]; lat != nil {
			fmt.Fprintf(&b, "watch     %-13s p50 %s p90 %s p99 %s max %s\n", name, ms(percentile(lat, 50)), ms(percentile(lat, 90)), ms(percentile(lat, 99)), ms(percentile(lat, 100)))
		}
	}
	if rp := r.Replay; rp != nil {
		fmt.Fprintf(&b, "replay    %s\n", durations(rp.Times))
	}
	b.WriteString("```\n\n</details>\n")
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// rate is a throughput with its ratio to direct.
func rate(v, direct float64, name string) string {
	s := num(int(v+0.5)) + "/s"
	if name != Direct {
		s += fmt.Sprintf(" (%.2f×)", v/direct)
	}
	return s
}

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch a := max(v, -v); {
	case a < 10:
		return fmt.Sprintf("%.2f ms", v)
	case a < 100:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.0f ms", v)
	}
}

// delta is what a path adds to direct's figure, signed.
func delta(d time.Duration) string {
	if d < 0 {
		return "−" + ms(-d)
	}
	return "+" + ms(d)
}

func mb(n int64) float64 { return float64(n) / 1e6 }

func durations(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, ms(d))
	}
	return strings.Join(parts, ", ")
}

// num writes n with thousands separators.
func num(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
