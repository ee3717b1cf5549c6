package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink the server's goroutines may write at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// remotes are the client addresses of the access-log lines for route.
func (b *syncBuffer) remotes(t *testing.T, route string) []string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var line struct {
			Msg    string `json:"msg"`
			Path   string `json:"path"`
			Remote string `json:"remote"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if line.Msg == "http" && line.Path == route {
			out = append(out, line.Remote)
		}
	}
	return out
}

// TestClientAddressFromTrustedProxiesOnly: the client address, which the
// access log shows and failed logins are counted against, comes from
// X-Forwarded-For only when the request arrives from a configured trusted
// proxy. With none configured (the default), the header is ignored even
// from loopback or a private network, so a client cannot buy fresh login
// tries by writing a new address into it. Behind a trusted proxy the
// address is the one the proxy saw, and an address the client prepends
// to the header changes nothing.
func TestClientAddressFromTrustedProxiesOnly(t *testing.T) {
	t.Parallel()
	start := time.Date(2021, 3, 26, 8, 0, 0, 0, time.UTC)
	fail := func(e *testServer, xff string) reply {
		return e.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody("admin", "wrong-password", "phone-1"),
			"X-Forwarded-For", xff)
	}

	t.Run("no trusted proxy", func(t *testing.T) {
		t.Parallel()
		var log syncBuffer
		e := newTestServer(t, withClock(start), withLoginLimits(3, 10), withLog(&log))
		for i := range 3 {
			fail(e, "198.51.100."+strconv.Itoa(i+1)).wantError(t, http.StatusUnauthorized, "invalid_credentials")
		}
		fail(e, "198.51.100.99").wantError(t, http.StatusTooManyRequests, "rate_limited")
		for _, r := range log.remotes(t, "/api/v1/auth/login") {
			if r != "127.0.0.1" {
				t.Errorf("the access log shows %q, want the connection's address 127.0.0.1", r)
			}
		}
	})

	t.Run("behind a trusted proxy", func(t *testing.T) {
		t.Parallel()
		var log syncBuffer
		e := newTestServer(t, withClock(start), withLoginLimits(3, 10), withLog(&log),
			withTrustedProxies(t, "127.0.0.0/8", "::1/128"))
		for range 3 {
			fail(e, "203.0.113.7").wantError(t, http.StatusUnauthorized, "invalid_credentials")
		}
		fail(e, "203.0.113.7").wantError(t, http.StatusTooManyRequests, "rate_limited")
		// The client wrote an address of its choosing before the one the
		// proxy appended: still the same client.
		fail(e, "192.0.2.1, 203.0.113.7").wantError(t, http.StatusTooManyRequests, "rate_limited")
		// Another client behind the same proxy has its own allowance.
		fail(e, "198.51.100.20").wantError(t, http.StatusUnauthorized, "invalid_credentials")

		got := log.remotes(t, "/api/v1/auth/login")
		want := []string{"203.0.113.7", "203.0.113.7", "203.0.113.7", "203.0.113.7", "203.0.113.7", "198.51.100.20"}
		if len(got) != len(want) {
			t.Fatalf("access log addresses %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("access log addresses %v, want %v", got, want)
				break
			}
		}
	})
}
