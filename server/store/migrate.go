package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrations/ holds SQLite's files, migrations/postgres/ PostgreSQL's: the
// same numbers and names, each the schema of its dialect (a test holds the
// two sets to the same list).
//
//go:embed migrations/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migrationDir is where a dialect's migrations are embedded.
func migrationDir(d Dialect) string {
	return d.Pick("migrations", "migrations/postgres")
}

// migration is one numbered SQL file. Files are append-only: a shipped
// migration is never edited, a change gets a new number.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(d Dialect) ([]migration, error) {
	dir := migrationDir(d)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		if !ok {
			return nil, fmt.Errorf("migration %q: name must be NNNN_what.sql", name)
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %q: %w", name, err)
		}
		body, err := migrationFS.ReadFile(dir + "/" + name)
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", name, err)
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %q: expected number %d", m.name, i+1)
		}
	}
	return out, nil
}

// Migrate applies every migration not yet recorded in schema_migrations,
// each in its own transaction together with its record, so a crash leaves
// the schema either before or after a migration, never in between. Write
// transactions queue (InTx), so processes starting together on one
// PostgreSQL apply each migration once.
//
// It refuses, before changing anything, a database that holds tables but
// no schema_migrations (someone else's schema) and a store whose schema is
// newer than this binary's migrations (a rollback to an older binary).
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.dialect)
	if err != nil {
		return err
	}
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		tables, err := s.tableNames(ctx, tx)
		if err != nil {
			return err
		}
		if len(tables) > 0 && !slices.Contains(tables, "schema_migrations") {
			if len(tables) > 5 {
				tables = append(tables[:5], "…")
			}
			return fmt.Errorf("%s holds tables that are not a dicoso store (%s): use an empty database", s.path, strings.Join(tables, ", "))
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TEXT NOT NULL)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var newest sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&newest); err != nil {
			return fmt.Errorf("schema version: %w", err)
		}
		if int(newest.Int64) > len(ms) {
			return fmt.Errorf("%s is at schema version %d, newer than this binary's %d: run the dicoso release that wrote it, or a later one",
				s.path, newest.Int64, len(ms))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range ms {
		err := s.InTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
				return fmt.Errorf("check migration %d: %w", m.version, err)
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, time.Now().UTC().Format(time.RFC3339)); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// tableNames lists the tables of the store's schema, sorted.
func (s *Store) tableNames(ctx context.Context, tx *sql.Tx) ([]string, error) {
	q := s.dialect.Pick(
		`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
		`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`)
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// SchemaVersion is the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.reader.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return int(v.Int64), nil
}
