package protocol

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// AppendJSON writes the very document encoding/json writes for a pull
// answer, for every kind of value a row holds and every awkward string
// (quotes, control characters, HTML characters, line separators, bytes
// that are not UTF-8), so that a device reads the same rows either way.
func TestAppendJSONIsWhatEncodingJSONWrites(t *testing.T) {
	t.Parallel()
	strs := []string{"", "plain", "Nguyễn Văn An", `quote " and \ backslash`, "tab\tnew\nline\rret\b\f\x00\x1f\x7f",
		"<script>&amp;</script>", "line\u2028sep\u2029", "bad \xff\xfe utf8 \xc3", "emoji 🇻🇳", "\xed\xa0\x80"}
	vals := []any{nil, true, false, int64(0), int64(-42), int64(math.MaxInt64), 0.0, 1.5, -0.1, 1e-7, 1e21, 123456789.125,
		22.3964, 1e20, 5e-324, []string{}, []string{"a", "<b>"}, []any{"x", int64(1), nil}, map[string]any{"k": "v"}}
	for _, s := range strs {
		vals = append(vals, s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		vals = append(vals, string(b))
	}
	fields := map[string]any{}
	for i, v := range vals {
		fields[string(rune('a'+i%26))+string(rune('a'+i/26%26))] = v
	}
	resp := PullResponse{Rows: []Row{
		{Table: "visit_notes", RowID: "r1", Fields: fields, Version: "001622710800000.00000.phone-1"},
		{Table: "units", RowID: "r2", Fields: map[string]any{}, Deleted: true},
		{Table: "units", RowID: "gone", Deleted: true},
		// Rows of one table after another (the encoder reuses the keys of
		// the row before when they are the same): the same keys, others
		// as many, fewer, none.
		{Table: "units", RowID: "u1", Fields: map[string]any{"name": "a", "kind": "province", "lat": 1.5}},
		{Table: "units", RowID: "u2", Fields: map[string]any{"lat": 2.5, "kind": "district", "name": "b"}},
		{Table: "units", RowID: "u3", Fields: map[string]any{"name": "c", "kind": "grassroots", "code": "X1"}},
		{Table: "units", RowID: "u4", Fields: map[string]any{"name": "d"}},
		{Table: "units", RowID: "u5"},
		{Table: "trips", RowID: "t1", Fields: map[string]any{"name": "e"}},
		{Table: "units", RowID: "u6", Fields: map[string]any{"name": "f"}},
	}, Cursor: "1.42.abc", HasMore: true, ServerTime: "2021-06-03T09:05:00.123Z"}
	for _, r := range []PullResponse{resp, {Rows: []Row{}, Reset: true}} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AppendJSON(nil); !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("AppendJSON differs from encoding/json at byte %d:\n got …%s\nwant …%s", i, got[max(0, i-40):min(len(got), i+40)], want[max(0, i-40):min(len(want), i+40)])
		}
	}
	// Not-a-number cannot be carried: null rather than an invalid document.
	got := PullResponse{Rows: []Row{{Fields: map[string]any{"x": math.NaN(), "y": math.Inf(1)}}}}.AppendJSON(nil)
	if !json.Valid(got) {
		t.Fatalf("invalid JSON for NaN: %s", got)
	}
}
