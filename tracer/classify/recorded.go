package classify

import (
	"encoding/json"
	"strings"
)

// Recorded is a scope source learnt from discovery responses found in a
// recording or an imported HAR file ("recorded"): legacy discovery
// (APIResourceList) and aggregated discovery (APIGroupDiscoveryList).
type Recorded struct {
	m map[string]bool
}

// NewRecorded returns an empty Recorded.
func NewRecorded() *Recorded { return &Recorded{m: map[string]bool{}} }

// Name implements ScopeSource.
func (r *Recorded) Name() string { return "recorded" }

// Namespaced implements ScopeSource.
func (r *Recorded) Namespaced(group, resource string) (bool, bool) {
	ns, ok := r.m[group+"/"+resource]
	return ns, ok
}

// Len is the number of resources learnt.
func (r *Recorded) Len() int { return len(r.m) }

// discoveryDoc holds the keys of both discovery forms.
type discoveryDoc struct {
	Kind string `json:"kind"`
	// APIResourceList
	GroupVersion string `json:"groupVersion"`
	Resources    []struct {
		Name       string `json:"name"`
		Namespaced bool   `json:"namespaced"`
	} `json:"resources"`
	// APIGroupDiscoveryList
	Items []struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Versions []struct {
			Resources []struct {
				Resource string `json:"resource"`
				Scope    string `json:"scope"`
			} `json:"resources"`
		} `json:"versions"`
	} `json:"items"`
}

// Learn reads the scopes a JSON discovery body states and reports whether
// it was one. Other bodies are ignored.
func (r *Recorded) Learn(body []byte) bool {
	var d discoveryDoc
	if json.Unmarshal(body, &d) != nil {
		return false
	}
	switch d.Kind {
	case "APIResourceList":
		group, _, _ := strings.Cut(d.GroupVersion, "/")
		if !strings.Contains(d.GroupVersion, "/") {
			group = "" // "v1": the core group
		}
		for _, res := range d.Resources {
			if !strings.Contains(res.Name, "/") { // subresources take their parent's scope
				r.m[group+"/"+res.Name] = res.Namespaced
			}
		}
		return true
	case "APIGroupDiscoveryList":
		for _, g := range d.Items {
			for _, v := range g.Versions {
				for _, res := range v.Resources {
					switch res.Scope {
					case Namespaced:
						r.m[g.Metadata.Name+"/"+res.Resource] = true
					case Cluster:
						r.m[g.Metadata.Name+"/"+res.Resource] = false
					}
				}
			}
		}
		return true
	}
	return false
}
