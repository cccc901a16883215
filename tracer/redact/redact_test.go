package redact

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

const canary = "kubewire-canary-s3cr3t"

var canaryB64 = base64.StdEncoding.EncodeToString([]byte(canary))

func TestHeaders(t *testing.T) {
	h := http.Header{
		"Authorization": {"Bearer " + canary},
		"Cookie":        {"session=" + canary},
		"Accept":        {"application/json"},
	}
	got := Headers(h)
	if strings.Contains(strings.Join(got["Authorization"], "")+strings.Join(got["Cookie"], ""), canary) {
		t.Fatalf("secret left in headers: %v", got)
	}
	if got.Get("Authorization") != "Bearer REDACTED (22 bytes)" {
		t.Errorf("scheme and length should stay visible: %q", got.Get("Authorization"))
	}
	if got.Get("Accept") != "application/json" {
		t.Errorf("harmless header changed: %q", got.Get("Accept"))
	}
	if h.Get("Authorization") != "Bearer "+canary {
		t.Error("Headers must not modify its argument")
	}
}

func TestBodies(t *testing.T) {
	cases := []struct {
		name, ct, body string
		ctx            Context
		keep           []string // must survive
	}{
		{"secret object", "application/json",
			`{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"p\":\"` + canaryB64 + `\"}}"}},"data":{"p":"` + canaryB64 + `"},"stringData":{"q":"` + canary + `"},"type":"Opaque"}`,
			Context{Resource: "secrets"}, []string{`"name":"s"`, `"type":"Opaque"`}},
		{"secret list items have no kind", "application/json",
			`{"kind":"SecretList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"a"},"data":{"p":"` + canaryB64 + `"}}]}`,
			Context{Resource: "secrets"}, []string{`"name":"a"`}},
		{"watch event", "application/json",
			`{"type":"ADDED","object":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"w"},"data":{"p":"` + canaryB64 + `"}}}`,
			Context{Resource: "secrets"}, []string{`"ADDED"`}},
		{"table row with object", "application/json",
			`{"kind":"Table","apiVersion":"meta.k8s.io/v1","rows":[{"cells":["a","Opaque",1],"object":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"a"},"data":{"p":"` + canaryB64 + `"}}}]}`,
			Context{Resource: "secrets"}, []string{`"Opaque"`}},
		{"token request", "application/json",
			`{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","spec":{"audiences":["x"]},"status":{"token":"` + canary + `","expirationTimestamp":"2026-01-01T00:00:00Z"}}`,
			Context{Resource: "serviceaccounts", Subresource: "token"}, []string{"expirationTimestamp"}},
		{"token review", "application/json",
			`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"` + canary + `"}}`,
			Context{Resource: "tokenreviews"}, []string{"TokenReview"}},
		{"kubeconfig", "application/json",
			`{"kind":"Config","users":[{"name":"u","user":{"token":"` + canary + `","client-key-data":"` + canaryB64 + `"}}]}`,
			Context{}, []string{`"name":"u"`}},
		{"private key in a configmap", "application/json",
			`{"kind":"ConfigMap","data":{"k":"-----BEGIN EC PRIVATE KEY-----\n` + canary + `\n-----END EC PRIVATE KEY-----\n"}}`,
			Context{Resource: "configmaps"}, []string{"ConfigMap"}},
		{"jwt anywhere", "text/plain",
			"token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ" + canary + "IjoxfQ.c2lnbmF0dXJlc2lnbmF0dXJl\n",
			Context{}, []string{"token: "}},
		{"server-side apply YAML", "application/apply-patch+yaml",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: ycfg\nstringData:\n  p: " + canary + "\n",
			Context{Resource: "secrets"}, []string{"name: ycfg"}},
		{"secret as protobuf is dropped", "application/vnd.kubernetes.protobuf",
			"k8s\x00\n\x0c\n\x02v1\x12\x06Secret" + canary,
			Context{Resource: "secrets"}, nil},
		{"unparsable secret body is dropped", "application/json",
			`{"kind":"Secret","data":{"p":"` + canaryB64,
			Context{Resource: "secrets"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, changed := Body(tc.ct, []byte(tc.body), tc.ctx)
			if !changed {
				t.Fatalf("nothing redacted in %s", tc.body)
			}
			s := string(out)
			if strings.Contains(s, canary) || strings.Contains(s, canaryB64) {
				t.Fatalf("secret survived: %s", s)
			}
			for _, k := range tc.keep {
				if !strings.Contains(s, k) {
					t.Errorf("lost %q: %s", k, s)
				}
			}
		})
	}
}

func TestHarmlessBodiesUntouched(t *testing.T) {
	for _, tc := range []struct{ ct, body string }{
		{"application/json", `{"kind":"PodList","items":[{"metadata":{"name":"p"},"data":{"x":"y"}}]}`},
		{"application/json", `{"kind":"ConfigMap","data":{"a":"b"}}`},
		{"text/plain", "2026-11-23T10:00:00Z stdout F hello\n"},
		{"application/vnd.kubernetes.protobuf", "k8s\x00\n\x0b\n\x02v1\x12\x05Pod"},
	} {
		out, changed := Body(tc.ct, []byte(tc.body), Context{Resource: "pods"})
		if changed || string(out) != tc.body {
			t.Errorf("%s changed: %q -> %q", tc.ct, tc.body, out)
		}
	}
}
