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
	"errors"
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

// Template is a store built once per test process and copied into each
// test that asks for it: building may cost more than copying (a password
// hash, the seeds). On SQLite the copy is a file; on PostgreSQL a database
// created from the template database.
type Template struct {
	build func(ctx context.Context, st *store.Store) error

	once   sync.Once
	file   []byte // SQLite: the built store's bytes
	dbName string // PostgreSQL: the template database
	err    error
}

// NewTemplate is a template that build fills (it runs at most once).
func NewTemplate(build func(ctx context.Context, st *store.Store) error) *Template {
	return &Template{build: build}
}

var templates struct {
	mu    sync.Mutex
	admin string
	names []string
}

// Open opens a fresh copy of the template, closed (and dropped) when the
// test ends. dir is where the SQLite copy is written, as dicoso.db.
func (tp *Template) Open(t testing.TB, dir string) *store.Store {
	t.Helper()
	ctx := context.Background()
	tp.once.Do(func() { tp.err = tp.make(t) })
	if tp.err != nil {
		t.Fatalf("template store: %v", tp.err)
	}
	var st *store.Store
	var err error
	if Postgres() {
		st, err = store.OpenPostgres(ctx, NewDatabaseFrom(t, tp.dbName))
	} else {
		path := filepath.Join(dir, "dicoso.db")
		if err := os.WriteFile(path, tp.file, 0o600); err != nil {
			t.Fatalf("copy the template store: %v", err)
		}
		st, err = store.Open(ctx, path)
	}
	if err != nil {
		t.Fatalf("open %s store: %v", Kind(), err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func (tp *Template) make(t testing.TB) (err error) {
	ctx := context.Background()
	if Postgres() {
		admin := ServerURL(t)
		name, u, err := CreateDatabase(admin, "")
		if err != nil {
			return err
		}
		templates.mu.Lock()
		templates.admin = admin
		templates.names = append(templates.names, name)
		templates.mu.Unlock()
		st, err := store.OpenPostgres(ctx, u)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, st.Close()) }()
		tp.dbName = name
		return tp.build(ctx, st)
	}
	dir, err := os.MkdirTemp("", "dicoso-template-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, filepath.Join(dir, "build.db"))
	if err != nil {
		return err
	}
	if err := tp.build(ctx, st); err != nil {
		st.Close()
		return err
	}
	out := filepath.Join(dir, "template.db")
	err = st.Backup(ctx, out)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	tp.file, err = os.ReadFile(out)
	return err
}

// Main runs the tests and then drops the template databases they made;
// call it from TestMain: os.Exit(storetest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	templates.mu.Lock()
	defer templates.mu.Unlock()
	for _, name := range templates.names {
		if err := DropDatabase(templates.admin, name); err != nil {
			fmt.Fprintf(os.Stderr, "drop template database %s: %v\n", name, err)
		}
	}
	return code
}

// TemplateDatabase creates a PostgreSQL database that outlives the test
// (tests copy it with NewDatabaseFrom once whoever built it has closed it)
// and is dropped by Main when the test binary ends. It returns its name
// and URL.
func TemplateDatabase(t testing.TB) (name, dbURL string) {
	t.Helper()
	admin := ServerURL(t)
	name, dbURL, err := CreateDatabase(admin, "")
	if err != nil {
		t.Fatal(err)
	}
	templates.mu.Lock()
	templates.admin = admin
	templates.names = append(templates.names, name)
	templates.mu.Unlock()
	return name, dbURL
}
