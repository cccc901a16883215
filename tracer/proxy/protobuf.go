package proxy

import (
	"bytes"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// protobufMagic starts every enveloped Kubernetes protobuf message.
var protobufMagic = []byte("k8s\x00")

// protobufEventType reads the type of one protobuf watch frame. The API
// server writes watch frames with its raw serializer (a bare
// metav1.WatchEvent); an enveloped runtime.Unknown is accepted too.
func protobufEventType(frame []byte) string {
	raw := frame
	if bytes.HasPrefix(frame, protobufMagic) {
		var unk runtime.Unknown
		if err := unk.Unmarshal(frame[len(protobufMagic):]); err != nil {
			return "data"
		}
		raw = unk.Raw
	}
	var ev metav1.WatchEvent
	if err := ev.Unmarshal(raw); err != nil || ev.Type == "" {
		return "data"
	}
	return ev.Type
}
