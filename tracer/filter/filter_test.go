package filter

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// matchCases are expressions and the test exchanges each must match:
// names separated by spaces, "all", "all but NAMES", or "" for none.
var matchCases = []struct{ expr, want string }{
	{"", "all"},
	{"   ", "all"},

	// verb and method
	{"verb=list", "list forbidden nodes allpods flowschemas"},
	{"VERB=LIST", "list forbidden nodes allpods flowschemas"},
	{"verb!=list", "all but list forbidden nodes allpods flowschemas"},
	{"verb~cre", "invalid dryrun"},
	{"verb=watch", "watch"},
	{`verb=""`, ""},
	{"method=post", "invalid dryrun"},
	{"method=PATCH", "apply"},
	{"method~P*", "invalid dryrun apply"},

	// resource, subresource, group, version, stability
	{"resource=pods", "list watch exec unreachable logs allpods"},
	{"resource=pods/exec", "exec"},
	{"resource=Pods/Exec", "exec"},
	{"resource=pods/log", "logs"},
	{"resource~pod*", "list watch exec unreachable logs allpods"},
	{"resource~*/log", "logs"},
	{"resource~s/ex", "exec"},
	{"resource~pods/*", "exec logs"},
	{"resource~exec", ""},
	{"subresource=exec", "exec"},
	{`subresource=""`, "all but exec logs"},
	{"group=core", "list watch forbidden exec unreachable dryrun logs nodes allpods"},
	{`group=""`, "list watch forbidden exec unreachable dryrun logs nodes allpods"},
	{"group!=core", "invalid discovery apply readyz flowschemas"},
	{"group=apps", "invalid apply"},
	{"group~*.k8s.io", "flowschemas"},
	{"version=v1beta3", "flowschemas"},
	{"stability=beta", "flowschemas"},
	{"stability=ga", "all but discovery readyz flowschemas"},
	{`stability=""`, "discovery readyz"},

	// where
	{"ns=demo", "list watch invalid exec unreachable dryrun apply logs"},
	{"namespace=kube-system", "forbidden"},
	{`ns=""`, "discovery nodes allpods readyz flowschemas"},
	{"ns~kube-*", "forbidden"},
	{"name=web-1", "exec unreachable logs"},
	{"name~WEB*", "exec unreachable apply logs"},
	{`name="not"`, ""},
	{"scope=cluster", "nodes flowschemas"},
	{"scope=Namespaced", "list watch forbidden invalid exec unreachable dryrun apply logs allpods"},
	{"scope=all", "allpods"},
	{"scope!=all", "all but allpods"},
	{"path~/apis/*", "invalid apply flowschemas"},
	{"path=/readyz", "readyz"},
	{"path~exec", "exec"},
	{"kind=discovery", "discovery"},
	{"not kind=discovery", "all but discovery"},
	{"kind=health", "readyz"},

	// status
	{"status=403", "forbidden"},
	{"status==403", "forbidden"},
	{"status>=400", "forbidden invalid unreachable"},
	{"status<200", "exec"},
	{"status!=200", "forbidden invalid exec unreachable dryrun"},
	{"1xx", "exec"},
	{"2xx", "all but forbidden invalid exec unreachable"},
	{"4xx", "forbidden invalid"},
	{"4XX", "forbidden invalid"},
	{"status=4xx", "forbidden invalid"},
	{"status!=2xx", "forbidden invalid exec unreachable"},
	{"5xx", "unreachable"},
	{"3xx", ""},

	// identity
	{"user=alice", "forbidden"},
	{"user=bob", "dryrun"},
	{"user~oidc:*", "nodes"},
	{"user=kubernetes-admin", "all but forbidden nodes readyz"},
	{"user=alice@example.com", ""},
	{"usergroup=system:authenticated", "all but readyz"},
	{"usergroup=devs", "dryrun"},
	{"usergroup=kubewire:learners", "forbidden"},
	{"usergroup~system:un*", "readyz"},
	{"authn=x509", "all but nodes readyz"},
	{"authn=oidc", "nodes"},
	{"authn=anonymous", "readyz"},

	// the journey
	{"stopped", "forbidden invalid unreachable"},
	{"not stopped", "all but forbidden invalid unreachable"},
	{"stopped=authz", "forbidden"},
	{"stopped=Authorization", "forbidden"},
	{"stopped=validation", "invalid"},
	{"stopped=no-response", "unreachable"},
	{`stopped=""`, "all but forbidden invalid unreachable"},
	{"stopped=apf", ""},
	{"denied", "forbidden"},
	{"denied or 5xx", "forbidden unreachable"},

	// atoms
	{"own", "discovery flowschemas"},
	{"not own", "all but discovery flowschemas"},
	{"watch", "watch"},
	{"exec", "exec"},
	{"attach", ""},
	{"portforward", ""},
	{"logs", "logs"},
	{"stream", "watch exec logs"},
	{"error", "unreachable logs"},
	{"dryrun", "dryrun"},
	{"write", "invalid dryrun apply"},
	{"write and not dryrun", "invalid apply"},
	{"read", "all but invalid dryrun apply"},

	// time, size, order
	{"duration>200ms", "watch exec apply logs"},
	{"duration>200", "watch exec apply logs"},
	{"ms>200", "watch exec apply logs"},
	{"duration>=1.5s", "watch exec logs"},
	{"duration>=1m", "logs"},
	{"ms<5", "forbidden discovery unreachable readyz"},
	{"duration<=5", "forbidden discovery unreachable readyz flowschemas"},
	{"duration=240.5", "apply"},
	{"size>1MiB", "allpods"},
	{"size>=1.5M", "allpods"},
	{"size<100", "exec unreachable logs"},
	{"size=28", "exec"},
	{"size=0", "unreachable"},
	{"size>5KiB", "list discovery apply allpods flowschemas"},
	{"size>3k", "list watch discovery apply allpods flowschemas"},
	{"size>3072B", "list watch discovery apply allpods flowschemas"},
	{"seq>12", "readyz flowschemas"},
	{"seq=1", "list"},

	// kubectl's headers
	{`cmd="kubectl apply"`, "apply"},
	{`cmd="kubectl apply" and write`, "apply"},
	{`cmd="KUBECTL APPLY"`, "apply"},
	{"cmd~get", "list watch forbidden unreachable nodes allpods"},
	{`cmd=""`, "discovery readyz flowschemas"},
	{`cmd="kubectl \"apply\""`, ""},
	{"contenttype~apply-patch", "apply"},
	{`contenttype="application/apply-patch+yaml"`, "apply"},
	{"contenttype~merge-patch", ""},
	{"session~abc123de*", "list watch invalid exec unreachable dryrun apply logs allpods"},
	{"session=abc123de-7f1e-4c2a-9d3b-5a6e7f8091a2", "list watch invalid exec unreachable dryrun apply logs allpods"},
	{"session~f00*", "forbidden"},

	// free text
	{`"forbidden"`, "forbidden"},
	{`"FORBIDDEN"`, "forbidden"},
	{`text~forbidden`, "forbidden"},
	{`text!~forbidden`, "all but forbidden"},
	{`"web-1"`, "list watch exec unreachable logs"},
	{`"connection refused"`, "unreachable"},
	{`"ClusterRole grants"`, "forbidden"},
	{`"modified"`, "watch"},
	{`"client closed"`, "logs"},
	{`"bad_name"`, "invalid"},
	{`"replicas: 3"`, "apply"},
	{`"bin\netc"`, "exec"},
	{`"dryRun=All"`, "dryrun"},
	{`""`, "all"},

	// and, or, not, parentheses
	{"watch ns=demo", "watch"},
	{"WATCH AND NS=demo", "watch"},
	{"watch and ns=kube-system", ""},
	{"watch or exec", "watch exec"},
	{"watch || exec && ns=kube-system", "watch"},
	{"(watch || exec) && ns=demo", "watch exec"},
	{"(watch or exec) and not stream", ""},
	{"not watch and stream", "exec logs"},
	{"!watch && stream", "exec logs"},
	{"not (watch and stream)", "all but watch"},
	{"not not watch", "watch"},
	{"own kind=discovery", "discovery"},
	{"ns=demo write or denied", "invalid dryrun apply forbidden"},
	{"ns=demo (write or denied)", "invalid dryrun apply"},
	{"stream !error", "watch exec"},
}

// expand turns a matchCases want into names, in exchange order.
func expand(want string, xs []named) []string {
	switch {
	case want == "":
		return nil
	case want == "all":
		return all(xs)
	case strings.HasPrefix(want, "all but "):
		return all(xs, strings.Fields(strings.TrimPrefix(want, "all but "))...)
	}
	w := strings.Fields(want)
	var out []string
	for _, n := range xs {
		if slices.Contains(w, n.name) {
			out = append(out, n.name)
		}
	}
	return out
}

func TestMatch(t *testing.T) {
	xs := testExchanges()
	known := map[string]bool{}
	for _, n := range xs {
		known[n.name] = true
	}
	for _, c := range matchCases {
		t.Run(c.expr, func(t *testing.T) {
			for _, w := range strings.Fields(strings.TrimPrefix(c.want, "all but ")) {
				if !known[w] && w != "all" {
					t.Fatalf("test case names unknown exchange %q", w)
				}
			}
			f, err := Parse(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, want := names(f, xs), expand(c.want, xs)
			if !slices.Equal(got, want) {
				t.Errorf("%s matches\n  %v\nwant\n  %v", c.expr, got, want)
			}
		})
	}
}

func TestMatchNil(t *testing.T) {
	var f *Filter
	if !f.Match(testExchanges()[0].x) || f.String() != "" {
		t.Error("a nil filter should match everything and print as \"\"")
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	xs := testExchanges()
	for _, c := range matchCases {
		f, err := Parse(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			for _, n := range xs {
				f.Match(n.x)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run over the test exchanges", c.expr, allocs)
		}
	}
}

var errorCases = []struct {
	expr, msg string
	column    int
}{
	{"namespce=demo", `unknown field "namespce"; did you mean "namespace"?`, 1},
	{"watch stauts=200", `unknown field "stauts"; did you mean "status"?`, 7},
	{"dur>1s", `unknown field "dur"; did you mean "duration"?`, 1},
	{"foo=bar", `unknown field "foo"`, 1},
	{"verb>3", `operator ">" does not apply to verb; use =, !=, ~ or !~`, 5},
	{"text=forbidden", `operator "=" does not apply to text; use ~ or !~`, 5},
	{"size~1K", `operator "~" does not apply to size; use =, !=, <, <=, > or >=`, 5},
	{"ns=", `missing value after ns=, e.g. ns=demo`, 4},
	{"ns= and watch", `missing value after ns=, e.g. ns=demo`, 5},
	{"status>=)", `missing value after status>=, e.g. status>=400`, 9},
	{"verb", `verb needs an operator and a value, e.g. verb=list`, 5},
	{"ns demo", `ns needs an operator and a value, e.g. ns=demo`, 4},
	{"(watch or exec", `unclosed parenthesis: missing )`, 1},
	{"((watch) or exec", `unclosed parenthesis: missing )`, 1},
	{"watch)", `unmatched )`, 6},
	{"()", `empty parentheses`, 2},
	{"((watch) = 1", `unexpected "="`, 10},
	{"watch or", `missing term after or: found end of expression`, 9},
	{"watch and )", `missing term after and: found ")"`, 11},
	{"not", `missing term after not: found end of expression`, 4},
	{"and watch", `unexpected "and"`, 1},
	{"verb=get =", `unexpected "="`, 10},
	{`"forbidden`, `unterminated string`, 1},
	{`cmd="kubectl apply\"`, `unterminated string`, 5},
	{"\"a\\\rb\"", `unknown escape "\" followed by '\r' in string; the escapes are \" \\ \n \t \r`, 3},
	{`"a\qb"`, `unknown escape "\q" in string; the escapes are \" \\ \n \t \r`, 3},
	{`"verb"=get`, `unexpected "=" after text: a quoted string searches text; field names are not quoted`, 7},
	{"duration>5parsecs", `bad duration "5parsecs": use milliseconds, or a number with a unit (ms, s, m, h), e.g. duration>200ms, duration>=1.5s`, 10},
	{"size>3XB", `bad size "3XB": use bytes, or a number with a unit (B, K or KB or KiB, M or MB or MiB, G or GB or GiB), e.g. size>10KiB`, 6},
	{"size>1..5K", `bad size "1..5K": use bytes, or a number with a unit (B, K or KB or KiB, M or MB or MiB, G or GB or GiB), e.g. size>10KiB`, 6},
	{"status>abc", `bad status "abc": use a whole number or a class 1xx … 5xx, e.g. status>=400, status=4xx`, 8},
	{"seq=1.5", `bad seq "1.5": use a whole number, e.g. seq>100`, 5},
	{"status>4xx", `a status class takes only = and !=: write status=4xx, or status>400`, 7},
	{"verb=lsit", `unknown verb "lsit"; did you mean "list"?`, 6},
	{"stopped=authorisation", `unknown stage "authorisation"; did you mean "authorization"?`, 9},
	{"scope=global", `unknown scope "global"; use Namespaced, Cluster, Unknown or all`, 7},
	{"authn=cert", `unknown authentication method "cert"; use x509, serviceaccount, oidc, token, exec, basic, anonymous or unknown`, 7},
	{"kind=resources", `unknown kind "resources"; did you mean "resource"?`, 6},
	{"wacth", `unknown word "wacth"; did you mean "watch"?`, 1},
	{"ns=demo wirte", `unknown word "wirte"; did you mean "write"?`, 9},
	{"name=not", `missing value after name=, e.g. name=web-1`, 6},
	{"forbidden", `unknown word "forbidden"; to search for text, quote it: "forbidden"`, 1},
	{"cmd=kubectl apply", `unknown word "apply"; quote a value with spaces: cmd="kubectl apply"`, 13},
	{"ns=kube-*", `"*" is a wildcard only with ~: write ns~kube-*`, 4},
	{`name="a b*"`, `"*" is a wildcard only with ~: write name~"a b*"`, 6},
	{"resource=pods/", `resource "pods/" needs a resource and a subresource, e.g. resource=pods/exec`, 10},
	{"watch=true", `watch takes no value: write watch alone, or not watch`, 6},
	{"4xx=1", `4xx takes no value: write 4xx alone, or not 4xx`, 4},
	{"ns=demo; watch", `unexpected ";"`, 8},
	{"verb=get,list", `unexpected ","; to accept several values join comparisons with or: verb=get or verb=list`, 9},
	{"watch & exec", `unexpected "&"; did you mean "&&"?`, 7},
	{"watch | exec", `unexpected "|"; did you mean "||"?`, 7},
	{"ns='demo'", `unexpected "'"; quote strings with double quotes: "like this"`, 4},
	{"ns=日本 wacth", `unknown word "wacth"; did you mean "watch"?`, 7},
	{strings.Repeat("(", 70) + "watch" + strings.Repeat(")", 70), `expression nested too deeply`, 65},
	{strings.Repeat("not ", 70) + "watch", `expression nested too deeply`, 257},
}

func TestParseErrors(t *testing.T) {
	for _, c := range errorCases {
		t.Run(c.expr, func(t *testing.T) {
			f, err := Parse(c.expr)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error", c.expr, f)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError: %v", err, err)
			}
			if se.Msg != c.msg {
				t.Errorf("message\n  %s\nwant\n  %s", se.Msg, c.msg)
			}
			if got := se.column(); got != c.column {
				t.Errorf("column %d, want %d", got, c.column)
			}
			if se.Expr != c.expr {
				t.Errorf("Expr = %q", se.Expr)
			}
			want := "filter: " + c.msg + " at column " + itoa(c.column)
			if err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func itoa(n int) string {
	var b []byte
	for ; n > 0 || len(b) == 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestCaret(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"verb>3", "verb>3\n    ^"},
		{"ns=", "ns=\n   ^"},
		{"ns=日本 wacth", "ns=日本 wacth\n      ^"},
		{"ns=demo\twacth", "ns=demo\twacth\n       \t^"},
		{"watch\nor", "watch or\n        ^"},
	} {
		_, err := Parse(c.expr)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("Parse(%q): %v", c.expr, err)
		}
		if got := se.Caret(); got != c.want {
			t.Errorf("Caret for %q:\n%s\nwant\n%s", c.expr, got, c.want)
		}
	}
}

func TestString(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"", ""},
		{"  ", ""},
		{"watch ns=demo", "watch and namespace=demo"},
		{"WATCH && NS=demo || !exec", "watch and namespace=demo or not exec"},
		{"(watch or exec) and ns=demo", "(watch or exec) and namespace=demo"},
		{"watch or (exec or logs)", "watch or exec or logs"},
		{"(watch and exec) and logs", "watch and exec and logs"},
		{"watch and (exec or logs) and own", "watch and (exec or logs) and own"},
		{"not (watch and exec)", "not (watch and exec)"},
		{"not (not watch)", "not not watch"},
		{"((watch))", "watch"},
		{"stopped=authz", "stopped=authorization"},
		{"stopped=APF", "stopped=priority-and-fairness"},
		{"verb=LIST", "verb=list"},
		{"verb~LI", "verb~LI"},
		{"method=get", "method=GET"},
		{"stability=ga", "stability=GA"},
		{"scope=cluster", "scope=Cluster"},
		{"scope=ALL", "scope=all"},
		{`group=""`, "group=core"},
		{"group=Core", "group=core"},
		{"ms>=1.5s", "duration>=1.5s"},
		{"size>10kib", "size>10kib"},
		{"status==200", "status=200"},
		{"status=4XX", "status=4xx"},
		{"4XX or 5xx", "4xx or 5xx"},
		{`"forbidden"`, `"forbidden"`},
		{"text~forbidden", `"forbidden"`},
		{"text!~forbidden", `text!~"forbidden"`},
		{`cmd="kubectl apply"`, `cmd="kubectl apply"`},
		{`name="web-1"`, "name=web-1"},
		{`name=""`, `name=""`},
		{`name="a \"b\"\n"`, `name="a \"b\"\n"`},
		{`name="not"`, `name="not"`},
		{"resource=pods/exec", "resource=pods/exec"},
		{`status="404"`, "status=404"},
		{`ms>"+1s"`, `duration>"+1s"`},
	} {
		f, err := Parse(c.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.expr, err)
		}
		if got := f.String(); got != c.want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.expr, got, c.want)
		}
	}
}

// TestStringRoundTrip checks that every test expression's normal form
// parses to a filter with the same normal form and the same matches.
func TestStringRoundTrip(t *testing.T) {
	xs := testExchanges()
	for _, c := range matchCases {
		checkRoundTrip(t, c.expr, xs)
	}
}

func checkRoundTrip(t *testing.T, expr string, xs []named) {
	t.Helper()
	f, err := Parse(expr)
	if err != nil {
		return
	}
	s := f.String()
	g, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q) succeeds, but its String %q does not parse: %v", expr, s, err)
	}
	if g.String() != s {
		t.Fatalf("Parse(%q).String() = %q, but that parses to %q", expr, s, g.String())
	}
	if a, b := names(f, xs), names(g, xs); !slices.Equal(a, b) {
		t.Fatalf("%q matches %v, its String %q matches %v", expr, a, s, b)
	}
}

// TestDocumented checks that docs/filters.md names every field, alias and
// atom.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/filters.md")
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	for _, f := range fields {
		words = append(words, f.name)
		if f.alias != "" {
			words = append(words, f.alias)
		}
	}
	for _, a := range atoms {
		words = append(words, a.name)
	}
	for _, w := range words {
		if !strings.Contains(string(doc), "`"+w+"`") {
			t.Errorf("docs/filters.md does not mention `%s`", w)
		}
	}
}
