package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Annotations the watch writer sets on the ConfigMaps it updates.
const (
	annRun  = "bench.kubewire.io/run"
	annSeq  = "bench.kubewire.io/seq"
	annSent = "bench.kubewire.io/sent" // the writer's clock, Unix nanoseconds
)

// watchObjects are the ConfigMaps of the watch namespace, updated in turn.
const watchObjects = 10

// watchLatency watches ConfigMaps in ns through p while writer, straight
// to the API server, updates them n times, one every interval, each update
// carrying its sequence number and the time it was sent. It returns, for
// each update, the time from the writer sending it to the watcher
// receiving its event: the write's own round trip to the server, the
// server's fan-out to watchers and the path's delivery. Only the last
// differs between paths, so the difference to direct is what a path adds.
func watchLatency(ctx context.Context, p, writer *path, ns string, n int, interval time.Duration, run string) ([]time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rv, err := listRV(ctx, writer, ns)
	if err != nil {
		return nil, fmt.Errorf("list before the watch: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/api/v1/namespaces/"+ns+"/configmaps?watch=1&resourceVersion="+rv, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := startWatch(ctx, p, req, func() error { return prime(ctx, writer, ns, run) })
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	base := time.Now()
	sent := make([]atomic.Int64, n) // monotonic ns since base
	recv := make([]atomic.Int64, n)
	var got atomic.Int64
	all := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		dec := json.NewDecoder(resp.Body)
		for {
			var ev struct {
				Type   string `json:"type"`
				Object struct {
					Metadata struct {
						Annotations map[string]string `json:"annotations"`
					} `json:"metadata"`
				} `json:"object"`
			}
			if err := dec.Decode(&ev); err != nil {
				readErr <- err
				return
			}
			now := time.Since(base)
			a := ev.Object.Metadata.Annotations
			if a[annRun] != run {
				continue
			}
			seq, err := strconv.Atoi(a[annSeq])
			if err != nil || seq < 0 || seq >= n || !recv[seq].CompareAndSwap(0, int64(now)) {
				continue
			}
			if got.Add(1) == int64(n) {
				close(all)
			}
		}
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := range n {
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
			annRun: run, annSeq: strconv.Itoa(i), annSent: strconv.FormatInt(time.Now().UnixNano(), 10)}}})
		sent[i].Store(int64(time.Since(base)))
		url := fmt.Sprintf("%s/api/v1/namespaces/%s/configmaps/cm-%05d", writer.base, ns, i%watchObjects)
		if _, err := get(ctx, writer.client, http.MethodPatch, url, "application/merge-patch+json", patch, http.StatusOK); err != nil {
			return nil, fmt.Errorf("update %d: %w", i, err)
		}
		select {
		case <-tick.C:
		case err := <-readErr:
			return nil, fmt.Errorf("the watch ended after %d of %d events: %v", got.Load(), n, err)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	select {
	case <-all:
	case err := <-readErr:
		return nil, fmt.Errorf("the watch ended after %d of %d events: %v", got.Load(), n, err)
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("%d of %d events arrived within 30 s of the last update", got.Load(), n)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	lat := make([]time.Duration, n)
	for i := range lat {
		lat[i] = time.Duration(recv[i].Load() - sent[i].Load())
	}
	return lat, nil
}

// listRV is the resourceVersion of a list of ns's ConfigMaps, to watch
// from.
func listRV(ctx context.Context, p *path, ns string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/api/v1/namespaces/"+ns+"/configmaps", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var l struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		return "", err
	}
	return l.Metadata.ResourceVersion, nil
}

// startWatch sends the watch request and waits for its response headers.
// mitmproxy passes them on only with the first bytes of the body, and a
// watch from the current resourceVersion sends none until something
// changes: while no headers have come, poke is called every second (an
// update that is not measured), for at most 30 s.
func startWatch(ctx context.Context, p *path, req *http.Request, poke func() error) (*http.Response, error) {
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := p.client.Do(req)
		done <- result{resp, err}
	}()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case r := <-done:
			if r.err != nil {
				return nil, fmt.Errorf("start the watch: %w", r.err)
			}
			if r.resp.StatusCode != http.StatusOK {
				r.resp.Body.Close()
				return nil, fmt.Errorf("start the watch: %s", r.resp.Status)
			}
			return r.resp, nil
		case <-time.After(time.Second):
			if err := poke(); err != nil {
				return nil, fmt.Errorf("update while the watch starts: %w", err)
			}
		case <-deadline:
			return nil, errors.New("start the watch: no response headers within 30 s")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// prime updates the first watched object with the run's name but no
// sequence number: the watcher skips its event.
func prime(ctx context.Context, writer *path, ns, run string) error {
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		annRun: run, annSeq: "prime", annSent: strconv.FormatInt(time.Now().UnixNano(), 10)}}})
	_, err := get(ctx, writer.client, http.MethodPatch, fmt.Sprintf("%s/api/v1/namespaces/%s/configmaps/cm-00000", writer.base, ns), "application/merge-patch+json", patch, http.StatusOK)
	return err
}
