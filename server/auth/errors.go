package auth

import (
	"errors"
	"fmt"
	"time"
)

// Domain errors. The API maps each onto its status and stable code.
var (
	// ErrInvalidCredentials: unknown user, wrong password or disabled
	// account, deliberately indistinguishable.
	ErrInvalidCredentials = errors.New("invalid username or password")
	// ErrInvalidRefresh: unknown or expired refresh token.
	ErrInvalidRefresh = errors.New("invalid refresh token")
	// ErrRefreshReused: a refresh token was presented after it had been used
	// or revoked; its whole family has now been revoked.
	ErrRefreshReused = errors.New("refresh token reused")
	// ErrTokenExpired: a well-formed access token past its expiry.
	ErrTokenExpired = errors.New("access token expired")
	// ErrTokenInvalid: anything else wrong with an access token, or its user
	// is gone or disabled.
	ErrTokenInvalid = errors.New("invalid access token")
	// ErrUsernameTaken: another user (live, disabled or deleted) has it.
	ErrUsernameTaken = errors.New("username taken")
	// ErrIDTaken: a user with the client-chosen id exists.
	ErrIDTaken = errors.New("user id taken")
	// ErrDeviceTaken: the device id belongs to another user, the first one
	// who logged in with it. A device id is the node of its user's clock
	// and names the author of a conflict's side, so it never changes hands;
	// a phone shared by several users gives each their own id.
	ErrDeviceTaken = errors.New("the device is registered to another user")
	// ErrLastAdmin: the change would leave no enabled admin.
	ErrLastAdmin = errors.New("the last enabled admin cannot lose the admin role or be disabled")
)

// RateLimitedError refuses a login attempt without checking it.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many failed logins, retry after %s", e.RetryAfter.Round(time.Second))
}

// FieldError is an input the domain refuses: which field, which rule (the
// same rule names as the API's validator where one applies) and why.
type FieldError struct {
	Field   string
	Rule    string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }
