package store

// Dialect is the SQL a store speaks. Most statements are the same text on
// both (the project writes SQL both accept, with SQLite's parameters, which
// the PostgreSQL connection rewrites: placeholders.go). Where they differ,
// the code asks the store's dialect and keeps both texts side by side.
type Dialect int

const (
	// SQLite is the embedded store, the default.
	SQLite Dialect = iota
	// Postgres is a PostgreSQL database shared by one or more processes.
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Pick is sqlite's text on SQLite and pg's on PostgreSQL: the two forms of
// one statement, written beside each other where it is used.
func (d Dialect) Pick(sqlite, pg string) string {
	if d == Postgres {
		return pg
	}
	return sqlite
}

// JSONEach is a table of the elements of a JSON array of strings held in a
// text column (or parameter) expr, under alias, with the columns value (the
// element) and key (its place, in array order): SQLite's json_each,
// PostgreSQL's jsonb_array_elements_text WITH ORDINALITY.
func (d Dialect) JSONEach(expr, alias string) string {
	if d == Postgres {
		return "jsonb_array_elements_text(CAST(" + expr + " AS jsonb)) WITH ORDINALITY AS " + alias + "(value, key)"
	}
	return "json_each(" + expr + ") AS " + alias
}
