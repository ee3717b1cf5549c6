// Package storetest gives tests a fresh store of the kind under test: an
// SQLite file by default, a PostgreSQL database created for the test (and
// dropped after it) when DICOSO_TEST_STORE=postgres.
//
// The PostgreSQL server is DICOSO_TEST_DATABASE_URL, else the local one on
// 127.0.0.1:5432 (user postgres, trust authentication). When none answers,
// the tests that need it skip, unless CI is set: then they fail, so a CI
// run cannot pass without having run them.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for the admin connection

	"dicoso/server/store"
)

// localURL is the machine's own PostgreSQL (docs/postgres.md, Tests).
const localURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Postgres reports whether the store under test is PostgreSQL.
func Postgres() bool { return os.Getenv("DICOSO_TEST_STORE") == "postgres" }

// Kind is the store kind under test, for names and messages.
func Kind() store.Dialect {
	if Postgres() {
		return store.Postgres
	}
	return store.SQLite
}

// Open opens a fresh, migrated store of the kind under test, closed (and
// its database dropped) when the test ends.
func Open(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	var st *store.Store
	var err error
	if Postgres() {
		st, err = store.OpenPostgres(ctx, NewDatabase(t))
	} else {
		st, err = store.Open(ctx, filepath.Join(t.TempDir(), "dicoso.db"))
	}
	if err != nil {
		t.Fatalf("open %s store: %v", Kind(), err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var server struct {
	once sync.Once
	url  string
	err  error
}

// ServerURL is the PostgreSQL server tests create their databases on (its
// maintenance database), or skips the test (fails it under CI) when none
// answers.
func ServerURL(t testing.TB) string {
	t.Helper()
	server.once.Do(func() {
		u := os.Getenv("DICOSO_TEST_DATABASE_URL")
		if u == "" {
			u = localURL
		}
		db, err := sql.Open("pgx", u)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = db.PingContext(ctx)
			cancel()
			db.Close()
		}
		server.url, server.err = u, err
	})
	if server.err != nil {
		msg := fmt.Sprintf("no PostgreSQL answers at %s: %v", store.RedactURL(server.url), server.err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set: PostgreSQL tests must run)")
		}
		t.Skip(msg)
	}
	return server.url
}

// NewDatabase creates an empty database for the test and returns its URL;
// it is dropped when the test ends. Tests running in parallel each get
// their own.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "")
}

// NewDatabaseFrom is NewDatabase holding a copy of the database template
// (which nobody may be connected to).
func NewDatabaseFrom(t testing.TB, template string) string {
	t.Helper()
	return newDatabase(t, template)
}

func newDatabase(t testing.TB, template string) string {
	t.Helper()
	admin := ServerURL(t)
	name, dbURL, err := CreateDatabase(admin, template)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := DropDatabase(admin, name); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return dbURL
}

// CreateDatabase makes a database with a fresh random name on the server
// at admin (a copy of template when it is not empty) and returns its name
// and URL.
func CreateDatabase(admin, template string) (name, dbURL string, err error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	name = "dicoso_test_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	q := "CREATE DATABASE " + name
	if template != "" {
		q += " TEMPLATE " + template
	}
	if _, err := db.Exec(q); err != nil {
		return "", "", fmt.Errorf("create test database: %w", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", "", err
	}
	u.Path = "/" + name
	return name, u.String(), nil
}

// DropDatabase drops a database made by CreateDatabase, closing whatever
// connections are still open on it.
func DropDatabase(admin, name string) error {
	if !strings.HasPrefix(name, "dicoso_test_") {
		return fmt.Errorf("refusing to drop %q: not a test database", name)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	return err
}
