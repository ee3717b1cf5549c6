package api

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"dicoso/server/auth"
	"dicoso/sync/protocol"
)

// newAuthServer is the server the auth and user tests run against: its
// time is a testClock they move instead of sleeping.
func newAuthServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServer(t, withClock(time.Date(2021, 3, 26, 8, 0, 0, 0, time.UTC)),
		// A small per-address cap keeps the test from hashing fifty times.
		withLoginLimits(5, 10))
}

func TestLoginIssuesTokensForTheDevice(t *testing.T) {
	t.Parallel()
	e := newAuthServer(t)
	r := e.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody("admin", adminPassword, "phone-1"))
	var got map[string]any
	r.decode(t, http.StatusOK, &got)
	for _, k := range []string{"access_token", "refresh_token", "expires_in", "user"} {
		if _, ok := got[k]; !ok {
			t.Errorf("login answer lacks %q: %s", k, r.body)
		}
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	var tr tokenResponse
	r.decode(t, http.StatusOK, &tr)
	if tr.ExpiresIn != 900 {
		t.Errorf("expires_in %d, want 900 (15 min)", tr.ExpiresIn)
	}
	if tr.User.Username != "admin" || len(tr.User.Roles) != 1 || tr.User.Roles[0] != "admin" || tr.User.ID == "" {
		t.Errorf("user %+v, want admin with role admin", tr.User)
	}
	// Usernames are case-insensitive at login.
	e.login(t, "Admin", adminPassword, "phone-1")

	// The token opens /me, which shows the public part only.
	me := e.call(t, http.MethodGet, "/api/v1/me", tr.AccessToken, nil)
	var u userJSON
	me.decode(t, http.StatusOK, &u)
	if u.ID != tr.User.ID || u.Username != "admin" || u.FullName == "" {
		t.Errorf("/me = %+v", u)
	}
	if strings.Contains(string(me.body), "password") || strings.Contains(string(me.body), "argon2") {
		t.Errorf("/me leaks the password hash: %s", me.body)
	}

	// The device is recorded against the user.
	var owner, name string
	err := e.st.Reader().QueryRowContext(context.Background(),
		`SELECT user_id, name FROM devices WHERE id = 'phone-1'`).Scan(&owner, &name)
	if err != nil || owner != tr.User.ID || name != "Điện thoại phone-1" {
		t.Errorf("devices row: owner %q name %q err %v", owner, name, err)
	}
	// The token carries the device and the claims the design names.
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tr.AccessToken, claims); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sub", "roles", "did", "jti", "exp", "iat"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("access token lacks claim %q: %v", k, claims)
		}
	}
	if claims["did"] != "phone-1" || claims["sub"] != tr.User.ID {
		t.Errorf("claims %v", claims)
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	e := newAuthServer(t)
	ctx := context.Background()
	u, err := e.svc.CreateUser(ctx, "", auth.NewUser{Username: "lan.nguyen", Password: "lan-password-1", FullName: "Nguyễn Thị Lan", Roles: []string{"secretary"}})
	if err != nil {
		t.Fatal(err)
	}
	disabled := true
	if _, err := e.svc.UpdateUser(ctx, "", u.ID, auth.UserPatch{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, username, password string
	}{
		{"wrong password", "admin", "not-the-password"},
		{"unknown user", "nobody", adminPassword},
		{"disabled user with the right password", "lan.nguyen", "lan-password-1"},
	}
	var messages []string
	for _, tc := range cases {
		r := e.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody(tc.username, tc.password, "phone-1"))
		env := r.wantError(t, http.StatusUnauthorized, "invalid_credentials")
		if len(env.Error.Details) != 0 {
			t.Errorf("%s: details %s tell the cases apart", tc.name, env.Error.Details)
		}
		messages = append(messages, env.Error.Message)
	}
	for _, m := range messages[1:] {
		if m != messages[0] {
			t.Errorf("failure messages differ: %q", messages)
		}
	}

	bad := []struct {
		name, body, code string
	}{
		{"no device", `{"username":"admin","password":"x"}`, "validation_failed"},
		{"device id unfit for a clock", `{"username":"admin","password":"` + adminPassword + `","device":{"id":"a.b"}}`, "validation_failed"},
		{"device id of the server's own clock", `{"username":"admin","password":"` + adminPassword + `","device":{"id":"server-1"}}`, "validation_failed"},
		{"unknown field", `{"username":"admin","password":"x","device":{"id":"p"},"remember":true}`, "unknown_field"},
	}
	for _, tc := range bad {
		e.call(t, http.MethodPost, "/api/v1/auth/login", "", tc.body).wantError(t, http.StatusBadRequest, tc.code)
	}
}

// signed makes a token with the given method and key over claims that are
// otherwise valid for the server.
func signed(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func TestAccessTokensThatMustBeRefused(t *testing.T) {
	t.Parallel()
	e := newAuthServer(t)
	tr := e.login(t, "admin", adminPassword, "phone-1")
	if r := e.call(t, http.MethodGet, "/api/v1/me", tr.AccessToken, nil); r.status != http.StatusOK {
		t.Fatalf("valid token refused: %d %s", r.status, r.body)
	}
	now := e.clock.Now()
	good := func() jwt.MapClaims {
		return jwt.MapClaims{
			"sub": tr.User.ID, "did": "phone-1", "roles": []string{"admin"}, "jti": "x",
			"iss": "dicoso", "aud": "dicoso-api", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		}
	}
	// The same claims signed with our key pass: the cases below fail for
	// the one thing each changes.
	if r := e.call(t, http.MethodGet, "/api/v1/me", signed(t, jwt.SigningMethodHS256, e.secret, good()), nil); r.status != http.StatusOK {
		t.Fatalf("hand-made valid token refused: %d %s", r.status, r.body)
	}

	parts := strings.Split(tr.AccessToken, ".")
	// Another valid base64url character in the signature's first place, so
	// the token still decodes and only the signature check can refuse it.
	sig := []byte(parts[2])
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	tampered := parts[0] + "." + parts[1] + "." + string(sig)

	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var pc map[string]any
	if err := json.Unmarshal(payload, &pc); err != nil {
		t.Fatal(err)
	}
	pc["roles"] = []string{"admin", "office"}
	raised, _ := json.Marshal(pc)
	alteredPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString(raised) + "." + parts[2]

	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	algNone := noneHeader + "." + parts[1] + "."

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	noExp := good()
	delete(noExp, "exp")
	wrongIss := good()
	wrongIss["iss"] = "someone-else"
	wrongAud := good()
	wrongAud["aud"] = "another-api"
	noSub := good()
	delete(noSub, "sub")
	ghost := good()
	ghost["sub"] = "5b0c8a52-9b6b-4d8c-9a43-5d5f5b3a9e11"

	cases := []struct {
		name, header, code string
	}{
		{"no header", "", "unauthorized"},
		{"not bearer", "Basic YWRtaW46YWRtaW4=", "unauthorized"},
		{"garbage", "Bearer not-a-jwt", "unauthorized"},
		{"tampered signature", "Bearer " + tampered, "unauthorized"},
		{"payload altered, signature kept", "Bearer " + alteredPayload, "unauthorized"},
		{"alg none", "Bearer " + algNone, "unauthorized"},
		{"signed with another key", "Bearer " + signed(t, jwt.SigningMethodHS256, []byte(strings.Repeat("z", 32)), good()), "unauthorized"},
		{"HS512 with our key (algorithm pinned)", "Bearer " + signed(t, jwt.SigningMethodHS512, e.secret, good()), "unauthorized"},
		{"RS256 (asymmetric swap)", "Bearer " + signed(t, jwt.SigningMethodRS256, rsaKey, good()), "unauthorized"},
		{"no expiry", "Bearer " + signed(t, jwt.SigningMethodHS256, e.secret, noExp), "unauthorized"},
		{"wrong issuer", "Bearer " + signed(t, jwt.SigningMethodHS256, e.secret, wrongIss), "unauthorized"},
		{"wrong audience", "Bearer " + signed(t, jwt.SigningMethodHS256, e.secret, wrongAud), "unauthorized"},
		{"no subject", "Bearer " + signed(t, jwt.SigningMethodHS256, e.secret, noSub), "unauthorized"},
		{"user that does not exist", "Bearer " + signed(t, jwt.SigningMethodHS256, e.secret, ghost), "unauthorized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r reply
			if tc.header == "" {
				r = e.call(t, http.MethodGet, "/api/v1/me", "", nil)
			} else {
				r = e.call(t, http.MethodGet, "/api/v1/me", "", nil, "Authorization", tc.header)
			}
			r.wantError(t, http.StatusUnauthorized, tc.code)
			if r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}

	// Fifteen minutes later the real token has expired.
	e.clock.Advance(15*time.Minute + time.Second)
	e.call(t, http.MethodGet, "/api/v1/me", tr.AccessToken, nil).wantError(t, http.StatusUnauthorized, "token_expired")
}

// A refresh whose answer was lost on the way is retried with the token it
// spent. Within a minute, and while the pair it bought is unused, the retry
// gets a new pair and the lost one is void. Once the lost pair was used,
// the old token presented again is a replay: the family goes.
func TestRefreshRetriedAfterALostAnswer(t *testing.T) {
	t.Parallel()
	e := newAuthServer(t)
	first := e.login(t, "admin", adminPassword, "phone-1")
	refresh := func(token string) reply {
		return e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": token})
	}
	var lost, retried tokenResponse
	refresh(first.RefreshToken).decode(t, http.StatusOK, &lost)
	e.clock.Advance(10 * time.Second)
	refresh(first.RefreshToken).decode(t, http.StatusOK, &retried)
	if retried.RefreshToken == lost.RefreshToken {
		t.Fatal("the retry got the lost pair again")
	}
	if r := e.call(t, http.MethodGet, "/api/v1/me", retried.AccessToken, nil); r.status != http.StatusOK {
		t.Fatalf("the retried pair's access token is refused: %d %s", r.status, r.body)
	}
	var next, after tokenResponse
	refresh(retried.RefreshToken).decode(t, http.StatusOK, &next)
	refresh(next.RefreshToken).decode(t, http.StatusOK, &after)

	// The retried token's successor has been used since: presenting the
	// retried token again, even within the minute, is a replay.
	refresh(retried.RefreshToken).wantError(t, http.StatusUnauthorized, "refresh_token_reused")
	refresh(after.RefreshToken).wantError(t, http.StatusUnauthorized, "refresh_token_reused")
}

func TestRefreshRotatesAndDetectsReuse(t *testing.T) {
	t.Parallel()
	e := newAuthServer(t)
	first := e.login(t, "admin", adminPassword, "phone-1")
	other := e.login(t, "admin", adminPassword, "laptop-1")

	e.clock.Advance(time.Minute)
	var second tokenResponse
	e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken}).
		decode(t, http.StatusOK, &second)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh did not rotate the pair")
	}
	if r := e.call(t, http.MethodGet, "/api/v1/me", second.AccessToken, nil); r.status != http.StatusOK {
		t.Fatalf("new access token refused: %d %s", r.status, r.body)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(second.AccessToken, claims); err != nil || claims["did"] != "phone-1" {
		t.Fatalf("refreshed token is not bound to the device: %v %v", claims, err)
	}

	// The first refresh token, presented again once the grace for a lost
	// answer is over, is a stolen copy: the whole family goes, including
	// the token the legitimate refresh just issued.
	e.clock.Advance(2 * time.Minute)
	e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken}).
		wantError(t, http.StatusUnauthorized, "refresh_token_reused")
	e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": second.RefreshToken}).
		wantError(t, http.StatusUnauthorized, "refresh_token_reused")

	// Another device's session is another family and lives on.
	var third tokenResponse
	e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": other.RefreshToken}).
		decode(t, http.StatusOK, &third)

	e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": "no-such-token"}).
		wantError(t, http.StatusUnauthorized, "invalid_refresh_token")

	// Past its lifetime (30 days by default) a refresh token is refused.
	e.clock.Advance(31 * 24 * time.Hour)
	e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": third.RefreshToken}).
		wantError(t, http.StatusUnauthorized, "invalid_refresh_token")
}

func TestLogoutEndsOnlyThatDevice(t *testing.T) {
	t.Parallel()
	e := newAuthServer(t)
	phone := e.login(t, "admin", adminPassword, "phone-1")
	laptop := e.login(t, "admin", adminPassword, "laptop-1")

	r := e.call(t, http.MethodPost, "/api/v1/auth/logout", "", map[string]string{"refresh_token": phone.RefreshToken})
	if r.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": phone.RefreshToken}).
		wantError(t, http.StatusUnauthorized, "refresh_token_reused")
	// The phone's access token ends with its session; the laptop's goes on.
	e.call(t, http.MethodGet, "/api/v1/me", phone.AccessToken, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
	e.call(t, http.MethodGet, "/api/v1/me", laptop.AccessToken, nil).wantStatus(t, http.StatusOK)
	var tr tokenResponse
	e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": laptop.RefreshToken}).
		decode(t, http.StatusOK, &tr)
	// Logging out twice, or with an unknown token, is harmless.
	for _, tok := range []string{phone.RefreshToken, "unknown"} {
		if r := e.call(t, http.MethodPost, "/api/v1/auth/logout", "", map[string]string{"refresh_token": tok}); r.status != http.StatusNoContent {
			t.Fatalf("logout again: %d %s", r.status, r.body)
		}
	}
}

func TestFailedLoginsAreRateLimited(t *testing.T) {
	t.Parallel()
	// The test client plays the reverse proxy, telling each attempt's
	// address in X-Forwarded-For.
	e := newTestServer(t, withClock(time.Date(2021, 3, 26, 8, 0, 0, 0, time.UTC)),
		withLoginLimits(5, 10), withTrustedProxies(t, "127.0.0.1/32", "::1/128"))
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	try := func(password, ip string) reply {
		return e.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody("admin", password, "phone-1"), from(ip)...)
	}

	// A success clears the count for that username and address.
	for range 4 {
		try("wrong-password", "203.0.113.7").wantError(t, http.StatusUnauthorized, "invalid_credentials")
	}
	if r := try(adminPassword, "203.0.113.7"); r.status != http.StatusOK {
		t.Fatalf("login after 4 failures: %d %s", r.status, r.body)
	}
	for range 5 {
		try("wrong-password", "203.0.113.7").wantError(t, http.StatusUnauthorized, "invalid_credentials")
	}
	// The sixth attempt is refused unchecked, even with the right password.
	r := try("wrong-password", "203.0.113.7")
	env := r.wantError(t, http.StatusTooManyRequests, "rate_limited")
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs <= 0 || secs > 15*60 {
		t.Fatalf("Retry-After %q, want 1..900 seconds", r.header.Get("Retry-After"))
	}
	if !strings.Contains(string(env.Error.Details), "retry_after") {
		t.Errorf("details %s lack retry_after", env.Error.Details)
	}
	try(adminPassword, "203.0.113.7").wantError(t, http.StatusTooManyRequests, "rate_limited")

	// Someone else, elsewhere, is not locked out of the account.
	if r := try(adminPassword, "198.51.100.20"); r.status != http.StatusOK {
		t.Fatalf("login from another address: %d %s", r.status, r.body)
	}

	// When the window has passed, the right password works again.
	e.clock.Advance(15*time.Minute + time.Second)
	if r := try(adminPassword, "203.0.113.7"); r.status != http.StatusOK {
		t.Fatalf("login after the window: %d %s", r.status, r.body)
	}

	// One address sweeping usernames hits the per-address cap (10 here).
	for i := range 10 {
		e.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody("user"+strconv.Itoa(i), "x-password", "p"), from("192.0.2.9")...).
			wantError(t, http.StatusUnauthorized, "invalid_credentials")
	}
	e.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody("admin", adminPassword, "p"), from("192.0.2.9")...).
		wantError(t, http.StatusTooManyRequests, "rate_limited")
}

// TestDeviceIsBoundToItsFirstUser: a device id belongs to the user who
// first logged in with it (it is the node of that user's clock, and the
// server names a conflict's author by it). Another user logging in with it
// is refused with device_taken and the device stays its owner's; the owner
// logs in, refreshes, pushes and pulls with it as before. A token for the
// device held by someone it no longer belongs to (a store written before
// the binding, where a device followed its latest user) cannot refresh,
// push or pull.
func TestDeviceIsBoundToItsFirstUser(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin())
	lan := e.addUser(t, "lan.nguyen", auth.RoleSecretary)
	minhID := e.createUser(t, "minh.tran", auth.RoleSecretary)
	owner := func() string {
		t.Helper()
		var u string
		if err := e.st.Reader().QueryRowContext(context.Background(),
			`SELECT user_id FROM devices WHERE id = ?`, lan.id).Scan(&u); err != nil {
			t.Fatalf("device row: %v", err)
		}
		return u
	}

	before := e.storeCounts(t)
	env := e.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody("minh.tran", userPassword, lan.id)).
		wantError(t, http.StatusForbidden, "device_taken")
	if !strings.Contains(env.Error.Message, "another user") {
		t.Errorf("message %q does not say the device is another user's", env.Error.Message)
	}
	if owner() != lan.userID {
		t.Fatalf("the device now belongs to %s, want Lan %s", owner(), lan.userID)
	}
	if after := e.storeCounts(t); !sameCounts(before, after) {
		t.Errorf("the refused login changed the store: %v -> %v", before, after)
	}
	// A wrong password is still just wrong: the device is not named to
	// someone who has not proven who they are.
	e.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody("minh.tran", "not-the-password", lan.id)).
		wantError(t, http.StatusUnauthorized, "invalid_credentials")

	// Lan keeps using her device: log in again, refresh, push, pull.
	tr := e.login(t, "lan.nguyen", userPassword, lan.id)
	var next tokenResponse
	e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tr.RefreshToken}).
		decode(t, http.StatusOK, &next)
	lan.token = next.AccessToken
	tripID := uuid.NewString()
	lan.push(t, "", lan.change("trips", tripID, map[string]any{
		"user_id": lan.userID, "purpose": "inspection", "starts_on": "2021-03-26", "title": "Đi cơ sở Hà Giang"}))
	if rows, _ := lan.pullAll(t, ""); rows[key("trips", tripID)].RowID != tripID {
		t.Fatalf("Lan's pull lacks her trip")
	}
	// Minh logs in on a device of his own.
	minh := e.loginDevice(t, "minh.tran", userPassword, "dev-minh-tran")

	// A store written before the binding: the device followed Minh when he
	// logged in on it. Lan's session on it is over.
	if _, err := e.st.Writer().ExecContext(context.Background(),
		`UPDATE devices SET user_id = ? WHERE id = ?`, minhID, lan.id); err != nil {
		t.Fatal(err)
	}
	e.call(t, http.MethodPost, "/api/v1/sync/pull", lan.token,
		protocol.PullRequest{Protocol: protocol.Version, DeviceID: lan.id}).wantError(t, http.StatusForbidden, "device_taken")
	e.call(t, http.MethodPost, "/api/v1/sync/push", lan.token,
		protocol.PushRequest{Protocol: protocol.Version, DeviceID: lan.id, Changes: []protocol.Change{
			lan.change("trips", uuid.NewString(), map[string]any{"user_id": lan.userID, "purpose": "inspection", "starts_on": "2021-03-27"}),
		}}).wantError(t, http.StatusForbidden, "device_taken")
	e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": next.RefreshToken}).
		wantError(t, http.StatusForbidden, "device_taken")
	// That refresh ended the family: the same token is not good later.
	if _, err := e.st.Writer().ExecContext(context.Background(),
		`UPDATE devices SET user_id = ? WHERE id = ?`, lan.userID, lan.id); err != nil {
		t.Fatal(err)
	}
	if r := e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": next.RefreshToken}); r.status == http.StatusOK {
		t.Fatal("the refresh token refused for device_taken works later")
	}
	// Minh's own device is untouched by all this.
	minh.pullAll(t, "")
}

// TestLoginLimiterStaysBoundedUnderAFlood: an attacker cycling usernames
// and addresses cannot grow what the limiter remembers past its cap (seen
// on /metrics), and the address it keeps hammering stays limited while
// the flood pushes others out.
func TestLoginLimiterStaysBoundedUnderAFlood(t *testing.T) {
	t.Parallel()
	const keyCap = 10
	e := newTestServer(t, withClock(time.Date(2021, 3, 26, 8, 0, 0, 0, time.UTC)),
		withLoginLimits(3, 5), withLoginKeyCap(keyCap), withTrustedProxies(t, "127.0.0.1/32", "::1/128"))
	login := func(username, password, ip string) reply {
		return e.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody(username, password, "phone-1"), "X-Forwarded-For", ip)
	}
	keys := func() float64 {
		t.Helper()
		fam := scrape(t, e)["dicoso_login_limiter_keys"]
		if fam == nil || len(fam.GetMetric()) != 1 {
			t.Fatalf("/metrics lacks dicoso_login_limiter_keys")
		}
		return fam.GetMetric()[0].GetGauge().GetValue()
	}

	const hot = "203.0.113.7"
	for range 3 {
		login("admin", "wrong-password", hot).wantError(t, http.StatusUnauthorized, "invalid_credentials")
	}
	login("admin", adminPassword, hot).wantError(t, http.StatusTooManyRequests, "rate_limited")

	for i := range 3 * keyCap {
		e.clock.Advance(time.Second)
		login("user"+strconv.Itoa(i), "x-password", "198.18.0."+strconv.Itoa(i+1)).
			wantError(t, http.StatusUnauthorized, "invalid_credentials")
		if n := keys(); n > keyCap {
			t.Fatalf("after %d flooding addresses the limiter holds %v keys, cap %d", i+1, n, keyCap)
		}
		if i%3 == 2 {
			login("admin", adminPassword, hot).wantError(t, http.StatusTooManyRequests, "rate_limited")
		}
	}
	if n := keys(); n < keyCap-1 {
		t.Errorf("the limiter holds %v keys after the flood, want it near its cap %d", n, keyCap)
	}
	// A fresh address still meets its allowance after the flood.
	for range 3 {
		login("admin", "wrong-password", "192.0.2.50").wantError(t, http.StatusUnauthorized, "invalid_credentials")
	}
	login("admin", adminPassword, "192.0.2.50").wantError(t, http.StatusTooManyRequests, "rate_limited")
}
