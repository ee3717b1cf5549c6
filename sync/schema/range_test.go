package schema

import (
	"strings"
	"testing"
)

// No count, measure or year of any table is negative; a year and a
// number of field days stay within what a plan can mean; coordinates stay
// on the globe. A whole number with a fraction is not taken either.
func TestNumbersStayInTheirRange(t *testing.T) {
	bounds := map[string][2]float64{
		"year": {1900, 2100}, "min_field_days": {0, 366},
		"lat": {-90, 90}, "lng": {-180, 180},
	}
	for _, tbl := range Tables() {
		for i := range tbl.Fields {
			f := &tbl.Fields[i]
			if f.Type != Int && f.Type != Real {
				continue
			}
			lo, hi := 0.0, 1e6 // no upper bound: a large value is taken
			bad := []float64{lo - 1}
			if b, ok := bounds[f.Name]; ok {
				lo, hi = b[0], b[1]
				bad = []float64{lo - 1, hi + 1}
			}
			for _, bad := range bad {
				if _, err := f.ToSQL(bad); err == nil {
					t.Errorf("%s.%s took %v", tbl.Name, f.Name, bad)
				}
			}
			for _, good := range []float64{lo, hi} {
				if _, err := f.ToSQL(good); err != nil {
					t.Errorf("%s.%s refused %v: %v", tbl.Name, f.Name, good, err)
				}
			}
			if f.Type == Int {
				if _, err := f.ToSQL(lo + 0.5); err == nil {
					t.Errorf("%s.%s took %v", tbl.Name, f.Name, lo+0.5)
				}
			}
		}
	}
}

// A list of ids names each row once, whatever the case of its letters: a
// team of the same member twice, a trip to one unit twice mean nothing.
func TestIDListsNameEachRowOnce(t *testing.T) {
	const a, b = "0f7e5a52-1d2c-4b6a-9c1e-3a4b5c6d7e8f", "1a2b3c4d-1d2c-4b6a-9c1e-3a4b5c6d7e8f"
	for _, tbl := range Tables() {
		for i := range tbl.Fields {
			f := &tbl.Fields[i]
			if f.Type != List || f.Ref == "" {
				continue
			}
			for _, bad := range [][]any{{a, a}, {a, b, strings.ToUpper(a)}} {
				if _, err := f.ToSQL(bad); err == nil {
					t.Errorf("%s.%s took %v", tbl.Name, f.Name, bad)
				}
			}
			if _, err := f.ToSQL([]any{a, b}); err != nil {
				t.Errorf("%s.%s refused two rows: %v", tbl.Name, f.Name, err)
			}
		}
	}
}
