package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubewire/kubewire/tracer/codec"
	"github.com/kubewire/kubewire/tracer/doc"
	"github.com/kubewire/kubewire/tracer/record"
)

// decoded is a body made readable.
type decoded struct {
	// tree is set for structured bodies (JSON, YAML, decoded protobuf).
	tree *doc.Node
	// text is set for text bodies that are not structured, or that could
	// not be parsed (a truncated JSON body).
	text string
	// from says how the body was decoded when it was not JSON: "protobuf".
	from string
	// note explains what could not be decoded.
	note string
}

// mediaType returns the media type of a Content-Type value, lowercased,
// and its parameters.
func mediaType(ct string) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, _, _ = strings.Cut(ct, ";")
		return strings.ToLower(strings.TrimSpace(mt)), nil
	}
	return mt, params
}

// decodeBody makes a stored body readable.
func decodeBody(b *record.Body) decoded {
	data := b.Data()
	if len(data) == 0 {
		return decoded{}
	}
	mt, _ := mediaType(b.ContentType)
	if bytes.HasPrefix(data, codec.Magic) || mt == codec.MediaType {
		return decodeProtobuf(data, b.Truncated)
	}
	if b.Base64 != "" {
		return decoded{note: fmt.Sprintf("binary body (%s), not shown", orUnknown(b.ContentType))}
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		if n, err := doc.ParseJSON(trimmed); err == nil {
			return decoded{tree: n}
		}
		if b.Truncated {
			return decoded{text: string(data), note: "truncated JSON, shown as stored"}
		}
	}
	if strings.HasSuffix(mt, "yaml") {
		if n, ok := doc.ParseYAML(data); ok {
			return decoded{tree: n, from: "yaml"}
		}
	}
	return decoded{text: string(data)}
}

func orUnknown(s string) string {
	if s == "" {
		return "no content type"
	}
	return s
}

// decodeProtobuf decodes one enveloped protobuf object to a JSON tree.
func decodeProtobuf(data []byte, truncated bool) decoded {
	if truncated {
		return decoded{note: fmt.Sprintf("protobuf body truncated at %s: cannot decode a partial message", size(int64(len(data))))}
	}
	obj, err := decodeProtoObject(data)
	if err != nil {
		return decoded{note: err.Error()}
	}
	n, err := objectTree(obj)
	if err != nil {
		return decoded{note: err.Error()}
	}
	return decoded{tree: n, from: "protobuf"}
}

// decodeProtoObject decodes an enveloped protobuf object; kinds outside the
// scheme come back as an error naming their apiVersion and kind.
func decodeProtoObject(data []byte) (runtime.Object, error) {
	obj, err := codec.Decode(data)
	var unk *codec.UnknownKindError
	if errors.As(err, &unk) {
		return nil, fmt.Errorf("protobuf object %s, kind %s (%s): not a kind kubewire knows, so not decoded",
			orCore(unk.APIVersion), unk.Kind, size(int64(unk.Size)))
	}
	return obj, err
}

func orCore(apiVersion string) string {
	if apiVersion == "" {
		return "apiVersion unknown"
	}
	return "apiVersion " + apiVersion
}

// objectTree turns a typed object into a JSON tree with apiVersion and kind
// set, as the server would have sent it as JSON.
func objectTree(obj runtime.Object) (*doc.Node, error) {
	if obj.GetObjectKind().GroupVersionKind().Kind == "" {
		if gvks, _, err := codec.Scheme().ObjectKinds(obj); err == nil && len(gvks) > 0 {
			obj.GetObjectKind().SetGroupVersionKind(gvks[0])
		}
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("cannot show decoded %T: %v", obj, err)
	}
	return doc.ParseJSON(data)
}

// decodeWatchFrame decodes one protobuf watch frame (without its 4-byte
// length prefix). It returns the event type and the object as a tree.
func decodeWatchFrame(data []byte) (string, *doc.Node, error) {
	f, err := codec.DecodeFrame(data)
	if err != nil {
		return "", nil, err
	}
	obj, err := decodeProtoObject(f.Object.Raw)
	if err != nil {
		return f.Type, nil, err
	}
	n, err := objectTree(obj)
	return f.Type, n, err
}
