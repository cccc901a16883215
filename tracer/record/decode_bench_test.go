package record

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// BenchmarkDecodeExchange decodes one exchange line of a fixture (a Table
// list) with the fast path and with encoding/json.
func BenchmarkDecodeExchange(b *testing.B) {
	data, err := os.ReadFile("../../render/testdata/recordings/denied.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, `{"type":"exchange"`) {
			line = l
			break
		}
	}
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			if _, ok := decodeExchange(line); !ok {
				b.Fatal("fast path gave up")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			var x Exchange
			if err := json.Unmarshal([]byte(line), &x); err != nil {
				b.Fatal(err)
			}
		}
	})
}
