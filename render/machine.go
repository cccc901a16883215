package render

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/kubewire/kubewire/tracer/doc"
	"github.com/kubewire/kubewire/tracer/record"
)

// WriteMachine writes exchanges for programs, never styled: format "json"
// is a JSON array of exchange records as the recording format defines
// them, streams' events and ends folded in; "yaml" is the same as YAML.
func WriteMachine(w io.Writer, exchanges []*record.Exchange, format string) error {
	if exchanges == nil {
		exchanges = []*record.Exchange{}
	}
	data, err := json.MarshalIndent(exchanges, "", "  ")
	if err != nil {
		return fmt.Errorf("encode exchanges: %w", err)
	}
	switch format {
	case "json":
		_, err = w.Write(append(data, '\n'))
	case "yaml":
		var y string
		if y, err = doc.ToYAML(data); err == nil {
			_, err = io.WriteString(w, y)
		}
	default:
		return fmt.Errorf("unknown machine output format %q; want json or yaml", format)
	}
	if err != nil {
		return fmt.Errorf("write %s output: %w", format, err)
	}
	return nil
}
