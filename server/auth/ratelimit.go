package auth

import (
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
}

// DefaultLimits: five tries at one account from one place, and enough per
// address for an office behind one NAT where several people mistype.
func DefaultLimits() LimitRules {
	return LimitRules{Window: 15 * time.Minute, PerUserIP: 5, PerIP: 50}
}

// limiter counts failed logins in memory, per username+address and per
// address, over a sliding window. Keying on the pair (and not the username
// alone) means a stranger cannot lock a user out of their account from
// elsewhere; the per-address cap stops one address from sweeping usernames.
//
// An attempt is counted when it starts and forgiven if it succeeds, so
// concurrent guesses cannot overshoot the allowance while their hashes run.
type limiter struct {
	rules LimitRules

	mu        sync.Mutex
	attempts  map[string][]time.Time // key -> start times inside the window, oldest first
	lastSweep time.Time
}

func newLimiter(r LimitRules) *limiter {
	return &limiter{rules: r, attempts: make(map[string][]time.Time)}
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
	l.sweep(now)
	ua, ia := l.live(uk, now), l.live(ik, now)
	if len(ua) >= l.rules.PerUserIP {
		retryAfter = max(retryAfter, ua[len(ua)-l.rules.PerUserIP].Add(l.rules.Window).Sub(now))
	}
	if len(ia) >= l.rules.PerIP {
		retryAfter = max(retryAfter, ia[len(ia)-l.rules.PerIP].Add(l.rules.Window).Sub(now))
	}
	if retryAfter > 0 {
		return retryAfter, false
	}
	l.attempts[uk] = append(ua, now)
	l.attempts[ik] = append(ia, now)
	return 0, true
}

// succeeded forgives the attempt begun at started: the username+address
// count starts over, and the address count drops that one attempt.
func (l *limiter) succeeded(started time.Time, username, ip string) {
	ip = clientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.attempts, userIPKey(username, ip))
	ik := ipKey(ip)
	ts := l.attempts[ik]
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Equal(started) {
			ts = append(ts[:i], ts[i+1:]...)
			break
		}
	}
	if len(ts) == 0 {
		delete(l.attempts, ik)
	} else {
		l.attempts[ik] = ts
	}
}

// live drops the times of key that fell out of the window.
func (l *limiter) live(key string, now time.Time) []time.Time {
	ts := l.attempts[key]
	cut := now.Add(-l.rules.Window)
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	return ts[i:]
}

// sweep forgets keys with nothing left in the window, at most once a window,
// so memory follows recent traffic rather than all traffic since start.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.rules.Window {
		return
	}
	l.lastSweep = now
	for k := range l.attempts {
		if ts := l.live(k, now); len(ts) == 0 {
			delete(l.attempts, k)
		} else {
			l.attempts[k] = ts
		}
	}
}
