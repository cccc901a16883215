package codec

import (
	"bytes"
	"encoding/json"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

// statusDecoder decodes a metav1.Status in JSON, YAML or protobuf, the way
// the API server encodes it.
var statusDecoder = func() runtime.Decoder {
	s := runtime.NewScheme()
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	return serializer.NewCodecFactory(s).UniversalDeserializer()
}()

// maxStatus is the size past which a body is decoded as a Status only if
// it names the kind.
const maxStatus = 64 << 10

// DecodeStatus decodes a metav1.Status response body (JSON, YAML or
// protobuf); it returns nil when body is not a Status.
func DecodeStatus(contentType string, body []byte) *metav1.Status {
	if len(body) == 0 || len(body) > maxStatus && !bytes.Contains(body, []byte("Status")) {
		// A Status is small: a large body is one only if it says so
		// (kind Status, in JSON, YAML or protobuf), and decoding a list
		// of thousands of objects to find out costs more than a look.
		return nil
	}
	obj, _, err := statusDecoder.Decode(body, nil, nil)
	if err == nil {
		if st, ok := obj.(*metav1.Status); ok {
			return st
		}
		return nil
	}
	// A Status without kind/apiVersion, as some proxies and old servers
	// send.
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' && !strings.Contains(contentType, "protobuf") {
		var st metav1.Status
		if json.Unmarshal(trimmed, &st) == nil && (st.Status != "" || st.Reason != "") {
			return &st
		}
	}
	return nil
}

// FailureStatus is the JSON Status kubewire answers a client with when it
// answers in the API server's place (the server could not be reached;
// kubewire serve has no recorded answer), with the causes, if any, in its
// details.
func FailureStatus(code int, reason metav1.StatusReason, message string, causes ...metav1.StatusCause) []byte {
	st := metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Code: int32(code), Reason: reason, Message: message,
	}
	if len(causes) > 0 {
		st.Details = &metav1.StatusDetails{Causes: causes}
	}
	data, _ := json.Marshal(st)
	return data
}
