package render

// The recordings in testdata/recordings are what the golden tests render.
// All but one are captured from the lab by TestCaptureRecordings in
// tracer/live (real kubectl and client-go calls through kubewire against a
// real kube-apiserver); refresh them with
//
//	go test ./tracer/live -run TestCaptureRecordings -capture-dir $PWD/render/testdata/recordings
//
// then regenerate the golden files with go test ./render -update.
//
// protobuf-unknown.jsonl cannot be captured: no API the lab serves sends
// protobuf for a kind client-go's scheme does not know (custom resources
// are JSON only), yet the renderer must show such a body as what it is
// rather than bytes. It is assembled here with record.Writer around a
// runtime.Unknown the API machinery encodes; regenerate it with
//
//	go test ./render -fixtures

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubewire/kubewire/tracer/classify"
	"github.com/kubewire/kubewire/tracer/codec"
	"github.com/kubewire/kubewire/tracer/record"
)

// writeFixtures writes the recordings that cannot be captured into dir.
func writeFixtures(dir string) error {
	const (
		server     = "https://127.0.0.1:6443"
		path       = "/apis/example.kubewire.dev/v1/namespaces/demo/widgets/web"
		ctProtobuf = "application/vnd.kubernetes.protobuf"
		auditID    = "5f0c7e2a-0000-4000-8000-000000000001"
	)
	start := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	unk := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: "example.kubewire.dev/v1", Kind: "Widget"},
		Raw: []byte{0x0a, 0x03, 'w', 'e', 'b'}, ContentType: ctProtobuf}
	data, err := unk.Marshal()
	if err != nil {
		return err
	}
	body := append(append([]byte(nil), codec.Magic...), data...)

	u, err := url.Parse(server + path)
	if err != nil {
		return err
	}
	client := http.Header{"Accept": {ctProtobuf}, "User-Agent": {"kubewire-capture (client-go typed client)"}}
	up := client.Clone()
	up.Set("Audit-Id", auditID)
	// The journey of a read, as tracer/auth describes the lab admin's.
	auth := &record.Auth{Method: "x509", User: "kubewire-admin", Groups: []string{"system:masters", "system:authenticated"},
		Source: "certificate", Origin: "kubeconfig", Stages: []record.Stage{
			{Name: record.StageAuthentication, Status: record.Passed, Detail: "priority and fairness classified the request, which it does only after authentication"},
			{Name: record.StagePriority, Status: record.Passed, Detail: "classified (X-Kubernetes-Pf-* headers)"},
			{Name: record.StageAuthorization, Status: record.Passed, Inferred: true, Detail: "allowed; a denial is a 403 naming the user"},
			{Name: record.StageAdmission, Status: record.NotApplicable, Detail: "reads skip admission"},
			{Name: record.StageValidation, Status: record.NotApplicable, Detail: "reads skip validation"},
			{Name: record.StageStorage, Status: record.Passed, Detail: "read"},
		}}
	x := &record.Exchange{
		Seq:   1,
		Start: start,
		Request: record.Request{Method: "GET", URL: u.String(), Proto: "HTTP/1.1", Headers: client,
			Upstream: &record.Upstream{URL: u.String(), Proto: "HTTP/2.0", Headers: up}},
		Response: &record.Response{Status: 200, Proto: "HTTP/2.0", Headers: http.Header{"Audit-Id": {auditID},
			"Content-Type": {ctProtobuf}, "Date": {start.Format(http.TimeFormat)},
			"X-Kubernetes-Pf-Flowschema-Uid":    {"0b3ba2fd-1f3c-4bbd-9b5e-3a1f0c54a0d1"},
			"X-Kubernetes-Pf-Prioritylevel-Uid": {"8a9c1f0e-5b7d-4c1e-9e2a-6f4b3d2c1a0b"}},
			Body: record.NewBody(ctProtobuf, body, int64(len(body)), -1)},
		Timings:    record.Timings{FirstByteMs: 1.7, TotalMs: 2.1},
		Annotation: classify.New("", classify.Builtin()).Classify("GET", u, client),
	}
	x.Annotation.Auth = auth
	x.Annotation.Signals = &record.Signals{AuditID: auditID, FlowSchema: "exempt", PriorityLevel: "exempt"}
	var buf bytes.Buffer
	w, err := record.NewWriter(&buf, record.Header{Kubewire: "dev", Recorded: start,
		Source: record.Source{Mode: "test", Context: "kubewire-lab", Server: server}})
	if err != nil {
		return err
	}
	w.Put(record.Line{Type: record.TypeExchange, Exchange: x, Seq: x.Seq})
	if err := w.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "protobuf-unknown.jsonl"), buf.Bytes(), 0o644)
}
