package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"dicoso/server/store"
)

// ErrWrongPassword: the current password given to change one's own is not
// the account's.
var ErrWrongPassword = errors.New("the current password is wrong")

// ChangeOwnPassword sets user userID's password to next, given their
// current one, from client address ip on device deviceID. Sessions on the
// user's other devices end (their refresh tokens are revoked): whoever knew
// the old password is logged out there; this device stays logged in.
//
// A wrong current password gives ErrWrongPassword and counts as a failed
// login of the account from ip, under the same limits, so a stolen access
// token cannot be used to guess the password; too many give
// *RateLimitedError before any is checked. A next that is too short or too
// long, or equal to the current one, is a *FieldError on "new_password".
func (s *Service) ChangeOwnPassword(ctx context.Context, userID, deviceID, current, next, ip string) error {
	if err := checkPassword(next); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			fe.Field, fe.Message = "new_password", "new "+fe.Message
		}
		return err
	}
	if next == current {
		return &FieldError{Field: "new_password", Rule: "nefield", Message: "the new password must differ from the current one"}
	}
	var username, hash string
	err := s.store.Reader().QueryRowContext(ctx,
		`SELECT username, COALESCE(password_hash, '') FROM users WHERE id = ? AND deleted = 0`, userID).Scan(&username, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("change password: read user: %w", err)
	}
	started := s.now()
	if wait, ok := s.limiter.begin(started, username, ip); !ok {
		return &RateLimitedError{RetryAfter: wait}
	}
	checked := hash
	if checked == "" {
		checked = s.dummyHash // an account without a password has no current one to give
	}
	match, err := s.verify(ctx, checked, current)
	if err != nil {
		return err
	}
	if !match || hash == "" {
		return ErrWrongPassword
	}
	s.limiter.succeeded(started, username, ip)
	newHash, err := s.hash(ctx, next)
	if err != nil {
		return err
	}
	now := s.now()
	return s.store.InTx(ctx, func(tx *sql.Tx) error {
		// Only over the hash that was checked: if the password changed
		// meanwhile (an admin reset it), the current one given is stale.
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`,
			newHash, userID, hash)
		if err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if err != nil {
				return fmt.Errorf("change password: %w", err)
			}
			return ErrWrongPassword
		}
		_, err = tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ?
			WHERE user_id = ? AND device_id <> ? AND revoked_at IS NULL`, formatTime(now), userID, deviceID)
		if err != nil {
			return fmt.Errorf("change password: revoke other sessions: %w", err)
		}
		return nil
	})
}
