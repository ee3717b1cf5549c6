package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the plain driver, to shape databases behind the store's back

	"dicoso/server/store"
	"dicoso/server/store/storetest"
	"dicoso/sync/schema"
)

// Each kind of bad configuration stops the start with one line that names
// the database (never its password) and what is wrong, and changes
// nothing in a database that is not the store's.
func TestPostgresRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	admin := storetest.ServerURL(t)
	ctx := context.Background()
	oneLine := func(t *testing.T, err error, want ...string) {
		t.Helper()
		if err == nil {
			t.Fatal("opened, want a refusal")
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("refusal spans lines: %q", msg)
		}
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("refusal %q does not say %q", msg, w)
			}
		}
		if strings.Contains(msg, "s3cret") {
			t.Errorf("refusal shows the password: %q", msg)
		}
	}

	t.Run("unreachable host", func(t *testing.T) {
		_, err := store.OpenPostgres(ctx, "postgres://postgres:s3cret@127.0.0.1:1/dicoso?sslmode=disable&connect_timeout=5")
		oneLine(t, err, "127.0.0.1:1", "connect")
	})
	t.Run("missing database", func(t *testing.T) {
		u := strings.Replace(admin, "/postgres?", "/dicoso_test_missing?", 1)
		_, err := store.OpenPostgres(ctx, u)
		oneLine(t, err, "dicoso_test_missing", "does not exist")
	})
	t.Run("not a URL", func(t *testing.T) {
		_, err := store.OpenPostgres(ctx, "postgres://postgres:s3cret@127.0.0.1:notaport/db")
		oneLine(t, err, "database URL")
	})
	t.Run("a database with a foreign schema", func(t *testing.T) {
		u := storetest.NewDatabase(t)
		db, err := sql.Open("pgx", u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TABLE invoices (id int); CREATE TABLE customers (id int)`); err != nil {
			t.Fatal(err)
		}
		_, err = store.OpenPostgres(ctx, u)
		oneLine(t, err, "not a dicoso store", "customers, invoices")
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d tables after the refusal (%v), want the 2 it had", n, err)
		}
	})
	t.Run("a store newer than the binary", func(t *testing.T) {
		u := storetest.NewDatabase(t)
		st, err := store.OpenPostgres(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Reader().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 'later')`); err != nil {
			t.Fatal(err)
		}
		st.Close()
		_, err = store.OpenPostgres(ctx, u)
		oneLine(t, err, "schema version 9999", "newer than this binary")
	})
}

// Two processes starting together on an empty database migrate it once:
// migrations queue on the writer lock.
func TestPostgresMigratesOnceFromManyOpeners(t *testing.T) {
	t.Parallel()
	u := storetest.NewDatabase(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	stores := make(chan *store.Store, 4)
	for range 4 {
		go func() {
			st, err := store.OpenPostgres(ctx, u)
			errs <- err
			stores <- st
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("open: %v", err)
		}
		if st := <-stores; st != nil {
			defer st.Close()
		}
	}
	st, err := store.OpenPostgres(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.Reader().QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != v {
		t.Fatalf("%d migration records (%v), want %d", n, err, v)
	}
}

// The placeholder forms the project writes reach PostgreSQL in place:
// positional, numbered, named (used twice), inside strings and casts left
// alone.
func TestPostgresTakesSQLiteParameters(t *testing.T) {
	t.Parallel()
	st := openPG(t)
	var a, b, c, lit string
	var flag int64
	err := st.Reader().QueryRow(`SELECT CAST(? AS text), CAST(?2 AS text) || ':x', :name::text || :name, '?:not', CAST(:flag AS bigint)`,
		"one", "two", sql.Named("name", "nm"), sql.Named("flag", true)).Scan(&a, &b, &c, &lit, &flag)
	if err != nil {
		t.Fatal(err)
	}
	if a != "one" || b != "two:x" || c != "nmnm" || lit != "?:not" || flag != 1 {
		t.Fatalf("got %q %q %q %q %d", a, b, c, lit, flag)
	}
}

func openPG(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.OpenPostgres(context.Background(), storetest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// The change log's sequence hands out one number at a time (cache 1): a
// session holding a block of numbers drawn earlier could commit one of
// them after another session's larger one, and the writer lock's argument
// (docs/postgres.md) would not hold.
func TestPostgresChangeSequenceIsNotCached(t *testing.T) {
	t.Parallel()
	st := openPG(t)
	var cache int64
	if err := st.Reader().QueryRow(`SELECT s.seqcache FROM pg_sequence s
		WHERE s.seqrelid = pg_get_serial_sequence('change_log', 'seq')::regclass`).Scan(&cache); err != nil {
		t.Fatal(err)
	}
	if cache != 1 {
		t.Fatalf("change_log.seq caches %d numbers per session, want 1", cache)
	}
}

// The PostgreSQL migrations hold exactly the registry, as the SQLite ones
// do (TestMigratedStoreMatchesRegistry): every synced table, every field
// as a column of the type the twin maps it to (whole numbers and flags
// bigint, numbers double precision, the rest text), and no column besides
// the engine's and the server's private ones.
func TestPostgresStoreMatchesRegistry(t *testing.T) {
	t.Parallel()
	st := openPG(t)
	engine := []string{"id", "deleted", "version", "clocks", "seq"}
	private := map[string][]string{"users": {"password_hash", "disabled", "created_at"}}
	for _, tbl := range schema.Tables() {
		rs, err := st.Reader().Query(`SELECT column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ?`, tbl.Name)
		if err != nil {
			t.Fatal(err)
		}
		columns := map[string]string{}
		for rs.Next() {
			var name, typ string
			if err := rs.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			columns[name] = typ
		}
		rs.Close()
		if len(columns) == 0 {
			t.Errorf("no table %s", tbl.Name)
			continue
		}
		for _, f := range tbl.Fields {
			want := "text"
			switch f.Type {
			case schema.Int, schema.Bool:
				want = "bigint"
			case schema.Real:
				want = "double precision"
			}
			if got, ok := columns[f.Name]; !ok || got != want {
				t.Errorf("%s.%s (%s): column %q, want %s", tbl.Name, f.Name, f.Type, got, want)
			}
			delete(columns, f.Name)
		}
		for _, c := range append(slices.Clone(engine), private[tbl.Name]...) {
			if _, ok := columns[c]; !ok {
				t.Errorf("%s lacks the column %s", tbl.Name, c)
			}
			delete(columns, c)
		}
		if len(columns) > 0 {
			t.Errorf("%s has columns the registry does not know: %v", tbl.Name, columns)
		}
	}
}
