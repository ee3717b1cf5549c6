package store

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeMiB commits n transactions of one MiB each through InTx, as the
// push path does.
func writeMiB(t *testing.T, s *Store, n int) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Writer().ExecContext(ctx, "CREATE TABLE IF NOT EXISTS scratch (b BLOB)"); err != nil {
		t.Fatal(err)
	}
	blob := bytes.Repeat([]byte("dicoso "), 1<<20/7)
	for range n {
		if err := s.InTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO scratch (b) VALUES (?)", blob)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// Committed pages reach the database file although the writer never gets
// to its own checkpoint threshold: the checkpointer copies them beside it.
func TestCommitsAreCheckpointedBesideTheWriter(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dicoso.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var pages int
	if err := s.Writer().QueryRow("PRAGMA wal_autocheckpoint").Scan(&pages); err != nil || pages != writerCheckpointPages {
		t.Fatalf("writer's wal_autocheckpoint = %d (%v), want %d", pages, err, writerCheckpointPages)
	}
	before := fileSize(t, path)
	writeMiB(t, s, 12) // well under the writer's 32 MiB
	deadline := time.Now().Add(20 * time.Second)
	for fileSize(t, path) < before+11<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes 20 s after 12 MiB were committed: nothing checkpointed them", fileSize(t, path))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("ping after checkpoints: %v", err)
	}
}

// The WAL does not grow with what is written: it starts over once
// checkpointed, by the checkpointer or by the writer's backstop.
//
// The bound is not the backstop's 32 MiB alone. While the checkpointer is
// copying, the writer's own checkpoint finds it busy and gives up until its
// next commit, so what commits meanwhile lands in the WAL too: on a quiet
// disk nothing (34.8 MB every run), on a loaded CI machine 5 MiB more (a run
// of 2026-11-30 failed an allowance of 4 MiB with 40.1 MB). That overshoot
// is what the writer commits while one checkpoint of at most the backstop's
// pages runs, so it is allowed as much again; a WAL that never started over
// would hold all 128 MiB.
func TestWALStaysBoundedUnderSustainedWrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dicoso.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const written = 128
	writeMiB(t, s, written)
	const limit = 2 * writerCheckpointPages * 4096
	if n := fileSize(t, path+"-wal"); n > limit {
		t.Fatalf("WAL is %d bytes after %d MiB of commits, want at most %d", n, written, limit)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	// Everything committed is in the file once closed.
	s2, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var rows int
	if err := s2.Reader().QueryRow("SELECT count(*) FROM scratch").Scan(&rows); err != nil || rows != written {
		t.Fatalf("%d rows after reopening (%v), want %d", rows, err, written)
	}
}
