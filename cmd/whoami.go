package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/auth"
	"github.com/kubewire/kubewire/tracer/proxy"
	"github.com/kubewire/kubewire/tracer/record"
)

// kubeconfigOptions are the flags that choose a kubeconfig context.
type kubeconfigOptions struct {
	kubeconfig string
	context    string
}

func (o *kubeconfigOptions) addFlags(c *cobra.Command) {
	c.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "the kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	c.Flags().StringVar(&o.context, "context", "", "the kubeconfig context (default the current one)")
}

// load loads the chosen context.
func (o *kubeconfigOptions) load(cmd string) (*proxy.Target, error) {
	t, err := proxy.LoadTarget(o.kubeconfig, o.context)
	if errors.Is(err, proxy.ErrNoKubeconfig) {
		return nil, usageError("no kubeconfig found; set KUBECONFIG or pass --kubeconfig (see 'kubewire %s -h')", cmd)
	}
	return t, err
}

type whoamiOptions struct {
	kubeconfigOptions
	output string
}

func newWhoamiCmd(s Streams) *cobra.Command {
	o := &whoamiOptions{}
	c := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the current context is, decoded locally and as the server sees it",
		Long: `whoami decodes the kubeconfig's credentials without sending them anywhere
(client certificate: CN is the user, O the groups; a JWT's claims; an exec
plugin or an opaque token cannot be decoded), then asks the API server with a
SelfSubjectReview who they are, and shows both side by side, saying where they
differ. Secrets are never printed.`,
		Example: `  kubewire whoami
  kubewire whoami --context alice -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(c, s)
		},
	}
	o.addFlags(c)
	c.Flags().StringVarP(&o.output, "output", "o", "", "output format: json, or empty for text")
	return c
}

func (o *whoamiOptions) validate() error {
	return validateOutput(o.output)
}

func validateOutput(output string) error {
	switch output {
	case "", "json":
		return nil
	}
	return usageError("unknown --output %q; want json", output)
}

func (o *whoamiOptions) run(c *cobra.Command, s Streams) error {
	t, err := o.load("whoami")
	if err != nil {
		return err
	}
	t.Config.UserAgent = proxy.OwnUserAgent(Version(), "whoami")
	w, err := auth.AskWhoAmI(c.Context(), t.Config)
	if err != nil {
		return fmt.Errorf("context %q: %w", t.Context, err)
	}
	if t.Session {
		w.Notes = append([]string{"this is a kubewire session's kubeconfig: its token is kubewire's placeholder, and kubewire sends the traced context's own credentials to the server, so the server answers for those"}, w.Notes...)
	}
	if o.output == "json" {
		return writeJSON(s.Out, w)
	}
	return writeWhoAmI(s.Out, t.Context, w, render.NewStyles(render.OptionsFor(s.Out)))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeWhoAmI prints the comparison: the decoded identity and the
// server's answer side by side, then the credential and the verdict.
func writeWhoAmI(out io.Writer, context string, w *auth.WhoAmI, st render.Styles) error {
	l, srv := w.Local, w.Server
	fmt.Fprintf(out, "context %s\n\n", st.Bold.Render(context))
	const col = 44
	row := func(label, local, server string, style func(...string) string) {
		pad := strings.Repeat(" ", max(1, col-len([]rune(local))))
		fmt.Fprintf(out, "  %s %s%s%s\n", st.Key.Render(fmt.Sprintf("%-7s", label)), style(local), pad, style(server))
	}
	row("", "decoded by kubewire", "the server says (SelfSubjectReview)", st.Dim.Render)
	local := l.User
	if local == "" {
		local = "(unknown: " + l.Method + ")"
	}
	row("user", local, srv.User, st.Identity.Render)
	row("groups", strings.Join(l.Groups, ", "), strings.Join(srv.Groups, ", "), st.Bold.Render)
	if srv.UID != "" {
		row("uid", "", srv.UID, st.Bold.Render)
	}
	fmt.Fprintf(out, "\n  %s %s\n", st.Key.Render(fmt.Sprintf("%-7s", "method")), describeCredential(l))
	if im := l.Impersonation; im != nil {
		fmt.Fprintf(out, "  %s %s\n", st.Key.Render(fmt.Sprintf("%-7s", "as")), "impersonating "+im.User+" "+strings.Join(im.Groups, ","))
	}
	fmt.Fprintln(out)
	if w.Agree {
		fmt.Fprintf(out, "  %s kubewire and the server agree\n", st.Passed.Render(render.SymPassed))
	}
	for _, n := range w.Notes {
		fmt.Fprintf(out, "  %s %s\n", st.Warning.Render(render.SymWarning), n)
	}
	return nil
}

// describeCredential says in one line what the credential is, never what
// its secret is.
func describeCredential(a *record.Auth) string {
	var parts []string
	c := a.Credential
	switch a.Method {
	case auth.MethodX509:
		parts = append(parts, "x509 client certificate")
	case auth.MethodServiceAccount:
		parts = append(parts, "ServiceAccount token")
	case auth.MethodOIDC:
		parts = append(parts, "OIDC token")
	case auth.MethodToken:
		parts = append(parts, "opaque bearer token")
	case auth.MethodExec:
		parts = append(parts, "exec credential plugin")
	case auth.MethodBasic:
		parts = append(parts, "basic auth")
	default:
		parts = append(parts, a.Method)
	}
	if c == nil {
		return strings.Join(parts, ", ")
	}
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, label+" "+v)
		}
	}
	add("subject", c.Subject)
	add("issuer", c.Issuer)
	add("token issuer", c.TokenIssuer)
	add("sub", c.TokenSubject)
	add("audience", strings.Join(c.Audience, ","))
	add("bound to", strings.Join(c.BoundTo, ","))
	add("plugin", c.Plugin)
	if !c.NotAfter.IsZero() {
		add("expires", c.NotAfter.Format(time.DateOnly))
	}
	if !c.Expiry.IsZero() {
		add("expires", c.Expiry.Format(time.RFC3339))
	}
	add("note", c.Note)
	return strings.Join(parts, ", ")
}
