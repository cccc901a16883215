// Package classify annotates an HTTP request to the Kubernetes API the way
// the API server itself sees it: verb, API group and version, resource,
// subresource, namespace, name and scope. Parsing is done by the API
// server's own RequestInfoFactory, so kubewire and the server never disagree
// on what a path means.
package classify

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/kubewire/kubewire/tracer/record"
)

// Scope values.
const (
	Namespaced = "Namespaced"
	Cluster    = "Cluster"
	Unknown    = "Unknown"
)

// Call kinds.
const (
	KindResource  = "resource"
	KindDiscovery = "discovery"
	KindOpenAPI   = "openapi"
	KindVersion   = "version"
	KindHealth    = "health"
	KindOther     = "other"
)

// Methods lists the HTTP methods Classify accepts.
var Methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// ScopeSource answers whether a resource is namespaced.
type ScopeSource interface {
	// Name says where the answer comes from ("discovery", "builtin", ...).
	Name() string
	// Namespaced reports whether resource in group is namespaced; ok is
	// false when the source does not know the resource.
	Namespaced(group, resource string) (namespaced, ok bool)
}

// Classifier annotates requests. The zero value is not usable; use New.
type Classifier struct {
	factory *request.RequestInfoFactory
	prefix  string
	scopes  []ScopeSource
}

// New returns a classifier for a server whose URL has the path prefix
// (e.g. "/k8s" for https://host/k8s; "" for none). It asks the scope sources
// in order, first to last.
func New(prefix string, scopes ...ScopeSource) *Classifier {
	return &Classifier{
		factory: &request.RequestInfoFactory{
			APIPrefixes:          sets.NewString("api", "apis"),
			GrouplessAPIPrefixes: sets.NewString("api"),
		},
		prefix: strings.TrimSuffix(prefix, "/"),
		scopes: scopes,
	}
}

// ValidMethod reports whether m (in any case) is a method Classify accepts.
func ValidMethod(m string) bool {
	for _, x := range Methods {
		if strings.EqualFold(x, m) {
			return true
		}
	}
	return false
}

// ParseTarget accepts an absolute URL or a path with an optional query, as
// typed on a command line.
func ParseTarget(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("empty URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "" && !strings.HasPrefix(u.Path, "/") {
		return nil, fmt.Errorf("%q is neither an absolute URL nor a path starting with /", s)
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("unsupported scheme %q (want http or https)", u.Scheme)
	}
	return u, nil
}

// Classify annotates one request. header may be nil.
func (c *Classifier) Classify(method string, u *url.URL, header http.Header) record.Annotation {
	method = strings.ToUpper(method)
	path := u.Path
	if c.prefix != "" && (path == c.prefix || strings.HasPrefix(path, c.prefix+"/")) {
		path = strings.TrimPrefix(path, c.prefix)
		if path == "" {
			path = "/"
		}
	}
	stripped := *u
	stripped.Path, stripped.RawPath = path, ""
	req := &http.Request{Method: method, URL: &stripped, Header: header}

	a := record.Annotation{Path: path}
	info, err := c.factory.NewRequestInfo(req)
	if err != nil {
		a.Note = err.Error()
	}
	if info == nil {
		info = &request.RequestInfo{Verb: strings.ToLower(method), Path: path}
	}
	a.Verb = info.Verb
	a.ResourceRequest = info.IsResourceRequest
	a.APIPrefix = info.APIPrefix
	a.APIGroup = info.APIGroup
	a.APIVersion = info.APIVersion
	a.Resource = info.Resource
	a.Subresource = info.Subresource
	a.Namespace = info.Namespace
	a.Name = info.Name
	a.LabelSelector = info.LabelSelector
	a.FieldSelector = info.FieldSelector
	a.DryRun = len(u.Query()["dryRun"]) > 0
	a.Upgrade = upgrade(header)

	if a.ResourceRequest {
		a.Kind = KindResource
		a.Scope, a.ScopeSource = c.scope(a.APIGroup, a.Resource, a.Namespace)
		a.AllNamespaces = a.Scope == Namespaced && a.Namespace == "" && a.Resource != ""
	} else {
		a.Kind = nonResourceKind(path, &a)
	}
	a.Stability = Stability(a.APIVersion)
	return a
}

func (c *Classifier) scope(group, resource, namespace string) (scope, source string) {
	if resource != "" {
		for _, s := range c.scopes {
			if ns, ok := s.Namespaced(group, resource); ok {
				if ns {
					return Namespaced, s.Name()
				}
				return Cluster, s.Name()
			}
		}
	}
	if namespace != "" {
		// Only namespaced resources live under /namespaces/NS/.
		return Namespaced, "path"
	}
	return Unknown, "none"
}

// nonResourceKind labels a non-resource path; for discovery of a group
// version it also fills in the group and version.
func nonResourceKind(path string, a *record.Annotation) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch parts[0] {
	case "api":
		if len(parts) == 2 {
			a.APIPrefix, a.APIVersion = "api", parts[1]
		}
		if len(parts) <= 2 {
			return KindDiscovery
		}
	case "apis":
		if len(parts) >= 2 {
			a.APIPrefix, a.APIGroup = "apis", parts[1]
		}
		if len(parts) == 3 {
			a.APIVersion = parts[2]
		}
		if len(parts) <= 3 {
			return KindDiscovery
		}
	case "openapi", "swagger.json", "swaggerapi":
		return KindOpenAPI
	case "version":
		return KindVersion
	case "healthz", "livez", "readyz":
		return KindHealth
	}
	return KindOther
}

var (
	gaVersion    = regexp.MustCompile(`^v[1-9][0-9]*$`)
	betaVersion  = regexp.MustCompile(`^v[1-9][0-9]*beta[1-9][0-9]*$`)
	alphaVersion = regexp.MustCompile(`^v[1-9][0-9]*alpha[1-9][0-9]*$`)
)

// Stability reads a Kubernetes API version string: "GA" for v1, "beta" for
// v1beta2, "alpha" for v1alpha1, "" for anything else.
func Stability(version string) string {
	switch {
	case gaVersion.MatchString(version):
		return "GA"
	case betaVersion.MatchString(version):
		return "beta"
	case alphaVersion.MatchString(version):
		return "alpha"
	}
	return ""
}

func upgrade(h http.Header) string {
	if h == nil || !HeaderHasToken(h, "Connection", "upgrade") {
		return ""
	}
	u := strings.ToLower(h.Get("Upgrade"))
	switch {
	case u == "":
		return ""
	case strings.HasPrefix(u, "websocket"):
		return "websocket"
	case strings.HasPrefix(u, "spdy"):
		return "spdy"
	}
	return u
}

// HeaderHasToken reports whether a comma-separated header (Connection,
// Upgrade) lists token, in any case.
func HeaderHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
