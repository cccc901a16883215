// Package auth works out a request's journey through the API server: who
// it was sent as (authentication), how far it got (priority and fairness,
// authorization, admission, validation, storage) and why it stopped, from
// what a proxy can see: the credentials it holds, the request headers, the
// response's status, headers and Status body, and the API server's audit
// log when that is readable. What it deduces rather than observes is marked
// as inferred. Secrets (tokens, passwords, keys) are read only to describe
// them and never kept.
//
// docs/journey.md explains every rule.
package auth

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	execauth "k8s.io/client-go/plugin/pkg/client/auth/exec"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/transport"

	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/redact"
)

// Methods of authentication.
const (
	MethodX509           = "x509"
	MethodServiceAccount = "serviceaccount"
	MethodOIDC           = "oidc"
	MethodToken          = "token"
	MethodExec           = "exec"
	MethodBasic          = "basic"
	MethodAnonymous      = "anonymous"
	MethodUnknown        = "unknown"
)

// Origins of the credentials a request carried.
const (
	OriginClient     = "client"
	OriginKubeconfig = "kubeconfig"
)

// Sources of User and Groups.
const (
	SourceCertificate = "certificate"
	SourceTokenClaims = "token-claims"
	SourceAuditLog    = "audit-log"
	SourceServer      = "server"
	SourceNone        = "none"
)

// Users and groups the API server gives without being told.
const (
	anonymousUser       = "system:anonymous"
	unauthenticated     = "system:unauthenticated"
	authenticated       = "system:authenticated"
	serviceAccountGroup = "system:serviceaccounts"
)

// DescribeConfig describes the credentials of a client-go rest.Config
// without their secrets. The order follows the API server's: a client
// certificate authenticates before a bearer token. A token file is read to
// decode its claims; the token itself is not kept. Origin is "kubeconfig".
func DescribeConfig(cfg *rest.Config) *record.Auth {
	a := &record.Auth{Origin: OriginKubeconfig}
	switch {
	case cfg == nil:
		a.Method, a.Source = MethodUnknown, SourceNone
	case len(cfg.CertData) > 0 || cfg.CertFile != "":
		describeCert(a, cfg.CertData, cfg.CertFile)
	case cfg.BearerToken != "":
		describeToken(a, cfg.BearerToken)
	case cfg.BearerTokenFile != "":
		data, err := os.ReadFile(cfg.BearerTokenFile)
		if err != nil {
			a.Method, a.Source = MethodToken, SourceNone
			a.Credential = &record.Credential{Note: fmt.Sprintf("token file %s: %v", cfg.BearerTokenFile, err)}
			break
		}
		describeToken(a, strings.TrimSpace(string(data)))
	case cfg.ExecProvider != nil:
		describeExec(a, cfg)
	case cfg.AuthProvider != nil:
		// Legacy auth providers (oidc, gcp, azure) keep an ID token in the
		// kubeconfig.
		if tok := cfg.AuthProvider.Config["id-token"]; tok != "" {
			describeToken(a, tok)
		} else {
			a.Method, a.Source = MethodToken, SourceNone
		}
		if a.Credential == nil {
			a.Credential = &record.Credential{}
		}
		a.Credential.Plugin = "auth-provider " + cfg.AuthProvider.Name
	case cfg.Username != "":
		a.Method, a.User, a.Source = MethodBasic, cfg.Username, SourceNone
		a.Credential = &record.Credential{Note: "basic auth: the server decides the groups"}
	default:
		anonymous(a)
	}
	if cfg != nil && (cfg.Impersonate.UserName != "" || len(cfg.Impersonate.Groups) > 0 || cfg.Impersonate.UID != "") {
		a.Impersonation = &record.Impersonation{
			User:   cfg.Impersonate.UserName,
			Groups: slices.Clone(cfg.Impersonate.Groups),
			UID:    cfg.Impersonate.UID,
			By:     a.User,
		}
	}
	return a
}

// Identify returns the identity of one request. clientHeader is the
// request as the client sent it, before kubewire put its own credentials
// in. When clientOwnsAuth is true the client's own Authorization header went
// upstream: its token is decoded (Origin "client"), and no Authorization
// header means an anonymous request. Otherwise the kubeconfig's identity
// applies (a copy of kubeconfig). Impersonate-* headers the client sent
// become Impersonation, By the authenticated user.
func Identify(clientHeader http.Header, clientOwnsAuth bool, kubeconfig *record.Auth) *record.Auth {
	var a *record.Auth
	switch {
	case clientOwnsAuth:
		a = &record.Auth{Origin: OriginClient}
		if tok := redact.BearerSubprotocol(clientHeader); clientHeader.Get("Authorization") == "" && tok != "" {
			// A WebSocket client that cannot set headers (a browser)
			// offers its token as a subprotocol, where the API server
			// looks for it.
			describeToken(a, tok)
			if a.Credential == nil {
				a.Credential = &record.Credential{}
			}
			a.Credential.Note = strings.TrimPrefix(a.Credential.Note+"; sent as the WebSocket subprotocol base64url.bearer.authorization.k8s.io", "; ")
			break
		}
		describeAuthorization(a, clientHeader.Get("Authorization"))
	case kubeconfig != nil:
		a = cloneIdentity(kubeconfig)
	default:
		a = &record.Auth{Method: MethodUnknown, Source: SourceNone, Origin: OriginKubeconfig}
	}
	if imp := impersonation(clientHeader); imp != nil {
		imp.By = a.User
		a.Impersonation = imp
	}
	return a
}

// describeAuthorization describes an Authorization header value.
func describeAuthorization(a *record.Auth, h string) {
	scheme, cred, _ := strings.Cut(strings.TrimSpace(h), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case h == "":
		anonymous(a)
	case strings.EqualFold(scheme, "Bearer") && cred != "":
		describeToken(a, cred)
	case strings.EqualFold(scheme, "Basic"):
		a.Method, a.Source = MethodBasic, SourceNone
		if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
			user, _, _ := strings.Cut(string(raw), ":")
			a.User = user
		}
	default:
		a.Method, a.Source = MethodUnknown, SourceNone
		a.Credential = &record.Credential{Note: fmt.Sprintf("unrecognised Authorization scheme %q", scheme)}
	}
}

// impersonation reads the Impersonate-* request headers.
func impersonation(h http.Header) *record.Impersonation {
	imp := &record.Impersonation{
		User:   h.Get("Impersonate-User"),
		Groups: slices.Clone(h.Values("Impersonate-Group")),
		UID:    h.Get("Impersonate-Uid"),
	}
	extra := false
	for k := range h {
		if strings.HasPrefix(http.CanonicalHeaderKey(k), "Impersonate-Extra-") {
			extra = true
		}
	}
	if imp.User == "" && len(imp.Groups) == 0 && imp.UID == "" && !extra {
		return nil
	}
	return imp
}

func anonymous(a *record.Auth) {
	a.Method, a.User, a.Groups, a.Source = MethodAnonymous, anonymousUser, []string{unauthenticated}, SourceNone
}

// describeCert describes a PEM client certificate (data, or else the file).
func describeCert(a *record.Auth, data []byte, file string) {
	a.Method, a.Source = MethodX509, SourceCertificate
	if len(data) == 0 {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			a.Source = SourceNone
			a.Credential = &record.Credential{Note: fmt.Sprintf("client certificate %s: %v", file, err)}
			return
		}
	}
	cert, err := parseCert(data)
	if err != nil {
		a.Source = SourceNone
		a.Credential = &record.Credential{Note: "client certificate: " + err.Error()}
		return
	}
	a.User = cert.Subject.CommonName
	a.Groups = withAuthenticated(cert.Subject.Organization)
	a.Credential = &record.Credential{
		Subject:  cert.Subject.String(),
		Issuer:   cert.Issuer.String(),
		NotAfter: cert.NotAfter.UTC(),
	}
}

// parseCert returns the first certificate in PEM data.
func parseCert(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("no PEM certificate found")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

// claims are the JWT claims kubewire reads.
type claims struct {
	Issuer   string       `json:"iss"`
	Subject  string       `json:"sub"`
	Audience audience     `json:"aud"`
	Expiry   *json.Number `json:"exp"`
	Email    string       `json:"email"`
	K8s      *struct {
		Namespace      string   `json:"namespace"`
		ServiceAccount *nameUID `json:"serviceaccount"`
		Pod            *nameUID `json:"pod"`
		Secret         *nameUID `json:"secret"`
		Node           *nameUID `json:"node"`
	} `json:"kubernetes.io"`
	// Legacy (Secret-based) ServiceAccount tokens.
	LegacyNamespace string `json:"kubernetes.io/serviceaccount/namespace"`
	LegacyName      string `json:"kubernetes.io/serviceaccount/service-account.name"`
	LegacySecret    string `json:"kubernetes.io/serviceaccount/secret.name"`
}

type nameUID struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// audience is a JWT "aud": one string or a list.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// describeToken describes a bearer token: a JWT's claims are decoded
// without verifying the signature (only the server can); anything else is
// an opaque token.
func describeToken(a *record.Auth, token string) {
	c, ok := decodeJWT(token)
	if !ok {
		a.Method, a.Source = MethodToken, SourceNone
		a.Credential = &record.Credential{Note: "opaque bearer token: only the server knows whose it is"}
		return
	}
	cred := &record.Credential{TokenIssuer: c.Issuer, TokenSubject: c.Subject, Audience: []string(c.Audience)}
	if c.Expiry != nil {
		if secs, err := c.Expiry.Int64(); err == nil {
			cred.Expiry = time.Unix(secs, 0).UTC()
		} else if f, err := c.Expiry.Float64(); err == nil {
			cred.Expiry = time.Unix(int64(f), 0).UTC()
		}
	}
	a.Credential = cred
	a.Source = SourceTokenClaims
	ns, name := "", ""
	switch {
	case c.K8s != nil && c.K8s.ServiceAccount != nil:
		ns, name = c.K8s.Namespace, c.K8s.ServiceAccount.Name
		for kind, ref := range map[string]*nameUID{"pod": c.K8s.Pod, "secret": c.K8s.Secret, "node": c.K8s.Node} {
			if ref != nil && ref.Name != "" {
				cred.BoundTo = append(cred.BoundTo, kind+"/"+ref.Name)
			}
		}
		slices.Sort(cred.BoundTo)
	case c.LegacyName != "":
		ns, name = c.LegacyNamespace, c.LegacyName
		if c.LegacySecret != "" {
			cred.BoundTo = []string{"secret/" + c.LegacySecret}
		}
	case strings.HasPrefix(c.Subject, "system:serviceaccount:"):
		rest := strings.TrimPrefix(c.Subject, "system:serviceaccount:")
		ns, name, _ = strings.Cut(rest, ":")
	}
	if name != "" {
		a.Method = MethodServiceAccount
		cred.ServiceAccount = ns + "/" + name
		a.User = "system:serviceaccount:" + ns + ":" + name
		a.Groups = []string{serviceAccountGroup, serviceAccountGroup + ":" + ns, authenticated}
		return
	}
	a.Method = MethodOIDC
	cred.Note = "OIDC: the user name and groups come from the claims the server is configured to use (--oidc-username-claim, prefixes)"
	if c.Email != "" {
		cred.Note += "; email claim " + c.Email
	}
}

// decodeJWT decodes a JWT's claims without verifying it.
func decodeJWT(token string) (*claims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, false
	}
	var c claims
	d := json.NewDecoder(strings.NewReader(string(payload)))
	d.UseNumber()
	if err := d.Decode(&c); err != nil {
		return nil, false
	}
	if c.Issuer == "" && c.Subject == "" {
		return nil, false
	}
	return &c, true
}

// withAuthenticated adds system:authenticated, which the API server gives
// every authenticated user.
func withAuthenticated(groups []string) []string {
	out := slices.Clone(groups)
	if !slices.Contains(out, authenticated) {
		out = append(out, authenticated)
	}
	return out
}

// cloneIdentity copies the identity part of a (no journey).
func cloneIdentity(a *record.Auth) *record.Auth {
	c := &record.Auth{
		Method: a.Method,
		User:   a.User,
		Groups: slices.Clone(a.Groups),
		Source: a.Source,
		Origin: a.Origin,
	}
	if a.Credential != nil {
		cred := *a.Credential
		cred.Audience = slices.Clone(cred.Audience)
		cred.BoundTo = slices.Clone(cred.BoundTo)
		c.Credential = &cred
	}
	if a.Impersonation != nil {
		imp := *a.Impersonation
		imp.Groups = slices.Clone(imp.Groups)
		c.Impersonation = &imp
	}
	return c
}

// describeExec asks the kubeconfig's exec credential plugin for its
// credential, as client-go would before the first request (client-go
// keeps it, so the plugin is not run twice), and describes what it
// returned: a client certificate or a token, decoded as a kubeconfig's
// own would be. Method stays "exec", and the credential names the plugin.
func describeExec(a *record.Auth, cfg *rest.Config) {
	plugin := filepath.Base(cfg.ExecProvider.Command)
	fail := func(why string) {
		a.Method, a.Source = MethodExec, SourceNone
		a.Credential = &record.Credential{Plugin: plugin,
			Note: why + "; the plugin's credential is fetched by client-go when a request is sent: ask the server with 'kubewire whoami'"}
	}
	if cfg.ExecProvider.InteractiveMode == clientcmdapi.AlwaysExecInteractiveMode {
		fail("the plugin wants a terminal")
		return
	}
	ea, err := execauth.GetAuthenticator(cfg.ExecProvider, nil)
	if err != nil {
		fail(err.Error())
		return
	}
	tc := &transport.Config{}
	if err := ea.UpdateTransportConfig(tc); err != nil {
		fail(err.Error())
		return
	}
	if h := tc.TLS.GetCertHolder; h != nil && h.GetCert != nil {
		if cert, err := h.GetCert(); err != nil {
			fail("the plugin failed: " + err.Error())
			return
		} else if cert != nil && len(cert.Certificate) > 0 {
			describeCert(a, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), "")
			a.Method = MethodExec
			a.Credential.Plugin = plugin
			a.Credential.Note = "a client certificate from the exec plugin " + plugin
			return
		}
	}
	// A token: the plugin's round tripper puts it on a request.
	var token string
	if tc.WrapTransport == nil {
		fail("the plugin returned no credential kubewire can read")
		return
	}
	rt := tc.WrapTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	}))
	req, _ := http.NewRequest(http.MethodGet, "https://kubewire.invalid/", nil)
	if _, err := rt.RoundTrip(req); err != nil || token == "" {
		fail("the plugin returned no credential kubewire can read")
		return
	}
	describeToken(a, token)
	a.Method = MethodExec
	if a.Credential == nil {
		a.Credential = &record.Credential{}
	}
	a.Credential.Plugin = plugin
	a.Credential.Note = strings.TrimPrefix(a.Credential.Note+"; a token from the exec plugin "+plugin, "; ")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
