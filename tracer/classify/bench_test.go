package classify

import (
	"net/http"
	"net/url"
	"testing"
)

// benchTargets are the requests a kubectl session sends most: discovery,
// gets and lists of core and named groups, a watch, a subresource.
var benchTargets = []struct{ method, target string }{
	{"GET", "/api/v1/namespaces/demo/configmaps/cm-42"},
	{"GET", "/api/v1/namespaces/demo/configmaps?limit=500"},
	{"GET", "/apis/apps/v1/namespaces/shop/deployments/frontend"},
	{"GET", "/api/v1/pods?watch=1&resourceVersion=12345"},
	{"PATCH", "/apis/apps/v1/namespaces/shop/deployments/frontend/scale"},
	{"GET", "/apis"},
	{"GET", "/openapi/v3/api/v1"},
}

// BenchmarkClassify classifies one request, as the proxy does once per
// exchange at capture time.
func BenchmarkClassify(b *testing.B) {
	c := New("", Builtin())
	urls := make([]*url.URL, len(benchTargets))
	for i, t := range benchTargets {
		u, err := url.Parse("https://127.0.0.1:6443" + t.target)
		if err != nil {
			b.Fatal(err)
		}
		urls[i] = u
	}
	h := http.Header{"Accept": {"application/json"}, "User-Agent": {"kubectl/v1.37.2"}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		t := benchTargets[i%len(benchTargets)]
		c.Classify(t.method, urls[i%len(urls)], h)
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "requests/s")
}
