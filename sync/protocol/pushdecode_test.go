package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// pushBodies are push bodies as devices send them, and awkward variants.
func pushBodies(t testing.TB) [][]byte {
	t.Helper()
	var changes []Change
	for i := range 40 {
		changes = append(changes, Change{
			ID: fmt.Sprintf("0193a3c4-5d6e-7f80-9a1b-%012d", i), Table: "visit_notes",
			RowID: "0193a3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b", Op: OpUpsert,
			HLC: fmt.Sprintf("1764540000000:%d:kiem-laptop", i),
			Fields: map[string]any{
				"results":  fmt.Sprintf("Kết quả thực hiện, bản %d\nĐoàn viên <tích cực> & \"gương mẫu\"\t\u2028", i),
				"unit_ids": []any{"u1", "u2"}, "lat": 21.0285 + float64(i), "count": float64(i), "done": i%2 == 0,
				"nothing": nil, "nested": map[string]any{"a": []any{1.5e-7, -0.0, map[string]any{}}, "b": []any{}},
			},
		})
	}
	changes = append(changes, Change{ID: "d1", Table: "trips", RowID: "r1", Op: OpDelete, HLC: "1:0:x", Base: "b"})
	req := PushRequest{Protocol: Version, DeviceID: "tuan-phone", BaseCursor: "c:42", NoEcho: true, Changes: changes}

	goJSON, err := json.Marshal(req) // the Go client
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer // JSON.stringify leaves <, > and & as they are
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(req); err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, goJSON, " ", "\t"); err != nil {
		t.Fatal(err)
	}
	return [][]byte{
		goJSON, js.Bytes(), pretty.Bytes(),
		[]byte(`{"protocol":1,"device_id":"d","changes":[]}`),
		[]byte(`{}`),
		[]byte(`{"protocol":1,"changes":[{"id":"a","fields":{"x":1,"x":2}}]}`),
		[]byte(`{"protocol":1,"Device_ID":"d"}`),
		[]byte(`{"protocol":1,"device_id":"d","device_id":"e"}`),
		[]byte(`{"protocol":1.0}`),
		[]byte(`{"protocol":1e0}`),
		[]byte(`{"protocol":"1"}`),
		[]byte(`{"protocol":01}`),
		[]byte(`{"protocol":99999999999999999999}`),
		[]byte(`{"device_id":null}`),
		[]byte(`{"changes":null}`),
		[]byte(`{"changes":[{"fields":null}]}`),
		[]byte(`{"changes":[{"fields":{"v":1e999}}]}`),
		[]byte(`{"changes":[{"fields":{"v":"\ud83d\ude00"}}]}`),
		[]byte(`{"changes":[{"fields":{"v":"\u00e9\u0000\/"}}]}`),
		[]byte("{\"device_id\":\"\xff\"}"),
		[]byte(`{"device_id":"d"} `),
		[]byte(`{"device_id":"d"}}`),
		[]byte(`{"device_id":"d"} {}`),
		[]byte(`{"no_echo":true,"no_echo":false}`),
		[]byte(`{"changes":[{"id":"a","colour":"red"}]}`),
		[]byte(`null`),
		[]byte(``),
		[]byte(`{"changes":[{"fields":{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}]}`),
	}
}

// The fast path gives, for every body it accepts, exactly what
// encoding/json gives, and accepts only bodies encoding/json accepts.
func FuzzDecodePushFastAgreesWithEncodingJSON(f *testing.F) {
	for _, b := range pushBodies(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodePushFast(body)
		if !ok {
			return
		}
		var ref PushRequest
		if err := decodeStrict(body, &ref); err != nil {
			t.Fatalf("fast path accepted a body encoding/json refuses (%v):\n%q", err, body)
		}
		if !reflect.DeepEqual(fast, ref) {
			t.Fatalf("fast path and encoding/json disagree on\n%q\nfast: %#v\njson: %#v", body, fast, ref)
		}
	})
}

// What devices send takes the fast path; a body it does not take still
// decodes, through encoding/json, to the same request or the same error
// (its broken text marked).
func TestDevicesPushesTakeTheFastPath(t *testing.T) {
	bodies := pushBodies(t)
	for i, b := range bodies[:4] {
		if _, ok := decodePushFast(b); !ok {
			t.Errorf("body %d (a device's) missed the fast path:\n%.300s", i, b)
		}
	}
	for _, b := range bodies {
		var ref PushRequest
		marked, _, _ := badText(b) // broken text is marked for refusal (text.go)
		refErr := decodeStrict(marked, &ref)
		got, err := DecodePush(b)
		if refErr != nil {
			if err == nil || err.Error() != refErr.Error() {
				t.Errorf("%q: DecodePush error %v, encoding/json's %v", b, err, refErr)
			}
			continue
		}
		if !reflect.DeepEqual(got, ref) {
			t.Errorf("%q: DecodePush gave %#v, encoding/json %#v", b, got, ref)
		}
		if want := ref.validate(); fmt.Sprint(err) != fmt.Sprint(want) {
			t.Errorf("%q: DecodePush error %v, want %v", b, err, want)
		}
	}
}

// go test ./sync/protocol -run '^$' -bench DecodePush
func BenchmarkDecodePush(b *testing.B) {
	body := pushBodies(b)[0]
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, ok := decodePushFast(body); !ok {
				b.Fatal("missed the fast path")
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var req PushRequest
			if err := decodeStrict(body, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
