package client

import (
	"encoding/json"
	"reflect"
	"testing"

	"dicoso/sync/schema"
)

// fieldValues must stage exactly what fromWire gives a pulled row outside a
// snapshot (the row as encoding/json decodes it): the same row must not
// read differently on a device depending on how it arrived.
func FuzzFieldValuesAsFromWire(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, ` { } `,
		`{"name":"Chi đoàn \"Hà Nội\"\n","kind":"grassroots","lat":10.5,"lng":-1e-7,"code":null}`,
		`{"name":"\u0110o\u00e0n \ud83d\ude00 \/ <&>","unknown":{"a":[1,{"b":"]}"}]},"lat":3}`,
		`{"lat":1,"lat":2,"name":"last wins"}`,
		`{ "name" : "spaces" , "lat" : 12345678901234567890 , "source" : [ "a" , "b" ] }`,
		`{"year":2021,"min_field_days":60.0,"title":"Kế hoạch"}`,
		`{"unit_ids":["x","y"],"member_ids":[],"leader_id":null,"name":{"k":true}}`,
		`{"starts_on":"2021-06-01","ends_on":null,"name":"\u00e9\t\u0000"}`,
		`{"lat":true,"lng":false,"code":1.5,"kind":"\ud800"}`,
	} {
		for _, table := range []string{"units", "plans", "teams", "campaigns"} {
			f.Add(table, s)
		}
	}
	f.Fuzz(func(t *testing.T, table, raw string) {
		tb, ok := schema.Lookup(table)
		if !ok || !json.Valid([]byte(raw)) {
			return
		}
		var wire map[string]any
		if err := json.Unmarshal([]byte(raw), &wire); err != nil {
			return // not an object: the page's decoding refuses it too
		}
		got := make([]any, len(tb.Fields))
		keys, err := fieldValues(tb, []byte(raw), got)
		if err != nil {
			t.Fatalf("fieldValues(%s): %v", raw, err)
		}
		want := fromWire(tb, wire)
		for i, f := range tb.Fields {
			if !reflect.DeepEqual(got[i], want[f.Name]) {
				t.Errorf("%s.%s of %s: staged %#v, fromWire %#v", table, f.Name, raw, got[i], want[f.Name])
			}
		}
		if (keys == 0) != (len(wire) == 0) {
			t.Errorf("%s: %d keys counted, the object has %d", raw, keys, len(wire))
		}
	})
}
