package lessons

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubewire/kubewire/tracer/filter"
	"github.com/kubewire/kubewire/tracer/record"
)

// Progress survives a restart: passed and skipped steps, the step to
// resume at, done after the last; reset forgets one lesson only.
func TestProgressRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubewire", "lessons.json")
	p, err := LoadProgress(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Of("rbac"); s.Step != 1 || s.Done {
		t.Fatalf("a lesson never started is %+v, want step 1", s)
	}
	p.Pass("rbac", 1, 3)
	p.Skip("rbac", 2, 3)
	p.Pass("rest", 1, 1)
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	q, err := LoadProgress(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := q.Of("rbac"); s.Step != 3 || s.Done || !slices.Equal(s.Passed, []int{1}) || !slices.Equal(s.Skipped, []int{2}) {
		t.Errorf("rbac after a restart is %+v, want at step 3, 1 passed, 2 skipped", s)
	}
	if s := q.Of("rest"); !s.Done {
		t.Errorf("rest after its only step passed is %+v, want done", s)
	}
	q.Pass("rbac", 2, 3) // went back and passed it
	if s := q.Of("rbac"); !slices.Equal(s.Passed, []int{1, 2}) || len(s.Skipped) != 0 {
		t.Errorf("rbac after step 2 passed is %+v", s)
	}
	q.Reset("rbac")
	if s := q.Of("rbac"); s.Step != 1 || len(s.Passed) != 0 {
		t.Errorf("rbac after reset is %+v", s)
	}
	if !q.Of("rest").Done {
		t.Error("reset of rbac forgot rest")
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadProgress(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a corrupt progress file loads with error %v, want its path named", err)
	}
}

// A check passes when some call matches (or, absent, none does), and
// never sees kubewire's own lookups.
func TestEvaluate(t *testing.T) {
	mk := func(expr string, absent bool) Check {
		f, err := filter.Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		return Check{Expect: expr, Absent: absent, Hint: "h", filter: f}
	}
	list := &record.Exchange{Annotation: record.Annotation{Verb: "list", Resource: "pods", Namespace: "demo"}}
	own := &record.Exchange{Own: true, Annotation: record.Annotation{Verb: "list", Resource: "flowschemas"}}
	s := &Step{Checks: []Check{
		mk("verb=list resource=pods ns=demo", false),
		mk("resource=flowschemas", false),
		mk("verb=create", true),
		mk("verb=list", true),
	}}
	res := s.Evaluate([]*record.Exchange{list, own})
	var got []bool
	for _, r := range res {
		got = append(got, r.Pass)
	}
	if want := []bool{true, false, true, false}; !slices.Equal(got, want) {
		t.Errorf("passes %v, want %v", got, want)
	}
	if res[0].Matched != 1 || Passed(res) {
		t.Errorf("matched %d, all passed %v", res[0].Matched, Passed(res))
	}
}
