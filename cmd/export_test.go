package cmd_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubewire/kubewire/cmd"
	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/filter"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
)

func runKubewire(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut lockedBuffer
	code = cmd.Run(context.Background(), args, cmd.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return out.String(), errOut.String(), code
}

// lockedBuffer is written by several goroutines: the live view and the
// copier of kubectl's own output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestExportSecrets: a recording made with --show-secrets is exported
// redacted unless export --show-secrets is given too.
func TestExportSecrets(t *testing.T) {
	clear := base64.StdEncoding.EncodeToString([]byte("hunter2-in-clear"))
	file := filepath.Join(t.TempDir(), "shown.jsonl")
	rec := `{"type":"header","format":"kubewire-recording","version":1,"kubewire":"test","recorded":"2026-12-01T10:00:00Z","source":{"mode":"test"},"secrets":"shown","stdin":"omitted"}
{"type":"exchange","seq":1,"start":"2026-12-01T10:00:00Z","request":{"method":"GET","url":"https://127.0.0.1:6443/api/v1/namespaces/demo/secrets/db","headers":{"Authorization":["Bearer sekrit-token-value"]}},"response":{"status":200,"headers":{"Content-Type":["application/json"]},"body":{"contentType":"application/json","bytes":120,"text":"{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"db\"},\"data\":{\"password\":\"` + clear + `\"}}"}},"timings":{"firstByteMs":1,"totalMs":2},"annotation":{}}
`
	if err := os.WriteFile(file, []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"--har", "--curl"} {
		out, errOut, code := runKubewire(t, "export", format, file)
		if code != 0 || strings.Contains(out, clear) || strings.Contains(out, "sekrit-token-value") {
			t.Errorf("export %s: exit %d, secrets in the output:\n%s\n%s", format, code, out, errOut)
		}
		if !strings.Contains(errOut, "recorded with --show-secrets") {
			t.Errorf("export %s does not say the recording held secrets: %s", format, errOut)
		}
	}
	out, _, code := runKubewire(t, "export", "--har", "--show-secrets", file)
	if code != 0 || !strings.Contains(out, clear) {
		t.Errorf("export --har --show-secrets: exit %d, the Secret's data is not there", code)
	}
	// A bad line is named FILE:LINE, and what came before is still a whole HAR.
	os.WriteFile(file, []byte(rec+"{\"type\":\"exchange\",\n"), 0o644)
	out, errOut, code := runKubewire(t, "export", "--har", file)
	if code != 1 || !strings.Contains(errOut, file+":3:") || !strings.HasSuffix(out, "]\n  }\n}\n") {
		t.Errorf("bad line: exit %d, stderr %q, output ends %q", code, errOut, out[max(0, len(out)-20):])
	}
	_, errOut, code = runKubewire(t, "export", "--har", "--filter", "namespce=demo", file)
	if code != 2 || !strings.Contains(errOut, "did you mean \"namespace\"") || !strings.Contains(errOut, "^") {
		t.Errorf("bad filter: exit %d, %s", code, errOut)
	}
}

// TestExportCurlLab records kubectl's GETs against the lab, exports them
// as curl commands and runs those with the lab's admin credentials: each
// command gets the status the recording has.
func TestExportCurlLab(t *testing.T) {
	l := labtest.Lab(t)
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is not installed (.ci/run installs it)")
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, ".config"))
	t.Setenv("KUBECONFIG", l.Kubeconfig)
	t.Setenv("PATH", l.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	rec := filepath.Join(dir, "gets.jsonl")
	for _, args := range [][]string{
		{"get", "pods", "-n", "demo"},
		{"get", "configmap", "no-such-thing", "-n", "demo"},
	} {
		runKubewire(t, append([]string{"run", "--record", rec + "." + args[1], "--", "kubectl"}, args...)...)
	}
	// One recording per command; export each and run its commands.
	var want, got []int
	for _, part := range []string{rec + ".pods", rec + ".configmap"} {
		script := filepath.Join(dir, filepath.Base(part)+".sh")
		if _, errOut, code := runKubewire(t, "export", "--curl", "--filter", "not own and method=GET", "-o", script, part); code != 0 {
			t.Fatalf("export --curl: %s", errOut)
		}
		r, err := annotate.ForRecordings().ReadFile(part)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := filter.Parse("not own and method=GET")
		for _, x := range r.Exchanges {
			if f.Match(x) {
				want = append(want, x.Response.Status)
			}
		}
		got = append(got, runScript(t, l.Kubeconfig, curl, script)...)
	}
	if len(want) < 3 || !equalInts(got, want) {
		t.Fatalf("curl got %v, the recordings have %v", got, want)
	}
	if !containsInt(want, 404) {
		t.Errorf("the recording has no 404 to reproduce: %v", want)
	}
}

// runScript runs an exported curl script with the kubeconfig's admin
// credentials in the variables it reads, and returns the status of each
// command, which curl writes out through its config file.
func runScript(t *testing.T, kubeconfig, curl, script string) []int {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	user, cluster := cfg.AuthInfos[ctx.AuthInfo], cfg.Clusters[ctx.Cluster]
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	os.WriteFile(filepath.Join(dir, ".curlrc"), []byte("write-out = \"\\n@status %{http_code}\\n\"\n"), 0o600)
	c := exec.Command("sh", script)
	c.Env = append(os.Environ(), "CURL_HOME="+dir, "PATH="+filepath.Dir(curl)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBE_CA="+write("ca.pem", cluster.CertificateAuthorityData))
	if len(user.ClientCertificateData) > 0 {
		c.Env = append(c.Env, "KUBE_CERT="+write("cert.pem", user.ClientCertificateData), "KUBE_KEY="+write("key.pem", user.ClientKeyData))
	} else {
		c.Env = append(c.Env, "TOKEN="+user.Token)
	}
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("sh %s: %v\n%s", script, err, out)
	}
	var codes []int
	for _, m := range regexp.MustCompile(`@status (\d+)`).FindAllStringSubmatch(string(out), -1) {
		n, _ := strconv.Atoi(m[1])
		codes = append(codes, n)
	}
	return codes
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func containsInt(a []int, n int) bool {
	for _, v := range a {
		if v == n {
			return true
		}
	}
	return false
}
