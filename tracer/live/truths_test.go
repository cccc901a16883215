package live

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
)

// An API server that refuses connections: kubectl is told why, and so is
// the user, on kubewire's line and once on stderr.
func TestUnreachableServerSaysWhy(t *testing.T) {
	l := labtest.Lab(t)
	cfg, err := clientcmd.LoadFromFile(l.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://127.0.0.1:1" // nothing listens on port 1
	}
	kc := filepath.Join(t.TempDir(), "closed.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kc); err != nil {
		t.Fatal(err)
	}
	var view, out bytes.Buffer
	errOut := &syncBuffer{} // kubectl's stderr and kubewire's, as on a terminal
	code, err := Run(context.Background(), Options{Kubeconfig: kc, View: render.NewLive(&view, render.Options{Width: 200}), Version: "test",
		CADir: filepath.Join(t.TempDir(), "ca"), ErrOut: errOut}, []string{l.Kubectl, "get", "namespaces"}, nil, &out, errOut)
	if err != nil || code != 1 {
		t.Fatalf("kubectl should fail: code %d, %v", code, err)
	}
	const why = "kubewire could not reach the API server at 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused"
	if !strings.Contains(errOut.String(), `an error on the server ("`+why+`")`) {
		t.Errorf("kubectl should print why:\n%s", errOut.String())
	}
	if n := strings.Count(errOut.String(), "kubewire: proxy: "+why); n != 1 {
		t.Errorf("kubewire should say why once on stderr, said it %d times:\n%s", n, errOut.String())
	}
	if !strings.Contains(view.String(), "✗ 502 from kubewire  upstream: connection refused") {
		t.Errorf("kubewire's own line should say why:\n%s", view.String())
	}
}

// A kubeconfig user that is an exec credential plugin is traced as the
// user the plugin's credential names, and the plugin is named.
func TestExecPluginIdentity(t *testing.T) {
	l := labtest.Lab(t)
	cfg, err := clientcmd.LoadFromFile(l.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	admin := cfg.AuthInfos[cfg.Contexts["admin"].AuthInfo]
	// The plugin hands out the lab admin's client certificate, as a cloud
	// provider's plugin hands out short-lived ones.
	dir := t.TempDir()
	plugin := filepath.Join(dir, "lab-credential")
	cred := fmt.Sprintf(`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":%q,"clientKeyData":%q}}`,
		admin.ClientCertificateData, admin.ClientKeyData)
	script := "#!/bin/sh\necho '" + base64.StdEncoding.EncodeToString([]byte(cred)) + "' | base64 -d\n"
	if err := os.WriteFile(plugin, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg.AuthInfos["plugin"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
		APIVersion: "client.authentication.k8s.io/v1", Command: plugin, InteractiveMode: clientcmdapi.NeverExecInteractiveMode}}
	cfg.Contexts["plugin"] = &clientcmdapi.Context{Cluster: cfg.Contexts["admin"].Cluster, AuthInfo: "plugin"}
	cfg.CurrentContext = "plugin"
	kc := filepath.Join(dir, "plugin.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kc); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "s.jsonl")
	var out, errOut bytes.Buffer
	code, err := Run(context.Background(), Options{Kubeconfig: kc, Recordings: []Recording{{Flag: "--record", Path: rec}}, Version: "test",
		CADir: filepath.Join(dir, "ca"), AuditLog: l.AuditLog, ErrOut: &errOut}, []string{l.Kubectl, "get", "namespaces"}, nil, &out, &errOut)
	if err != nil || code != 0 {
		t.Fatalf("kubectl through kubewire with an exec plugin: code %d, %v\n%s", code, err, errOut.String())
	}
	r, err := annotate.ForRecordings().ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(rec)
	if bytes.Contains(raw, admin.ClientKeyData) || bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(admin.ClientKeyData))) {
		t.Error("the plugin's key reached the recording")
	}
	for _, x := range r.Exchanges {
		if x.Own || x.Annotation.Verb != "list" {
			continue
		}
		a := x.Annotation.Auth
		if a.Method != "exec" || a.User != "kubewire-admin" || a.Credential == nil || a.Credential.Plugin != "lab-credential" ||
			!strings.Contains(a.Credential.Note, "client certificate from the exec plugin lab-credential") {
			t.Errorf("identity %+v, credential %+v", a, a.Credential)
		}
		if a.Audit == nil || a.Audit.User != "kubewire-admin" {
			t.Errorf("the API server's audit log should agree: %+v", a.Audit)
		}
		return
	}
	t.Fatalf("no list in the recording: %q", verbs(r))
}
