package redact

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// benchList is a JSON list of n objects of kind, each with data of about
// 4 KB (the size of the ConfigMaps the benchmark harness seeds).
func benchList(kind string, n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"kind":"%sList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[`, kind)
	value := strings.Repeat("bG9yZW0gaXBzdW0gZG9sb3Igc2l0IGFtZXQ", 4096/36)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metadata":{"name":"obj-%d","namespace":"bench","uid":"0f6c3e1e-%08d","resourceVersion":"%d","labels":{"app":"bench"}},"data":{"a":"%s","b":"%s"}}`,
			i, i, 1000+i, value[:len(value)/2], value[len(value)/2:])
	}
	b.WriteString("]}")
	return b.Bytes()
}

// BenchmarkBodyConfigMaps redacts a list of 100 ConfigMaps: nothing to
// remove, the path almost every body takes.
func BenchmarkBodyConfigMaps(b *testing.B) {
	benchBody(b, benchList("ConfigMap", 100), Context{Resource: "configmaps"})
}

// BenchmarkBodySecrets redacts a list of 100 Secrets: every value is
// replaced, so the body is parsed and written again.
func BenchmarkBodySecrets(b *testing.B) {
	benchBody(b, benchList("Secret", 100), Context{Resource: "secrets"})
}

func benchBody(b *testing.B, data []byte, c Context) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		Body("application/json", data, c)
	}
}

// BenchmarkHeaders redacts the headers of one request as kubectl sends it.
func BenchmarkHeaders(b *testing.B) {
	h := http.Header{
		"Accept":          {"application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
		"User-Agent":      {"kubectl/v1.37.2 (linux/amd64) kubernetes/abcdef0"},
		"Authorization":   {"Bearer " + strings.Repeat("x", 900)},
		"Kubectl-Command": {"kubectl get"},
		"Kubectl-Session": {"8c1d4f0e-4b7a-4d59-9a1e-0c2b5d7e9f10"},
		"Audit-Id":        {"5d1c2b3a-0000-4000-8000-000000000001"},
	}
	b.ReportAllocs()
	for b.Loop() {
		Headers(h)
	}
}
