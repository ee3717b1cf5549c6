package schema

// Define readies a table that is not in the registry for use with the
// registry's functions (Field lookups): a test's scratch table, to show
// what a server does with a synced table it has no rules for. The
// registry's own tables need no defining.
func Define(t *Table) *Table {
	t.byName = make(map[string]*Field, len(t.Fields))
	for i := range t.Fields {
		t.byName[t.Fields[i].Name] = &t.Fields[i]
	}
	return t
}
