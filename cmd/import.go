package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/tracer/classify"
	"github.com/kubewire/kubewire/tracer/har"
	"github.com/kubewire/kubewire/tracer/record"
)

type importOptions struct {
	file       string
	output     string
	showSecret bool
}

func newImportCmd(s Streams) *cobra.Command {
	o := &importOptions{}
	c := &cobra.Command{
		Use:   "import FILE.har -o RECORDING.jsonl",
		Short: "Make a kubewire recording from a HAR file (browser devtools, mitmproxy, kubewire export)",
		Long: `import reads a HAR file saved by a browser's developer tools (Chrome,
Firefox), by mitmproxy or by 'kubewire export --har', and writes a kubewire
recording of its calls to Kubernetes API servers, to replay, filter or
export like any other. Entries for other URLs are skipped and counted.

Each call is annotated as a live trace annotates it. Resource scopes come
from the discovery responses in the file when it has any, else from
kubewire's built-in table; import says which, and so does the recording.
Credentials, Secret data and what was typed into exec are redacted on
the way in, unless --show-secrets is given. The recording is written as
the file is read: a malformed entry stops the import with its index and
byte offset, and everything before it is kept.`,
		Example: `  kubewire import session.har -o session.jsonl
  kubewire replay -v session.jsonl`,
		Args: exactArgs(1, "FILE.har"),
		RunE: func(c *cobra.Command, args []string) error {
			o.file = args[0]
			if o.output == "" {
				return usageError("import needs -o RECORDING.jsonl, the recording to write; see '%s -h'", c.CommandPath())
			}
			return o.run(s)
		},
	}
	c.Flags().StringVarP(&o.output, "output", "o", "", "the recording to write (- is standard output)")
	c.Flags().BoolVar(&o.showSecret, "show-secrets", false, "keep the file's credentials, Secret data and exec stdin in the recording (by default they are redacted)")
	return c
}

func (o *importOptions) run(s Streams) (err error) {
	// Read the file twice: first for its discovery, so that every call,
	// the first included, is annotated with the scopes it states.
	in, err := os.Open(o.file)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer in.Close()
	scopes, found, err := har.LearnScopes(in)
	if err != nil {
		return o.fileError(err)
	}
	if _, err := in.Seek(0, 0); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	h := record.Header{Kubewire: Version(), Recorded: time.Now().UTC(),
		Source:  record.Source{Mode: "import", File: filepath.Base(o.file), Scopes: "builtin"},
		Secrets: record.SecretsRedacted, Stdin: record.StdinOmitted}
	if found > 0 && scopes.Len() > 0 {
		h.Source.Scopes = "recorded"
		noun := "responses"
		if found == 1 {
			noun = "response"
		}
		fmt.Fprintf(s.ErrOut, "kubewire: scopes from %d discovery %s in %s (%d resources)\n", found, noun, o.file, scopes.Len())
	} else {
		fmt.Fprintf(s.ErrOut, "kubewire: %s holds no discovery: scopes from kubewire's built-in table (Kubernetes %s)\n", o.file, classify.BuiltinVersion())
	}
	if o.showSecret {
		h.Secrets, h.Stdin = record.SecretsShown, record.StdinRecorded
		fmt.Fprintf(s.ErrOut, "kubewire: WARNING: --show-secrets: the recording keeps the credentials and Secret data %s holds\n", o.file)
	}

	out := s.Out
	if o.output != "-" {
		f, err := os.Create(o.output)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer func() {
			if cerr := f.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("import: %w", cerr)
			}
		}()
		out = f
	}
	w, err := record.NewWriter(out, h)
	if err != nil {
		return err
	}
	st, ierr := har.Import(in, har.ImportConfig{Scopes: scopes, ShowSecrets: o.showSecret}, w)
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintf(s.ErrOut, "kubewire: imported %d calls from %d entries of %s", st.Imported, st.Entries, o.file)
	if st.Skipped > 0 {
		fmt.Fprintf(s.ErrOut, "; skipped %d for URLs that are not a Kubernetes API server's", st.Skipped)
	}
	fmt.Fprintln(s.ErrOut)
	if ierr != nil {
		return o.fileError(ierr)
	}
	return nil
}

// fileError names the file a HAR error is in.
func (o *importOptions) fileError(err error) error {
	return fmt.Errorf("%s: %w", o.file, err)
}
