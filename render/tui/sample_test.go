package tui

import (
	"testing"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/sample"
)

// sampleSource reads the bundled session as replay reads it.
func sampleSource(t *testing.T) record.LineSource {
	t.Helper()
	rd, err := record.NewReader(sample.Open(), sample.Name)
	if err != nil {
		t.Fatal(err)
	}
	return annotate.ForRecordings().Lines(rd)
}
