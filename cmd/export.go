package cmd

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/curl"
	"github.com/kubewire/kubewire/tracer/filter"
	"github.com/kubewire/kubewire/tracer/har"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/redact"
)

type exportOptions struct {
	file       string
	sample     bool
	har        bool
	curl       bool
	via        string
	output     string
	filterExpr string
	showSecret bool

	filter *filter.Filter
}

func newExportCmd(s Streams) *cobra.Command {
	o := &exportOptions{}
	c := &cobra.Command{
		Use:   "export (--har | --curl) [flags] FILE | --sample",
		Short: "Write a recording as HAR (for browser devtools, mitmproxy) or as curl commands",
		Long: `export writes the calls of a kubewire recording for other tools.

--har writes an HTTP Archive (HAR 1.2), which browser developer tools and
mitmproxy open: one entry per call, kubewire's annotation under _kubewire,
exec, attach and port-forward messages under _webSocketMessages, watch and
log events under _kubewireEvents (see docs/export.md).

--curl writes a shell script with one curl command per call, as recorded:
method, URL, the Accept and Content-Type headers, the body. It holds no
credential: it reads them from $KUBE_CA with $KUBE_CERT and $KUBE_KEY, or
$TOKEN (--via direct), or goes through 'kubewire proxy' (--via proxy:
$KUBEWIRE_PORT, $KUBEWIRE_CA).

Secrets are always redacted, even from a recording made with
--show-secrets, unless --show-secrets is given here too. Calls kubewire
made itself are included; --filter 'not own' leaves them out.`,
		Example: `  kubewire export --har --sample -o sample.har
  kubewire export --har trace.jsonl > trace.har
  kubewire export --curl --filter 'read not watch' trace.jsonl > calls.sh
  kubewire export --curl --via proxy --filter 'cmd="kubectl get"' trace.jsonl`,
		Args: fileOrSample(&o.sample, "exports"),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.file = args[0]
			}
			if err := o.validate(c); err != nil {
				return err
			}
			return o.run(c.Context(), s)
		},
	}
	f := c.Flags()
	f.BoolVar(&o.har, "har", false, "write HAR 1.2")
	f.BoolVar(&o.curl, "curl", false, "write a shell script of curl commands")
	f.StringVar(&o.via, "via", "direct", "with --curl: reach the API server direct or through kubewire proxy")
	f.BoolVar(&o.sample, "sample", false, "export the session bundled with kubewire instead of a FILE")
	f.StringVarP(&o.output, "output", "o", "-", "write to this file (- is standard output)")
	addFilterFlag(f, &o.filterExpr, "export")
	f.BoolVar(&o.showSecret, "show-secrets", false, "keep the secrets a recording made with --show-secrets holds (by default they are redacted)")
	return c
}

func (o *exportOptions) validate(c *cobra.Command) error {
	switch {
	case o.har == o.curl:
		return usageError("give one of --har and --curl; see '%s -h'", c.CommandPath())
	case o.via != string(curl.Direct) && o.via != string(curl.Proxy):
		return usageError("unknown --via %q; want direct or proxy", o.via)
	case c.Flags().Changed("via") && !o.curl:
		return usageError("--via goes with --curl")
	}
	var err error
	o.filter, err = parseFilter(o.filterExpr)
	return err
}

// writer writes the exchanges of an export, one at a time.
type writer interface {
	write(*record.Exchange) error
	close() error
}

type harWriter struct{ w *har.Writer }

func (h harWriter) write(x *record.Exchange) error {
	e := har.FromExchange(x)
	return h.w.Write(&e)
}
func (h harWriter) close() error { return h.w.Close() }

type curlWriter struct{ s *curl.Script }

func (c curlWriter) write(x *record.Exchange) error { return c.s.Write(x) }
func (c curlWriter) close() error                   { return nil }

func (o *exportOptions) run(ctx context.Context, s Streams) (err error) {
	in, name, f, err := openRecording(o.sample, o.file, s.In)
	if err != nil {
		return err
	}
	if f != nil {
		defer f.Close()
	}
	rd, err := record.NewReader(in, name)
	if err != nil {
		return err
	}
	// Redact every line again, unless asked not to: a file that says it
	// was redacted could have been edited, and redacting twice changes
	// nothing.
	_, stdin := redaction(s, name, rd.Header(), o.showSecret, "export")
	var src record.LineSource = rd
	if !o.showSecret {
		src = redact.Lines(rd, stdin)
	}
	src = annotate.ForRecordings().Lines(src)

	out := s.Out
	if o.output != "-" {
		f, err := os.Create(o.output)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer func() {
			if cerr := f.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("export: %w", cerr)
			}
		}()
		out = f
	}
	w, err := o.writer(out, name, rd.Header())
	if err != nil {
		return err
	}
	warnings, err := export(src, rd.Pos, o.filter, w)
	for _, warn := range append(rd.Warnings(), warnings...) {
		fmt.Fprintf(s.ErrOut, "kubewire: warning: %s\n", warn)
	}
	return err
}

func (o *exportOptions) writer(out io.Writer, name string, h record.Header) (writer, error) {
	if o.curl {
		sc, err := curl.New(out, curl.Config{Via: curl.Via(o.via), Recording: name, Generator: "kubewire " + Version(), Filter: o.filter.String()})
		return curlWriter{sc}, err
	}
	secrets := record.SecretsRedacted
	if o.showSecret && h.Secrets != record.SecretsRedacted {
		secrets = record.SecretsShown
	}
	about := &har.LogKubewire{Recording: name, Source: h.Source, Secrets: secrets, Filter: o.filter.String()}
	if !h.Recorded.IsZero() {
		about.Recorded = h.Recorded.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	hw, err := har.NewWriter(out, har.Creator{Name: "kubewire", Version: Version()}, about)
	return harWriter{hw}, err
}

// export writes each exchange of src that f matches to w once it is
// complete, in bounded memory. A bad line ends the export after what came
// before it, and the output is still whole (a HAR file closed).
func export(src record.LineSource, pos func() string, f *filter.Filter, w writer) ([]string, error) {
	var werr error
	c := &record.Completer{Audit: annotate.Audit, Done: func(x *record.Exchange) {
		if werr == nil && f.Match(x) {
			werr = w.write(x)
		}
	}}
	var rerr error
	for {
		line, err := src.Next()
		if err != nil {
			if err != io.EOF {
				rerr = err
			}
			break
		}
		c.Add(line, pos())
		if werr != nil {
			return c.Warnings, werr
		}
	}
	c.Flush()
	if werr != nil {
		return c.Warnings, werr
	}
	if err := w.close(); err != nil {
		return c.Warnings, err
	}
	return c.Warnings, rerr
}
