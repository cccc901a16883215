package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/lipgloss/v2"
	"go.yaml.in/yaml/v3"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/record"
)

var (
	update   = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")
	fixtures = flag.Bool("fixtures", false, "rewrite the recordings in testdata/recordings/ (see fixtures_test.go)")
)

const recordings = "testdata/recordings"

func TestMain(m *testing.M) {
	flag.Parse()
	if *fixtures {
		if err := writeFixtures(recordings); err != nil {
			fmt.Fprintln(os.Stderr, "write fixtures:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// golden compares got with testdata/<Test>/<name>.golden, or rewrites it
// with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", strings.Split(t.Name(), "/")[0], name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run go test ./render -update to create it", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (run with -update if the change is right)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// replayFile renders one recording.
func replayFile(t *testing.T, name string, o Options) string {
	t.Helper()
	f, err := os.Open(filepath.Join(recordings, name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := record.NewReader(f, name+".jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// As kubewire replay reads a file: what the recording lacks (these
	// were captured before outcomes were recorded) is worked out first.
	if err := Replay(&out, annotate.ForRecordings().Lines(rd), o); err != nil {
		t.Fatalf("replay %s: %v", name, err)
	}
	return out.String()
}

func recordingNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(recordings, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings in %s (%v); run go test ./render -fixtures", recordings, err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".jsonl"))
	}
	return names
}

// TestReplay renders every recording at every detail level.
func TestReplay(t *testing.T) {
	for _, name := range recordingNames(t) {
		for lvl := LevelLine; lvl <= LevelBodies; lvl++ {
			t.Run(fmt.Sprintf("%s/%s", name, lvl), func(t *testing.T) {
				golden(t, fmt.Sprintf("%s-%d-%s", name, lvl, lvl), replayFile(t, name, Options{Width: 100, Detail: lvl}))
			})
		}
	}
}

// TestBodyKinds checks that each kind of body is made readable, not dumped.
// The recordings are captured from the lab (see fixtures_test.go), so what
// differs from one capture to the next (generated names, resource versions,
// ages, offsets) is matched by pattern; the golden files pin the rest.
func TestBodyKinds(t *testing.T) {
	cases := []struct {
		recording string
		want      []string // substrings
		match     []string // regular expressions
		not       []string // substrings
	}{
		{"table", []string{"-o wide columns, not shown by kubectl get: IP, NODE"},
			[]string{`(?m)^ +NAME {3,}READY   STATUS    RESTARTS   AGE$`, `(?m)^ +web-[a-z0-9]+-[a-z0-9]{5}   1/1     Running   0          \d+[smh]$`},
			[]string{`"columnDefinitions"`}},
		{"protobuf", []string{"decoded from protobuf", `"kind": "PodList"`, `"kind": "Pod"`, "PodList: 2 items"},
			[]string{`"name": "web-[a-z0-9]+-[a-z0-9]{5}"`, `"kind": "ReplicaSet"`, `Pod demo/web-[a-z0-9]+-[a-z0-9]{5} \(resourceVersion \d+\)`}, []string{"k8s\\u0000"}},
		{"protobuf-unknown", []string{"example.kubewire.dev/v1, kind Widget", "kind Widget (5 B): not a kind kubewire"}, nil, []string{"k8s\\u0000"}},
		{"watch-json", []string{"configmaps (table row) demo/watched", "3 events: 1 ADDED, 1 MODIFIED, 1 DELETED"},
			[]string{`⇣ \+\d+\.\d{3}s  ADDED     configmaps \(table row\) demo/watched  rv \d+`, `MODIFIED  configmaps \(table row\) demo/watched  rv \d+`,
				`DELETED   configmaps \(table row\) demo/watched  rv \d+`}, nil},
		{"watch-protobuf", []string{"ConfigMap demo/kube-root-ca.crt", "Status Failure Timeout (504): Timeout: Too large resource version: 99999999",
			"1 event: 1 ERROR"},
			[]string{`BOOKMARK  resourceVersion \d+`, `ADDED     ConfigMap demo/watched-pb  rv \d+`, `MODIFIED  ConfigMap demo/watched-pb  rv \d+`,
				`DELETED   ConfigMap demo/watched-pb  rv \d+`, `\d+ events: 2 ADDED, 1 MODIFIED, 1 DELETED, \d+ BOOKMARKs?`}, nil},
		{"exec", []string{"⇅ websocket", "⇅ spdy", "↑ open stdout", "↓ close stderr", `{"status":"Success"}`, "8 events: 3 close, 2 data, 3 open"},
			[]string{`(?m)^#\d+  ⇣ \+\d\.\d{3}s  ↓ stdout  16 B\n      hello from exec$`}, []string{"binary"}},
		{"status", []string{"Status Failure  NotFound (404)", "Status Failure  Invalid (422)", "cause FieldValueInvalid spec.replicas:", "AlreadyExists (409)"}, nil, nil},
		{"discovery", []string{"discovery (aggregated): 1 group, 1 version,", "discovery: the core group (/api), versions v1",
			"discovery: apps/v1, 5 resources, 7 subresources"},
			[]string{`discovery \(aggregated\): \d\d groups, \d\d versions, \d+ resources, \d+ subresources`, `discovery: \d\d groups, \d\d group versions`,
				`openapi v3 index: \d\d group versions`, `openapi v3 version: \d+ paths?, \d+ schemas?`},
			// kubewire's own calls (flow schemas, its own discovery) are in
			// this recording, and hidden.
			[]string{"v1/flowschemas", "timeout=30s", SymOwn}},
		{"create", []string{"request body  application/vnd.kubernetes.protobuf", "decoded from protobuf", "Deployment demo/web",
			`"image": "nginx:1.27"`, "managedFields hidden: 1 managedFields entry"}, nil, []string{"f:metadata"}},
	}
	for _, c := range cases {
		t.Run(c.recording, func(t *testing.T) {
			got := replayFile(t, c.recording, Options{Width: 100, Detail: LevelBodies})
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, m := range c.match {
				if !regexp.MustCompile(m).MatchString(got) {
					t.Errorf("output matches no %q:\n%s", m, got)
				}
			}
			for _, n := range c.not {
				if strings.Contains(got, n) {
					t.Errorf("output has %q, which should have been decoded, folded or hidden:\n%s", n, got)
				}
			}
		})
	}
}

// TestPipedHasNoEscapes renders to a pipe, as `kubewire replay | less`
// would: options chosen for a pipe must give plain text, even with a
// colour-loving environment, and NO_COLOR must win over a forced colour.
func TestPipedHasNoEscapes(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	o := optionsFor(w, []string{"TERM=xterm-256color", "COLORTERM=truecolor"})
	if o.Color {
		t.Fatal("colour chosen for a pipe")
	}
	if forced := optionsFor(w, []string{"TERM=xterm-256color", "CLICOLOR_FORCE=1"}); !forced.Color {
		t.Fatal("CLICOLOR_FORCE=1 did not turn colour on: the test below would prove nothing")
	}
	if no := optionsFor(w, []string{"TERM=xterm-256color", "CLICOLOR_FORCE=1", "NO_COLOR=yes"}); no.Color {
		t.Fatal("NO_COLOR=yes did not turn colour off")
	}
	for _, name := range recordingNames(t) {
		for lvl := LevelLine; lvl <= LevelBodies; lvl++ {
			o.Detail = lvl
			if out := replayFile(t, name, o); strings.Contains(out, "\x1b") {
				t.Errorf("%s at detail %d: piped output has escape codes:\n%q", name, lvl, out)
			}
			colored := o
			colored.Color = true
			if out := replayFile(t, name, colored); !strings.Contains(out, "\x1b[") {
				t.Errorf("%s at detail %d: colour output has no escape codes", name, lvl)
			}
		}
	}
	var legend bytes.Buffer
	if err := Legend(&legend, o); err != nil || strings.Contains(legend.String(), "\x1b") {
		t.Errorf("legend for a pipe: err %v, escapes %v", err, strings.Contains(legend.String(), "\x1b"))
	}
}

// TestWidths renders the same calls at 60, 100 and 160 columns; no line may
// pass the width.
func TestWidths(t *testing.T) {
	for _, width := range []int{60, 100, 160} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			var all strings.Builder
			for _, name := range recordingNames(t) {
				for lvl := LevelLine; lvl <= LevelBodies; lvl++ {
					out := replayFile(t, name, Options{Width: width, Detail: lvl})
					for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
						if w := lipgloss.Width(l); w > width {
							t.Errorf("%s detail %d line %d is %d columns wide, more than %d:\n%s", name, lvl, i+1, w, width, l)
						}
					}
					if lvl == LevelJourney && (name == "create" || name == "denied" || name == "table" || name == "watch-json") {
						all.WriteString(out)
					}
				}
			}
			golden(t, fmt.Sprint(width), all.String())
		})
	}
}

// TestColorGolden pins the styled output, so a change of colours shows.
func TestColorGolden(t *testing.T) {
	out := replayFile(t, "denied", Options{Color: true, Width: 100, Detail: LevelJourney})
	golden(t, "denied-journey", strings.ReplaceAll(out, "\x1b", "␛"))
}

// TestLiveConcurrent puts exchanges from many goroutines, as parallel
// discovery calls arrive: each call's block must come out whole.
func TestLiveConcurrent(t *testing.T) {
	var out bytes.Buffer
	l := NewLive(&out, Options{Width: 100, Detail: LevelHeaders})
	var wg sync.WaitGroup
	const n = 40
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func(seq int64) {
			defer wg.Done()
			x := &record.Exchange{Seq: seq, Start: time.Unix(0, 0).Add(time.Duration(seq) * time.Millisecond),
				Request:    record.Request{Method: "GET", URL: fmt.Sprintf("https://127.0.0.1:6443/apis/g%d.example/v1", seq), Proto: "HTTP/1.1"},
				Response:   &record.Response{Status: 200, Proto: "HTTP/2.0"},
				Annotation: record.Annotation{Kind: "discovery", Verb: "get", Path: fmt.Sprintf("/apis/g%d.example/v1", seq)}}
			l.Put(record.Line{Type: record.TypeExchange, Exchange: x, Seq: seq})
		}(int64(i))
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	// Each call is its line, the (unknown) journey, the request line and
	// the response line.
	const per = 4
	if len(lines) != per*n {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), per*n, out.String())
	}
	path := regexp.MustCompile(`/apis/g\d+\.example/v1`)
	for i := 0; i < len(lines); i += per {
		var n int
		if _, err := fmt.Sscanf(lines[i], "#%d", &n); err != nil || n != i/per+1 {
			t.Fatalf("line %d does not start call #%d: %q", i+1, i/per+1, lines[i])
		}
		if want := path.FindString(lines[i]); want == "" || !strings.Contains(lines[i+2], want) {
			t.Errorf("call #%d (%s) is interleaved with another: %q", n, want, lines[i+2])
		}
	}
}

// TestReplayBadLine shows everything before a malformed line, then the
// reader's FILE:LINE error.
func TestReplayBadLine(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(recordings, "status.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	// The file starts with a call, then holds another: shown as #1 and #2.
	var first, next int64
	for i, l := range lines[1:] {
		var line struct {
			Type string `json:"type"`
			Seq  int64  `json:"seq"`
		}
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatal(err)
		}
		if line.Type == string(record.TypeExchange) {
			if i > 0 {
				next = line.Seq
				break
			}
			first = line.Seq
		}
	}
	if first == 0 || next == 0 {
		t.Fatal("status.jsonl must start with an exchange and hold another")
	}
	broken := lines[0] + lines[1] + "{\"type\":\"exchange\",\"seq\":\n" + strings.Join(lines[2:], "")
	rd, err := record.NewReader(strings.NewReader(broken), "broken.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = Replay(&out, rd, Options{Width: 100})
	if err == nil || !strings.HasPrefix(err.Error(), "broken.jsonl:3:") {
		t.Fatalf("error %v, want one naming broken.jsonl:3", err)
	}
	if !strings.HasPrefix(out.String(), "#1 ") || strings.Contains(out.String(), "#2 ") {
		t.Errorf("want call #1 shown and nothing after the bad line (#2 on); got:\n%s", out.String())
	}
}

// TestMachineOutput: -o json and -o yaml are plain data, never styled, and
// hold the stream's events.
func TestMachineOutput(t *testing.T) {
	rec, err := annotate.ForRecordings().ReadFile(filepath.Join(recordings, "watch-json.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"json", "yaml"} {
		var out bytes.Buffer
		if err := WriteMachine(&out, rec.Exchanges, format); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "\x1b") {
			t.Errorf("%s output has escape codes", format)
		}
		var got []map[string]any
		if format == "json" {
			err = json.Unmarshal(out.Bytes(), &got)
		} else {
			err = yaml.Unmarshal(out.Bytes(), &got)
		}
		if err != nil {
			t.Fatalf("%s output does not parse: %v", format, err)
		}
		// kubectl get -w lists, then watches: the list has no events, the
		// watch has ADDED, MODIFIED and DELETED.
		if len(got) != 2 || got[0]["events"] != nil {
			t.Fatalf("%s output: want 2 exchanges, the first without events, got %.500v", format, got)
		}
		if events, _ := got[1]["events"].([]any); len(events) != 3 {
			t.Errorf("%s output: want a watch with 3 events, got %.500v", format, got[1])
		}
	}
	if err := WriteMachine(&bytes.Buffer{}, nil, "toml"); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestParseLevel accepts numbers and names and names the bad value.
func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Level{"0": LevelLine, "journey": LevelJourney, "Headers": LevelHeaders, "3": LevelBodies} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"4", "-1", "loud"} {
		if _, err := ParseLevel(in); err == nil || !strings.Contains(err.Error(), in) {
			t.Errorf("ParseLevel(%q) error %v, want one naming it", in, err)
		}
	}
}

// TestExplainStyle keeps explain in the same look, and plain when asked.
func TestExplainStyle(t *testing.T) {
	var out bytes.Buffer
	a := record.Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, APIGroup: "apps", APIVersion: "v1beta1",
		Stability: "beta", Resource: "deployments", Namespace: "demo", Scope: "Namespaced", ScopeSource: "builtin"}
	if err := Explain(&out, "GET", "/apis/apps/v1beta1/namespaces/demo/deployments", a, Options{Width: 60}); err != nil {
		t.Fatal(err)
	}
	golden(t, "list-beta", out.String())
}
