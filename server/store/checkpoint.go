package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A WAL checkpoint copies committed pages from the WAL into the database
// file and fsyncs it. SQLite runs one after any commit that leaves 1,000
// pages or more in the WAL, in the committing connection: our single writer
// would then stop merging pushes for as long as the copy and the fsync take,
// and every push queued behind it would wait. Under an open load of 5,000
// changes/s those pauses made the slowest 3% of pushes take 100–250 ms
// instead of under 50 ms (README, "Performance").
//
// So a connection of its own checkpoints beside the writer: after commits,
// at most once per checkpointPause, in PASSIVE mode, which copies what no
// reader still needs without taking the write lock, so commits go on during
// it. Once a checkpoint has copied everything, the writer's next transaction
// starts the WAL over from its beginning, as after its own checkpoints.
//
// A writer that never pauses (a closed load) leaves no moment in which the
// WAL is wholly copied, so it could grow without end; the writer therefore
// keeps SQLite's own checkpoint at writerCheckpointPages, which by then has
// little left to copy.
const (
	checkpointPause       = 500 * time.Millisecond
	writerCheckpointPages = 8192 // 32 MiB of 4 KiB pages
)

type checkpointer struct {
	db      *sql.DB
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	lastErr atomic.Pointer[error]
	closing sync.Once
}

func startCheckpointer(path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path, checkpointConn))
	if err != nil {
		return nil, fmt.Errorf("open checkpointer %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	c := &checkpointer{db: db, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// kick tells the checkpointer that a transaction committed. It never waits.
func (c *checkpointer) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		c.checkpoint()
		// Commits in the pause are copied by the next checkpoint: one
		// fsync of the database file for all of them.
		pause.Reset(checkpointPause)
		select {
		case <-c.stop:
			return
		case <-pause.C:
		}
	}
}

// checkpoint runs one passive checkpoint. Busy means another checkpoint (the
// writer's backstop) is running, which does the same work: not a failure.
func (c *checkpointer) checkpoint() {
	var busy, logged, copied int
	err := c.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logged, &copied)
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("wal checkpoint: %w", err)
		c.lastErr.Store(&err)
		return
	}
	c.lastErr.Store(nil)
}

// failed is the last checkpoint's error, nil once one succeeds again.
func (c *checkpointer) failed() error {
	if p := c.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// close stops the checkpointer; a second call does nothing more.
func (c *checkpointer) close() error {
	c.closing.Do(func() { close(c.stop) })
	<-c.done
	return c.db.Close()
}
