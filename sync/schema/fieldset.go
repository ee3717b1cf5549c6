package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// String is the type's name, as FieldSet and the generated PWA schema
// spell it.
func (t Type) String() string {
	switch t {
	case Text:
		return "text"
	case Int:
		return "int"
	case Real:
		return "real"
	case Bool:
		return "bool"
	case Date:
		return "date"
	case Instant:
		return "instant"
	case ID:
		return "id"
	case List:
		return "list"
	case Enum:
		return "enum"
	}
	return "unknown"
}

// FieldSet names the set of synced tables and fields (with their types)
// of this registry: it changes when a table or field is added, removed or
// retyped, and with nothing else. A device records the field set it pulled
// with; when an update brings a different one, the rows it pulled before
// lack the new fields (a device drops what it does not know), so it pulls
// a full snapshot again.
func FieldSet() string {
	var lines []string
	for _, t := range tables {
		for _, f := range t.Fields {
			lines = append(lines, t.Name+"."+f.Name+" "+f.Type.String())
		}
	}
	slices.Sort(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return "fs1-" + hex.EncodeToString(sum[:8])
}
