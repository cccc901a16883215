package kubecfg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubewire/kubewire/tracer/pki"
)

func writeTestKubeconfig(t *testing.T, server, namespace string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: server, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: "real-token"}
	cfg.Contexts["ctx"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u", Namespace: namespace}
	cfg.CurrentContext = "ctx"
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kc); err != nil {
		t.Fatal(err)
	}
	return kc
}

func TestLoadTarget(t *testing.T) {
	target, err := LoadTarget(writeTestKubeconfig(t, "https://127.0.0.1:6443", ""), "")
	if err != nil {
		t.Fatal(err)
	}
	if target.Context != "ctx" || target.Server.Host != "127.0.0.1:6443" || target.Config.BearerToken != "real-token" {
		t.Errorf("target = %+v", target)
	}
	if target.Namespace != "" {
		t.Errorf("namespace %q for a context that names none; want \"\"", target.Namespace)
	}
	if target.Session {
		t.Error("an ordinary kubeconfig was taken for a session's")
	}
	if target, err := LoadTarget(writeTestKubeconfig(t, "https://127.0.0.1:6443", "demo"), ""); err != nil || target.Namespace != "demo" {
		t.Errorf("namespace: %v, %v", target, err)
	}
	_, err = LoadTarget(writeTestKubeconfig(t, "http://127.0.0.1:8080", ""), "")
	if err == nil || !strings.Contains(err.Error(), "not https") {
		t.Errorf("plain-HTTP server: err = %v, want one saying it is not https", err)
	}
	_, err = LoadTarget(writeTestKubeconfig(t, "https://127.0.0.1:6443", ""), "nope")
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing context: err = %v, want one naming it", err)
	}
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "absent"))
	t.Setenv("HOME", t.TempDir())
	if _, err := LoadTarget("", ""); !errors.Is(err, ErrNoKubeconfig) {
		t.Errorf("no kubeconfig at all: err = %v, want ErrNoKubeconfig", err)
	}
}

// A session kubeconfig sends the client to the proxy with the placeholder
// token and kubewire's CA, and is recognised as a session's when loaded.
func TestWriteSessionRoundTrip(t *testing.T) {
	target, err := LoadTarget(writeTestKubeconfig(t, "https://127.0.0.1:6443", "demo"), "")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	token := NewSessionToken()
	s, err := WriteSession(t.TempDir(), target, "http://127.0.0.1:9999", ca, token)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	back, err := LoadTarget(s.Kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	if !back.Session || back.Config.BearerToken != token || back.Namespace != "demo" || back.Server.String() != "https://127.0.0.1:6443" {
		t.Errorf("session kubeconfig loads as %+v", back)
	}
	if strings.Contains(string(back.Config.CAData), "real-token") || back.Config.BearerToken == "real-token" {
		t.Error("the real credentials reached the session kubeconfig")
	}
	if string(back.Config.CAData) != string(ca.PEM) {
		t.Error("the session kubeconfig does not trust kubewire's CA")
	}
}

// serve's kubeconfig names its server, trusts kubewire's CA and carries
// the client certificate each context was given, 0600; the first context
// is the current one.
func TestWriteServe(t *testing.T) {
	ca, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueClient("alice", []string{"devs"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := WriteServe(path, "https://127.0.0.1:4443", ca, []ServeContext{{Name: "admin", Cert: cert}, {Name: "bob"}}); err != nil {
		t.Fatal(err)
	}
	target, err := LoadTarget(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if target.Context != "admin" || target.Server.String() != "https://127.0.0.1:4443" || string(target.Config.CAData) != string(ca.PEM) || len(target.Config.CertData) == 0 {
		t.Errorf("loads as %+v", target)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	bob, err := LoadTarget(path, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if bob.Context != "bob" || len(bob.Config.CertData) != 0 {
		t.Errorf("context bob loads as %+v, want no certificate", bob)
	}
}
