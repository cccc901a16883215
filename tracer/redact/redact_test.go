package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubewire/kubewire/tracer/codec"
)

const canary = "kubewire-canary-s3cr3t"

var canaryB64 = base64.StdEncoding.EncodeToString([]byte(canary))

// applied is what kubectl apply keeps in the last-applied annotation of a
// Secret, as a JSON string inside JSON.
var applied = jsonString(`{"apiVersion":"v1","data":{"p":"` + canaryB64 + `"},"kind":"Secret","metadata":{"annotations":{},"name":"s","namespace":"demo"},"stringData":{"q":"` + canary + `"}}` + "\n")

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

var secrets = Context{Resource: "secrets"}

// mustRedact redacts and checks what holds for every secret-bearing body:
// something changed, no form of the canary is left, each keep survives,
// and redacting again changes nothing.
func mustRedact(t *testing.T, ct, body string, c Context, keep ...string) string {
	t.Helper()
	out, changed := Body(ct, []byte(body), c)
	if !changed {
		t.Fatalf("nothing redacted in %s", body)
	}
	s := string(out)
	for _, secret := range []string{canary, canaryB64} {
		if strings.Contains(s, secret) {
			t.Fatalf("secret %q survived:\n%s", secret, s)
		}
	}
	for _, k := range keep {
		if !strings.Contains(s, k) {
			t.Errorf("lost %q:\n%s", k, s)
		}
	}
	again, changedAgain := Body(ct, out, c)
	if changedAgain || !bytes.Equal(again, out) {
		t.Errorf("redacting twice changed the body:\n%s\n%s", out, again)
	}
	return s
}

func TestSecretObjects(t *testing.T) {
	cases := []struct {
		name, body string
		c          Context
		keep       []string
	}{
		{"secret, its last-applied annotation kept as JSON with its keys",
			`{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","annotations":{"kubectl.kubernetes.io/last-applied-configuration":` + applied + `}},"data":{"p":"` + canaryB64 + `"},"stringData":{"q":"` + canary + `"},"type":"Opaque"}`,
			secrets, []string{`"name":"s"`, `"type":"Opaque"`, `"p":"REDACTED (32 bytes)"`, `"q":"REDACTED (22 bytes)"`,
				`\"p\":\"REDACTED (32 bytes)\"`, `\"kind\":\"Secret\"`}},
		{"list items have no kind",
			`{"kind":"SecretList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"a"},"data":{"p":"` + canaryB64 + `"}}]}`,
			secrets, []string{`"name":"a"`, `"p":"REDACTED (32 bytes)"`}},
		{"a kind List of mixed objects",
			`{"kind":"List","apiVersion":"v1","items":[{"kind":"ConfigMap","data":{"a":"b"}},{"kind":"Secret","data":{"p":"` + canaryB64 + `"}}]}`,
			Context{}, []string{`"a":"b"`}},
		{"watch event",
			`{"type":"MODIFIED","object":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"w"},"data":{"p":"` + canaryB64 + `"}}}`,
			secrets, []string{`"MODIFIED"`, `"name":"w"`}},
		{"table rows of PartialObjectMetadata (kubectl get secrets)",
			`{"kind":"Table","apiVersion":"meta.k8s.io/v1","columnDefinitions":[{"name":"Name"}],"rows":[{"cells":["s","Opaque",2,"5s"],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"s","annotations":{"kubectl.kubernetes.io/last-applied-configuration":` + applied + `}}}}]}`,
			secrets, []string{`"cells":["s","Opaque",2,"5s"]`, `PartialObjectMetadata`}},
		{"the same rows seen from any resource",
			`{"kind":"Table","apiVersion":"meta.k8s.io/v1","rows":[{"cells":["s"],"object":{"kind":"PartialObjectMetadata","metadata":{"name":"s","annotations":{"kubectl.kubernetes.io/last-applied-configuration":` + applied + `}}}}]}`,
			Context{}, []string{`PartialObjectMetadata`}},
		{"table watch event (kubectl get secrets -w)",
			`{"type":"ADDED","object":{"kind":"Table","apiVersion":"meta.k8s.io/v1","rows":[{"cells":["s"],"object":{"kind":"PartialObjectMetadata","metadata":{"name":"s","annotations":{"kubectl.kubernetes.io/last-applied-configuration":` + applied + `}}}}]}}`,
			secrets, []string{`"ADDED"`}},
		{"table rows with whole objects (includeObject=Object)",
			`{"kind":"Table","apiVersion":"meta.k8s.io/v1","rows":[{"cells":["a"],"object":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"a"},"data":{"p":"` + canaryB64 + `"}}}]}`,
			secrets, []string{`"cells":["a"]`}},
		{"any object whose applied configuration is a Secret",
			`{"kind":"Widget","apiVersion":"example.dev/v1","metadata":{"name":"w","annotations":{"kubectl.kubernetes.io/last-applied-configuration":` + applied + `}}}`,
			Context{Resource: "widgets"}, []string{`"kind":"Widget"`}},
		{"an unreadable applied configuration of a Secret is marked whole",
			`{"kind":"Secret","metadata":{"name":"x","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"p\":\"` + canaryB64 + `\""}}}`,
			secrets, []string{`"kubectl.kubernetes.io/last-applied-configuration":"REDACTED (`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { mustRedact(t, "application/json", tc.body, tc.c, tc.keep...) })
	}
}

func TestPatchesOfSecrets(t *testing.T) {
	cases := []struct {
		name, ct, body string
		keep           []string
	}{
		{"strategic merge patch: no kind, no metadata", "application/strategic-merge-patch+json",
			`{"stringData":{"k":"` + canary + `"}}`, []string{`{"stringData":{"k":"REDACTED (22 bytes)"}}`}},
		{"merge patch with the annotation kubectl apply sends", "application/merge-patch+json",
			`{"data":{"p":"` + canaryB64 + `"},"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":` + applied + `}}}`,
			[]string{`"data":{"p":"REDACTED (32 bytes)"}`}},
		{"JSON Patch", "application/json-patch+json",
			`[{"op":"add","path":"/data/k","value":"` + canaryB64 + `"},` +
				`{"op":"replace","path":"/data","value":{"a":"` + canaryB64 + `","b":null}},` +
				`{"op":"test","path":"/stringData/x","value":"` + canary + `"},` +
				`{"op":"add","path":"/metadata/labels/app","value":"web"},` +
				`{"op":"replace","path":"/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration","value":` + applied + `},` +
				`{"op":"remove","path":"/data/old"}]`,
			[]string{`{"op":"add","path":"/data/k","value":"REDACTED (32 bytes)"}`, `"value":{"a":"REDACTED (32 bytes)","b":null}`,
				`{"op":"add","path":"/metadata/labels/app","value":"web"}`, `{"op":"remove","path":"/data/old"}`}},
		{"JSON Patch replacing the whole object", "application/json-patch+json",
			`[{"op":"replace","path":"","value":{"kind":"Secret","metadata":{"name":"s"},"data":{"p":"` + canaryB64 + `"}}}]`,
			[]string{`"name":"s"`}},
		{"server-side apply YAML keeps comments and order", "application/apply-patch+yaml",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: ycfg # the name\nstringData:\n  p: " + canary + "\ndata:\n  q: " + canaryB64 + "\n",
			[]string{"apiVersion: v1\nkind: Secret\nmetadata:\n  name: ycfg # the name\nstringData:\n  p: REDACTED (22 bytes)\ndata:\n  q: REDACTED (32 bytes)\n"}},
		{"apply YAML without a kind", "application/apply-patch+yaml",
			"stringData:\n  p: " + canary + "\n", []string{"p: REDACTED (22 bytes)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { mustRedact(t, tc.ct, tc.body, secrets, tc.keep...) })
	}
	t.Run("a patch of a configmap is left alone", func(t *testing.T) {
		for _, body := range []string{`{"data":{"k":"v"}}`, `[{"op":"add","path":"/data/k","value":"v"}]`} {
			if out, changed := Body("application/json-patch+json", []byte(body), Context{Resource: "configmaps"}); changed || string(out) != body {
				t.Errorf("%s became %s", body, out)
			}
		}
	})
}

func TestTokensKeysAndKubeconfigs(t *testing.T) {
	pem := "-----BEGIN EC PRIVATE KEY-----\n" + canary + "\n-----END EC PRIVATE KEY-----\n"
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ" + canary + "IjoxfQ.c2lnbmF0dXJlc2lnbmF0dXJl"
	kubeconfigYAML := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://x\nusers:\n- name: u\n  user:\n    token: " + canary + "\n"
	cases := []struct {
		name, ct, body string
		c              Context
		keep           []string
	}{
		{"token request", "application/json",
			`{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","spec":{"audiences":["x"]},"status":{"token":"` + canary + `","expirationTimestamp":"2026-01-01T00:00:00Z"}}`,
			Context{Resource: "serviceaccounts", Subresource: "token"}, []string{"expirationTimestamp", `"token":"REDACTED (22 bytes)"`}},
		{"token review", "application/json",
			`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"` + canary + `"}}`,
			Context{Resource: "tokenreviews"}, []string{"TokenReview"}},
		{"kubeconfig", "application/json",
			`{"kind":"Config","users":[{"name":"u","user":{"token":"` + canary + `","client-key-data":"` + canaryB64 + `","client-certificate-data":"Y2VydA==","auth-provider":{"config":{"id-token":"` + canary + `","refresh-token":"` + canary + `","client-id":"app"}}}}]}`,
			Context{}, []string{`"name":"u"`, `"client-certificate-data":"Y2VydA=="`, `"client-id":"app"`}},
		{"a kubeconfig kept in a configmap", "application/json",
			`{"kind":"ConfigMap","data":{"config":` + jsonString(kubeconfigYAML) + `}}`,
			Context{Resource: "configmaps"}, []string{"server: https://x", "token: REDACTED (22 bytes)"}},
		{"a private key in a configmap", "application/json",
			`{"kind":"ConfigMap","data":{"k":` + jsonString(pem) + `}}`,
			Context{Resource: "configmaps"}, []string{"REDACTED PRIVATE KEY"}},
		{"a private key in base64", "application/json",
			`{"kind":"ConfigMap","binaryData":{"k":"` + base64.StdEncoding.EncodeToString([]byte(pem)) + `"}}`,
			Context{Resource: "configmaps"}, []string{"REDACTED PRIVATE KEY"}},
		{"a password in a container's env", "application/json",
			`{"kind":"Deployment","spec":{"template":{"spec":{"containers":[{"name":"db","env":[{"name":"MODE","value":"prod"},{"name":"DB_PASSWORD","value":"` + canary + `"}]}]}}}}`,
			Context{Resource: "deployments"}, []string{`{"name":"MODE","value":"prod"}`, `{"name":"DB_PASSWORD","value":"REDACTED (22 bytes)"}`}},
		{"a JWT anywhere in text", "text/plain",
			"token: " + jwt + "\n", Context{}, []string{"token: REDACTED JWT ("}},
		{"an Authorization header in a log", "text/plain",
			"> Authorization: Bearer " + canary + "\n", Context{Resource: "pods", Subresource: "log"}, []string{"> Authorization: Bearer REDACTED (22 bytes)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { mustRedact(t, tc.ct, tc.body, tc.c, tc.keep...) })
	}
}

func secretObject(name string) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "demo", Labels: map[string]string{"app": "web"},
			Annotations: map[string]string{lastApplied: `{"kind":"Secret","data":{"p":"` + canaryB64 + `"}}`}},
		Data: map[string][]byte{"p": []byte(canary)}, Type: corev1.SecretTypeOpaque,
	}
	s.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return s
}

func TestProtobuf(t *testing.T) {
	obj, err := codec.Encode(secretObject("s"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, out []byte) *corev1.Secret {
		t.Helper()
		if bytes.Contains(out, []byte(canary)) || bytes.Contains(out, []byte(canaryB64)) {
			t.Fatal("secret survived")
		}
		got, err := codec.Decode(out)
		if err != nil {
			t.Fatalf("redacted protobuf does not decode: %v", err)
		}
		s := got.(*corev1.Secret)
		if s.Name != "s" || s.Labels["app"] != "web" || s.Type != corev1.SecretTypeOpaque {
			t.Errorf("lost the shape: %+v", s.ObjectMeta)
		}
		if string(s.Data["p"]) != marker(len(canaryB64)) {
			t.Errorf("data p = %q, want the marker", s.Data["p"])
		}
		if !strings.Contains(s.Annotations[lastApplied], `"p":"REDACTED (32 bytes)"`) {
			t.Errorf("annotation %q", s.Annotations[lastApplied])
		}
		return s
	}
	t.Run("object", func(t *testing.T) {
		out, changed := Body(codec.MediaType, obj, secrets)
		if !changed {
			t.Fatal("nothing redacted")
		}
		check(t, out)
	})
	t.Run("watch frame", func(t *testing.T) {
		ev := metav1.WatchEvent{Type: "ADDED", Object: runtime.RawExtension{Raw: obj}}
		frame, _ := ev.Marshal()
		out, changed := Body(codec.MediaType+";stream=watch", frame, secrets)
		if !changed {
			t.Fatal("nothing redacted")
		}
		f, err := codec.DecodeFrame(out)
		if err != nil || f.Type != "ADDED" {
			t.Fatalf("frame %v %v", f, err)
		}
		check(t, f.Object.Raw)
	})
	t.Run("a harmless object is kept byte for byte", func(t *testing.T) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"token": "is a word here"}}
		cm.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
		data, _ := codec.Encode(cm)
		// "token" makes the redactor look; the key rule marks it.
		out, _ := Body(codec.MediaType, data, Context{Resource: "configmaps"})
		got, err := codec.Decode(out)
		if err != nil || got.(*corev1.ConfigMap).Name != "c" {
			t.Fatalf("%v %v", got, err)
		}
		plain := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"a": "b"}}
		plain.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
		data, _ = codec.Encode(plain)
		if out, changed := Body(codec.MediaType, data, Context{Resource: "configmaps"}); changed || !bytes.Equal(out, data) {
			t.Error("a configmap without secrets changed")
		}
	})
	t.Run("an unknown kind that may hold a secret is dropped", func(t *testing.T) {
		unk := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: "example.dev/v1", Kind: "SecretStore"}, Raw: []byte(canary)}
		raw, _ := unk.Marshal()
		out, changed := Body(codec.MediaType, append(append([]byte(nil), codec.Magic...), raw...), Context{Resource: "secretstores"})
		if !changed || out != nil {
			t.Fatalf("kept %q", out)
		}
	})
}

func TestUnreadableSecretBodiesAreDropped(t *testing.T) {
	for _, body := range []string{`{"kind":"Secret","data":{"p":"` + canaryB64, "not json " + canary} {
		out, changed := Body("application/json", []byte(body), secrets)
		if !changed || out != nil {
			t.Errorf("%q kept as %q", body, out)
		}
	}
	// Cut short in another resource's body, an escaped Secret is still
	// noticed.
	cut := `{"kind":"List","items":[{"kind":"Widget","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"kind\":\"Secret\",\"data\":{\"p\":\"` + canaryB64
	if out, changed := Body("application/json", []byte(cut), Context{}); !changed || out != nil {
		t.Errorf("kept %q", out)
	}
}

func TestHarmlessBodiesUntouched(t *testing.T) {
	for _, tc := range []struct{ ct, body string }{
		{"application/json", `{"kind":"PodList","items":[{"metadata":{"name":"p"},"data":{"x":"y"}}]}`},
		{"application/json", `{"kind":"ConfigMap","data":{"a":"b"}}`},
		{"application/json", `{"kind":"Pod","spec":{"volumes":[{"name":"t","projected":{"sources":[{"serviceAccountToken":{"path":"token","expirationSeconds":3607}}]}},{"name":"s","secret":{"secretName":"db"}}]}}`},
		{"text/plain", "2026-11-23T10:00:00Z stdout F hello\n"},
		{"application/vnd.kubernetes.protobuf", "k8s\x00\n\x0b\n\x02v1\x12\x05Pod"},
	} {
		out, changed := Body(tc.ct, []byte(tc.body), Context{Resource: "pods"})
		if changed || string(out) != tc.body {
			t.Errorf("%s changed: %q -> %q", tc.ct, tc.body, out)
		}
	}
}

func TestKeyOrderIsKept(t *testing.T) {
	body := `{"zeta":1,"kind":"Secret","alpha":{"b":2,"a":[3,"x"]},"data":{"z":"` + canaryB64 + `","a":"` + canaryB64 + `"},"n":1.50,"u":"\u003c"}`
	got := mustRedact(t, "application/json", body, secrets)
	want := `{"zeta":1,"kind":"Secret","alpha":{"b":2,"a":[3,"x"]},"data":{"z":"REDACTED (32 bytes)","a":"REDACTED (32 bytes)"},"n":1.50,"u":"<"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestHeaders(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ" + canary + "IjoxfQ.c2lnbmF0dXJlc2lnbmF0dXJl"
	h := http.Header{
		"Authorization":          {"Bearer " + canary},
		"Cookie":                 {"session=" + canary},
		"X-Auth-Token":           {canary},
		"Sec-Websocket-Protocol": {"v5.channel.k8s.io, base64url.bearer.authorization.k8s.io." + canary},
		"X-Custom":               {"seen " + jwt},
		"Accept":                 {"application/json"},
		"Sec-Websocket-Key":      {"dGhlIHNhbXBsZSBub25jZQ=="},
	}
	got := Headers(h)
	for k, v := range got {
		if strings.Contains(strings.Join(v, ""), canary) {
			t.Errorf("secret left in %s: %v", k, v)
		}
	}
	for k, want := range map[string]string{
		"Authorization":          "Bearer REDACTED (22 bytes)",
		"X-Auth-Token":           "REDACTED (22 bytes)",
		"Sec-Websocket-Protocol": "v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.REDACTED (22 bytes)",
		"Accept":                 "application/json",
		"Sec-Websocket-Key":      "dGhlIHNhbXBsZSBub25jZQ==",
	} {
		if got.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, got.Get(k), want)
		}
	}
	if h.Get("Authorization") != "Bearer "+canary {
		t.Error("Headers must not modify its argument")
	}
	if again := Headers(got); again.Get("Authorization") != got.Get("Authorization") || again.Get("Sec-Websocket-Protocol") != got.Get("Sec-Websocket-Protocol") {
		t.Error("redacting headers twice changed them")
	}
	enc := base64.RawURLEncoding.EncodeToString([]byte(canary))
	if tok := BearerSubprotocol(http.Header{"Sec-Websocket-Protocol": {"v5.channel.k8s.io,base64url.bearer.authorization.k8s.io." + enc}}); tok != canary {
		t.Errorf("BearerSubprotocol = %q, want the decoded token", tok)
	}
}

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://h/api/v1/pods?watch=1&access_token=" + canary:      "https://h/api/v1/pods?watch=1&access_token=REDACTED-22-bytes",
		"https://admin:" + canary + "@h/api":                        "https://admin:REDACTED-22-bytes@h/api",
		"https://h/api/v1/namespaces/demo/pods?labelSelector=a%3Db": "https://h/api/v1/namespaces/demo/pods?labelSelector=a%3Db",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "DB_PASSWORD": true, "client-secret": true, "id-token": true, "token": true,
		"client-key-data": true, "X-Api-Key": true, "AWS_SECRET_ACCESS_KEY": true, "apiKey": true,
		"secretName": false, "tokenFile": false, "passwordRef": false, "client-key": false, "PWD": false,
		"expirationSeconds": false, "name": false, "": false,
	} {
		if got := SecretName(name); got != want {
			t.Errorf("SecretName(%q) = %v, want %v", name, got, want)
		}
	}
}
