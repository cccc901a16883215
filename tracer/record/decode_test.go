package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// stdLine decodes an exchange or event line with encoding/json alone, as
// readers did before the fast path.
func stdLine(data []byte) (any, error) {
	if typ, _ := leadingType(string(data)); typ == TypeEvent {
		var ev eventLine
		err := json.Unmarshal(data, &ev)
		return ev, err
	}
	x := new(Exchange)
	err := json.Unmarshal(data, x)
	return x, err
}

// fastLine decodes it with the fast path; ok is false when it gave up.
func fastLine(data []byte) (any, bool) {
	if typ, _ := leadingType(string(data)); typ == TypeEvent {
		return decodeEvent(string(data))
	}
	return decodeExchange(string(data))
}

// checkSame fails when the fast path accepted a line and decoded it
// otherwise than encoding/json.
func checkSame(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	got, ok := fastLine(data)
	if !ok {
		return false
	}
	want, err := stdLine(data)
	if err != nil {
		t.Fatalf("fast path accepted a line encoding/json refuses (%v):\n%s", err, data)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("fast path decoded\n%s\nas\n%s\nencoding/json as\n%s\n(%#v\nvs %#v)", data, g, w, got, want)
	}
	return true
}

// recordingLines are the exchange and event lines of every recording in
// the repository: fixtures, the sample, test data.
func recordingLines(t testing.TB) [][]byte {
	t.Helper()
	var lines [][]byte
	err := filepath.WalkDir("../..", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".jsonl") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			if typ, _ := leadingType(sc.Text()); typ == TypeExchange || typ == TypeEvent {
				lines = append(lines, bytes.Clone(sc.Bytes()))
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// Every exchange and event line kubewire wrote decodes on the fast path,
// exactly as encoding/json decodes it.
func TestFastDecodeReadsRecordings(t *testing.T) {
	lines := recordingLines(t)
	if len(lines) < 100 {
		t.Fatalf("found only %d recording lines in the repository", len(lines))
	}
	for _, data := range lines {
		if !checkSame(t, data) {
			t.Errorf("fast path gave up on a line kubewire wrote:\n%s", data)
		}
	}
}

// fill sets every field reachable from v to a value of its own: strings
// and numbers that differ, true, two elements in each slice and map.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("v" + strings.Repeat("é\"\\\n", *n%3) + string(rune('a'+*n%26)))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n)
		fill(v.Index(1), n)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, n)
			fill(e, n)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(t0.Add(time.Duration(*n) * time.Nanosecond).In(time.FixedZone("", 3600))))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), n)
		}
	}
}

// An exchange with every field set decodes on the fast path: a field
// added to the record without a case in the decoder would send every line
// to encoding/json, and fail this test.
func TestFastDecodeEveryField(t *testing.T) {
	var x Exchange
	n := 0
	fill(reflect.ValueOf(&x).Elem(), &n)
	for _, l := range []Line{
		{Type: TypeExchange, Seq: x.Seq, Exchange: &x},
		{Type: TypeEvent, Seq: 3, Event: &x.Events[0]},
	} {
		data, err := l.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !checkSame(t, data) {
			t.Errorf("fast path gave up on\n%s", data)
		}
	}
}

// Lines kubewire never writes, which the fast path must decode as
// encoding/json does, or leave to it.
var oddLines = []string{
	`{"type":"exchange","seq":1,"start":"2026-11-23T10:00:00Z","request":{"method":"GET","url":"/"}}`,
	` { "type" : "exchange" , "seq" : 1 , "request" : { "method" : "GET" } } `,
	`{"type":"exchange","SEQ":1,"request":{"method":"GET"}}`,
	`{"type":"exchange","ſeq":1,"request":{"method":"GET"}}`,
	`{"type":"exchange","s\u0065q":1,"request":{"method":"GET"}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"future":{"a":[1,2,{"b":null}],"c":"\ud83d\ude00"}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"future":[1,}`,
	`{"type":"exchange","seq":1e3,"request":{"method":"GET"}}`,
	`{"type":"exchange","seq":-0,"request":{"method":"GET"}}`,
	`{"type":"exchange","seq":99999999999999999999,"request":{"method":"GET"}}`,
	`{"type":"exchange","seq":1,"timings":{"firstByteMs":1e400},"request":{"method":"GET"}}`,
	`{"type":"exchange","seq":1,"timings":{"firstByteMs":-1.5E-3,"totalMs":0.},"request":{"method":"GET"}}`,
	`{"type":"exchange","seq":1,"timings":{"firstByteMs":-1.5E-3,"totalMs":2e+2},"request":{"method":"GET"}}`,
	`{"type":"exchange","seq":1,"timings":{"firstByteMs":01},"request":{"method":"GET"}}`,
	`{"type":"exchange","seq":"1","request":{"method":"GET"}}`,
	`{"type":"exchange","seq":1,"own":null,"ownBy":null,"start":null,"request":null,"response":null,"annotation":null}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET","headers":null,"body":null,"upstream":null}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET","headers":{}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET","headers":{"A":null,"B":[],"C":["x",null,"y"],"A":["z"]}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET","headers":{"A":[1]}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"G\u00c9T","url":"a\"b\\c\/d\b\f\n\r\t\u0000"}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET","url":"\ud83d\ude00 \ud83d \ude00 \ud83dx \udc00\ud800"}}`,
	"{\"type\":\"exchange\",\"seq\":1,\"request\":{\"method\":\"GET\",\"url\":\"\xff\xfe ok \xc3\xa9 \xe2\x82\"}}",
	"{\"type\":\"exchange\",\"seq\":1,\"request\":{\"method\":\"GET\",\"url\":\"\\n\xff\"}}",
	"{\"type\":\"exchange\",\"seq\":1,\"request\":{\"method\":\"GET\",\"url\":\"a\tb\"}}",
	`{"type":"exchange","seq":1,"request":{"method":"GET","url":"\x"}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET","url":"\'"}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET","url":"\u12"}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"}} x`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},}`,
	`{"type":"exchange","seq":1,,"request":{"method":"GET"}}`,
	`{"type":"exchange","seq":1 "request":{"method":"GET"}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"own":tru}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"own":1}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"start":"2026-13-01T00:00:00Z"}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"start":"2026-11-23 10:00:00Z"}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"start":"2026-11-23T10:00:00.123456789+05:30"}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"start":5}`,
	`{"type":"exchange","seq":1,"seq":2,"request":{"method":"GET"},"request":{"url":"u"}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"response":{"status":200,"body":{"bytes":3,"text":"abc"}},"response":{"proto":"h2","body":{"truncated":true}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"annotation":{"auth":{"stages":[{"name":"a","status":"passed","detail":"x"},{"name":"b"},{"name":"c"}],"stages":[{"status":"rejected"},null]}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"annotation":{"auth":{"stages":[{"name":"a"}],"stages":[]}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"annotation":{"auth":{"groups":["a","b","c"],"groups":[null,"x"]}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"annotation":{"auth":{"stages":null,"groups":null,"persisted":null,"credential":null}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"annotation":{"auth":{"persisted":false,"persisted":true}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"annotation":{"auth":{"persisted":"no"}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"annotation":{"auth":{"denial":{"user":"a","cluster":true},"admission":{"kind":"webhook"},"causes":[{"field":"f"}],"audit":{"auditID":"i","code":403},"impersonation":{"user":"u","groups":["g"]}}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"annotation":{"auth":{"denial":{"user":1}}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"annotation":{"signals":{"auditID":"a","warnings":[{"code":299,"text":"t"}]},"replayed":{"recording":"r","seq":4}}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"annotation":{"Verb":"get"}}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"events":[{"type":"ADDED","body":{"bytes":1}},null]}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"x":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`,
	`{"type":"exchange","seq":1,"request":{"method":"GET"},"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`,
	`{"type":"event","seq":7,"event":{"time":"2026-11-23T10:00:01Z","offsetMs":1520.3,"type":"ADDED","body":{"bytes":18,"text":"{\"type\":\"ADDED\"}"}}}`,
	`{"type":"event","seq":7,"event":null}`,
	`{"type":"event","seq":7}`,
	`{"type":"event","seq":7,"event":{"direction":"up","channel":"stdin","body":{"bytes":3,"omitted":true}},"event":{"type":"data"}}`,
	`{"type":"event","seq":7,"Event":{}}`,
	`null`,
	`[]`,
	`{}`,
	``,
}

func TestFastDecodeOddLines(t *testing.T) {
	for _, l := range oddLines {
		checkSame(t, []byte(l))
	}
}

// FuzzFastDecode holds the fast path to encoding/json on any input.
func FuzzFastDecode(f *testing.F) {
	for _, l := range oddLines {
		f.Add([]byte(l))
	}
	for _, l := range recordingLines(f)[:40] {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSame(t, data)
	})
}

// Header values share a block; each is its own slice, so growing one
// never writes into another.
func TestFastDecodeHeaderValuesApart(t *testing.T) {
	x, ok := decodeExchange(`{"seq":1,"request":{"method":"GET","headers":{"A":["a"],"B":["b"]}}}`)
	if !ok {
		t.Fatal("fast path gave up")
	}
	h := x.Request.Headers
	h["A"] = append(h["A"], "a2")
	h.Add("A", "a3")
	if want := (http.Header{"A": {"a", "a2", "a3"}, "B": {"b"}}); !reflect.DeepEqual(h, want) {
		t.Errorf("headers = %v, want %v", h, want)
	}
}
