package redact

import (
	"github.com/kubewire/kubewire/tracer/record"
)

// Exchange redacts a recorded exchange in place, as the proxy would have
// at capture time: URLs, headers, bodies, error messages and, when
// omitStdin is true, what was sent on exec's and attach's stdin. It is for
// recordings made with --show-secrets or --record-stdin, or by a kubewire
// that redacted less, shown to someone who did not ask to see them.
func Exchange(x *record.Exchange, omitStdin bool) {
	c := Context{Resource: x.Annotation.Resource, Subresource: x.Annotation.Subresource}
	x.Request.URL = URL(x.Request.URL)
	x.Request.Headers = Headers(x.Request.Headers)
	recordedBody(x.Request.Body, c)
	if up := x.Request.Upstream; up != nil {
		up.URL, up.Headers = URL(up.URL), Headers(up.Headers)
	}
	if r := x.Response; r != nil {
		r.Headers = Headers(r.Headers)
		recordedBody(r.Body, c)
	}
	for _, e := range []*record.Error{x.Error, x.StreamError} {
		if e != nil {
			e.Message = String(e.Message)
		}
	}
	for i := range x.Events {
		event(&x.Events[i], c, omitStdin)
	}
}

func event(ev *record.Event, c Context, omitStdin bool) {
	if omitStdin && ev.Stdin(c.Subresource) && ev.Body != nil && !ev.Body.Omitted {
		ev.Body = &record.Body{Bytes: ev.Body.Bytes, Omitted: true}
		return
	}
	recordedBody(ev.Body, c)
}

// recordedBody redacts a stored body in place.
func recordedBody(b *record.Body, c Context) {
	if b == nil || b.Omitted {
		return
	}
	out, changed := Body(b.ContentType, b.Data(), c)
	if !changed {
		return
	}
	stored := record.NewBody(b.ContentType, out, int64(len(out)), -1)
	b.Text, b.Base64, b.Redacted = stored.Text, stored.Base64, true
}

// Lines redacts the lines of src as they are read (see Exchange). Events
// are redacted with the resource of their exchange.
func Lines(src record.LineSource, omitStdin bool) record.LineSource {
	return &lines{src: src, omitStdin: omitStdin, of: map[int64]*record.Exchange{}}
}

type lines struct {
	src       record.LineSource
	omitStdin bool
	of        map[int64]*record.Exchange
}

func (l *lines) Next() (record.Line, error) {
	line, err := l.src.Next()
	if err != nil {
		return line, err
	}
	switch line.Type {
	case record.TypeExchange:
		Exchange(line.Exchange, l.omitStdin)
		l.of[line.Seq] = line.Exchange
	case record.TypeEvent:
		var c Context
		if x := l.of[line.Seq]; x != nil {
			c = Context{Resource: x.Annotation.Resource, Subresource: x.Annotation.Subresource}
		}
		event(line.Event, c, l.omitStdin)
	case record.TypeEnd:
		if line.End.Error != nil {
			line.End.Error.Message = String(line.End.Error.Message)
		}
	}
	return line, nil
}
