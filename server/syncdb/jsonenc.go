package syncdb

import (
	"maps"
	"slices"
	"strconv"

	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// The change log stores, for every change, the values it set, overwrote and
// lost, and every row write stores its field clocks: JSON objects written
// hundreds of thousands of times a minute under load. encoding/json spends
// most of that on reflection and map sorting, so these few shapes are
// written by hand, values as the pull answer writes them
// (protocol.AppendValue). Keys come out sorted, as json.Marshal writes
// them (tested against encoding/json).

// encodeValues writes a change's field values (SQL values, by field name)
// as their wire JSON: a field of t by its type, any other name (the
// "deleted" tombstone) as a boolean.
func encodeValues(t *schema.Table, m map[string]any) string {
	if len(m) == 0 {
		return "{}" // most changes overwrite nothing and lose nothing
	}
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = protocol.AppendString(b, k)
		b = append(b, ':')
		v := m[k]
		var wire any
		if f, ok := t.Field(k); ok {
			wire = f.FromSQL(v)
		} else {
			wire = v != int64(0) && v != nil // deleted
		}
		b = protocol.AppendValue(b, wire)
	}
	return string(append(b, '}'))
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
		b = protocol.AppendString(b, k)
		b = append(b, `:{"h":`...)
		b = protocol.AppendString(b, c.H)
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
