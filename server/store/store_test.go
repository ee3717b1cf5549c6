package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "dicoso.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrationsOnFileStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dicoso.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if v != len(ms) {
		t.Fatalf("schema version %d, want %d", v, len(ms))
	}
	var mode string
	if err := s.Writer().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q (%v), want wal", mode, err)
	}
	var fk, syncMode int
	if err := s.Writer().QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d (%v), want 1", fk, err)
	}
	if err := s.Writer().QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncMode); err != nil || syncMode != 2 {
		t.Fatalf("synchronous = %d (%v), want 2 (FULL)", syncMode, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A second open of the same file applies nothing again.
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	var n int
	if err := s2.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Fatalf("%d migration records after reopen, want %d", n, len(ms))
	}
}

func TestInTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO departments(id, name) VALUES ('d1', 'Ban Kiểm tra')"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx error = %v, want boom", err)
	}
	var n int
	if err := s.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM departments").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d departments after a failed transaction, want 0", n)
	}
}

func TestReaderIsReadOnly(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	if _, err := s.Reader().Exec("INSERT INTO departments(id) VALUES ('x')"); err == nil {
		t.Fatal("insert through the reader pool succeeded, want refused")
	}
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	if err := s.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO departments(id, name) VALUES ('d1', 'Văn phòng')")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := s.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	c, err := Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var name string
	if err := c.Reader().QueryRowContext(ctx, "SELECT name FROM departments WHERE id='d1'").Scan(&name); err != nil || name != "Văn phòng" {
		t.Fatalf("backup holds %q (%v), want Văn phòng", name, err)
	}
}

// A data directory whose name holds URI delimiters must still open the file
// inside it: an operator's "/srv/dicoso#2" or "/data?old" is a legal path.
func TestPathWithURIDelimitersOpensThatFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, dir := range []string{"a#b", "a?b", "100%", "x?y#z%41"} {
		parent := filepath.Join(t.TempDir(), dir)
		if err := os.Mkdir(parent, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(parent, "dicoso.db")
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("open %q: %v", path, err)
		}
		if _, err := s.SchemaVersion(ctx); err != nil {
			t.Fatalf("%q: %v", path, err)
		}
		s.Close()
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%q: the store is not where it was asked to be: %v", path, err)
		}
		entries, err := os.ReadDir(filepath.Dir(parent))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("%q: stray files beside the data directory: %v", path, names)
		}
	}
}

// Every migration has its PostgreSQL twin, of the same number and name,
// and no twin stands alone: a migration added for one dialect only fails
// here.
func TestMigrationsHaveTwins(t *testing.T) {
	t.Parallel()
	lite, err := loadMigrations(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := loadMigrations(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Errorf("%d SQLite migrations, %d PostgreSQL ones", len(lite), len(pg))
	}
	for i := range min(len(lite), len(pg)) {
		if lite[i].name != pg[i].name {
			t.Errorf("migration %d: SQLite %s, PostgreSQL %s", i+1, lite[i].name, pg[i].name)
		}
	}
}
