package codec

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The server sends a Status in protobuf to clients that ask for it, JSON to
// the others; kubewire's own 502 is a Status too.
func TestDecodeStatus(t *testing.T) {
	want := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: "Failure", Code: 403, Reason: "Forbidden",
		Message: `pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "demo"`}
	proto, err := Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	if got := DecodeStatus(MediaType, proto); got == nil || got.Message != want.Message || got.Code != 403 {
		t.Fatalf("protobuf: decoded %+v", got)
	}
	if got := DecodeStatus("application/json", FailureStatus(502, "", "kubewire could not reach the API server")); got == nil || got.Code != 502 || got.Status != metav1.StatusFailure {
		t.Fatalf("kubewire's own Status: %+v", got)
	}
	if got := DecodeStatus("application/json", []byte(`{"status":"Failure","reason":"NotFound","code":404}`)); got == nil || got.Reason != "NotFound" {
		t.Errorf("a Status without kind: %+v", got)
	}
	if DecodeStatus("application/json", []byte(`{"kind":"PodList","apiVersion":"v1","items":[]}`)) != nil {
		t.Error("a PodList decoded as a Status")
	}
	if DecodeStatus("text/plain", []byte("Too many requests")) != nil {
		t.Error("plain text decoded as a Status")
	}
}
