package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// copyOrder is every table of the store in an order that satisfies its
// foreign keys, with the columns written only once every table is in
// (units name clusters, clusters users, users units). A table the store
// has and this list lacks stops Copy, so a new table cannot be silently
// left behind.
var copyOrder = []struct {
	table string
	later []string // reference columns set in a second pass
}{
	{"departments", nil},
	{"plans", nil},
	{"campaigns", nil},
	{"special_periods", nil},
	{"units", []string{"cluster_id", "parent_id", "replaced_by_id", "proposed_by"}},
	{"users", nil},
	{"clusters", nil},
	{"teams", nil},
	{"team_visits", nil},
	{"notices", nil},
	{"briefings", nil},
	{"trips", nil},
	{"trip_days", nil},
	{"checkins", nil},
	{"visit_notes", nil},
	{"findings", nil},
	{"follow_ups", nil},
	{"reviews", nil},
	{"change_log", nil},
	{"conflicts", nil},
	{"rejected_changes", nil},
	{"scope_moves", nil},
	{"devices", nil},
	{"refresh_tokens", nil},
	{"attachments", nil},
	{"attachment_uploads", nil},
	{"seed_loads", nil},
}

// derived are tables the destination rebuilds itself: the schema's record
// and the notes index, which its triggers fill from the rows copied
// (visit_notes, findings, change_log).
var derived = []string{"schema_migrations", "note_index", "note_search", "note_search_config", "note_search_data",
	"note_search_docsize", "note_search_idx", "note_search_content"}

// identities are the columns whose next value the store draws; after the
// copy each continues past the largest copied value.
var identities = map[string]string{"change_log": "seq", "conflicts": "id"}

// CopiedTables are the tables Copy carries over, in the order it writes
// them.
func CopiedTables() []string {
	out := make([]string, len(copyOrder))
	for i, c := range copyOrder {
		out[i] = c.table
	}
	return out
}

// CopyReport counts the rows copied per table.
type CopyReport struct {
	Tables []TableCount
}

// TableCount is one table's rows.
type TableCount struct {
	Table string
	Rows  int
}

// Copy writes every row of the SQLite store from into the PostgreSQL store
// to, which must be empty (freshly migrated): rows with their field clocks
// and tombstones, the change log with its sequence numbers (so devices'
// cursors stay valid), users, refresh tokens, devices, conflicts, refused
// changes, attachment records. It runs in one transaction on to: on any
// error nothing is written. Both stores must be at the same schema version.
func Copy(ctx context.Context, from, to *Store) (CopyReport, error) {
	var rep CopyReport
	if from.dialect != SQLite || to.dialect != Postgres {
		return rep, errors.New("store copy: from must be an SQLite store and to a PostgreSQL one")
	}
	fv, err := from.SchemaVersion(ctx)
	if err != nil {
		return rep, err
	}
	tv, err := to.SchemaVersion(ctx)
	if err != nil {
		return rep, err
	}
	if fv != tv {
		return rep, fmt.Errorf("store copy: source at schema version %d, destination at %d", fv, tv)
	}
	err = from.ReadTx(ctx, func(src *sql.Tx) error {
		tables, err := from.tableNames(ctx, src)
		if err != nil {
			return err
		}
		for _, name := range tables {
			known := slices.Contains(derived, name) || strings.HasPrefix(name, "sqlite_")
			for _, c := range copyOrder {
				known = known || c.table == name
			}
			if !known {
				return fmt.Errorf("store copy: the source has a table %s this copy does not know", name)
			}
		}
		return to.InTx(ctx, func(dst *sql.Tx) error {
			var n int
			if err := dst.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM change_log) + (SELECT COUNT(*) FROM users)").Scan(&n); err != nil {
				return fmt.Errorf("store copy: %w", err)
			}
			if n > 0 {
				return fmt.Errorf("store copy: %s is not empty (%d users and changes): copy into a new database", to.path, n)
			}
			for _, c := range copyOrder {
				if !slices.Contains(tables, c.table) {
					continue
				}
				rows, err := copyTable(ctx, src, dst, c.table, c.later)
				if err != nil {
					return fmt.Errorf("store copy %s: %w", c.table, err)
				}
				rep.Tables = append(rep.Tables, TableCount{Table: c.table, Rows: rows})
			}
			for _, c := range copyOrder {
				if len(c.later) > 0 && slices.Contains(tables, c.table) {
					if err := copyLater(ctx, src, dst, c.table, c.later); err != nil {
						return fmt.Errorf("store copy %s: %w", c.table, err)
					}
				}
			}
			for table, col := range identities {
				var next sql.NullInt64
				// SQLite's AUTOINCREMENT never reuses a number, even of a
				// row no longer there: continue past its counter too.
				if err := src.QueryRowContext(ctx, `SELECT MAX(n) FROM (SELECT MAX(`+col+`) AS n FROM `+table+`
					UNION ALL SELECT seq FROM sqlite_sequence WHERE name = ?)`, table).Scan(&next); err != nil {
					return fmt.Errorf("store copy: next %s.%s: %w", table, col, err)
				}
				if next.Int64 > 0 {
					if _, err := dst.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence(?, ?), ?)", table, col, next.Int64); err != nil {
						return fmt.Errorf("store copy: continue %s.%s: %w", table, col, err)
					}
				}
			}
			return nil
		})
	})
	return rep, err
}

// copyBatch is the rows of one INSERT: PostgreSQL takes at most 65,535
// parameters in a statement.
const copyBatch = 200

func copyTable(ctx context.Context, src, dst *sql.Tx, table string, later []string) (int, error) {
	rs, err := src.QueryContext(ctx, "SELECT * FROM "+table+" ORDER BY 1")
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return 0, err
	}
	n := 0
	var pending [][]any
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, len(pending)*len(cols))
		for i, row := range pending {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")")
			args = append(args, row...)
		}
		pending = pending[:0]
		if _, err := dst.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
		return nil
	}
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range cols {
			if slices.Contains(later, c) {
				vals[i] = nil
			}
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b) // every column is TEXT, a number or NULL
			}
		}
		pending = append(pending, vals)
		n++
		if len(pending) == copyBatch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rs.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// copyLater sets the reference columns copyTable left null.
func copyLater(ctx context.Context, src, dst *sql.Tx, table string, cols []string) error {
	rs, err := src.QueryContext(ctx, "SELECT id, "+strings.Join(cols, ", ")+" FROM "+table)
	if err != nil {
		return err
	}
	type update struct {
		id   string
		vals []any
	}
	var ups []update
	for rs.Next() {
		u := update{vals: make([]any, len(cols))}
		ptrs := []any{&u.id}
		for i := range u.vals {
			ptrs = append(ptrs, &u.vals[i])
		}
		if err := rs.Scan(ptrs...); err != nil {
			rs.Close()
			return err
		}
		ups = append(ups, u)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return err
	}
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = ?"
	}
	q := "UPDATE " + table + " SET " + strings.Join(set, ", ") + " WHERE id = ?"
	for _, u := range ups {
		if _, err := dst.ExecContext(ctx, q, append(u.vals, u.id)...); err != nil {
			return err
		}
	}
	return nil
}
