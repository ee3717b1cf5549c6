package protocol

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the pull answer as JSON, the same document
// encoding/json gives (fields in key order), written without reflection:
// a snapshot page holds thousands of rows, and encoding them through maps
// and reflection was half the server's work per page. Values are those a
// row's fields hold (string, bool, int64, float64, nil, []string, []any and
// maps of them); anything else goes through encoding/json. A float that is
// not a number (which JSON cannot carry) is written as null.
func (p PullResponse) AppendJSON(b []byte) []byte {
	b = append(b, `{"rows":[`...)
	// The keys of the last row written, sorted: rows of one table have the
	// same keys, and sorting them anew for every row was most of the
	// encoder's work.
	var keys []string
	keysOf := ""
	for i, r := range p.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"table":`...)
		b = AppendString(b, r.Table)
		b = append(b, `,"row_id":`...)
		b = AppendString(b, r.RowID)
		b = append(b, `,"fields":`...)
		if r.Fields == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '{')
			start := len(b)
			same := keysOf == r.Table && len(keys) == len(r.Fields)
			for j := 0; same && j < len(keys); j++ {
				v, ok := r.Fields[keys[j]]
				if !ok {
					same = false
					break
				}
				b = appendField(b, j, keys[j], v)
			}
			if !same {
				b = b[:start]
				keys, keysOf = keys[:0], r.Table
				for k := range r.Fields {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				for j, k := range keys {
					b = appendField(b, j, k, r.Fields[k])
				}
			}
			b = append(b, '}')
		}
		b = append(b, `,"deleted":`...)
		b = strconv.AppendBool(b, r.Deleted)
		b = append(b, `,"version":`...)
		b = AppendString(b, r.Version)
		b = append(b, '}')
	}
	b = append(b, `],"cursor":`...)
	b = AppendString(b, p.Cursor)
	b = append(b, `,"has_more":`...)
	b = strconv.AppendBool(b, p.HasMore)
	b = append(b, `,"reset":`...)
	b = strconv.AppendBool(b, p.Reset)
	if p.ServerTime != "" {
		b = append(b, `,"server_time":`...)
		b = AppendString(b, p.ServerTime)
	}
	return append(b, '}')
}

// appendField writes the j-th key and value of an object.
func appendField(b []byte, j int, k string, v any) []byte {
	if j > 0 {
		b = append(b, ',')
	}
	b = AppendString(b, k)
	b = append(b, ':')
	return AppendValue(b, v)
}

// AppendValue appends a field value as JSON, as AppendJSON writes the
// values of rows (see there for the types written without reflection).
func AppendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return AppendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case float64:
		return appendFloat(b, x)
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, s)
		}
		return append(b, ']')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendValue(b, e)
		}
		return append(b, ']')
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, raw...)
}

// appendFloat writes f as encoding/json does: the shortest decimal that
// reads back as f, in exponent form only when very small or very large.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b) - start
		if n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// AppendString writes s as a JSON string: quotes, backslashes and control
// characters escaped, and <, >, & as encoding/json writes them (so that
// both encoders give one document); bytes that are not UTF-8 become
// U+FFFD, as encoding/json does.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
