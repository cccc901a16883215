package sample_test

import (
	"strings"
	"testing"

	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/sample"
)

// The bundled session reads back and tells the whole story: a broken embed
// or a stale file fails here, with no cluster.
func TestBundledSessionTellsTheStory(t *testing.T) {
	rec, err := record.ReadAll(sample.Open(), sample.Name)
	if err != nil {
		t.Fatalf("the bundled session does not read back: %v", err)
	}
	if len(rec.Exchanges) == 0 {
		t.Fatal("the bundled session holds no calls")
	}
	if err := sample.Check(rec); err != nil {
		t.Errorf("the bundled session, regenerated as README.md says?\n%v", err)
	}
}

// Each reader starts at the header: Open can be called again.
func TestOpenStartsOver(t *testing.T) {
	for range 2 {
		rd, err := record.NewReader(sample.Open(), sample.Name)
		if err != nil {
			t.Fatal(err)
		}
		if h := rd.Header(); h.Format != record.Format || h.Version != record.Version {
			t.Fatalf("header %+v", h)
		}
	}
}

// Check is not satisfied by any recording: it notices a missing step, a
// step out of order and a URL off loopback.
func TestCheckNoticesWhatIsWrong(t *testing.T) {
	cases := []struct {
		name   string
		change func(rec *record.Recording)
		want   string
	}{
		{"the 409 missing", func(rec *record.Recording) {
			var kept []*record.Exchange
			for _, x := range rec.Exchanges {
				if x.Response == nil || x.Response.Status != 409 {
					kept = append(kept, x)
				}
			}
			rec.Exchanges = kept
		}, "no 409 create of configmap twice again"},
		{"the exec before the discovery", func(rec *record.Recording) {
			for _, x := range rec.Exchanges {
				if x.Annotation.Subresource == "exec" {
					x.Seq = 0
				}
			}
		}, "no exec over WebSocket"},
		{"a URL off loopback", func(rec *record.Recording) {
			rec.Exchanges[len(rec.Exchanges)-1].Request.URL = "https://k8s.example.com/api/v1/namespaces/sample"
		}, "https://k8s.example.com/api/v1/namespaces/sample is not on loopback"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := record.ReadAll(sample.Open(), sample.Name)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(rec)
			if err := sample.Check(rec); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
