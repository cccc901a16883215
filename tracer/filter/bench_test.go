package filter

import "testing"

// BenchmarkMatch matches each expression against the test exchanges; one
// op is one exchange.
func BenchmarkMatch(b *testing.B) {
	xs := testExchanges()
	for _, expr := range []string{
		"watch",
		"verb=list",
		"watch ns=demo",
		"denied or 5xx",
		"resource=pods/exec",
		"ns~kube-*",
		"name~*web*",
		`cmd="kubectl apply" and write`,
		"duration>200ms",
		"size>1MiB",
		"user=alice or usergroup=devs",
		"not kind=discovery and not own",
		`"forbidden"`,
		`(verb=get or verb=list) and ns=demo and status>=400 or stopped=authz`,
	} {
		f, err := Parse(expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(expr, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				f.Match(xs[i].x)
				if i++; i == len(xs) {
					i = 0
				}
			}
		})
	}
}

// BenchmarkParse compiles a typical expression.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`cmd="kubectl apply" and write or (denied ns=demo) or duration>200ms`); err != nil {
			b.Fatal(err)
		}
	}
}
