// Package auth is who may use dicoso: password hashing, access tokens,
// rotating refresh tokens bound to a device, failed-login limits, and the
// users themselves. It knows nothing of HTTP; the API maps its errors.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"

	"dicoso/server/store"
	"dicoso/server/syncdb"
	"dicoso/sync/hlc"
)

// Options configure a Service. Zero values take the defaults.
type Options struct {
	Secret     []byte           // HMAC key, at least 32 bytes (LoadSecret)
	AccessTTL  time.Duration    // default 15 min
	RefreshTTL time.Duration    // default 30 days
	Limits     LimitRules       // default DefaultLimits()
	Now        func() time.Time // default time.Now; tests move time with it
	// Sync is the write path into synced tables, which users are (their
	// public part). Without it the service logs in but cannot write users.
	Sync *syncdb.DB
}

// Service authenticates users and manages them.
type Service struct {
	store      *store.Store
	sync       *syncdb.DB
	secret     []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	now        func() time.Time
	limiter    *limiter
	// hashSlots bounds the argon2 hashes running at once: each holds 19 MiB,
	// and login is open to anyone, so this caps what a flood can cost.
	hashSlots chan struct{}
	// dummyHash is verified against when the username is unknown, so that
	// answer takes as long as a wrong password (no timing oracle on names).
	dummyHash string
	// reads answers the per-request lookups (Authenticate, CheckDevice).
	reads *preparedReader
}

// New builds the service. opts.Secret must hold at least 32 bytes.
func New(st *store.Store, opts Options) (*Service, error) {
	if len(opts.Secret) < secretLen {
		return nil, fmt.Errorf("auth: signing secret must be at least %d bytes", secretLen)
	}
	return newService(st, opts), nil
}

// Ephemeral builds a service whose signing key lives only in memory, so its
// tokens die with the process: for tests and tools. serve uses New with
// LoadSecret.
func Ephemeral(st *store.Store, opts Options) *Service {
	opts.Secret = make([]byte, secretLen)
	_, _ = rand.Read(opts.Secret) // never fails
	return newService(st, opts)
}

func newService(st *store.Store, o Options) *Service {
	if o.AccessTTL <= 0 {
		o.AccessTTL = 15 * time.Minute
	}
	if o.RefreshTTL <= 0 {
		o.RefreshTTL = 30 * 24 * time.Hour
	}
	if o.Limits.Window <= 0 || o.Limits.PerUserIP <= 0 || o.Limits.PerIP <= 0 {
		o.Limits = DefaultLimits()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{
		store:      st,
		sync:       o.Sync,
		secret:     append([]byte(nil), o.Secret...),
		accessTTL:  o.AccessTTL,
		refreshTTL: o.RefreshTTL,
		now:        o.Now,
		limiter:    newLimiter(o.Limits),
		hashSlots:  make(chan struct{}, max(2, runtime.NumCPU())),
		dummyHash:  HashPassword("dicoso: no such user, still pay for a hash"),
		reads:      newPreparedReader(st.Reader()),
	}
}

// Device is the device a session is bound to.
type Device struct {
	ID   string // client-generated, also the node of its sync clock
	Name string // shown to the user ("Điện thoại của Lan")
}

// Session is what a login or a refresh hands to the client.
type Session struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration // of the access token
	User         User
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID       string
	Username     string
	Roles        []string // as stored now, not as when the token was issued
	DepartmentID string   // "" when none
	UnitID       string   // "" when none
	DeviceID     string
}

// timeLayout is how instants are stored: RFC 3339 UTC with milliseconds,
// the same shape as the schema's strftime defaults, so they sort as text.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// Login checks a username and password from client address ip and opens a
// session on dev. Unknown user, wrong password and disabled account all give
// ErrInvalidCredentials after the same hashing work; too many failures give
// *RateLimitedError before any is done. With the right password, a device
// id that another user holds gives ErrDeviceTaken.
func (s *Service) Login(ctx context.Context, username, password string, dev Device, ip string) (Session, error) {
	if !hlc.ValidNode(dev.ID) {
		return Session{}, &FieldError{Field: "device.id", Rule: "device_id",
			Message: "device id must be 1-64 letters, digits, '-' or '_'"}
	}
	// Clock nodes starting with "server" are the server's own (syncdb): a
	// device named so would have its edits taken for the server's.
	if strings.HasPrefix(strings.ToLower(dev.ID), "server") {
		return Session{}, &FieldError{Field: "device.id", Rule: "device_id",
			Message: "device id must not start with \"server\""}
	}
	started := s.now()
	if wait, ok := s.limiter.begin(started, username, ip); !ok {
		return Session{}, &RateLimitedError{RetryAfter: wait}
	}
	cred, err := s.credentials(ctx, username)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Session{}, err
	}
	// A user without a password (loaded from seed data, say) cannot log in
	// until an admin sets one; they cost the same hash as anyone else.
	hasPassword := known && cred.hash != ""
	hash := s.dummyHash
	if hasPassword {
		hash = cred.hash
	}
	match, err := s.verify(ctx, hash, password)
	if err != nil {
		return Session{}, err
	}
	if !hasPassword || !match || cred.disabled {
		return Session{}, ErrInvalidCredentials
	}
	s.limiter.succeeded(started, username, ip)
	return s.openSession(ctx, cred.user, dev)
}

// verify runs VerifyPassword in one of the hashing slots.
func (s *Service) verify(ctx context.Context, hash, password string) (bool, error) {
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.hashSlots }()
	ok, err := VerifyPassword(hash, password)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return ok, nil
}

// hash runs HashPassword in one of the hashing slots.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.hashSlots }()
	return HashPassword(password), nil
}

type credentials struct {
	user     User
	hash     string
	disabled bool
}

func (s *Service) credentials(ctx context.Context, username string) (credentials, error) {
	var c credentials
	row := s.store.Reader().QueryRowContext(ctx,
		`SELECT `+userColumns+`, password_hash FROM users WHERE username = ? AND deleted = 0`, username)
	u, err := scanUser(row, &c.hash)
	if errors.Is(err, sql.ErrNoRows) {
		return c, store.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("read credentials: %w", err)
	}
	c.user, c.disabled = u, u.Disabled
	return c, nil
}

// openSession records the device and a new refresh-token family, and signs
// the first access token.
func (s *Service) openSession(ctx context.Context, u User, dev Device) (Session, error) {
	now := s.now()
	refresh, hash := newRefreshToken()
	err := s.store.InTx(ctx, func(tx *sql.Tx) error {
		if err := touchDevice(ctx, tx, dev, u.ID, now); err != nil {
			return err
		}
		return insertRefresh(ctx, tx, hash, uuid.NewString(), "", u.ID, dev.ID, now, now.Add(s.refreshTTL))
	})
	if err != nil {
		return Session{}, fmt.Errorf("open session: %w", err)
	}
	return s.session(u, dev.ID, refresh)
}

func (s *Service) session(u User, deviceID, refresh string) (Session, error) {
	access, _, err := s.issueAccess(u.ID, u.Roles, deviceID)
	if err != nil {
		return Session{}, err
	}
	return Session{AccessToken: access, RefreshToken: refresh, ExpiresIn: s.accessTTL, User: u}, nil
}

// touchDevice records the device for userID: a new id becomes theirs, an
// id of theirs is seen again, an id of another user's is ErrDeviceTaken
// (see there) and changes nothing.
func touchDevice(ctx context.Context, tx *sql.Tx, dev Device, userID string, now time.Time) error {
	if err := deviceOwnedBy(ctx, tx, dev.ID, userID, true); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO devices (id, user_id, name, created_at, last_seen) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			name = CASE WHEN excluded.name = '' THEN devices.name ELSE excluded.name END,
			last_seen = excluded.last_seen`,
		dev.ID, userID, dev.Name, formatTime(now), formatTime(now))
	if err != nil {
		return fmt.Errorf("record device: %w", err)
	}
	return nil
}

// deviceOwnedBy returns ErrDeviceTaken unless device id belongs to userID.
// An id no user holds yet is free when mayBeNew (a login), and otherwise
// refused: a session names a device its login recorded.
func deviceOwnedBy(ctx context.Context, q rowQueryer, id, userID string, mayBeNew bool) error {
	var owner string
	err := q.QueryRowContext(ctx, `SELECT user_id FROM devices WHERE id = ?`, id).Scan(&owner)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if mayBeNew {
			return nil
		}
		return ErrDeviceTaken
	case err != nil:
		return fmt.Errorf("read device %s: %w", id, err)
	case owner != userID:
		return ErrDeviceTaken
	}
	return nil
}

// CheckDevice returns ErrDeviceTaken unless device id belongs to userID.
// Tokens are only issued for a device its user holds; this catches the
// rest (a store written before devices were bound, where a device followed
// its latest user) where the device id matters: in the sync, whose clock
// node and conflict authorship it is.
func (s *Service) CheckDevice(ctx context.Context, userID, deviceID string) error {
	return deviceOwnedBy(ctx, s.reads, deviceID, userID, false)
}

// newRefreshToken returns an opaque token (32 random bytes, base64url) and
// the SHA-256 under which it is stored: a stolen database copy holds no
// usable refresh token.
func newRefreshToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefresh(token)
}

func hashRefresh(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// insertRefresh stores a new refresh token of family, issued when parent
// was spent ("" for the first of a login).
func insertRefresh(ctx context.Context, tx *sql.Tx, hash, family, parent, userID, deviceID string, now, expires time.Time) error {
	var parentID any
	if parent != "" {
		parentID = parent
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO refresh_tokens (id, token_hash, family_id, parent_id, user_id, device_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		uuid.NewString(), hash, family, parentID, userID, deviceID, formatTime(now), formatTime(expires))
	if err != nil {
		return fmt.Errorf("store refresh token: %w", err)
	}
	return nil
}

func revokeFamily(ctx context.Context, tx *sql.Tx, family string, now time.Time) error {
	_, err := tx.ExecContext(ctx,
		`UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`,
		formatTime(now), family)
	if err != nil {
		return fmt.Errorf("revoke token family: %w", err)
	}
	return nil
}

// Refresh exchanges a refresh token for a new pair in the same family, on
// the same device. The presented token is spent. Presenting a spent or
// revoked token revokes the whole family (someone holds a copy) and gives
// ErrRefreshReused; an unknown or expired one gives ErrInvalidRefresh, as
// does the token of a user disabled since; the token of a device that now
// belongs to someone else gives ErrDeviceTaken and ends the family.
func (s *Service) Refresh(ctx context.Context, token string) (Session, error) {
	now := s.now()
	next, nextHash := newRefreshToken()
	var (
		u        User
		deviceID string
		refusal  error // decided inside the transaction, which still commits
	)
	err := s.store.InTx(ctx, func(tx *sql.Tx) error {
		var id, family, expires string
		var used, revoked sql.NullString
		err := tx.QueryRowContext(ctx, `
			SELECT id, family_id, user_id, device_id, expires_at, used_at, revoked_at
			FROM refresh_tokens WHERE token_hash = ?`, hashRefresh(token)).
			Scan(&id, &family, &u.ID, &deviceID, &expires, &used, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			refusal = ErrInvalidRefresh
			return nil
		}
		if err != nil {
			return fmt.Errorf("read refresh token: %w", err)
		}
		// A disabled or deleted user is told to log in (and cannot), whatever
		// state the token is in.
		u, err = userByID(ctx, tx, u.ID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
			refusal = ErrInvalidRefresh
			return revokeFamily(ctx, tx, family, now)
		}
		if err != nil {
			return err
		}
		// The device went to another user (possible only in a store
		// written before devices were bound): this session is over.
		if err := deviceOwnedBy(ctx, tx, deviceID, u.ID, false); err != nil {
			if errors.Is(err, ErrDeviceTaken) {
				refusal = err
				return revokeFamily(ctx, tx, family, now)
			}
			return err
		}
		if used.Valid || revoked.Valid {
			if used.Valid && !revoked.Valid && withinGrace(used.String, now) {
				// The token was spent moments ago and the pair it bought
				// was never used: the answer was most likely lost on a
				// weak network and this is the device retrying. Replace
				// that unused pair rather than treat it as theft.
				replaced, err := revokeUnusedSuccessor(ctx, tx, id, now)
				if err != nil {
					return err
				}
				if replaced {
					return insertRefresh(ctx, tx, nextHash, family, id, u.ID, deviceID, now, now.Add(s.refreshTTL))
				}
			}
			refusal = ErrRefreshReused
			return revokeFamily(ctx, tx, family, now)
		}
		if exp, err := time.Parse(timeLayout, expires); err != nil || !now.Before(exp) {
			refusal = ErrInvalidRefresh
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE id = ?`, formatTime(now), id); err != nil {
			return fmt.Errorf("spend refresh token: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE devices SET last_seen = ? WHERE id = ?`, formatTime(now), deviceID); err != nil {
			return fmt.Errorf("touch device: %w", err)
		}
		return insertRefresh(ctx, tx, nextHash, family, id, u.ID, deviceID, now, now.Add(s.refreshTTL))
	})
	if err != nil {
		return Session{}, fmt.Errorf("refresh: %w", err)
	}
	if refusal != nil {
		return Session{}, refusal
	}
	return s.session(u, deviceID, next)
}

// refreshGrace is how long after a refresh token was spent presenting it
// again counts as a retry of a lost answer rather than reuse.
const refreshGrace = time.Minute

func withinGrace(usedAt string, now time.Time) bool {
	t, err := time.Parse(timeLayout, usedAt)
	return err == nil && now.Sub(t) < refreshGrace
}

// revokeUnusedSuccessor revokes the live token issued for spent, if it was
// never used, and reports whether it did. A successor already used (or
// none left live) means spent is being replayed.
func revokeUnusedSuccessor(ctx context.Context, tx *sql.Tx, spent string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ?
		WHERE parent_id = ? AND used_at IS NULL AND revoked_at IS NULL`, formatTime(now), spent)
	if err != nil {
		return false, fmt.Errorf("revoke unused refresh token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("revoke unused refresh token: %w", err)
	}
	return n > 0, nil
}

// Logout revokes the family of a refresh token: that device's session ends
// once its current access token expires. An unknown token is not an error;
// the session it named is over either way.
func (s *Service) Logout(ctx context.Context, token string) error {
	now := s.now()
	return s.store.InTx(ctx, func(tx *sql.Tx) error {
		var family string
		err := tx.QueryRowContext(ctx, `SELECT family_id FROM refresh_tokens WHERE token_hash = ?`,
			hashRefresh(token)).Scan(&family)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("logout: read refresh token: %w", err)
		}
		return revokeFamily(ctx, tx, family, now)
	})
}

// Authenticate checks an access token and returns its caller as the store
// knows them now: roles are re-read and a disabled or deleted user is refused
// at once, at the price of one indexed read per request.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	c, err := s.parseAccess(strings.TrimSpace(token))
	if err != nil {
		return Principal{}, err
	}
	u, err := userByID(ctx, s.reads, c.Subject)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return Principal{}, fmt.Errorf("%w: user %s is gone or disabled", ErrTokenInvalid, c.Subject)
	}
	if err != nil {
		return Principal{}, err
	}
	// The token outlives its session by up to its lifetime: a logout, a
	// password change on another device or an admin's reset revokes the
	// device's refresh tokens, and ends its access here and now.
	var live int
	err = s.reads.QueryRowContext(ctx,
		`SELECT 1 FROM refresh_tokens WHERE device_id = ? AND user_id = ? AND revoked_at IS NULL LIMIT 1`,
		c.DeviceID, u.ID).Scan(&live)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, fmt.Errorf("%w: the session of device %s has ended", ErrTokenInvalid, c.DeviceID)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("read session: %w", err)
	}
	return Principal{UserID: u.ID, Username: u.Username, Roles: u.Roles,
		DepartmentID: u.DepartmentID, UnitID: u.UnitID, DeviceID: c.DeviceID}, nil
}

// LimiterKeys is how many keys the failed-login limiter remembers.
func (s *Service) LimiterKeys() int { return s.limiter.size() }
