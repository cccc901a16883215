package redact

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kubewire/kubewire/tracer/record"
)

// lineList is a record.LineSource over lines.
type lineList []record.Line

func (l *lineList) Next() (record.Line, error) {
	if len(*l) == 0 {
		return record.Line{}, io.EOF
	}
	line := (*l)[0]
	*l = (*l)[1:]
	return line, nil
}

// A recording made with --show-secrets is redacted on the way to a viewer
// who did not ask: bodies by their exchange's resource, stdin by size.
func TestLinesRedactWhatWasRecordedInClear(t *testing.T) {
	secret := `{"kind":"Secret","data":{"p":"` + canaryB64 + `"}}`
	exec := &record.Exchange{Seq: 2, Annotation: record.Annotation{Resource: "pods", Subresource: "exec"},
		Request: record.Request{URL: "https://h/api/v1/namespaces/d/pods/p/exec?command=sh"}}
	src := lineList{
		{Type: record.TypeExchange, Seq: 1, Exchange: &record.Exchange{Seq: 1,
			Annotation: record.Annotation{Resource: "secrets"},
			Request: record.Request{URL: "https://h/api/v1/namespaces/d/secrets?access_token=" + canary,
				Headers: http.Header{"Authorization": {"Bearer " + canary}},
				Body:    record.NewBody("application/merge-patch+json", []byte(`{"stringData":{"k":"`+canary+`"}}`), 40, -1)},
			Response: &record.Response{Status: 200, Body: record.NewBody("application/json", []byte(secret), int64(len(secret)), -1)}}},
		{Type: record.TypeEvent, Seq: 1, Event: &record.Event{Type: "MODIFIED", Body: record.NewBody("application/json", []byte(`{"type":"MODIFIED","object":`+secret+`}`), 90, -1)}},
		{Type: record.TypeExchange, Seq: 2, Exchange: exec},
		{Type: record.TypeEvent, Seq: 2, Event: &record.Event{Type: "data", Direction: "up", Channel: "stdin", Body: record.NewBody("", []byte(canary+"\n"), 23, -1)}},
		{Type: record.TypeEvent, Seq: 2, Event: &record.Event{Type: "data", Direction: "down", Channel: "stdout", Body: record.NewBody("", []byte("ok\n"), 3, -1)}},
	}
	var out []record.Line
	rd := Lines(&src, true)
	for {
		l, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	data, _ := json.Marshal(out)
	if strings.Contains(string(data), canary) || strings.Contains(string(data), canaryB64) {
		t.Fatalf("a secret survived: %s", data)
	}
	if !out[0].Exchange.Response.Body.Redacted || !out[1].Event.Body.Redacted || !out[0].Exchange.Request.Body.Redacted {
		t.Error("redacted bodies should say so")
	}
	if b := out[3].Event.Body; !b.Omitted || b.Bytes != 23 {
		t.Errorf("stdin %+v: want its size only", b)
	}
	if string(out[4].Event.Body.Data()) != "ok\n" {
		t.Errorf("stdout changed: %q", out[4].Event.Body.Data())
	}
}
