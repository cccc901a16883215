package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// listBodies are large JSON objects of every shape the walker treats
// apart, as the API server writes them and as people write them.
func listBodies() map[string][]byte {
	pad := strings.Repeat("x", listMin/20)
	lastApplied := func(kind string) string {
		s, _ := json.Marshal(fmt.Sprintf(`{"apiVersion":"v1","kind":%q,"metadata":{"name":"a"},"stringData":{"password":"s3cr3t-applied"}}`, kind))
		return string(s)
	}
	items := func(n int, f func(i int) string) string {
		var b []string
		for i := range n {
			b = append(b, f(i))
		}
		return strings.Join(b, ",")
	}
	kubeconfig, _ := json.Marshal("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: https://x}\nusers:\n- name: u\n  user:\n    token: abcdefghijklmnopqrstuvwxyz0123456789\n")
	return map[string][]byte{
		"secrets": []byte(`{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[` + items(40, func(i int) string {
			return fmt.Sprintf(`{"metadata":{"name":"s%d","annotations":{"kubectl.kubernetes.io/last-applied-configuration":%s}},"data":{"k":"c2VjcmV0LXZhbHVl","pad":%q},"stringData":{"p":"plain"},"type":"Opaque"}`, i, lastApplied("Secret"), pad)
		}) + `]}`),
		"configmaps saying token": []byte(`{"kind":"ConfigMapList","apiVersion":"v1","metadata":{},"items":[` + items(40, func(i int) string {
			return fmt.Sprintf(`{"metadata":{"name":"c%d"},"data":{"token":"abc%d","note":"a token is kept here","kubeconfig":%s,"pad":%q}}`, i, i, kubeconfig, pad)
		}) + `]}`),
		"pods with a password in env": []byte(`{"apiVersion":"v1","kind":"PodList","metadata":{},"items":[` + items(40, func(i int) string {
			return fmt.Sprintf(`{"metadata":{"name":"p%d"},"spec":{"serviceAccountName":"default","containers":[{"name":"c","env":[{"name":"DB_PASSWORD","value":"pw%d"},{"name":"PLAIN","value":%q}]}]}}`, i, i, pad)
		}) + `]}`),
		"a List of kinds": []byte(`{"kind":"List","apiVersion":"v1","items":[` + items(40, func(i int) string {
			if i%2 == 0 {
				return fmt.Sprintf(`{"kind":"Secret","metadata":{"name":"s%d"},"data":{"k":"dmFsdWU="},"pad":%q}`, i, pad)
			}
			return fmt.Sprintf(`{"kind":"ConfigMap","metadata":{"name":"c%d"},"data":{"secret":"v","pad":%q}}`, i, pad)
		}) + `],"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":` + lastApplied("Secret") + `}}}` + "\n"),
		"kindless items of a secrets request": []byte(`{"kind":"","items":[` + items(40, func(i int) string {
			return fmt.Sprintf(`{"data":{"k":"dmFsdWU="},"pad":%q}`, pad)
		}) + `],"data":{"top":"dmFsdWU="}}`),
		"pretty, items nested": []byte("{\n  \"kind\": \"SecretList\",\n  \"items\": [\n" + items(40, func(i int) string {
			return fmt.Sprintf("    {\"metadata\": {\"name\": \"s%d\"}, \"data\": {\"k\": \"dmFsdWU=\"}, \"items\": [{\"token\": \"t%d\"}], \"pad\": %q}", i, i, pad)
		}) + "\n  ],\n  \"items\": [{\"password\": \"second-items\"}]\n}\n"),
		"nothing to redact": []byte(`{"kind":"ConfigMapList","items":[` + items(40, func(i int) string {
			return fmt.Sprintf(`{"metadata":{"name":"c%d"},"data":{"secretName":"ref","pad":%q}}`, i, pad)
		}) + `]}`),
		"a large object, no items": []byte(`{"kind":"ConfigMap","data":{"password":"pw","pad":"` + strings.Repeat(pad, 20) + `"}}`),
		// Not read a part at a time: the caller walks the whole tree.
		"items before kind":  []byte(`{"items":[{"data":{"k":"dmFsdWU="},"pad":"` + strings.Repeat(pad, 20) + `"}],"kind":"SecretList"}`),
		"items not an array": []byte(`{"kind":"SecretList","items":{"password":"pw","pad":"` + strings.Repeat(pad, 20) + `"}}`),
		"two documents":      []byte(`{"kind":"SecretList","items":[{"data":{"k":"dmFsdWU="}}]}` + "\n" + `{"kind":"Secret","data":{"k":"` + strings.Repeat(pad, 20) + `"}}`),
		"not JSON":           []byte(`{"kind":"SecretList","items":[{"data":{"k":"dmFsdWU="}},` + strings.Repeat(pad, 20)),
	}
}

// The list is redacted a part at a time exactly as the whole tree is:
// the same bytes, the same verdict.
func TestListIsRedactedAsAWhole(t *testing.T) {
	fallback := map[string]bool{"items before kind": true, "items not an array": true, "two documents": true, "not JSON": true}
	for name, data := range listBodies() {
		if len(data) < listMin {
			t.Fatalf("%s: %d bytes, under listMin: the test would not reach the list path", name, len(data))
		}
		for _, c := range []Context{{}, secrets, {Resource: "configmaps"}, {Resource: "serviceaccounts", Subresource: "token"}} {
			treeOut, treeChanged, treeOK := jsonTree(data, c)
			out, changed, ok := jsonList(data, c)
			if ok == fallback[name] {
				t.Errorf("%s (%+v): read a part at a time: %v, want %v", name, c, ok, !fallback[name])
			}
			if !ok {
				continue
			}
			if !treeOK || changed != treeChanged || !bytes.Equal(out, treeOut) {
				t.Errorf("%s (%+v): a part at a time: changed %v, %d bytes; whole tree: changed %v (ok %v), %d bytes\n%.300s\n%.300s",
					name, c, changed, len(out), treeChanged, treeOK, len(treeOut), firstDiff(out, treeOut), firstDiff(treeOut, out))
			}
		}
	}
}

// firstDiff is a from where it starts to differ from b.
func firstDiff(a, b []byte) []byte {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[max(i-40, 0):]
}

// A large list of Secrets is redacted without a tree of all of it: with
// the collector running all the time, the heap's peak while the list is
// redacted a part at a time is its output (markers, shorter than the
// values) and one item, under 0.8 times the list; the whole tree took it
// to about 1.5 times.
func TestListRedactionMemory(t *testing.T) {
	data := benchList("Secret", 1000) // about 4 MB
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	peak := func(f func()) uint64 {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		stop, max := make(chan struct{}), make(chan uint64)
		go func() {
			var m runtime.MemStats
			top := uint64(0)
			for {
				select {
				case <-stop:
					max <- top
					return
				default:
				}
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > base.HeapAlloc && m.HeapAlloc-base.HeapAlloc > top {
					top = m.HeapAlloc - base.HeapAlloc
				}
				time.Sleep(50 * time.Microsecond)
			}
		}()
		f()
		close(stop)
		return <-max
	}
	tree := peak(func() { jsonTree(data, secrets) })
	list := peak(func() { Body("application/json", data, secrets) })
	t.Logf("%d-byte list of Secrets: heap peak %.1fx its size for the whole tree, %.1fx a part at a time",
		len(data), float64(tree)/float64(len(data)), float64(list)/float64(len(data)))
	if list > uint64(len(data))*8/10 {
		t.Errorf("redacting a %d-byte list a part at a time took the heap %d bytes up (%.1fx its size): as if it held all of it", len(data), list, float64(list)/float64(len(data)))
	}
}

// FuzzListAsAWhole: any item, in a list large enough to be read a part at
// a time, is redacted as the whole tree redacts it.
func FuzzListAsAWhole(f *testing.F) {
	for _, s := range shapes {
		if strings.HasPrefix(s.body, "{") {
			f.Add(strings.Replace(s.body, "%s", "s3cr3tvalue1", 1), "SecretList", uint8(0))
		}
	}
	f.Add(`{"name":"API_TOKEN","value":"v"}`, "List", uint8(1))
	f.Add(`{"items":[{"kind":"Secret","data":{"a":"b"}}]}`, "", uint8(2))
	ctxs := []Context{{}, secrets, {Resource: "configmaps"}, {Resource: "serviceaccounts", Subresource: "token"}}
	f.Fuzz(func(t *testing.T, item, kind string, which uint8) {
		if !json.Valid([]byte(item)) {
			return
		}
		k, _ := json.Marshal(kind)
		var b strings.Builder
		fmt.Fprintf(&b, `{"kind":%s,"metadata":{},"items":[`, k)
		for b.Len() < listMin {
			b.WriteString(item)
			b.WriteByte(',')
		}
		b.WriteString(item + "]}")
		data, c := []byte(b.String()), ctxs[int(which)%len(ctxs)]
		out, changed, ok := jsonList(data, c)
		treeOut, treeChanged, treeOK := jsonTree(data, c)
		if !ok {
			if treeOK {
				t.Fatalf("a list the whole tree reads was not read a part at a time: %.200s", data)
			}
			return
		}
		if !treeOK || changed != treeChanged || !bytes.Equal(out, treeOut) {
			t.Fatalf("item %q in a %q list (%+v): a part at a time gave changed %v\n%.300s\nthe whole tree changed %v\n%.300s",
				item, kind, c, changed, firstDiff(out, treeOut), treeChanged, firstDiff(treeOut, out))
		}
	})
}
