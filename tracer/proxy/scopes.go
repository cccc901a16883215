package proxy

import (
	"context"
	"net/http"
	"strings"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/kubewire/kubewire/tracer/classify"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/redact"
)

// OwnConfig returns a client-go config for kubewire's own calls to the API
// server (discovery, flow-schema names, whoami): the kubeconfig's
// credentials, no proxy, and every exchange recorded as kubewire's own.
//
// They go over the traced context's own route, so the connection they open
// at start (discovery) is the one the client's first call finds ready.
func (p *Proxy) OwnConfig() *rest.Config {
	if ro, err := p.router.get(p.router.current, p.router.routes.User); err == nil && p.router.routes.User != "" {
		return &rest.Config{
			Host:      p.cfg.Target.Config.Host,
			APIPath:   p.cfg.Target.Config.APIPath,
			Transport: &ownRecorder{p: p, rt: ro.rt},
			Timeout:   30 * time.Second,
			UserAgent: ProxyUserAgent,
		}
	}
	c := rest.CopyConfig(p.cfg.Target.Config)
	if c.Proxy == nil {
		c.Proxy = noProxy
	}
	c.WrapTransport = chainWrap(c.WrapTransport, func(rt http.RoundTripper) http.RoundTripper {
		return &ownRecorder{p: p, rt: rt}
	})
	c.Timeout = 30 * time.Second
	c.UserAgent = ProxyUserAgent
	return c
}

// ProxyUserAgent is the User-Agent of the proxy's own lookups: the API
// server's audit log names them, and kubewire serve answers them without
// using up the answers the traced client needs.
const ProxyUserAgent = "kubewire (proxy)"

func (p *Proxy) discoverScopes() (*classify.Table, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(p.OwnConfig())
	if err != nil {
		return nil, err
	}
	return classify.Discover(context.Background(), dc)
}

// ownRecorder records kubewire's own calls like any other exchange.
type ownRecorder struct {
	p  *Proxy
	rt http.RoundTripper
}

func (o *ownRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	c := o.p.newCapture(req, o.p.own)
	c.x.Own, c.x.OwnBy = true, record.OwnByProxy
	resp, err := o.rt.RoundTrip(req)
	if err != nil {
		c.x.Error = &record.Error{Message: redact.String(err.Error()), Phase: "upstream"}
		c.finish(nil)
		return nil, err
	}
	c.responded(resp)
	c.buffered(resp)
	return resp, nil
}

// OwnUserAgent is the User-Agent of a kubewire command's calls to the API
// server, "kubewire/VERSION (COMMAND)": a trace that sees it marks the call
// as kubewire's own, and the API server's audit log names the command.
func OwnUserAgent(version, command string) string {
	return "kubewire/" + version + " (" + command + ")"
}

// OwnCommand returns the command named by a User-Agent that OwnUserAgent
// made, and whether it is one. client-go's default User-Agent for a program
// named kubewire ("kubewire/v0.0.0 (linux/amd64) …") is not.
func OwnCommand(userAgent string) (string, bool) {
	rest, ok := strings.CutPrefix(userAgent, "kubewire/")
	if !ok {
		return "", false
	}
	_, rest, ok = strings.Cut(rest, " (")
	if !ok {
		return "", false
	}
	cmd, tail, ok := strings.Cut(rest, ")")
	if !ok || tail != "" || cmd == "" || strings.ContainsAny(cmd, "/ ") || cmd == record.OwnByProxy {
		return "", false
	}
	return cmd, true
}
