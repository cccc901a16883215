package codec

import (
	"bytes"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func secret(name string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "demo"}, Data: map[string][]byte{"p": []byte("v")}}
	s.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return s
}

func TestObjectRoundTrip(t *testing.T) {
	data, err := Encode(secret("s"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, Magic) {
		t.Fatalf("no envelope: %q", data[:8])
	}
	obj, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := obj.(*corev1.Secret)
	if !ok || s.Name != "s" || string(s.Data["p"]) != "v" || s.Kind != "Secret" || s.APIVersion != "v1" {
		t.Fatalf("decoded %#v", obj)
	}
	if _, err := Encode(&corev1.Secret{}); err == nil {
		t.Error("an object without a kind must not encode")
	}
}

func TestUnknownKind(t *testing.T) {
	unk := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: "example.dev/v1", Kind: "Widget"}, Raw: []byte{1, 2, 3}}
	raw, _ := unk.Marshal()
	_, err := Decode(append(append([]byte(nil), Magic...), raw...))
	var uk *UnknownKindError
	if !errors.As(err, &uk) || uk.Kind != "Widget" || uk.APIVersion != "example.dev/v1" || uk.Size != 3 {
		t.Fatalf("err %v", err)
	}
}

func TestFrameRoundTrip(t *testing.T) {
	obj, _ := Encode(secret("w"))
	ev := metav1.WatchEvent{Type: "MODIFIED", Object: runtime.RawExtension{Raw: obj}}
	bare, _ := ev.Marshal()
	env := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: "v1", Kind: "WatchEvent"}, Raw: bare}
	envData, _ := env.Marshal()
	enveloped := append(append([]byte(nil), Magic...), envData...)
	for name, frame := range map[string][]byte{"bare": bare, "enveloped": enveloped} {
		t.Run(name, func(t *testing.T) {
			if got := EventType(frame); got != "MODIFIED" {
				t.Fatalf("type %q", got)
			}
			f, err := DecodeFrame(frame)
			if err != nil {
				t.Fatal(err)
			}
			out, err := f.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, frame) {
				t.Fatalf("re-encoded frame differs:\n%q\n%q", out, frame)
			}
		})
	}
	if got := EventType([]byte("not a frame")); got != "data" {
		t.Errorf("garbage frame type %q", got)
	}
}
