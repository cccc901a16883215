package record

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// awkward holds every kind of byte encoding/json treats specially.
var awkward = []string{
	"", "plain", `"quoted" \ back\slash`, "\b\f\n\r\t\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "é ü 日本 🎉", "\u2028 line \u2029 para",
	"\xff\xfe invalid", "cut rune \xe6\x97", "\xed\xa0\x80 surrogate",
}

func TestJSONStringIsEncodingJSONs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := append([]string{}, awkward...)
	alphabet := strings.Join(awkward, "")
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		checkJSONString(t, s)
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(checkJSONString)
}

func checkJSONString(t *testing.T, s string) {
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
		t.Fatalf("appendJSONString(%q) = %s, encoding/json writes %s", s, got, want)
	}
	if n := jsonStringLen(s); n != len(want) {
		t.Fatalf("jsonStringLen(%q) = %d, encoding/json writes %d bytes", s, n, len(want))
	}
}

// usualLine is the line as encoding/json alone writes it.
func usualLine(t *testing.T, x *Exchange) []byte {
	t.Helper()
	data, err := Line{Type: TypeExchange, Seq: x.Seq, Exchange: x}.marshalUsual()
	if err != nil {
		t.Fatal(err)
	}
	return append(data, '\n')
}

// A line with large bodies is written byte for byte as encoding/json
// writes it, leaves the exchange as it was, and is sized exactly.
func TestLargeBodiesAreSplicedExactly(t *testing.T) {
	// Bodies are stored as text only when they are valid UTF-8.
	var valid []string
	for _, s := range awkward {
		if utf8.ValidString(s) {
			valid = append(valid, s)
		}
	}
	big := strings.Repeat(strings.Join(valid, `{"k":"v"}`), 2000)
	for _, tc := range []struct {
		name      string
		req, resp string
	}{
		{"response", "small", big},
		{"request", big, ""},
		{"both", big, big[7:]},
		// A small body that holds the marker's text: the marker is not
		// unique, so the line is written the usual way.
		{"marker in another body", "\x00kubewire:body:0\x00", big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := benchExchange(3, 10)
			x.Request.Body = NewBody("application/json", []byte(tc.req), int64(len(tc.req)), -1)
			x.Response.Body = NewBody("application/json", []byte(tc.resp), int64(len(tc.resp)), -1)
			want := usualLine(t, x)
			got, err := Line{Type: TypeExchange, Seq: x.Seq, Exchange: x}.marshalLine()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Fatalf("line differs from encoding/json's at byte %d of %d: got …%q…, want …%q…", i, len(want), got[max(i-20, 0):min(i+40, len(got))], want[max(i-20, 0):min(i+40, len(want))])
			}
			if cap(got) != len(got) && tc.name != "marker in another body" {
				t.Errorf("line of %d bytes in a buffer of %d: not sized exactly", len(got), cap(got))
			}
			if x.Request.Body.Text != tc.req || x.Response.Body.Text != tc.resp {
				t.Error("encoding the line changed the exchange's bodies")
			}
			// And it reads back.
			var file bytes.Buffer
			w, err := NewWriter(&file, Header{Kubewire: "test"})
			if err != nil {
				t.Fatal(err)
			}
			w.Put(Line{Type: TypeExchange, Seq: x.Seq, Exchange: x})
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rec, err := ReadAll(&file, "t.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Exchanges) != 1 || rec.Exchanges[0].Response.Body.Text != tc.resp || rec.Exchanges[0].Request.Body.Text != tc.req {
				t.Error("the spliced line does not read back as the exchange")
			}
		})
	}
}
