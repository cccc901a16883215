package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/kubewire/kubewire/tracer/record"
)

// ServerUser is who the API server says a client is (SelfSubjectReview).
type ServerUser struct {
	User   string              `json:"user"`
	UID    string              `json:"uid,omitempty"`
	Groups []string            `json:"groups,omitempty"`
	Extra  map[string][]string `json:"extra,omitempty"`
}

// WhoAmI compares what kubewire decodes from the credentials with what
// the server says.
type WhoAmI struct {
	// Local is what kubewire decoded from the kubeconfig, without asking.
	Local *record.Auth `json:"local"`
	// Server is the server's answer.
	Server *ServerUser `json:"server"`
	// Agree is true when the user and the groups are the same.
	Agree bool `json:"agree"`
	// Notes say where they differ and why.
	Notes []string `json:"notes,omitempty"`
}

// AskWhoAmI decodes cfg's credentials and asks the server who they are
// with an authentication.k8s.io/v1 SelfSubjectReview, sent through cfg.
func AskWhoAmI(ctx context.Context, cfg *rest.Config) (*WhoAmI, error) {
	w := &WhoAmI{Local: DescribeConfig(cfg)}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	r, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return w, fmt.Errorf("ask the server who you are (SelfSubjectReview): %w", err)
	}
	u := r.Status.UserInfo
	w.Server = &ServerUser{User: u.Username, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		w.Server.Extra = map[string][]string{}
		for k, v := range u.Extra {
			w.Server.Extra[k] = v
		}
	}
	w.compare()
	return w, nil
}

func (w *WhoAmI) compare() {
	l, s := w.Local, w.Server
	if l.Impersonation != nil && l.Impersonation.User != "" {
		w.Notes = append(w.Notes, fmt.Sprintf("the kubeconfig impersonates %q: the server answers for the impersonated user", l.Impersonation.User))
		w.Agree = l.Impersonation.User == s.User
		return
	}
	if l.User == "" {
		w.Notes = append(w.Notes, fmt.Sprintf("kubewire cannot tell the user from a %s credential; the server says %q", l.Method, s.User))
		return
	}
	w.Agree = true
	if l.User != s.User {
		w.Agree = false
		w.Notes = append(w.Notes, fmt.Sprintf("user: kubewire decoded %q, the server says %q", l.User, s.User))
	}
	if extra, missing := diff(s.Groups, l.Groups), diff(l.Groups, s.Groups); len(extra)+len(missing) > 0 {
		w.Agree = false
		if len(extra) > 0 {
			w.Notes = append(w.Notes, "groups only the server knows: "+strings.Join(extra, ", "))
		}
		if len(missing) > 0 {
			w.Notes = append(w.Notes, "groups the server does not grant: "+strings.Join(missing, ", "))
		}
	}
}

// diff is a minus b.
func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// AccessQuery is the question of kubewire can-i.
type AccessQuery struct {
	// Verb is the API verb (get, list, create, ..., or * ).
	Verb string `json:"verb"`
	// Resource is as typed: a resource, a short name or kind, optionally
	// with .group and /subresource ("deploy", "deployments.apps",
	// "pods/log").
	Resource string `json:"resource,omitempty"`
	// Path is a non-resource URL ("/healthz"), instead of Resource.
	Path string `json:"path,omitempty"`
	// Name is the object's name, optional.
	Name string `json:"name,omitempty"`
	// Namespace is the namespace; "" with AllNamespaces means every one.
	Namespace     string `json:"namespace,omitempty"`
	AllNamespaces bool   `json:"allNamespaces,omitempty"`
}

// AccessAnswer is the server's answer to an AccessQuery.
type AccessAnswer struct {
	Query AccessQuery `json:"query"`
	// Group, Resource and Subresource are the resource the server was
	// asked about, after resolving short names through discovery.
	Group       string `json:"group"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	// Allowed, Denied, Reason and EvaluationError are the server's answer
	// (SelfSubjectAccessReview status). Neither allowed nor denied means
	// no authorizer had an opinion: the request would be denied.
	Allowed         bool   `json:"allowed"`
	Denied          bool   `json:"denied,omitempty"`
	Reason          string `json:"reason,omitempty"`
	EvaluationError string `json:"evaluationError,omitempty"`
	// Auth is who asked, and the stages as far as the answer tells.
	Auth *record.Auth `json:"auth"`
	// Notes are remarks, e.g. a resource discovery did not know.
	Notes []string `json:"notes,omitempty"`
}

// CanI asks the server with an authorization.k8s.io/v1
// SelfSubjectAccessReview whether cfg's user may do q, sent through cfg.
// Resource names are resolved through discovery like kubectl does.
func CanI(ctx context.Context, cfg *rest.Config, q AccessQuery) (*AccessAnswer, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ans := &AccessAnswer{Query: q, Auth: DescribeConfig(cfg)}
	review := &authorizationv1.SelfSubjectAccessReview{}
	if q.Path != "" {
		review.Spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: q.Path, Verb: q.Verb}
	} else {
		gr, sub, note := resolveResource(cs, q.Resource)
		if note != "" {
			ans.Notes = append(ans.Notes, note)
		}
		ans.Group, ans.Resource, ans.Subresource = gr.Group, gr.Resource, sub
		ns := q.Namespace
		if q.AllNamespaces {
			ns = ""
		}
		review.Spec.ResourceAttributes = &authorizationv1.ResourceAttributes{
			Namespace: ns, Verb: q.Verb, Group: gr.Group, Resource: gr.Resource, Subresource: sub, Name: q.Name,
		}
	}
	r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("ask the server (SelfSubjectAccessReview): %w", err)
	}
	ans.Allowed, ans.Denied, ans.Reason, ans.EvaluationError = r.Status.Allowed, r.Status.Denied, r.Status.Reason, r.Status.EvaluationError
	ans.Auth.Stages = accessStages(ans)
	if !ans.Allowed {
		ans.Auth.StoppedAt = record.StageAuthorization
		ans.Auth.Reason = "the authorizers would deny it"
		if ans.Reason != "" {
			ans.Auth.Reason += ": " + ans.Reason
		}
	}
	return ans, nil
}

// accessStages is the journey a real request would have, as far as a
// SelfSubjectAccessReview tells: the review itself authenticated, the
// authorizers answered, and the rest is unknown.
func accessStages(ans *AccessAnswer) []record.Stage {
	authz := record.Stage{Name: record.StageAuthorization, Status: record.Passed, Detail: "the authorizers allow it"}
	if !ans.Allowed {
		authz.Status, authz.Detail = record.Rejected, "no authorizer allows it"
		if ans.Denied {
			authz.Detail = "an authorizer denies it"
		}
	}
	if ans.Reason != "" {
		authz.Detail += ": " + ans.Reason
	}
	later := "not asked: a review asks the authorizers only"
	if !ans.Allowed {
		later = ""
	}
	st := []record.Stage{
		{Name: record.StageAuthentication, Status: record.Passed, Detail: "the review was answered, so the credentials were accepted"},
		{Name: record.StagePriority, Status: record.NotApplicable, Detail: "a real request would be queued here"},
		authz,
	}
	for _, name := range []string{record.StageAdmission, record.StageValidation, record.StageStorage} {
		if ans.Allowed {
			st = append(st, record.Stage{Name: name, Status: record.NotApplicable, Detail: later})
		} else {
			st = append(st, record.Stage{Name: name, Status: record.NotReached})
		}
	}
	return st
}

// resolveResource turns what a user typed ("deploy", "deployments.apps",
// "pods/log") into a group and resource through discovery, like kubectl. When
// discovery does not know it, it is used as typed, with a note.
func resolveResource(cs kubernetes.Interface, typed string) (schema.GroupResource, string, string) {
	res, sub, _ := strings.Cut(typed, "/")
	gr := schema.ParseGroupResource(res)
	if gr.Resource == "*" {
		return gr, sub, ""
	}
	// One discovery for the mapper and the short names both.
	dc := memory.NewMemCacheClient(cs.Discovery())
	groups, err := restmapper.GetAPIGroupResources(dc)
	if err != nil && len(groups) == 0 {
		return gr, sub, fmt.Sprintf("discovery failed (%v): asking about %q as typed", err, typed)
	}
	mapper := restmapper.NewShortcutExpander(restmapper.NewDiscoveryRESTMapper(groups), dc, func(string) {})
	gvr, err := mapper.ResourceFor(gr.WithVersion(""))
	if err != nil {
		return gr, sub, fmt.Sprintf("the server has no resource type %q: asking about it as typed", res)
	}
	return gvr.GroupResource(), sub, ""
}
