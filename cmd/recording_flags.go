package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kubewire/kubewire/tracer/filter"
	"github.com/kubewire/kubewire/tracer/record"
)

// addFilterFlag adds --filter (-f) to a command that reads recordings;
// verb says what it does with the calls that match ("show", "export").
func addFilterFlag(f *pflag.FlagSet, expr *string, verb string) {
	f.StringVarP(expr, "filter", "f", "", verb+" only the calls that match EXPR, e.g. 'denied or status>=500', 'cmd=\"kubectl apply\" and write' (see docs/filters.md)")
}

// parseFilter compiles --filter; a bad expression is a usage error that
// points at the token at fault.
func parseFilter(expr string) (*filter.Filter, error) {
	f, err := filter.Parse(expr)
	if err != nil {
		var se *filter.SyntaxError
		if errors.As(err, &se) {
			return nil, usageError("--filter: %s\n  %s", strings.TrimPrefix(err.Error(), "filter: "), strings.ReplaceAll(se.Caret(), "\n", "\n  "))
		}
		return nil, usageError("--filter: %v", err)
	}
	return f, nil
}

// redaction decides whether a recording is redacted again as command
// reads it (secrets) and its stdin left out (stdin), and says so. A
// recording kubewire redacted itself needs neither; one made with
// --show-secrets or --record-stdin, or by a kubewire that did not say,
// gets both unless show (the command's --show-secrets) is given.
func redaction(s Streams, name string, h record.Header, show bool, command string) (secrets, stdin bool) {
	clear := h.Secrets != record.SecretsRedacted
	typed := h.Stdin == record.StdinRecorded
	switch {
	case show && h.Secrets == record.SecretsShown:
		fmt.Fprintf(s.ErrOut, "kubewire: WARNING: %s was recorded with --show-secrets: tokens, keys and Secret data are shown in clear\n", name)
		return false, false
	case show:
		return false, false
	case h.Secrets == record.SecretsShown:
		fmt.Fprintf(s.ErrOut, "kubewire: %s was recorded with --show-secrets; its secrets are redacted here (%s --show-secrets shows them)\n", name, command)
	case typed:
		fmt.Fprintf(s.ErrOut, "kubewire: %s was recorded with --record-stdin; what was typed into exec and attach is left out here (%s --show-secrets shows it)\n", name, command)
	}
	return clear || typed, typed
}
