package annotate

import (
	"io"
	"os"

	"github.com/kubewire/kubewire/tracer/record"
)

// Lines annotates the exchange lines of src as they are read (see
// Exchange), so views get exchanges as annotated as a live capture's,
// whatever wrote the file.
func (a *Annotator) Lines(src record.LineSource) record.LineSource {
	return &lines{src: src, a: a}
}

type lines struct {
	src record.LineSource
	a   *Annotator
}

func (l *lines) Next() (record.Line, error) {
	line, err := l.src.Next()
	if err == nil && line.Type == record.TypeExchange {
		l.a.Exchange(line.Exchange)
	}
	return line, err
}

// ReadAll reads a whole recording, annotating each exchange and folding
// audit lines in with Audit. On a malformed line it returns what it read
// so far together with the error.
func (a *Annotator) ReadAll(r io.Reader, name string) (*record.Recording, error) {
	rec, err := record.ReadAllWith(r, name, Audit)
	if rec != nil {
		for _, x := range rec.Exchanges {
			a.Exchange(x)
		}
	}
	return rec, err
}

// ReadFile reads the recording in the named file (see ReadAll).
func (a *Annotator) ReadFile(name string) (*record.Recording, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return a.ReadAll(f, name)
}

// ForRecordings returns the Annotator for recordings: what a file lacks
// is worked out with the built-in scope table; what a capture knew stays
// as recorded.
func ForRecordings() *Annotator { return New(Config{}) }
