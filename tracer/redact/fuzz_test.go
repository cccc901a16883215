package redact

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubewire/kubewire/tracer/codec"
)

// shapes put a secret value where each redaction path must find it; %s is
// the value.
var shapes = []struct {
	ct, body string
	c        Context
}{
	{"application/json", `{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s"},"data":{"k":"%s"}}`, secrets},
	{"application/strategic-merge-patch+json", `{"stringData":{"k":"%s"}}`, secrets},
	{"application/json-patch+json", `[{"op":"add","path":"/data/k","value":"%s"}]`, secrets},
	{"application/json", `{"kind":"Table","rows":[{"cells":["s"],"object":{"kind":"PartialObjectMetadata","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"kind\":\"Secret\",\"stringData\":{\"k\":\"%s\"}}"}}}}]}`, Context{}},
	{"application/json", `{"type":"MODIFIED","object":{"kind":"Secret","data":{"k":"%s"}}}`, secrets},
	{"application/apply-patch+yaml", "kind: Secret\nstringData:\n  k: %s\n", secrets},
	{"application/json", `{"kind":"TokenRequest","status":{"token":"%s"}}`, Context{Resource: "serviceaccounts", Subresource: "token"}},
	{"application/json", `{"kind":"Config","users":[{"name":"u","user":{"password":"%s"}}]}`, Context{}},
	{"protobuf", "", secrets},
}

// plainValue is a value that the shapes hold verbatim (no escaping) and
// that appears nowhere else in them.
var plainValue = regexp.MustCompile(`^[a-z0-9]{8,40}$`)

// FuzzBody: redaction never panics and is idempotent on any input, and a
// value put where a secret goes never survives.
func FuzzBody(f *testing.F) {
	f.Add([]byte(`{"kind":"Secret","data":{"a":"b"}}`), "s3cr3tvalue1", uint8(0), uint8(0))
	f.Add([]byte("kind: Secret\nstringData: {a: b}\n"), "hunter2hunter2", uint8(5), uint8(1))
	f.Add([]byte(`[{"op":"add","path":"/data/x","value":{"y":1}}]`), "abcdefgh12", uint8(2), uint8(2))
	f.Add([]byte("k8s\x00\n\x0c\n\x02v1\x12\x06Secret"), "p4ssw0rdp4ss", uint8(8), uint8(3))
	f.Add([]byte(`{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"kind\":\"Secret\"}"}}}`), "zzzzzzzz9", uint8(3), uint8(4))
	cts := []string{"application/json", "application/apply-patch+yaml", codec.MediaType, "text/plain", codec.MediaType + ";stream=watch"}
	ctxs := []Context{{}, secrets, {Resource: "serviceaccounts", Subresource: "token"}, {Resource: "configmaps"}, {Resource: "secrets", Subresource: "status"}}
	f.Fuzz(func(t *testing.T, data []byte, value string, shape, which uint8) {
		ct, c := cts[int(which)%len(cts)], ctxs[int(which/8)%len(ctxs)]
		out, _ := Body(ct, data, c)
		if again, changed := Body(ct, out, c); changed || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent:\n%q\n%q\n%q", data, out, again)
		}
		_ = Command(strings.Fields(string(data)))

		if !plainValue.MatchString(value) {
			return
		}
		s := shapes[int(shape)%len(shapes)]
		if strings.Contains(s.body, value) {
			return
		}
		var body []byte
		if s.ct == "protobuf" {
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}, StringData: map[string]string{"k": value}}
			sec.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
			var err error
			if body, err = codec.Encode(sec); err != nil {
				t.Fatal(err)
			}
			s.ct = codec.MediaType
		} else {
			body = []byte(strings.Replace(s.body, "%s", value, 1))
		}
		got, changed := Body(s.ct, body, s.c)
		if !changed || bytes.Contains(got, []byte(value)) {
			t.Fatalf("%q survived in %s:\n%s", value, s.ct, got)
		}
		if strings.Contains(s.ct, "json") && !json.Valid(got) {
			t.Fatalf("redacted JSON is not JSON: %s", got)
		}
	})
}
