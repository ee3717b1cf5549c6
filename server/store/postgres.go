package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// writerLock is the key of the transaction-level advisory lock every write
// transaction takes first on PostgreSQL (InTx): "dicoso" in ASCII. Only
// dicoso takes it, and only in the database it shares.
const writerLock = 0x6469636f736f

var takeWriterLock = fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", writerLock)

// pgPoolSize is the connections one process keeps: reads (pulls, reports)
// run side by side; writes queue on the writer lock and hold one each.
const pgPoolSize = 16

// OpenPostgres connects to the PostgreSQL database at url
// (postgres://user:password@host:port/db?sslmode=...), checks it is fit to
// be the store, and applies any pending migrations. Every failure is one
// line naming the database (without its password) and what is wrong.
func OpenPostgres(ctx context.Context, rawURL string) (*Store, error) {
	where := RedactURL(rawURL)
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database URL %s: %w", where, oneLine(err))
	}
	db := sql.OpenDB(pgConnector{inner: stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(pgPoolSize)
	db.SetMaxIdleConns(pgPoolSize)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres store %s: %w", where, oneLine(err))
	}
	s := &Store{dialect: Postgres, path: where, writer: db, reader: db}
	if err := s.checkServer(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres store %s: %w", where, err)
	}
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres store %s: %w", where, oneLine(err))
	}
	return s, nil
}

// checkServer refuses a server that would break the store's promises: a
// standby (read only), or synchronous_commit off, under which a commit
// returns before it is durable and an acknowledged push could be lost.
func (s *Store) checkServer(ctx context.Context) error {
	var standby bool
	var syncCommit string
	err := s.reader.QueryRowContext(ctx, "SELECT pg_is_in_recovery(), current_setting('synchronous_commit')").
		Scan(&standby, &syncCommit)
	if err != nil {
		return fmt.Errorf("read server settings: %w", oneLine(err))
	}
	if standby {
		return errors.New("the server is a standby (read only): point the database URL at the primary")
	}
	if syncCommit == "off" {
		return errors.New("synchronous_commit is off: a push would be acknowledged before it is durable; set it to on")
	}
	return nil
}

// RedactURL is a database URL without its password, fit for logs.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparsable database URL)"
		}
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// oneLine keeps an error to one line: PostgreSQL's messages may carry a
// DETAIL or HINT on lines of their own.
func oneLine(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.Detail != "" {
			msg += " (" + pe.Detail + ")"
		}
		return fmt.Errorf("%s (SQLSTATE %s)", strings.ReplaceAll(msg, "\n", " "), pe.Code)
	}
	if strings.Contains(err.Error(), "\n") {
		return errors.New(strings.ReplaceAll(err.Error(), "\n", " "))
	}
	return err
}

// IsUnavailable reports whether err means the database could not be
// reached or went away mid-statement (a restart, a network cut): the
// request may be retried once it is back.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: admin shutdown,
		// crash shutdown, cannot connect now (starting up).
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	return pgconn.SafeToRetry(err) || errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "unexpected EOF") || strings.Contains(err.Error(), "connection reset")
}
