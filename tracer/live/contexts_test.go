package live

import (
	"strings"
	"testing"

	"github.com/kubewire/kubewire/tracer/record"
)

// A classroom switches identities inside one kubewire proxy session with
// kubectl config use-context, and each call is traced as who made it.
func TestUseContextInsideASession(t *testing.T) {
	x := trace(t, false)
	if _, e, err := x.kubectl(t, "", "config", "use-context", "alice"); err != nil {
		t.Fatalf("use-context alice: %v %s", err, e)
	}
	if _, e, err := x.kubectl(t, "", "get", "pods", "-n", "demo"); err == nil || !strings.Contains(e, `User "alice"`) {
		t.Fatalf("alice should be forbidden: %v %s", err, e)
	}
	if _, e, err := x.kubectl(t, "", "config", "use-context", "bob"); err != nil {
		t.Fatalf("use-context bob: %v %s", err, e)
	}
	if _, e, err := x.kubectl(t, "", "get", "pods", "-n", "demo"); err != nil {
		t.Fatalf("bob may list pods in demo: %v %s", err, e)
	}
	var who []string
	for _, ex := range x.finish(t).Exchanges {
		if !ex.Own && ex.Annotation.Verb == "list" && ex.Annotation.Resource == "pods" {
			a := ex.Annotation.Auth
			who = append(who, a.User+" "+a.Origin+" "+ex.Annotation.Outcome)
			if a.Audit == nil || a.Audit.User != a.User {
				t.Errorf("the API server's audit log should name %s: %+v", a.User, a.Audit)
			}
		}
	}
	if strings.Join(who, ", ") != "alice kubeconfig "+record.OutcomeRejected+", bob kubeconfig "+record.OutcomeServed {
		t.Errorf("the calls were traced as %q", who)
	}
}
