package schema

import (
	"strings"
	"testing"
)

// Every text and list field of every table refuses a NUL character (which
// PostgreSQL's text and jsonb cannot hold) and keeps every other character.
func TestTextFieldsRefuseNUL(t *testing.T) {
	for _, tbl := range Tables() {
		for i := range tbl.Fields {
			f := &tbl.Fields[i]
			var bad, good any
			switch {
			case f.Type == Text:
				bad, good = "a nul \x00 here", "quotes \" \\ \t\n\x01\x1b Đoàn 👍"
			case f.Type == List && f.Ref == "":
				bad, good = []any{"ok", "nul\x00"}, []any{"ok", "\x01 Đoàn"}
			default:
				continue
			}
			if _, err := f.ToSQL(bad); err == nil || !strings.Contains(err.Error(), "NUL") {
				t.Errorf("%s.%s took a NUL (err %v)", tbl.Name, f.Name, err)
			}
			if f.Type == Text && f.Max > 0 && f.Max < 40 {
				continue
			}
			if _, err := f.ToSQL(good); err != nil {
				t.Errorf("%s.%s refused %q: %v", tbl.Name, f.Name, good, err)
			}
		}
	}
}
