// Package hlc is the hybrid logical clock of sync protocol v1.
//
// A timestamp is written `<15-digit unix ms>.<5-digit counter>.<node id>`, so
// plain string order is clock order and the node (device) id breaks ties.
// The clock follows physical time when it can and counts when it cannot,
// so causally later writes always carry larger stamps even when a phone's
// wall clock runs behind.
package hlc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	stdsync "sync"
	"time"
)

const (
	maxMillis  = 999_999_999_999_999 // 15 digits
	maxCounter = MaxCounter
	maxNodeLen = 64
)

// MaxCounter is the largest logical counter (5 digits); past it a clock
// borrows the next millisecond.
const MaxCounter = 99_999

// ErrSkew is returned when a remote timestamp is too far ahead of our clock.
var ErrSkew = errors.New("clock skew")

// Timestamp is one reading of a hybrid logical clock.
type Timestamp struct {
	Millis  int64  // unix milliseconds
	Counter int    // logical counter within one millisecond
	Node    string // device id, or "server-…" for a server engine
}

// String is the wire form.
func (t Timestamp) String() string {
	return fmt.Sprintf("%015d.%05d.%s", t.Millis, t.Counter, t.Node)
}

// Time is the physical part.
func (t Timestamp) Time() time.Time { return time.UnixMilli(t.Millis).UTC() }

// IsZero reports whether t is the zero timestamp.
func (t Timestamp) IsZero() bool { return t.Millis == 0 && t.Counter == 0 && t.Node == "" }

// Compare orders timestamps as their strings order.
func (t Timestamp) Compare(u Timestamp) int {
	switch {
	case t.Millis != u.Millis:
		return cmpInt(t.Millis, u.Millis)
	case t.Counter != u.Counter:
		return cmpInt(int64(t.Counter), int64(u.Counter))
	default:
		return strings.Compare(t.Node, u.Node)
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ValidNode reports whether id can be a clock's node: non-empty, at most 64
// bytes, letters, digits, '-' and '_' only (no '.', which separates parts).
func ValidNode(id string) bool {
	if id == "" || len(id) > maxNodeLen {
		return false
	}
	for _, r := range id {
		ok := r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

// Parse reads the wire form strictly: exactly 15 and 5 digits, a valid node.
func Parse(s string) (Timestamp, error) {
	ms, rest, ok := strings.Cut(s, ".")
	if !ok || len(ms) != 15 {
		return Timestamp{}, fmt.Errorf("hlc %q: want <15-digit ms>.<5-digit counter>.<node>", s)
	}
	ctr, node, ok := strings.Cut(rest, ".")
	if !ok || len(ctr) != 5 {
		return Timestamp{}, fmt.Errorf("hlc %q: want <15-digit ms>.<5-digit counter>.<node>", s)
	}
	if !digits(ms) || !digits(ctr) {
		return Timestamp{}, fmt.Errorf("hlc %q: milliseconds and counter must be digits", s)
	}
	if !ValidNode(node) {
		return Timestamp{}, fmt.Errorf("hlc %q: invalid node id", s)
	}
	m, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return Timestamp{}, fmt.Errorf("hlc %q: %w", s, err)
	}
	c, err := strconv.Atoi(ctr)
	if err != nil {
		return Timestamp{}, fmt.Errorf("hlc %q: %w", s, err)
	}
	return Timestamp{Millis: m, Counter: c, Node: node}, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Clock is a hybrid logical clock, safe for concurrent use.
type Clock struct {
	mu      stdsync.Mutex
	node    string
	now     func() time.Time
	maxSkew time.Duration
	last    Timestamp
}

// NewClock makes a clock for node. now is the physical clock (time.Now when
// nil). Update refuses remote stamps more than maxSkew ahead of now.
func NewClock(node string, now func() time.Time, maxSkew time.Duration) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{node: node, now: now, maxSkew: maxSkew, last: Timestamp{Node: node}}
}

// Node is the clock's node id.
func (c *Clock) Node() string { return c.node }

// Now stamps a local event.
func (c *Clock) Now() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tick(0)
}

// tick advances past both the physical time and floor (a remote reading).
func (c *Clock) tick(floor int64) Timestamp {
	pt := c.now().UnixMilli()
	switch {
	case pt > c.last.Millis && pt > floor:
		c.last = Timestamp{Millis: pt, Node: c.node}
	case floor > c.last.Millis:
		c.last = Timestamp{Millis: floor, Node: c.node}
	default:
		c.last.Counter++
		if c.last.Counter > maxCounter { // more than 99,999 events in one ms: borrow the next ms
			c.last.Millis++
			c.last.Counter = 0
		}
	}
	return c.last
}

// Update merges a remote reading so that the next local stamp is after it.
// A reading more than maxSkew ahead of physical time is refused with
// ErrSkew and changes nothing: a phone with a wrong date must not drag the
// server's clock (and win every merge) for ever.
func (c *Clock) Update(remote Timestamp) (Timestamp, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkSkew(remote); err != nil {
		return c.last, err
	}
	if remote.Millis > c.last.Millis || (remote.Millis == c.last.Millis && remote.Counter > c.last.Counter) {
		c.last.Millis, c.last.Counter = remote.Millis, remote.Counter
	}
	return c.tick(remote.Millis), nil
}

// Observe moves the clock past ts without any skew check: for stamps the
// clock's owner already trusts, such as its own from before a restart.
func (c *Clock) Observe(ts Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts.Millis > c.last.Millis || (ts.Millis == c.last.Millis && ts.Counter > c.last.Counter) {
		c.last.Millis, c.last.Counter = ts.Millis, ts.Counter
	}
}

// CheckSkew reports ErrSkew when remote is too far ahead of physical time.
func (c *Clock) CheckSkew(remote Timestamp) error {
	return c.checkSkew(remote)
}

func (c *Clock) checkSkew(remote Timestamp) error {
	if c.maxSkew <= 0 {
		return nil
	}
	limit := c.now().Add(c.maxSkew).UnixMilli()
	if remote.Millis > limit {
		return fmt.Errorf("%w: %s is %s ahead of server time", ErrSkew, remote,
			time.Duration(remote.Millis-c.now().UnixMilli())*time.Millisecond)
	}
	return nil
}
