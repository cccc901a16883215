package doc

import (
	"strings"
	"testing"
)

func TestKeyOrderAndRoundTrip(t *testing.T) {
	in := `{"z":1,"a":{"y":[true,null,"s"],"b":1.50}}`
	n, err := ParseJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := n.JSON(); got != in {
		t.Errorf("JSON() = %s, want %s", got, in)
	}
	if n.Str("a", "b") != "1.50" || n.Get("a", "y").Vals[1].Kind != 'z' {
		t.Errorf("paths: %q %+v", n.Str("a", "b"), n.Get("a", "y"))
	}
	docs, err := ParseJSONStream([]byte(`{"a":1}` + "\n" + `{"b":2}`))
	if err != nil || len(docs) != 2 || docs[1].Str("b") != "2" {
		t.Errorf("stream: %v %v", docs, err)
	}
	if _, err := ParseJSON([]byte(`{"a":1} x`)); err == nil {
		t.Error("trailing data must be an error")
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+2) + strings.Repeat("]", MaxDepth+2)
	if _, err := ParseJSON([]byte(deep)); err == nil {
		t.Error("JSON deeper than MaxDepth must be an error")
	}
	// Each level doubles what the aliases expand to.
	bomb := "a: &a [x, x]\n"
	prev := "a"
	for i := range 30 {
		name := string(rune('b'+i%24)) + strings.Repeat("x", i/24)
		bomb += name + ": &" + name + " [*" + prev + ", *" + prev + "]\n"
		prev = name
	}
	if _, _, err := ParseYAMLStream([]byte(bomb)); err == nil {
		t.Error("a YAML alias bomb must be an error")
	}
}

func TestSetStringWritesBackToYAML(t *testing.T) {
	ys, docs, err := ParseYAMLStream([]byte("# head\nkind: Secret # the kind\ndata:\n  p: c2VjcmV0\n  n: 3\n---\nb: 1\n"))
	if err != nil || len(docs) != 2 {
		t.Fatalf("%v %v", docs, err)
	}
	docs[0].Get("data", "p").SetString("REDACTED (8 bytes)")
	docs[0].Get("data", "n").SetString("REDACTED (1 byte)")
	out, err := EncodeYAML(ys)
	if err != nil {
		t.Fatal(err)
	}
	want := "# head\nkind: Secret # the kind\ndata:\n  p: REDACTED (8 bytes)\n  n: REDACTED (1 byte)\n---\nb: 1\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}
