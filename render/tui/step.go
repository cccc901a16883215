package tui

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/kubewire/kubewire/render"
)

// Step shows calls one at a time, with no screen to draw: for a dumb
// terminal and for screen readers. It writes the first call to out as the
// replay shows it (Call.Render with o), then waits for a line on in:
// Enter shows the next call, "q" then Enter quits, and so does the end of
// in. With o.Show set only the calls it picks are shown, with the numbers
// the whole replay gives them.
func Step(in io.Reader, out io.Writer, calls []*render.Call, o render.Options) error {
	var shown []*render.Call
	for _, c := range calls {
		if o.Show == nil || o.Show(c.Exchange) {
			shown = append(shown, c)
		}
	}
	if len(shown) == 0 {
		what := "the recording has no call"
		if o.Show != nil {
			what = "no call matches the filter"
		}
		_, err := fmt.Fprintln(out, what)
		return writeErr(err)
	}
	o.Show = nil
	lines := bufio.NewScanner(in)
	for i, c := range shown {
		if _, err := io.WriteString(out, c.Render(o)); err != nil {
			return writeErr(err)
		}
		if i == len(shown)-1 {
			_, err := fmt.Fprintf(out, "-- end: %d of %d --\n", i+1, len(shown))
			return writeErr(err)
		}
		if _, err := fmt.Fprintf(out, "-- %d of %d: Enter for the next, q then Enter to quit --\n", i+1, len(shown)); err != nil {
			return writeErr(err)
		}
		if !lines.Scan() {
			if err := lines.Err(); err != nil {
				return fmt.Errorf("read standard input: %w", err)
			}
			return nil
		}
		if strings.TrimSpace(lines.Text()) == "q" {
			return nil
		}
	}
	return nil
}

func writeErr(err error) error {
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
