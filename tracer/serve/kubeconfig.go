package serve

import (
	"crypto/tls"
	"path/filepath"
	"sort"

	"github.com/kubewire/kubewire/tracer/kubecfg"
	"github.com/kubewire/kubewire/tracer/pki"
	"github.com/kubewire/kubewire/tracer/record"
)

// Identity is a user the recording's client calls were sent as.
type Identity struct {
	// Context names the kubeconfig context that sends as this user.
	Context string
	User    string
	// Groups are the user's groups, without those the server adds itself.
	Groups []string
}

// Identities are the users a client of the recording can send as: first
// the one most of its client calls were sent as, under the recording's
// context (or "recording"); then each other user that sent with a client
// certificate, under a context of the user's name, as the lab's contexts
// are named. serve matches a certificate's CN with the recorded user, so
// kubectl --context alice is answered with alice's recorded answers.
func Identities(rec *record.Recording) []Identity {
	count := map[string]int{}
	groups := map[string][]string{}
	x509 := map[string]bool{}
	for _, x := range rec.Exchanges {
		a := x.Annotation.Auth
		if a == nil || a.User == "" || x.Own {
			continue
		}
		count[a.User]++
		if _, ok := groups[a.User]; !ok {
			groups[a.User] = serverless(a.Groups)
		}
		if a.Method == "x509" {
			x509[a.User] = true
		}
	}
	users := make([]string, 0, len(count))
	for u := range count {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool {
		if count[users[i]] != count[users[j]] {
			return count[users[i]] > count[users[j]]
		}
		return users[i] < users[j]
	})
	main := rec.Header.Source.Context
	if main == "" {
		main = "recording"
	}
	if len(users) == 0 {
		return []Identity{{Context: main}}
	}
	ids := []Identity{{Context: main, User: users[0], Groups: groups[users[0]]}}
	for _, u := range users[1:] {
		if x509[u] && u != main {
			ids = append(ids, Identity{Context: u, User: u, Groups: groups[u]})
		}
	}
	return ids
}

// serverless leaves out the groups the API server adds to every
// authenticated user: a certificate does not carry them.
func serverless(groups []string) []string {
	var gs []string
	for _, g := range groups {
		if g != "system:authenticated" {
			gs = append(gs, g)
		}
	}
	return gs
}

// WriteKubeconfig writes, in dir, the kubeconfig a client of the server
// at url uses: kubewire's CA, and one context per identity, each with a
// client certificate naming its user (none for an unknown user).
func WriteKubeconfig(dir, url string, ca *pki.CA, ids []Identity) (string, error) {
	contexts := make([]kubecfg.ServeContext, len(ids))
	for i, id := range ids {
		var cert *tls.Certificate
		if id.User != "" {
			var err error
			if cert, err = ca.IssueClient(id.User, id.Groups); err != nil {
				return "", err
			}
		}
		contexts[i] = kubecfg.ServeContext{Name: id.Context, Cert: cert}
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, kubecfg.WriteServe(path, url, ca, contexts)
}
