package syncdb

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"

	"dicoso/sync/schema"
)

// The change log stores, for every change, the values it set, overwrote and
// lost, and every row write stores its field clocks: JSON objects written
// hundreds of thousands of times a minute under load. encoding/json spends
// most of that on reflection and map sorting, so these few shapes are
// written by hand. Keys come out sorted, as json.Marshal writes them;
// values json.Unmarshal reads back equal (tested against encoding/json).

// encodeValues writes a change's field values (SQL values, by field name)
// as their wire JSON: a field of t by its type, any other name (the
// "deleted" tombstone) as a boolean.
func encodeValues(t *schema.Table, m map[string]any) (string, error) {
	if len(m) == 0 {
		return "{}", nil // most changes overwrite nothing and lose nothing
	}
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		v := m[k]
		var wire any
		if f, ok := t.Field(k); ok {
			wire = f.FromSQL(v)
		} else {
			wire = v != int64(0) && v != nil // deleted
		}
		var err error
		if b, err = appendJSONValue(b, wire); err != nil {
			return "", err
		}
	}
	return string(append(b, '}')), nil
}

// encodeClocks writes a row's field clocks.
func encodeClocks(m map[string]fieldClock) string {
	b := make([]byte, 0, 16+len(m)*48)
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		c := m[k]
		b = appendJSONString(b, k)
		b = append(b, `:{"h":`...)
		b = appendJSONString(b, c.H)
		b = append(b, `,"s":`...)
		b = strconv.AppendInt(b, c.S, 10)
		b = append(b, '}')
	}
	return string(append(b, '}'))
}

func sortedKeys[V any](m map[string]V) []string {
	if len(m) == 1 {
		for k := range m {
			return []string{k}
		}
	}
	return slices.Sorted(maps.Keys(m))
}

// appendJSONValue writes the wire values fields hold; anything else goes
// through encoding/json.
func appendJSONValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case []string:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), nil
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}

// appendJSONString writes s as a JSON string: quote, backslash and control
// characters escaped, invalid UTF-8 replaced by U+FFFD (as encoding/json
// does), everything else as it is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
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
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
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
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
