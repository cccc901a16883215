package tui

import (
	"io"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/record"
)

// readLines reads a recording to its end, or to its bad line.
func readLines(src record.LineSource) ([]record.Line, error) {
	var lines []record.Line
	for {
		line, err := src.Next()
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
		lines = append(lines, line)
	}
}

// Calls reads a recording to its end and returns its calls as the replay
// numbers them (with showOwn, kubewire's own calls too). On a bad line it
// returns the calls before it, and the error.
func Calls(src record.LineSource, showOwn bool) ([]*render.Call, error) {
	lines, err := readLines(src)
	return indexLines(lines, showOwn).Calls(), err
}

// indexLines splits lines into the calls a view shows.
func indexLines(lines []record.Line, showOwn bool) *render.Index {
	ix := render.NewIndex(showOwn)
	for _, line := range lines {
		ix.Add(line)
	}
	return ix
}
