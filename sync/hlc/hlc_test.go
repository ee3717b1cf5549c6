package hlc

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeTime is a physical clock the test sets.
type fakeTime struct{ t time.Time }

func (f *fakeTime) now() time.Time { return f.t }

var t0 = time.Date(2021, 6, 3, 9, 0, 0, 0, time.UTC)

func TestNowIsMonotonicWhenThePhysicalClockGoesBack(t *testing.T) {
	t.Parallel()
	pt := &fakeTime{t: t0}
	c := NewClock("phone", pt.now, 0)
	prev := c.Now()
	for i, step := range []time.Duration{time.Second, -time.Hour, -time.Millisecond, 0, 2 * time.Hour, -3 * time.Hour} {
		pt.t = pt.t.Add(step)
		for range 3 {
			next := c.Now()
			if next.Compare(prev) <= 0 || next.String() <= prev.String() {
				t.Fatalf("step %d: %s is not after %s", i, next, prev)
			}
			prev = next
		}
	}
}

func TestCounterCountsWithinAMillisecondAndResets(t *testing.T) {
	t.Parallel()
	pt := &fakeTime{t: t0}
	c := NewClock("phone", pt.now, 0)
	a, b, d := c.Now(), c.Now(), c.Now()
	if a.Millis != t0.UnixMilli() || a.Counter != 0 || b.Counter != 1 || d.Counter != 2 || b.Millis != a.Millis {
		t.Fatalf("stamps in one ms: %s %s %s", a, b, d)
	}
	pt.t = pt.t.Add(time.Millisecond)
	if e := c.Now(); e.Counter != 0 || e.Millis != a.Millis+1 {
		t.Fatalf("after the clock moved: %s", e)
	}
	if a.Node != "phone" {
		t.Fatalf("node %q", a.Node)
	}
}

func TestCounterOverflowBorrowsTheNextMillisecond(t *testing.T) {
	t.Parallel()
	pt := &fakeTime{t: t0}
	c := NewClock("phone", pt.now, 0)
	var last Timestamp
	for range maxCounter + 2 {
		last = c.Now()
	}
	if last.Millis != t0.UnixMilli()+1 || last.Counter != 0 {
		t.Fatalf("after %d stamps in one ms: %s", maxCounter+2, last)
	}
	if _, err := Parse(last.String()); err != nil {
		t.Fatalf("overflowed stamp does not parse: %v", err)
	}
}

func TestUpdateMovesPastARemoteStamp(t *testing.T) {
	t.Parallel()
	pt := &fakeTime{t: t0}
	c := NewClock("server", pt.now, 5*time.Minute)
	remote := Timestamp{Millis: t0.Add(2 * time.Minute).UnixMilli(), Counter: 7, Node: "phone"}
	got, err := c.Update(remote)
	if err != nil {
		t.Fatalf("update within the allowed skew: %v", err)
	}
	if got.Compare(remote) <= 0 {
		t.Fatalf("after update %s is not after the remote %s", got, remote)
	}
	if next := c.Now(); next.Compare(remote) <= 0 || next.Node != "server" {
		t.Fatalf("next local stamp %s is not after the remote %s", next, remote)
	}
}

func TestUpdateRefusesSkewAndChangesNothing(t *testing.T) {
	t.Parallel()
	pt := &fakeTime{t: t0}
	c := NewClock("server", pt.now, 5*time.Minute)
	before := c.Now()
	remote := Timestamp{Millis: t0.Add(time.Hour).UnixMilli(), Node: "phone"}
	if _, err := c.Update(remote); !errors.Is(err, ErrSkew) {
		t.Fatalf("update an hour ahead: err = %v, want ErrSkew", err)
	}
	if err := c.CheckSkew(remote); !errors.Is(err, ErrSkew) {
		t.Fatalf("CheckSkew: %v", err)
	}
	after := c.Now()
	if after.Millis != before.Millis || after.Counter != before.Counter+1 {
		t.Fatalf("a refused update moved the clock: %s then %s", before, after)
	}
	// Just inside the limit is accepted.
	if _, err := c.Update(Timestamp{Millis: t0.Add(5 * time.Minute).UnixMilli(), Node: "phone"}); err != nil {
		t.Fatalf("update at the limit: %v", err)
	}
	// A clock without a limit takes anything: a device trusts its server.
	free := NewClock("phone", pt.now, 0)
	if _, err := free.Update(remote); err != nil {
		t.Fatalf("unlimited clock refused: %v", err)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	good := "001622710800000.00042.dev-lan_1"
	ts, err := Parse(good)
	if err != nil {
		t.Fatalf("Parse(%q): %v", good, err)
	}
	if ts.Millis != 1622710800000 || ts.Counter != 42 || ts.Node != "dev-lan_1" || ts.String() != good {
		t.Fatalf("Parse(%q) = %+v", good, ts)
	}
	for _, bad := range []string{
		"", "1.2.3", "01622710800000.00042.dev", "0001622710800000.00042.dev", "001622710800000.0042.dev",
		"001622710800000.000042.dev", "001622710800000.00042.", "001622710800000.00042", "00162271080000a.00042.dev",
		"001622710800000.0004x.dev", "001622710800000.00042.dev.x", "001622710800000.00042.dév", "+01622710800000.00042.dev",
		"-01622710800000.00042.dev", "001622710800000.-0042.dev", "001622710800000.00042." + strings.Repeat("a", 65),
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestStringOrderIsClockOrder(t *testing.T) {
	t.Parallel()
	stamps := []Timestamp{
		{Millis: 5, Counter: 0, Node: "b"},
		{Millis: 5, Counter: 0, Node: "ba"},
		{Millis: 5, Counter: 1, Node: "a"},
		{Millis: 6, Counter: 0, Node: "A"},
		{Millis: 1000, Counter: 99999, Node: "z"},
		{Millis: 1001, Counter: 0, Node: "0"},
		{Millis: maxMillis, Counter: 0, Node: "a"},
	}
	for i, a := range stamps {
		for j, b := range stamps {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", a, b, got, want)
			}
			if got := strings.Compare(a.String(), b.String()); got != want {
				t.Errorf("string order of %s and %s = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestValidNode(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"a", "server", "dev-lan_1", "9b2f6c1e-0d4a-4c1b-9d51-3f0a6c2b7e11", strings.Repeat("x", 64)} {
		if !ValidNode(ok) {
			t.Errorf("ValidNode(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "a.b", "a b", "ä", "a/b", strings.Repeat("x", 65)} {
		if ValidNode(bad) {
			t.Errorf("ValidNode(%q) = true", bad)
		}
	}
}

// FuzzParseHLC: Parse never panics; what it accepts prints back to exactly
// the same string and parses to the same stamp; and between two accepted
// stamps plain string order is Compare order.
func FuzzParseHLC(f *testing.F) {
	f.Add("001622710800000.00042.dev-lan_1", "001622710800000.00042.dev-lan_2")
	f.Add("000000000000000.00000.a", "999999999999999.99999.server")
	f.Add("001622710800000.00042.dev", "001622710800001.00000.dev")
	f.Add("", "1.2.3")
	f.Add("00162271080000a.00042.dev", "001622710800000.00042.dev.x")
	f.Add("001622710800000.00042.d\xff", "001622710800000.00042.ba")
	f.Fuzz(func(t *testing.T, a, b string) {
		ta, errA := Parse(a)
		tb, errB := Parse(b)
		for _, c := range []struct {
			s   string
			ts  Timestamp
			err error
		}{{a, ta, errA}, {b, tb, errB}} {
			if c.err != nil {
				continue
			}
			if c.ts.String() != c.s {
				t.Fatalf("Parse(%q).String() = %q", c.s, c.ts.String())
			}
			again, err := Parse(c.ts.String())
			if err != nil || again != c.ts {
				t.Fatalf("Parse(%q) round trip: %+v, %v", c.s, again, err)
			}
			if !ValidNode(c.ts.Node) || c.ts.Millis < 0 || c.ts.Counter < 0 || c.ts.Counter > maxCounter {
				t.Fatalf("Parse(%q) accepted out-of-range parts %+v", c.s, c.ts)
			}
		}
		if errA == nil && errB == nil {
			if got, want := ta.Compare(tb), strings.Compare(a, b); got != want {
				t.Fatalf("Compare(%q, %q) = %d, string order %d", a, b, got, want)
			}
		}
	})
}
