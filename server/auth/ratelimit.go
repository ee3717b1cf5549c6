package auth

import (
	"container/list"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// LimitRules are the failed-login allowances within one sliding window.
type LimitRules struct {
	Window    time.Duration
	PerUserIP int // failures for one username from one address
	PerIP     int // failures from one address, whatever the username
	// MaxKeys caps the keys (username+address pairs and addresses) kept in
	// memory; 0 takes the default, and at least 2 are kept.
	MaxKeys int
}

// DefaultLimits: five tries at one account from one place, and enough per
// address for an office behind one NAT where several people mistype. The
// key cap holds a window of failures from tens of thousands of addresses,
// at worst a few tens of MB.
func DefaultLimits() LimitRules {
	return LimitRules{Window: 15 * time.Minute, PerUserIP: 5, PerIP: 50, MaxKeys: 50_000}
}

// limiter counts failed logins in memory, per username+address and per
// address, over a sliding window. Keying on the pair (and not the username
// alone) means a stranger cannot lock a user out of their account from
// elsewhere; the per-address cap stops one address from sweeping usernames.
//
// An attempt is counted when it starts and forgiven if it succeeds, so
// concurrent guesses cannot overshoot the allowance while their hashes run.
//
// Memory is bounded: at most MaxKeys keys, each holding at most its
// allowance of times. When a new key finds the limiter full, the key
// touched longest ago goes. Every attempt touches its keys, refused ones
// too, so an address that keeps guessing stays remembered (and limited)
// however many other keys a flood makes; to push a key out, a flood must
// make MaxKeys new keys while that key is left alone, and each new key
// costs the attacker a password hash from a few hashing slots.
type limiter struct {
	rules LimitRules

	mu       sync.Mutex
	attempts map[string]*list.Element // key -> element of recent, holding *keyAttempts
	recent   *list.List               // front: touched most recently
}

// keyAttempts are the start times of a key's attempts inside the window,
// oldest first.
type keyAttempts struct {
	key   string
	times []time.Time
}

func newLimiter(r LimitRules) *limiter {
	if r.MaxKeys <= 0 {
		r.MaxKeys = DefaultLimits().MaxKeys
	}
	// begin touches an attempt's two keys before adding either, so with
	// room for two, adding one never pushes out the other.
	r.MaxKeys = max(r.MaxKeys, 2)
	return &limiter{rules: r, attempts: make(map[string]*list.Element), recent: list.New()}
}

func userIPKey(username, ip string) string {
	return "u\x00" + strings.ToLower(username) + "\x00" + ip
}

func ipKey(ip string) string { return "a\x00" + ip }

// clientKey reduces an IPv6 address to its /64, the block one customer
// usually holds, so rotating addresses inside it buys no extra tries.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.String()
		}
	}
	return a.String()
}

// begin records an attempt starting at now, unless an allowance is used up:
// then it records nothing and says how long until the oldest counted failure
// leaves the window.
func (l *limiter) begin(now time.Time, username, ip string) (retryAfter time.Duration, ok bool) {
	ip = clientKey(ip)
	uk, ik := userIPKey(username, ip), ipKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	ua, ia := l.live(uk, now), l.live(ik, now)
	l.touch(uk)
	l.touch(ik)
	if len(ua) >= l.rules.PerUserIP {
		retryAfter = max(retryAfter, ua[len(ua)-l.rules.PerUserIP].Add(l.rules.Window).Sub(now))
	}
	if len(ia) >= l.rules.PerIP {
		retryAfter = max(retryAfter, ia[len(ia)-l.rules.PerIP].Add(l.rules.Window).Sub(now))
	}
	if retryAfter > 0 {
		return retryAfter, false
	}
	l.set(uk, append(ua, now))
	l.set(ik, append(ia, now))
	return 0, true
}

// succeeded forgives the attempt begun at started: the username+address
// count starts over, and the address count drops that one attempt.
func (l *limiter) succeeded(started time.Time, username, ip string) {
	ip = clientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.set(userIPKey(username, ip), nil)
	ik := ipKey(ip)
	ts := l.times(ik)
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Equal(started) {
			ts = append(ts[:i], ts[i+1:]...)
			break
		}
	}
	l.set(ik, ts)
}

// times are the recorded start times of key (nil when it has none).
func (l *limiter) times(key string) []time.Time {
	if e, ok := l.attempts[key]; ok {
		return e.Value.(*keyAttempts).times
	}
	return nil
}

// live is key's times without those that fell out of the window.
func (l *limiter) live(key string, now time.Time) []time.Time {
	ts := l.times(key)
	cut := now.Add(-l.rules.Window)
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	return ts[i:]
}

// touch marks key as just used, if it is kept.
func (l *limiter) touch(key string) {
	if e, ok := l.attempts[key]; ok {
		l.recent.MoveToFront(e)
	}
}

// set stores key's times (none forgets the key) as just used; a new key
// pushes out the one touched longest ago when the limiter is full.
func (l *limiter) set(key string, ts []time.Time) {
	e, ok := l.attempts[key]
	switch {
	case len(ts) == 0:
		if ok {
			l.remove(e)
		}
	case ok:
		e.Value.(*keyAttempts).times = ts
		l.recent.MoveToFront(e)
	default:
		for len(l.attempts) >= l.rules.MaxKeys {
			l.remove(l.recent.Back())
		}
		l.attempts[key] = l.recent.PushFront(&keyAttempts{key: key, times: ts})
	}
}

func (l *limiter) remove(e *list.Element) {
	delete(l.attempts, e.Value.(*keyAttempts).key)
	l.recent.Remove(e)
}

// expire forgets, from the least recently touched end, the keys whose
// newest attempt left the window, so memory follows recent traffic. It
// stops at the first key still in the window: keys are ordered by touch,
// so what lies beyond was touched later.
func (l *limiter) expire(now time.Time) {
	cut := now.Add(-l.rules.Window)
	for e := l.recent.Back(); e != nil; e = l.recent.Back() {
		ts := e.Value.(*keyAttempts).times
		if len(ts) > 0 && ts[len(ts)-1].After(cut) {
			return
		}
		l.remove(e)
	}
}

// size is how many keys are kept.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.attempts)
}
