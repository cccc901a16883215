package redact

import (
	"bytes"
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubewire/kubewire/tracer/codec"
	"github.com/kubewire/kubewire/tracer/doc"
)

var protoMagic = codec.Magic

// protoBody redacts a protobuf object or watch frame. What kubewire cannot
// decode is dropped if it may hold a secret.
func protoBody(data []byte, c Context) ([]byte, bool) {
	if out, changed, ok := redactProto(data, c); ok {
		return out, changed
	}
	if mayHoldSecret(data, c) || privateKey.Match(data) || jwt.Match(data) || base64PEM.Match(data) {
		return nil, true
	}
	return data, false
}

// redactProto decodes data (an enveloped object, or a bare watch frame),
// redacts it like its JSON form and encodes it again. ok is false when
// data does not decode; a redacted object that will not encode again is
// dropped (nil, true, true).
func redactProto(data []byte, c Context) (out []byte, changed, ok bool) {
	if !bytes.HasPrefix(data, codec.Magic) {
		f, err := codec.DecodeFrame(data)
		if err != nil || f.Type == "" {
			return nil, false, false
		}
		return redactRaw(data, &f.Object, c, f.Encode)
	}
	obj, err := codec.Decode(data)
	if err != nil {
		return nil, false, false
	}
	switch o := obj.(type) {
	case *metav1.WatchEvent:
		return redactRaw(data, &o.Object, c, func() ([]byte, error) { return codec.Encode(o) })
	case *metav1.Table:
		// Rows carry their objects as nested protobuf.
		for i := range o.Rows {
			raw := &o.Rows[i].Object
			if len(raw.Raw) == 0 {
				continue
			}
			r, ch, ok := redactProto(raw.Raw, c)
			if !ok {
				if !mayHoldSecret(raw.Raw, c) {
					continue
				}
				r, ch = nil, true
			}
			if ch {
				raw.Raw, changed = r, true
			}
		}
		if !changed {
			return data, false, true
		}
		return encodeOrDrop(o)
	}
	js, err := json.Marshal(obj)
	if err != nil {
		return nil, false, false
	}
	docs, err := doc.ParseJSONStream(js)
	if err != nil || len(docs) != 1 {
		return nil, false, false
	}
	w := &walker{ctx: c, b64: true}
	w.document(docs[0])
	if !w.changed {
		return data, false, true
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	fresh, err := codec.Scheme().New(gvk)
	if err != nil || json.Unmarshal([]byte(docs[0].JSON()), fresh) != nil {
		return nil, true, true
	}
	fresh.GetObjectKind().SetGroupVersionKind(gvk)
	return encodeOrDrop(fresh)
}

// redactRaw redacts the object inside a watch event and encodes the event
// again with encode.
func redactRaw(data []byte, raw *runtime.RawExtension, c Context, encode func() ([]byte, error)) ([]byte, bool, bool) {
	inner, changed, ok := redactProto(raw.Raw, c)
	if !ok {
		if mayHoldSecret(raw.Raw, c) {
			return nil, true, true
		}
		return data, false, true
	}
	if !changed {
		return data, false, true
	}
	if inner == nil {
		return nil, true, true
	}
	raw.Raw = inner
	out, err := encode()
	if err != nil {
		return nil, true, true
	}
	return out, true, true
}

func encodeOrDrop(obj runtime.Object) ([]byte, bool, bool) {
	out, err := codec.Encode(obj)
	if err != nil {
		return nil, true, true
	}
	return out, true, true
}
