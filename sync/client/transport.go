package client

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	stdsync "sync"
	"time"
)

// APIError is an error answer of the server, from its envelope.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Status, e.Code, e.Message)
}

// transient reports whether a failed request may succeed if sent again.
func transient(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// attemptError is one failed try: retry says whether another may succeed.
type attemptError struct {
	err        error
	retry      bool
	retryAfter time.Duration
}

// call POSTs in as JSON to path and decodes the answer into out. Transient
// failures (network errors, 5xx, 429) are retried with exponential backoff
// and jitter, at most MaxAttempts tries, while ctx lasts. With authed, an
// expired access token is refreshed once and the request sent again.
func (d *Device) call(ctx context.Context, path string, in, out any, authed bool) error {
	return d.callHeard(ctx, path, in, out, authed, nil)
}

// callHeard is call, and gives heard the headers of a successful answer as
// soon as they arrive, before its body is read (each try's).
func (d *Device) callHeard(ctx context.Context, path string, in, out any, authed bool, heard func(http.Header)) error {
	plain, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("client: encode %s: %w", path, err)
	}
	body, gzipped := compressBody(plain)
	refreshed := false
	for attempt := 1; ; attempt++ {
		token := ""
		if authed {
			if token = d.accessToken(); token == "" {
				return ErrNotLoggedIn
			}
		}
		ae := d.attempt(ctx, path, body, gzipped, token, out, heard)
		if ae == nil {
			return nil
		}
		var apiErr *APIError
		if gzipped && errors.As(ae.err, &apiErr) && apiErr.Status == http.StatusUnsupportedMediaType && apiErr.Code == "unsupported_encoding" {
			// A server that takes only plain bodies: send this one plain.
			body, gzipped = plain, false
			attempt--
			continue
		}
		if authed && !refreshed && errors.As(ae.err, &apiErr) && apiErr.Status == http.StatusUnauthorized && apiErr.Code == "token_expired" {
			refreshed = true
			if err := d.refresh(ctx, token); err != nil {
				return err
			}
			attempt-- // the refresh is not a failed try
			continue
		}
		if !ae.retry || attempt >= d.opts.MaxAttempts || ctx.Err() != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return ae.err
		}
		wait := d.backoff(attempt, ae.retryAfter)
		d.log.Warn("sync request failed; retrying", "path", path, "attempt", attempt, "wait", wait, "err", ae.err)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// backoff is the wait before try attempt+1: RetryBase doubled per failed try,
// capped at RetryMax, with full jitter over its upper half, and never less
// than what the server asked for (Retry-After), within RetryMax.
func (d *Device) backoff(attempt int, retryAfter time.Duration) time.Duration {
	wait := d.opts.RetryBase << min(attempt-1, 20)
	if wait <= 0 || wait > d.opts.RetryMax {
		wait = d.opts.RetryMax
	}
	wait = wait/2 + rand.N(wait/2+1)
	if retryAfter > wait {
		wait = min(retryAfter, d.opts.RetryMax)
	}
	return wait
}

// compressMinBytes is the smallest request body worth compressing (as on
// the server): below it the gzip header costs about what it saves.
const compressMinBytes = 1024

// compressBody gzips a body big enough to gain from it: a push of 100
// changes shrinks to about a sixth, which is what a weak signal feels.
// The compressors are pooled: each holds about a megabyte of tables, and
// making one for every push was most of what compressing cost.
func compressBody(plain []byte) ([]byte, bool) {
	if len(plain) < compressMinBytes {
		return plain, false
	}
	var buf bytes.Buffer
	buf.Grow(len(plain) / 2)
	zw, _ := gzipWriters.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(&buf, pushGzipLevel)
	} else {
		zw.Reset(&buf)
	}
	defer gzipWriters.Put(zw)
	if _, err := zw.Write(plain); err != nil {
		return plain, false
	}
	if err := zw.Close(); err != nil || buf.Len() >= len(plain) {
		return plain, false
	}
	return buf.Bytes(), true
}

// pushGzipLevel is how hard a request body is compressed: the fastest
// level. On the load generator's push of 100 changes (29 kB of JSON) it
// takes 0.6 µs a change against 1.4 µs at the default level, for 49 bytes
// a change sent rather than 43 (issue 10's budget is 120 bytes a change,
// request and answer together).
const pushGzipLevel = gzip.BestSpeed

var gzipWriters stdsync.Pool // of *gzip.Writer at pushGzipLevel

// attempt sends one request.
func (d *Device) attempt(ctx context.Context, path string, body []byte, gzipped bool, token string, out any, heard func(http.Header)) *attemptError {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+path, bytes.NewReader(body))
	if err != nil {
		return &attemptError{err: fmt.Errorf("client: request %s: %w", path, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Header.Set("Accept", "application/json")
	// Asked for explicitly, so the answer is decoded here whatever
	// RoundTripper the caller gave (http.Transport decodes by itself only
	// when it added the header), and a byte-counting one sees the bytes as
	// they crossed the network.
	req.Header.Set("Accept-Encoding", "gzip")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := d.http.Do(req)
	if err != nil {
		// The request may or may not have reached the server: sending it
		// again is safe, since every change carries its id.
		return &attemptError{err: fmt.Errorf("client: %s: %w", path, err), retry: true}
	}
	defer res.Body.Close()
	if heard != nil && res.StatusCode/100 == 2 {
		heard(res.Header)
	}
	raw, err := readAnswer(res)
	if err != nil {
		// A cut or garbled answer: as for a cut JSON one below, the
		// request may have been applied, and sending it again is safe.
		return &attemptError{err: fmt.Errorf("client: read answer of %s: %w", path, err), retry: true}
	}
	if res.StatusCode/100 != 2 {
		apiErr := &APIError{Status: res.StatusCode, Code: "http_" + strconv.Itoa(res.StatusCode), Message: strings.TrimSpace(string(raw))}
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(raw, &env) == nil && env.Error.Code != "" {
			apiErr.Code, apiErr.Message = env.Error.Code, env.Error.Message
		}
		// A refused login (429 rate_limited) is not worth hammering: the
		// wait it names is minutes, and every try counts against the user.
		retry := transient(res.StatusCode) && (token != "" || res.StatusCode != http.StatusTooManyRequests)
		ae := &attemptError{err: apiErr, retry: retry}
		if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && secs > 0 {
			ae.retryAfter = time.Duration(secs) * time.Second
		}
		return ae
	}
	if date, err := http.ParseTime(res.Header.Get("Date")); err == nil {
		d.sawServerTime(date)
	}
	if out != nil {
		// Both decoders check the whole answer's syntax before they report
		// a value of the wrong type, and out is set only by a whole answer.
		var err error
		if page, ok := out.(*pullPage); ok {
			var read pullPage
			if err = decodePage(raw, &read); err == nil {
				*page = read
			}
		} else {
			err = json.Unmarshal(raw, out)
		}
		var syntax *json.SyntaxError
		var pageSyntax *errSyntax
		if errors.As(err, &syntax) || errors.As(err, &pageSyntax) {
			// A cut answer: the request may have been applied, and sending
			// it again is safe.
			return &attemptError{err: fmt.Errorf("client: answer of %s is not whole JSON", path), retry: true}
		} else if err != nil {
			return &attemptError{err: fmt.Errorf("client: decode answer of %s: %w", path, err)}
		}
	}
	return nil
}

// readAnswer reads an answer's body, decompressing a gzip one.
func readAnswer(res *http.Response) ([]byte, error) {
	if !strings.EqualFold(res.Header.Get("Content-Encoding"), "gzip") {
		return io.ReadAll(res.Body)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}

type loginDevice struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type loginRequest struct {
	Username string      `json:"username"`
	Password string      `json:"password"`
	Device   loginDevice `json:"device"`
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	User         struct {
		ID       string   `json:"id"`
		Username string   `json:"username"`
		FullName string   `json:"full_name"`
		Roles    []string `json:"roles"`
	} `json:"user"`
}

// User is who is logged in on the device.
type User struct {
	ID       string
	Username string
	FullName string
	Roles    []string
}

// Login opens a session for this device and keeps its tokens in the device
// file. A device file belongs to one user: logging in as another is
// ErrOtherUser (their queued changes must not be pushed as someone else's).
func (d *Device) Login(ctx context.Context, username, password string) (User, error) {
	var tr tokenResponse
	req := loginRequest{Username: username, Password: password, Device: loginDevice{ID: d.id, Name: d.opts.DeviceName}}
	if err := d.call(ctx, "/api/v1/auth/login", req, &tr, false); err != nil {
		return User{}, err
	}
	u := User{ID: tr.User.ID, Username: tr.User.Username, FullName: tr.User.FullName, Roles: tr.User.Roles}
	d.authMu.Lock()
	defer d.authMu.Unlock()
	if d.tokens.userID != "" && d.tokens.userID != u.ID {
		return User{}, ErrOtherUser
	}
	next := tokenState{access: tr.AccessToken, refresh: tr.RefreshToken, userID: u.ID, roles: u.Roles}
	if err := d.saveTokens(ctx, next); err != nil {
		return User{}, err
	}
	d.tokens = next
	return u, nil
}

func (d *Device) accessToken() string {
	d.authMu.Lock()
	defer d.authMu.Unlock()
	return d.tokens.access
}

// refresh exchanges the refresh token for a new pair, unless another caller
// already did since stale was read.
func (d *Device) refresh(ctx context.Context, stale string) error {
	d.authMu.Lock()
	defer d.authMu.Unlock()
	if d.tokens.access != stale {
		return nil
	}
	if d.tokens.refresh == "" {
		return ErrLoginRequired
	}
	var tr tokenResponse
	err := d.call(ctx, "/api/v1/auth/refresh", map[string]string{"refresh_token": d.tokens.refresh}, &tr, false)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
		return fmt.Errorf("%w (%s)", ErrLoginRequired, apiErr.Code)
	}
	if err != nil {
		return err
	}
	next := tokenState{access: tr.AccessToken, refresh: tr.RefreshToken, userID: d.tokens.userID, roles: tr.User.Roles}
	if err := d.saveTokens(ctx, next); err != nil {
		return err
	}
	d.tokens = next
	return nil
}

func (d *Device) saveTokens(ctx context.Context, ts tokenState) error {
	return d.inTx(ctx, func(x txn) error {
		for k, v := range map[string]string{keyAccess: ts.access, keyRefresh: ts.refresh, keyUserID: ts.userID, keyRoles: strings.Join(ts.roles, ",")} {
			if err := setState(x, k, v); err != nil {
				return err
			}
		}
		return nil
	})
}
