package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// requestTimeout bounds one request, so a path that hangs fails the run
// instead of stalling it.
const requestTimeout = 2 * time.Minute

// get sends one request and reads the whole answer, failing on any status
// but want.
func get(ctx context.Context, hc *http.Client, method, url, contentType string, body []byte, want int) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, fmt.Errorf("%s %s: reading the body: %w", method, url, err)
	}
	if resp.StatusCode != want {
		return n, fmt.Errorf("%s %s: %s", method, url, resp.Status)
	}
	return n, nil
}

// load sends n GETs of url with c at a time and returns each one's
// latency and the wall time of all.
func load(ctx context.Context, hc *http.Client, url string, n, c int) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, n)
	start := time.Now()
	err := each(ctx, n, c, func(ctx context.Context, i int) error {
		t := time.Now()
		if _, err := get(ctx, hc, http.MethodGet, url, "", nil, http.StatusOK); err != nil {
			return err
		}
		lat[i] = time.Since(t)
		return nil
	})
	return lat, time.Since(start), err
}

// each runs do for 0..n-1, c at a time, and stops at the first error,
// which it returns.
func each(ctx context.Context, n, c int, do func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := do(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// ensureNamespace creates a namespace unless it exists.
func ensureNamespace(ctx context.Context, p *path, ns string) error {
	body := fmt.Sprintf(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":%q}}`, ns)
	_, err := get(ctx, p.client, http.MethodPost, p.base+"/api/v1/namespaces", "application/json", []byte(body), http.StatusCreated)
	if err != nil && strings.Contains(err.Error(), "409") {
		return nil
	}
	return err
}

// count returns how many ConfigMaps ns holds.
func count(ctx context.Context, p *path, ns string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/api/v1/namespaces/"+ns+"/configmaps?limit=1", nil)
	if err != nil {
		return 0, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var l struct {
		Metadata struct {
			Remaining *int `json:"remainingItemCount"`
		} `json:"metadata"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		return 0, fmt.Errorf("list configmaps in %s: %w", ns, err)
	}
	n := len(l.Items)
	if l.Metadata.Remaining != nil {
		n += *l.Metadata.Remaining
	}
	return n, nil
}

// configMapData is about 4 KB of configuration-like text in four keys,
// different for every object, so a ConfigMap lists at about 4.3 KB with
// its metadata (the reference run's list of 5,000 was 21.7 MB).
func configMapData(i int) map[string]string {
	data := map[string]string{}
	for k, key := range []string{"app.properties", "logging.yaml", "feature-flags.ini", "endpoints.conf"} {
		var b strings.Builder
		for line := 0; b.Len() < 870; line++ {
			fmt.Fprintf(&b, "setting.%s.%03d = value-%08x-%04d\n", strings.SplitN(key, ".", 2)[0], line, uint32(i*2654435761+k*40503+line), line*i%9973)
		}
		data[key] = b.String()
	}
	return data
}

// seed creates ConfigMaps cm-00000… in ns until it holds n, 8 at a time.
func seed(ctx context.Context, p *path, ns string, n int, data func(int) map[string]string) error {
	if err := ensureNamespace(ctx, p, ns); err != nil {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	have, err := count(ctx, p, ns)
	if err != nil || have >= n {
		return err
	}
	return each(ctx, n, 8, func(ctx context.Context, i int) error {
		obj := map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": fmt.Sprintf("cm-%05d", i), "labels": map[string]string{"app.kubernetes.io/part-of": "kubewire-bench"}},
			"data":     data(i)}
		body, _ := json.Marshal(obj)
		_, err := get(ctx, p.client, http.MethodPost, p.base+"/api/v1/namespaces/"+ns+"/configmaps", "application/json", body, http.StatusCreated)
		if err != nil && strings.Contains(err.Error(), "409") {
			return nil
		}
		return err
	})
}
