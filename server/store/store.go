// Package store owns the central SQLite database: opening it with the right
// pragmas, its embedded migrations, transactions and online backups.
//
// SQLite allows one writer at a time. The store keeps a single writer
// connection (so writers queue in Go, not in busy-wait loops inside SQLite)
// and a pool of read-only connections that WAL lets run beside it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// ErrNotFound is returned when a row asked for by id does not exist.
var ErrNotFound = errors.New("not found")

// Store is the central database.
type Store struct {
	path   string
	writer *sql.DB
	reader *sql.DB
}

// dsn builds the connection string. The pragmas run on every new connection,
// in this order:
//   - busy_timeout first, so that even the pragmas below wait for a lock
//     instead of failing with SQLITE_BUSY;
//   - journal_mode WAL: readers never block the writer nor the other way round;
//   - synchronous FULL: a commit is fsynced to the WAL before it returns, so a
//     write we acknowledged survives power loss (NORMAL would not);
//   - foreign_keys ON: SQLite leaves them off unless asked, per connection;
//   - temp_store MEMORY: sorts and temporary indexes stay off the disk.
//
// _txlock=immediate makes BEGIN take the write lock at once, so a read-then-
// write transaction cannot fail halfway with SQLITE_BUSY on upgrade.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		q.Set("_txlock", "immediate")
		// A group commit writes thousands of rows in one transaction; a
		// 64 MiB page cache keeps them in memory until the commit instead
		// of spilling pages to the WAL halfway through.
		q.Add("_pragma", "cache_size(-65536)")
	}
	return FileURI(path, q)
}

// FileURI is the "file:" URI of the SQLite file at path with the driver's
// parameters q. The path is percent-escaped: SQLite decodes %HH in a URI's
// path, and an unescaped '?' or '#' in a directory name would otherwise end
// the path early and open (or create) a different file.
func FileURI(path string, q url.Values) string {
	u := url.URL{Scheme: "file", Opaque: escapePath(path), RawQuery: q.Encode()}
	return u.String()
}

// escapePath escapes what SQLite's URI parser would take for a delimiter or
// an escape: '%', '?' and '#'. Everything else, '/' included, stays as it is.
func escapePath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
}

// Open opens (creating if needed) the database file at path and applies any
// pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	writer, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open writer %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	// The writer connection must exist before readers so that WAL mode is set
	// on the file before a read-only connection looks at it.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open writer %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open reader %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU()*2)
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	s := &Store{path: path, writer: writer, reader: reader}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Writer is the single read-write connection pool (of one). Prefer InTx.
func (s *Store) Writer() *sql.DB { return s.writer }

// Reader is the read-only pool. Prefer ReadTx for multi-statement reads.
func (s *Store) Reader() *sql.DB { return s.reader }

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// Ping checks that both pools answer; it backs /readyz.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping reader: %w", err)
	}
	if err := s.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("ping writer: %w", err)
	}
	return nil
}

// InTx runs fn in a write transaction: committed if fn returns nil, rolled
// back otherwise (and on panic). With synchronous=FULL, a nil return means
// the change is on disk.
func (s *Store) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ReadTx runs fn in a read transaction on the reader pool, so every statement
// in fn sees the same snapshot of the database.
func (s *Store) ReadTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	return fn(tx)
}

// Backup writes a consistent copy of the live database to dest (which must
// not exist) without stopping writers: VACUUM INTO reads one snapshot.
func (s *Store) Backup(ctx context.Context, dest string) error {
	if _, err := s.writer.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	return nil
}
