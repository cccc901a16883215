// Package codec reads and writes what the Kubernetes API server puts on
// the wire besides plain JSON: the protobuf encoding it speaks to typed
// clients (objects in the "k8s\x00" envelope, runtime.Unknown, and the
// frames of a protobuf watch, metav1.WatchEvent), and the metav1.Status it
// answers failures with, in any encoding. It decodes with the API
// machinery's own serializers over client-go's scheme plus the meta types
// (Table, Status, discovery) that scheme leaves out. The proxy, the
// redactor, the journey and the renderer all decode through it.
package codec

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// Magic starts every enveloped Kubernetes protobuf message.
var Magic = []byte("k8s\x00")

// MediaType is the protobuf media type of the Kubernetes API.
const MediaType = "application/vnd.kubernetes.protobuf"

var (
	once            sync.Once
	scheme          *runtime.Scheme
	protoSerializer *protobuf.Serializer
)

func setup() {
	once.Do(func() {
		s := runtime.NewScheme()
		_ = clientgoscheme.AddToScheme(s)
		metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
		_ = metav1.AddMetaToScheme(s)
		_ = apidiscoveryv2.AddToScheme(s)
		scheme, protoSerializer = s, protobuf.NewSerializer(s, s)
	})
}

// Scheme is the scheme codec decodes with.
func Scheme() *runtime.Scheme {
	setup()
	return scheme
}

// UnknownKindError is returned for an enveloped object whose kind is not in
// the scheme.
type UnknownKindError struct {
	APIVersion, Kind string
	// Size is the length of the object's raw bytes.
	Size int
}

func (e *UnknownKindError) Error() string {
	return fmt.Sprintf("protobuf object of kind %q (apiVersion %q) is not in kubewire's scheme", e.Kind, e.APIVersion)
}

// Decode decodes one enveloped protobuf object. The object comes back with
// its apiVersion and kind set. A kind outside the scheme gives an
// *UnknownKindError.
func Decode(data []byte) (runtime.Object, error) {
	setup()
	obj, gvk, err := protoSerializer.Decode(data, nil, nil)
	if err == nil {
		if gvk != nil {
			obj.GetObjectKind().SetGroupVersionKind(*gvk)
		}
		return obj, nil
	}
	if !bytes.HasPrefix(data, Magic) {
		return nil, fmt.Errorf("protobuf body without the k8s envelope: %w", err)
	}
	var unk runtime.Unknown
	if uerr := unk.Unmarshal(data[len(Magic):]); uerr != nil {
		return nil, fmt.Errorf("protobuf body kubewire cannot read: %w", uerr)
	}
	return nil, &UnknownKindError{APIVersion: unk.APIVersion, Kind: unk.Kind, Size: len(unk.Raw)}
}

// Encode encodes obj, whose apiVersion and kind must be set, in the
// envelope.
func Encode(obj runtime.Object) ([]byte, error) {
	setup()
	if obj.GetObjectKind().GroupVersionKind().Kind == "" {
		return nil, errors.New("protobuf encode: the object has no kind")
	}
	var b bytes.Buffer
	if err := protoSerializer.Encode(obj, &b); err != nil {
		return nil, fmt.Errorf("protobuf encode: %w", err)
	}
	return b.Bytes(), nil
}

// Frame is one frame of a protobuf watch stream, without its 4-byte length
// prefix.
type Frame struct {
	metav1.WatchEvent
	// envelope is the k8s envelope the frame came in, nil for a bare
	// WatchEvent (what the API server's stream protoSerializer writes).
	envelope *runtime.Unknown
}

// DecodeFrame decodes one protobuf watch frame. Its Object.Raw is the
// event's object, itself an enveloped protobuf object (see Decode).
func DecodeFrame(frame []byte) (*Frame, error) {
	f := &Frame{}
	raw := frame
	if bytes.HasPrefix(frame, Magic) {
		var unk runtime.Unknown
		if err := unk.Unmarshal(frame[len(Magic):]); err != nil {
			return nil, fmt.Errorf("protobuf watch frame kubewire cannot read: %w", err)
		}
		raw, f.envelope = unk.Raw, &unk
	}
	if err := f.WatchEvent.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("protobuf watch frame kubewire cannot read: %w", err)
	}
	return f, nil
}

// Encode writes the frame back the way it came.
func (f *Frame) Encode() ([]byte, error) {
	raw, err := f.WatchEvent.Marshal()
	if err != nil {
		return nil, fmt.Errorf("protobuf watch frame: %w", err)
	}
	if f.envelope == nil {
		return raw, nil
	}
	unk := *f.envelope
	unk.Raw = raw
	data, err := unk.Marshal()
	if err != nil {
		return nil, fmt.Errorf("protobuf watch frame: %w", err)
	}
	return append(append([]byte(nil), Magic...), data...), nil
}

// EventType is the type of one protobuf watch frame (ADDED, MODIFIED, ...),
// or "data" when the frame does not decode.
func EventType(frame []byte) string {
	f, err := DecodeFrame(frame)
	if err != nil || f.Type == "" {
		return "data"
	}
	return f.Type
}
