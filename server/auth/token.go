package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

const (
	tokenIssuer   = "dicoso"
	tokenAudience = "dicoso-api"
)

// accessClaims is the access token's payload: the registered claims (sub =
// user id, jti, iat, exp, iss, aud) plus the roles at issue time (for the
// client's display; the server re-reads roles from the store on each
// request) and the device the session belongs to.
type accessClaims struct {
	Roles    []string `json:"roles"`
	DeviceID string   `json:"did"`
	jwt.RegisteredClaims
}

// issueAccess signs a new access token; it returns the token and its expiry.
func (s *Service) issueAccess(userID string, roles []string, deviceID string) (string, time.Time, error) {
	now := s.now().UTC().Truncate(time.Second)
	exp := now.Add(s.accessTTL)
	c := accessClaims{
		Roles:    roles,
		DeviceID: deviceID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{tokenAudience},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return tok, exp, nil
}

// parseAccess verifies a token: HS256 with our key only (so `alg: none`
// and an RS256/HS256 swap fail before any key is used), our issuer and
// audience, an expiry that is required and not past by the service's clock.
func (s *Service) parseAccess(token string) (accessClaims, error) {
	var c accessClaims
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithAudience(tokenAudience),
		jwt.WithTimeFunc(s.now),
	)
	_, err := p.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.secret, nil })
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return c, ErrTokenExpired
	default:
		return c, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	if c.Subject == "" || c.DeviceID == "" {
		return c, fmt.Errorf("%w: missing sub or did", ErrTokenInvalid)
	}
	return c, nil
}
