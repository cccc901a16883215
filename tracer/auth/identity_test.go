package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubewire/kubewire/tracer/record"
)

// testCert returns a PEM certificate for CN cn in organisations orgs.
func testCert(t *testing.T, cn string, orgs []string, notAfter time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// testJWT returns an unsigned-looking JWT with the given claims.
func testJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k"}`))
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return head + "." + base64.RawURLEncoding.EncodeToString(body) + ".c2lnbmF0dXJl"
}

func TestDescribeConfigCert(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	cert := testCert(t, "admin", []string{"system:masters"}, exp)
	for _, tc := range []struct {
		name string
		cfg  *rest.Config
	}{
		{"data", &rest.Config{TLSClientConfig: rest.TLSClientConfig{CertData: cert, KeyData: []byte("SECRET-KEY")}}},
		{"file", &rest.Config{TLSClientConfig: rest.TLSClientConfig{CertFile: writeFile(t, "admin.crt", cert)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := DescribeConfig(tc.cfg)
			if a.Method != MethodX509 || a.User != "admin" || a.Source != SourceCertificate || a.Origin != OriginKubeconfig {
				t.Errorf("got method %q user %q source %q origin %q", a.Method, a.User, a.Source, a.Origin)
			}
			if want := []string{"system:masters", "system:authenticated"}; !slices.Equal(a.Groups, want) {
				t.Errorf("groups %v, want %v", a.Groups, want)
			}
			if a.Credential == nil || !a.Credential.NotAfter.Equal(exp) || !strings.Contains(a.Credential.Issuer, "CN=admin") {
				t.Errorf("credential %+v", a.Credential)
			}
			assertNoSecret(t, a, "SECRET-KEY")
		})
	}
}

func TestDescribeConfigBadCertFile(t *testing.T) {
	a := DescribeConfig(&rest.Config{TLSClientConfig: rest.TLSClientConfig{CertFile: filepath.Join(t.TempDir(), "missing.crt")}})
	if a.Method != MethodX509 || a.User != "" || a.Credential == nil || !strings.Contains(a.Credential.Note, "missing.crt") {
		t.Errorf("got %+v %+v; want x509 with a note naming the file", a, a.Credential)
	}
}

func TestDescribeConfigTokens(t *testing.T) {
	exp := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	sa := testJWT(t, map[string]any{
		"iss": "https://kubernetes.default.svc.cluster.local",
		"sub": "system:serviceaccount:demo:builder",
		"aud": []string{"https://kubernetes.default.svc.cluster.local"},
		"exp": exp.Unix(),
		"kubernetes.io": map[string]any{
			"namespace":      "demo",
			"serviceaccount": map[string]string{"name": "builder", "uid": "u1"},
			"pod":            map[string]string{"name": "web-1", "uid": "u2"},
			"node":           map[string]string{"name": "kwok-node-0", "uid": "u3"},
		},
	})
	legacy := testJWT(t, map[string]any{
		"iss":                                    "kubernetes/serviceaccount",
		"sub":                                    "system:serviceaccount:kube-system:old",
		"kubernetes.io/serviceaccount/namespace": "kube-system",
		"kubernetes.io/serviceaccount/service-account.name": "old",
		"kubernetes.io/serviceaccount/secret.name":          "old-token-x",
	})
	oidc := testJWT(t, map[string]any{"iss": "https://idp.example", "sub": "1234", "aud": "kubernetes", "email": "ann@example.com", "exp": 1.9e9})

	a := DescribeConfig(&rest.Config{BearerToken: sa})
	if a.Method != MethodServiceAccount || a.User != "system:serviceaccount:demo:builder" || a.Source != SourceTokenClaims {
		t.Errorf("sa: method %q user %q source %q", a.Method, a.User, a.Source)
	}
	if want := []string{"system:serviceaccounts", "system:serviceaccounts:demo", "system:authenticated"}; !slices.Equal(a.Groups, want) {
		t.Errorf("sa groups %v, want %v", a.Groups, want)
	}
	c := a.Credential
	if c.ServiceAccount != "demo/builder" || !c.Expiry.Equal(exp) || !slices.Equal(c.BoundTo, []string{"node/kwok-node-0", "pod/web-1"}) ||
		!slices.Equal(c.Audience, []string{"https://kubernetes.default.svc.cluster.local"}) {
		t.Errorf("sa credential %+v", c)
	}
	assertNoSecret(t, a, sa)

	a = DescribeConfig(&rest.Config{BearerTokenFile: writeFile(t, "token", []byte(legacy+"\n"))})
	if a.Method != MethodServiceAccount || a.User != "system:serviceaccount:kube-system:old" || !slices.Equal(a.Credential.BoundTo, []string{"secret/old-token-x"}) {
		t.Errorf("legacy: %+v %+v", a, a.Credential)
	}
	assertNoSecret(t, a, legacy)

	a = DescribeConfig(&rest.Config{BearerToken: oidc})
	if a.Method != MethodOIDC || a.User != "" || a.Credential.TokenIssuer != "https://idp.example" || a.Credential.TokenSubject != "1234" ||
		!slices.Equal(a.Credential.Audience, []string{"kubernetes"}) || a.Credential.Expiry.Unix() != 1.9e9 {
		t.Errorf("oidc: %+v %+v", a, a.Credential)
	}

	a = DescribeConfig(&rest.Config{BearerToken: "abcdef.0123456789abcdef"})
	if a.Method != MethodToken || a.User != "" {
		t.Errorf("opaque: %+v", a)
	}
	assertNoSecret(t, a, "0123456789abcdef")
}

func TestDescribeConfigOthers(t *testing.T) {
	a := DescribeConfig(&rest.Config{ExecProvider: &clientcmdapi.ExecConfig{Command: "/usr/local/bin/aws", Args: []string{"eks", "get-token"}}})
	if a.Method != MethodExec || a.Credential.Plugin != "aws" {
		t.Errorf("exec: %+v %+v", a, a.Credential)
	}
	a = DescribeConfig(&rest.Config{Username: "carol", Password: "hunter2"})
	if a.Method != MethodBasic || a.User != "carol" {
		t.Errorf("basic: %+v", a)
	}
	assertNoSecret(t, a, "hunter2")
	a = DescribeConfig(&rest.Config{})
	if a.Method != MethodAnonymous || a.User != "system:anonymous" || !slices.Equal(a.Groups, []string{"system:unauthenticated"}) {
		t.Errorf("none: %+v", a)
	}
	a = DescribeConfig(&rest.Config{
		TLSClientConfig: rest.TLSClientConfig{CertData: testCert(t, "admin", nil, time.Now().Add(time.Hour))},
		Impersonate:     rest.ImpersonationConfig{UserName: "bob", Groups: []string{"dev"}},
	})
	if a.Impersonation == nil || a.Impersonation.User != "bob" || a.Impersonation.By != "admin" || !slices.Equal(a.Impersonation.Groups, []string{"dev"}) {
		t.Errorf("impersonation: %+v", a.Impersonation)
	}
}

func TestIdentify(t *testing.T) {
	kc := DescribeConfig(&rest.Config{TLSClientConfig: rest.TLSClientConfig{CertData: testCert(t, "admin", []string{"system:masters"}, time.Now().Add(time.Hour))}})

	t.Run("kubeconfig", func(t *testing.T) {
		h := http.Header{"Authorization": {"Bearer kubewire-session-placeholder"}}
		a := Identify(h, false, kc)
		if a.User != "admin" || a.Origin != OriginKubeconfig || a.Method != MethodX509 {
			t.Errorf("got %+v", a)
		}
		a.Groups[0] = "changed"
		if kc.Groups[0] != "system:masters" {
			t.Error("Identify shares Groups with the kubeconfig identity")
		}
	})
	t.Run("client bad token", func(t *testing.T) {
		a := Identify(http.Header{"Authorization": {"Bearer not-a-real-token"}}, true, kc)
		if a.Origin != OriginClient || a.Method != MethodToken || a.User != "" {
			t.Errorf("got %+v", a)
		}
		assertNoSecret(t, a, "not-a-real-token")
	})
	t.Run("client service account", func(t *testing.T) {
		tok := testJWT(t, map[string]any{"iss": "i", "sub": "system:serviceaccount:demo:default"})
		a := Identify(http.Header{"Authorization": {"Bearer " + tok}}, true, kc)
		if a.Method != MethodServiceAccount || a.User != "system:serviceaccount:demo:default" {
			t.Errorf("got %+v", a)
		}
	})
	t.Run("client service account token as a WebSocket subprotocol", func(t *testing.T) {
		tok := testJWT(t, map[string]any{"iss": "i", "sub": "system:serviceaccount:demo:web"})
		h := http.Header{"Sec-Websocket-Protocol": {"v5.channel.k8s.io, base64url.bearer.authorization.k8s.io." + base64.RawURLEncoding.EncodeToString([]byte(tok))}}
		a := Identify(h, true, kc)
		if a.Method != MethodServiceAccount || a.User != "system:serviceaccount:demo:web" || a.Credential == nil || !strings.Contains(a.Credential.Note, "subprotocol") {
			t.Errorf("got %+v %+v", a, a.Credential)
		}
		assertNoSecret(t, a, tok)
	})
	t.Run("client basic", func(t *testing.T) {
		a := Identify(http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("dave:s3cret"))}}, true, kc)
		if a.Method != MethodBasic || a.User != "dave" {
			t.Errorf("got %+v", a)
		}
		assertNoSecret(t, a, "s3cret")
	})
	t.Run("client anonymous", func(t *testing.T) {
		a := Identify(http.Header{}, true, kc)
		if a.Method != MethodAnonymous || a.User != "system:anonymous" {
			t.Errorf("got %+v", a)
		}
	})
	t.Run("impersonation", func(t *testing.T) {
		h := http.Header{
			"Impersonate-User":        {"alice"},
			"Impersonate-Group":       {"dev", "ops"},
			"Impersonate-Uid":         {"42"},
			"Impersonate-Extra-Scope": {"x"},
		}
		a := Identify(h, false, kc)
		want := &record.Impersonation{User: "alice", Groups: []string{"dev", "ops"}, UID: "42", By: "admin"}
		if got := a.Impersonation; got == nil || got.User != want.User || got.UID != want.UID || got.By != want.By || !slices.Equal(got.Groups, want.Groups) {
			t.Errorf("impersonation %+v, want %+v", got, want)
		}
		if a := Identify(http.Header{"Impersonate-Extra-Scope": {"x"}}, false, kc); a.Impersonation == nil {
			t.Error("Impersonate-Extra-* alone is impersonation too")
		}
	})
	t.Run("no kubeconfig", func(t *testing.T) {
		if a := Identify(http.Header{}, false, nil); a.Method != MethodUnknown {
			t.Errorf("got %+v", a)
		}
	})
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertNoSecret fails when secret appears anywhere in a's JSON.
func assertNoSecret(t *testing.T, a *record.Auth, secret string) {
	t.Helper()
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secret) {
		t.Errorf("the secret %q is in the identity: %s", secret, data)
	}
}
