package client

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"dicoso/sync/schema"
)

// normalize gives what encoding the fields as JSON and reading them back
// gives, whether or not it takes that way: text with letters outside
// ASCII, invalid UTF-8 (read back as U+FFFD), whole and fractional
// numbers, Go integers, lists, nulls; and refuses what JSON cannot carry.
func TestNormalizeIsAJSONRoundTrip(t *testing.T) {
	notes, _ := schema.Lookup("visit_notes")
	trips, _ := schema.Lookup("trips")
	cases := []struct {
		t      *schema.Table
		fields map[string]any
	}{
		{notes, map[string]any{"results": "Kết quả thực hiện, bản 7", "status": "draft", "trip_id": nil}},
		{notes, map[string]any{"results": "bad \xff byte", "title": "ok"}},
		{notes, map[string]any{"title": `"quoted" </script> & \ `, "attachments": []string{"a.jpg"}}},
		{trips, map[string]any{"title": "Đi cơ sở", "unit_ids": []any{"9f3c0e59-2f3e-4b5d-9a51-3c8f5f2e7a10"}}},
		{notes, map[string]any{"results": "", "conclusions": "x"}},
	}
	for i, c := range cases {
		got, err := normalize(c.t, c.fields)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		b, err := json.Marshal(c.fields)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("case %d: normalize gave %#v, JSON reads back %#v", i, got, want)
		}
		got["title"] = "changed" // the caller's map is not the one kept
		if c.fields["title"] == "changed" {
			t.Errorf("case %d: normalize returned the caller's own map", i)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1)} {
		if _, err := normalize(notes, map[string]any{"results": "x", "title": bad}); err == nil {
			t.Errorf("normalize took %v", bad)
		}
	}
}
