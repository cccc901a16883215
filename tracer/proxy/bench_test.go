package proxy

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kubewire/kubewire/tracer/record"
)

// discardSink takes lines as a recording does, encoding each, and keeps
// none.
type discardSink struct{}

func (discardSink) Put(l record.Line) { _, _ = l.Marshal() }

// BenchmarkRelay sends GETs of a small object and of a large list straight
// to a TLS server and through kubewire (lines encoded as a recording would
// be), so the two can be compared: the proxy's cost per call.
func BenchmarkRelay(b *testing.B) {
	for _, size := range []int{1 << 10, 20 << 20} {
		item := []byte(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm","namespace":"demo"},"data":{"k":"` +
			string(bytes.Repeat([]byte("v"), 4000)) + `"}},`)
		body := []byte(`{"kind":"ConfigMapList","apiVersion":"v1","items":[`)
		for len(body) < size {
			body = append(body, item...)
		}
		body = append(body[:len(body)-1], "]}"...)
		if size < len(item) {
			body = []byte(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm","namespace":"demo"}}`)
		}
		up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/v1/namespaces/demo/configmaps" {
				http.NotFound(w, r) // kubewire's own discovery
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}))
		f := startFor(b, up, func(c *Config) { c.Sink = discardSink{} })
		pool := x509.NewCertPool()
		pool.AddCert(up.Certificate())
		direct := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		path := "/api/v1/namespaces/demo/configmaps"
		for _, via := range []struct {
			name   string
			client *http.Client
			auth   string
		}{{"direct", direct, "Bearer " + kubeconfigToken}, {"kubewire", f.client, "Bearer " + f.token}} {
			b.Run(fmt.Sprintf("%s/%dKiB", via.name, len(body)>>10), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					req, _ := http.NewRequest("GET", up.URL+path, nil)
					req.Header.Set("Authorization", via.auth)
					resp, err := via.client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if n != int64(len(body)) {
						b.Fatalf("got %d of %d bytes", n, len(body))
					}
				}
			})
		}
		direct.CloseIdleConnections()
		f.client.CloseIdleConnections()
		_ = f.proxy.Close()
		up.Close()
	}
}
