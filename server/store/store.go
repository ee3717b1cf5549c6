// Package store owns the central database: the embedded SQLite file (the
// default) or a PostgreSQL database (docs/postgres.md). It opens either with
// the right settings, applies its embedded migrations (one set per dialect),
// and runs transactions and online backups.
//
// SQLite allows one writer at a time. The store keeps a single writer
// connection (so writers queue in Go, not in busy-wait loops inside SQLite)
// and a pool of read-only connections that WAL lets run beside it.
// PostgreSQL has one pool; its write transactions queue on an advisory lock
// instead (InTx), across every process sharing the database.
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
	dialect Dialect
	path    string // the SQLite file; the URL without its password on PostgreSQL
	writer  *sql.DB
	reader  *sql.DB
	ckpt    *checkpointer // SQLite only
}

// Dialect is which database the store is; the code asks it where SQL
// differs (dialect.go).
func (s *Store) Dialect() Dialect { return s.dialect }

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
//
// The writer does not checkpoint the WAL after its commits as SQLite does
// by default (every 1,000 pages): the checkpointer's connection does, beside
// it (checkpoint.go). The writer keeps a far threshold as a backstop.
func dsn(path string, role connRole) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "temp_store(MEMORY)")
	switch role {
	case readerConn:
		q.Add("_pragma", "query_only(ON)")
	case writerConn:
		q.Set("_txlock", "immediate")
		// A group commit writes thousands of rows in one transaction; a
		// 64 MiB page cache keeps them in memory until the commit instead
		// of spilling pages to the WAL halfway through.
		q.Add("_pragma", "cache_size(-65536)")
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", writerCheckpointPages))
	}
	return FileURI(path, q)
}

// connRole is what a connection to the SQLite file is for.
type connRole int

const (
	writerConn connRole = iota
	readerConn
	checkpointConn
)

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
	writer, err := sql.Open("sqlite", dsn(path, writerConn))
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
	reader, err := sql.Open("sqlite", dsn(path, readerConn))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open reader %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU()*2)
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	s := &Store{dialect: SQLite, path: path, writer: writer, reader: reader}
	if s.ckpt, err = startCheckpointer(path); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Path is the database file's path (SQLite), or the database's URL without
// its password (PostgreSQL).
func (s *Store) Path() string { return s.path }

// Writer is the single read-write connection pool (of one). Prefer InTx.
func (s *Store) Writer() *sql.DB { return s.writer }

// Reader is the read-only pool. Prefer ReadTx for multi-statement reads.
func (s *Store) Reader() *sql.DB { return s.reader }

// Close stops the checkpointer and closes the pools.
func (s *Store) Close() error {
	var err error
	if s.ckpt != nil {
		err = s.ckpt.close()
	}
	if s.reader == s.writer {
		return errors.Join(err, s.writer.Close())
	}
	return errors.Join(err, s.reader.Close(), s.writer.Close())
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
	if s.ckpt != nil {
		if err := s.ckpt.failed(); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	return nil
}

// InTx runs fn in a write transaction: committed if fn returns nil, rolled
// back otherwise (and on panic). With synchronous=FULL (SQLite) or
// synchronous_commit=on (PostgreSQL), a nil return means the change is on
// disk.
//
// Write transactions run one at a time, as SQLite's single writer does: on
// PostgreSQL each first takes the store's transaction-level advisory lock,
// held until its commit is visible, so change_log sequences are taken in
// commit order by every process (docs/postgres.md, "No pull skips a
// commit").
func (s *Store) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, takeWriterLock); err != nil {
			return fmt.Errorf("take the writer lock: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if s.ckpt != nil {
		s.ckpt.kick()
	}
	return nil
}

// ReadTx runs fn in a read transaction on the reader pool, so every statement
// in fn sees the same snapshot of the database.
//
// On PostgreSQL the transaction is REPEATABLE READ (one snapshot for all its
// statements, as SQLite's read transaction); READ COMMITTED would take a
// new snapshot per statement.
func (s *Store) ReadTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.reader.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	return fn(tx)
}

// Backup writes a consistent copy of the live database to dest (which must
// not exist) without stopping writers: VACUUM INTO reads one snapshot.
// On PostgreSQL, backups are pg_dump's (README, "PostgreSQL").
func (s *Store) Backup(ctx context.Context, dest string) error {
	if s.dialect == Postgres {
		return errors.New("backup: this store is PostgreSQL; back it up with pg_dump (README)")
	}
	if _, err := s.writer.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	return nil
}
