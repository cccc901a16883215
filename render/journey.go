package render

import (
	"fmt"
	"strings"

	"github.com/kubewire/kubewire/tracer/record"
)

// The journey view: the stages a request went through, who sent it, the
// server's signals and audit event.

// journey draws the stages as a pipeline, then explains each one, the
// identity and the server's signals.
func (r *renderer) journey(x *record.Exchange) []string {
	st, a := r.st, x.Annotation
	var lines []string
	row := func(label, text string) {
		lines = append(lines, r.wrapHang(text, blockIndent+st.Key.Render(fmt.Sprintf("%-11s", label)), blockIndent+strings.Repeat(" ", 11))...)
	}
	if rp := a.Replayed; rp != nil {
		text := "answered by kubewire serve from " + rp.Recording + ", not by an API server"
		if rp.Seq != 0 {
			text = fmt.Sprintf("answered by kubewire serve with call #%d of %s, not by an API server: the stages below are those the recorded call went through", rp.Seq, rp.Recording)
		}
		if rp.Note != "" {
			text += "; " + rp.Note
		}
		row("recording", st.Own.Render(text))
	}
	au := a.Auth
	if au == nil || len(au.Stages) == 0 {
		lines = append(lines, r.wrap(st.Dim.Render("journey unknown: the record has no analysis of the stages"), blockIndent)...)
	} else {
		segs := []string{st.Dim.Render("client")}
		for _, s := range au.Stages {
			segs = append(segs, st.Dim.Render(SymArrow)+" "+stageLabel(s.Name)+" "+r.mark(s))
		}
		lines = append(lines, r.packPipeline(segs)...)
	}
	if au != nil {
		row("identity", r.identityDetail(au))
		for _, s := range au.Stages {
			if s.Detail == "" && !s.Inferred {
				continue
			}
			text := s.Detail
			if s.Inferred {
				text = st.Inferred.Render(strings.TrimSpace("inferred " + text))
			}
			row(stageLabel(s.Name), r.mark(s)+" "+text)
		}
		if au.StoppedAt != "" && au.Reason != "" {
			row("stopped", st.Denied.Render(au.Reason))
		}
		if d := au.Denial; d != nil && d.Reason != "" {
			row("authorizer", d.Reason)
		}
		if ad := au.Admission; ad != nil {
			what := ad.Kind
			if ad.Name != "" {
				what += " " + st.Bold.Render(ad.Name)
			}
			if ad.Binding != "" {
				what += " (binding " + ad.Binding + ")"
			}
			row("admission", st.Denied.Render(SymRejected)+" "+what)
		}
		for _, c := range au.Causes {
			text := orDash(c.Type)
			if c.Field != "" {
				text += " " + st.Bold.Render(c.Field)
			}
			row("cause", text+": "+c.Message)
		}
		if au.Persisted != nil && !*au.Persisted {
			row("dry run", st.Warning.Render("the server ran every stage but did not persist the object"))
		}
		if ev := au.Audit; ev != nil {
			row("audit log", r.auditText(ev))
		}
	}
	if a.LabelSelector != "" || a.FieldSelector != "" {
		var sel []string
		if a.LabelSelector != "" {
			sel = append(sel, "labels "+a.LabelSelector)
		}
		if a.FieldSelector != "" {
			sel = append(sel, "fields "+a.FieldSelector)
		}
		row("selector", strings.Join(sel, "; "))
	}
	if a.Note != "" {
		row("note", a.Note)
	}
	if sg := a.Signals; sg != nil {
		if sg.FlowSchema != "" || sg.PriorityLevel != "" {
			text := "flow schema " + orDash(sg.FlowSchema) + ", priority level " + orDash(sg.PriorityLevel)
			if sg.FlowNote != "" {
				text += st.Dim.Render(" (UIDs: " + sg.FlowNote + ")")
			}
			row("APF", text)
		}
		if sg.AuditID != "" {
			row("audit-id", st.Dim.Render(sg.AuditID))
		}
		for _, w := range sg.Warnings {
			text := st.Warning.Render(SymWarning + " " + w.Text)
			if w.Replacement != "" {
				text += st.Dim.Render(" (use " + w.Replacement + ")")
			}
			row("warning", text)
		}
	}
	if x.Error != nil {
		row("error", st.Denied.Render(x.Error.Message))
	}
	if x.StreamError != nil {
		row("stream", st.Denied.Render("broke: "+x.StreamError.Message))
	}
	if x.Response != nil && x.Response.Body != nil && r.o.Detail < LevelBodies {
		d := decodeBody(x.Response.Body)
		s := summarize(d.tree, r.path(x))
		repeated := au != nil && au.Reason != "" && strings.Contains(s, au.Reason)
		if s != "" && !repeated && r.quickSummary(x) == "" {
			row("response", s)
		}
	}
	return lines
}

// packPipeline lays out the pipeline, wrapping before an arrow.
func (r *renderer) packPipeline(segs []string) []string {
	var lines []string
	cur := blockIndent
	for i, s := range segs {
		if i > 0 && width(cur)+1+width(s) > r.width {
			lines = append(lines, cur)
			cur = blockIndent + "  "
		} else if i > 0 {
			cur += " "
		}
		cur += s
	}
	return append(lines, cur)
}

// mark is a stage outcome's symbol, and the inferred mark when kubewire
// deduced it.
func (r *renderer) mark(s record.Stage) string {
	st := r.st
	var sym string
	var style Style
	switch s.Status {
	case record.Passed:
		sym, style = SymPassed, st.Passed
	case record.Rejected:
		sym, style = SymRejected, st.Denied
	case record.NotApplicable:
		sym, style = SymSkipped, st.Skipped
	default:
		sym, style = SymNotReached, st.Skipped
	}
	if s.Inferred {
		return style.Render(sym) + st.Inferred.Render(SymInferred)
	}
	return style.Render(sym)
}

func (r *renderer) identityDetail(au *record.Auth) string {
	text := r.identity(au)
	var how []string
	if au.Method != "" {
		how = append(how, au.Method)
	}
	switch au.Origin {
	case "kubeconfig":
		how = append(how, "kubeconfig's credentials")
	case "client":
		how = append(how, "the client's own credentials")
	}
	if im := au.Impersonation; im != nil && im.By != "" {
		how = append(how, "impersonated by "+im.By)
	}
	if len(how) > 0 {
		text += r.st.Dim.Render(" · " + strings.Join(how, ", "))
	}
	if len(au.Groups) > 0 {
		text += r.st.Dim.Render(" · groups ") + strings.Join(au.Groups, ", ")
	}
	return text
}

func (r *renderer) auditText(ev *record.AuditEvent) string {
	var parts []string
	if ev.Decision != "" {
		d := ev.Decision
		if ev.DecisionReason != "" {
			d += ": " + ev.DecisionReason
		}
		parts = append(parts, "decision "+d)
	}
	if ev.User != "" {
		parts = append(parts, "user "+ev.User)
	}
	if ev.Code != 0 {
		parts = append(parts, fmt.Sprintf("code %d", ev.Code))
	}
	if ev.Stage != "" {
		parts = append(parts, "stage "+ev.Stage)
	}
	if len(parts) == 0 {
		return "event " + ev.AuditID
	}
	return strings.Join(parts, ", ")
}
