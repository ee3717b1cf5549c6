package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"dicoso/server/store"
	"dicoso/sync/plan"
	"dicoso/sync/schema"
)

// Roles of sync/plan. A user may hold several.
const (
	RoleAdmin               = plan.RoleAdmin
	RoleInspectionCommittee = plan.RoleInspectionCommittee
	RoleOffice              = plan.RoleOffice
	RoleDepartment          = plan.RoleDepartment
	RoleSecretary           = plan.RoleSecretary
	RoleInspector           = plan.RoleInspector
	RoleUnitLiaison         = plan.RoleUnitLiaison
)

// IsRole reports whether r is one of the roles above.
func IsRole(r string) bool {
	switch r {
	case RoleAdmin, RoleInspectionCommittee, RoleOffice, RoleDepartment,
		RoleSecretary, RoleInspector, RoleUnitLiaison:
		return true
	}
	return false
}

// Limits on user input, shared with the API's validation tags.
const (
	MinPasswordLen = 10   // characters
	MaxPasswordLen = 1024 // characters; argon2 does not need more
	MinUsernameLen = 3
	MaxUsernameLen = 64
)

// User is a user as the API shows it: the synced public part of docs/protocol.md, Data
// plus whether the account is disabled. The password hash never leaves the
// package.
type User struct {
	ID           string
	Username     string
	FullName     string
	Title        string
	Roles        []string
	DepartmentID string // "" when none
	UnitID       string // "" when none
	Disabled     bool
}

// HasRole reports whether u holds role r.
func (u User) HasRole(r string) bool { return slices.Contains(u.Roles, r) }

// NewUser is a user to create. ID is optional (a client-generated UUID);
// the service makes one when it is empty.
type NewUser struct {
	ID           string
	Username     string
	Password     string
	FullName     string
	Title        string
	Roles        []string
	DepartmentID string
	UnitID       string
}

// UserPatch changes the fields that are not nil. An empty DepartmentID or
// UnitID clears it.
type UserPatch struct {
	FullName     *string
	Title        *string
	Roles        *[]string
	DepartmentID *string
	UnitID       *string
	Password     *string
	Disabled     *bool
}

// UserFilter narrows ListUsers; empty fields do not filter.
type UserFilter struct {
	Role         string
	DepartmentID string
	UnitID       string
}

const userColumns = `id, username, full_name, title, roles, department_id, unit_id, disabled`

type scanner interface{ Scan(dest ...any) error }

type rowQueryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanUser reads the userColumns, then extra destinations in order.
func scanUser(sc scanner, extra ...any) (User, error) {
	var u User
	var roles string
	var dept, unit sql.NullString
	dest := append([]any{&u.ID, &u.Username, &u.FullName, &u.Title, &roles, &dept, &unit, &u.Disabled}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return u, err
	}
	if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
		return u, fmt.Errorf("user %s: roles %q: %w", u.ID, roles, err)
	}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	u.DepartmentID, u.UnitID = dept.String, unit.String
	return u, nil
}

func userByID(ctx context.Context, q rowQueryer, id string) (User, error) {
	id = strings.ToLower(id) // ids are stored as lowercase UUIDs
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ? AND deleted = 0`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, store.ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("read user %s: %w", id, err)
	}
	return u, nil
}

// GetUser returns a live (not deleted) user, or store.ErrNotFound.
func (s *Service) GetUser(ctx context.Context, id string) (User, error) {
	return userByID(ctx, s.store.Reader(), id)
}

// ListUsers returns the live users matching f, by username.
func (s *Service) ListUsers(ctx context.Context, f UserFilter) ([]User, error) {
	rows, err := s.store.Reader().QueryContext(ctx, `
		SELECT `+userColumns+` FROM users
		WHERE deleted = 0
		  AND (?1 = '' OR EXISTS (SELECT 1 FROM `+s.store.Dialect().JSONEach("users.roles", "r")+` WHERE r.value = ?1))
		  AND (?2 = '' OR department_id = ?2)
		  AND (?3 = '' OR unit_id = ?3)
		ORDER BY username`, f.Role, f.DepartmentID, f.UnitID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	users := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// CountUsers counts every user row, deleted or not.
func (s *Service) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.store.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateUser creates a user on behalf of actorID (the admin; "" for the
// server itself). The public part goes through the sync write path so that
// devices pull it; the password hash is written beside it in the same
// transaction.
func (s *Service) CreateUser(ctx context.Context, actorID string, nu NewUser) (User, error) {
	nu.Username = strings.TrimSpace(nu.Username)
	nu.DepartmentID, nu.UnitID = strings.ToLower(nu.DepartmentID), strings.ToLower(nu.UnitID)
	if err := checkUsername(nu.Username); err != nil {
		return User{}, err
	}
	if err := checkPassword(nu.Password); err != nil {
		return User{}, err
	}
	roles, err := checkRoles(nu.Roles)
	if err != nil {
		return User{}, err
	}
	id := strings.ToLower(nu.ID)
	if id == "" {
		id = uuid.NewString()
	} else if !schema.ValidID(id) {
		return User{}, &FieldError{Field: "id", Rule: "uuid", Message: "id must be a UUID"}
	}
	hash, err := s.hash(ctx, nu.Password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.store.InTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE username = ?`, nu.Username).Scan(&one)
		if err == nil {
			return ErrUsernameTaken
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check username: %w", err)
		}
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, id).Scan(&one)
		if err == nil {
			return ErrIDTaken
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check id: %w", err)
		}
		if err := checkRefs(ctx, tx, nu.DepartmentID, nu.UnitID); err != nil {
			return err
		}
		fields := map[string]any{
			"username":      nu.Username,
			"full_name":     strings.TrimSpace(nu.FullName),
			"title":         strings.TrimSpace(nu.Title),
			"roles":         roles,
			"department_id": nullable(nu.DepartmentID),
			"unit_id":       nullable(nu.UnitID),
		}
		if err := s.writeUser(ctx, tx, actorID, id, fields); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, disabled = 0 WHERE id = ?`, hash, id); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		u, err = userByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", nu.Username, err)
	}
	return u, nil
}

// UpdateUser applies p to user id on behalf of actorID. A new password or
// disabling the account also revokes the user's refresh tokens, so every
// device has to log in again (or cannot). The last enabled admin cannot be
// disabled or lose the role: nobody could administer the server after.
func (s *Service) UpdateUser(ctx context.Context, actorID, id string, p UserPatch) (User, error) {
	id = strings.ToLower(id)
	var roles []string
	if p.Roles != nil {
		var err error
		if roles, err = checkRoles(*p.Roles); err != nil {
			return User{}, err
		}
	}
	var hash string
	if p.Password != nil {
		if err := checkPassword(*p.Password); err != nil {
			return User{}, err
		}
		var err error
		if hash, err = s.hash(ctx, *p.Password); err != nil {
			return User{}, err
		}
	}
	now := s.now()
	var u User
	err := s.store.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		fields := map[string]any{}
		if p.FullName != nil && strings.TrimSpace(*p.FullName) != cur.FullName {
			fields["full_name"] = strings.TrimSpace(*p.FullName)
		}
		if p.Title != nil && strings.TrimSpace(*p.Title) != cur.Title {
			fields["title"] = strings.TrimSpace(*p.Title)
		}
		if p.Roles != nil && !slices.Equal(roles, cur.Roles) {
			fields["roles"] = roles
		}
		var dept, unit string
		if p.DepartmentID != nil && strings.ToLower(*p.DepartmentID) != cur.DepartmentID {
			dept = strings.ToLower(*p.DepartmentID)
			fields["department_id"] = nullable(dept)
		}
		if p.UnitID != nil && strings.ToLower(*p.UnitID) != cur.UnitID {
			unit = strings.ToLower(*p.UnitID)
			fields["unit_id"] = nullable(unit)
		}
		if err := checkRefs(ctx, tx, dept, unit); err != nil {
			return err
		}
		disabled := cur.Disabled
		if p.Disabled != nil {
			disabled = *p.Disabled
		}
		losesAdmin := cur.HasRole(RoleAdmin) && !cur.Disabled &&
			(disabled || (p.Roles != nil && !slices.Contains(roles, RoleAdmin)))
		if losesAdmin {
			if err := checkOtherAdmin(ctx, s.store.Dialect(), tx, id); err != nil {
				return err
			}
		}
		if len(fields) > 0 {
			if err := s.writeUser(ctx, tx, actorID, id, fields); err != nil {
				return err
			}
		}
		if hash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id); err != nil {
				return fmt.Errorf("set password: %w", err)
			}
		}
		if disabled != cur.Disabled {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE id = ?`, disabled, id); err != nil {
				return fmt.Errorf("set disabled: %w", err)
			}
		}
		if hash != "" || (disabled && !cur.Disabled) {
			if err := revokeUserSessions(ctx, tx, id, now); err != nil {
				return err
			}
		}
		u, err = userByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	return u, nil
}

// DeleteUser tombstones user id on behalf of actorID: the deletion syncs to
// devices like any other change, the row stays (trips and notes keep naming
// their author) and so does the username. The user's sessions are revoked.
// The last enabled admin cannot be deleted.
func (s *Service) DeleteUser(ctx context.Context, actorID, id string) error {
	id = strings.ToLower(id)
	now := s.now()
	err := s.store.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.HasRole(RoleAdmin) && !cur.Disabled {
			if err := checkOtherAdmin(ctx, s.store.Dialect(), tx, id); err != nil {
				return err
			}
		}
		if err := s.tombstoneUser(ctx, tx, actorID, id); err != nil {
			return err
		}
		return revokeUserSessions(ctx, tx, id, now)
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

// checkOtherAdmin returns ErrLastAdmin unless a live, enabled admin other
// than id exists.
func checkOtherAdmin(ctx context.Context, dialect store.Dialect, tx *sql.Tx, id string) error {
	var others int
	err := tx.QueryRowContext(ctx, `
		SELECT COUNT(*) FROM users
		WHERE id != ? AND deleted = 0 AND disabled = 0
		  AND EXISTS (SELECT 1 FROM `+dialect.JSONEach("users.roles", "r")+` WHERE r.value = ?)`,
		id, RoleAdmin).Scan(&others)
	if err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if others == 0 {
		return ErrLastAdmin
	}
	return nil
}

func revokeUserSessions(ctx context.Context, tx *sql.Tx, userID string, now time.Time) error {
	_, err := tx.ExecContext(ctx,
		`UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
		formatTime(now), userID)
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// BootstrapAdmin creates user "admin" with the admin role when the store has
// no user at all, so a fresh install can be administered. The password is
// the given one, or when empty a generated one, which is returned (and
// nowhere else recorded) so the caller can show it once. On a store that has
// users it does nothing and returns created=false.
func (s *Service) BootstrapAdmin(ctx context.Context, password string) (created bool, generated string, err error) {
	n, err := s.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, "", err
	}
	if password == "" {
		generated = GeneratePassword(20)
		password = generated
	}
	if err := checkPassword(password); err != nil {
		return false, "", fmt.Errorf("admin password: %w", err)
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return false, "", err
	}
	id := uuid.NewString()
	err = s.store.InTx(ctx, func(tx *sql.Tx) error {
		// Checked again under the write lock: another process may have won.
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
			return fmt.Errorf("count users: %w", err)
		}
		if n > 0 {
			return nil
		}
		fields := map[string]any{
			"username": "admin", "full_name": "Quản trị hệ thống", "title": "",
			"roles": []string{RoleAdmin}, "department_id": nil, "unit_id": nil,
		}
		if err := s.writeUser(ctx, tx, "", id, fields); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		created = true
		return nil
	})
	if err != nil || !created {
		return false, "", err
	}
	return true, generated, nil
}

// passwordAlphabet leaves out look-alikes (0/O, 1/l/I) because an operator
// copies the generated admin password by eye from a terminal.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns n characters drawn uniformly from
// passwordAlphabet (about 5.8 bits each).
func GeneratePassword(n int) string {
	// Bytes at or above the largest multiple of the alphabet's size are
	// dropped, so every character is equally likely.
	limit := byte(256 - 256%len(passwordAlphabet))
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		_, _ = rand.Read(buf) // never fails
		for _, b := range buf {
			if b < limit && len(out) < n {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out)
}

func checkUsername(name string) error {
	bad := &FieldError{Field: "username", Rule: "username",
		Message: fmt.Sprintf("username must be %d-%d characters of a-z, 0-9, '.', '_' or '-'", MinUsernameLen, MaxUsernameLen)}
	if len(name) < MinUsernameLen || len(name) > MaxUsernameLen {
		return bad
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return bad
		}
	}
	return nil
}

func checkPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen {
		return &FieldError{Field: "password", Rule: "min",
			Message: fmt.Sprintf("password must be at least %d characters", MinPasswordLen)}
	}
	if n > MaxPasswordLen {
		return &FieldError{Field: "password", Rule: "max",
			Message: fmt.Sprintf("password must be at most %d characters", MaxPasswordLen)}
	}
	return nil
}

// checkRoles validates roles and returns them without duplicates, in the
// order given.
func checkRoles(roles []string) ([]string, error) {
	if len(roles) == 0 {
		return nil, &FieldError{Field: "roles", Rule: "required", Message: "a user needs at least one role"}
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		if !IsRole(r) {
			return nil, &FieldError{Field: "roles", Rule: "oneof", Message: fmt.Sprintf("unknown role %q", r)}
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// checkRefs checks that the department and unit named (when not empty) exist
// and are not deleted.
func checkRefs(ctx context.Context, tx *sql.Tx, departmentID, unitID string) error {
	var one int
	if departmentID != "" {
		if !schema.ValidID(departmentID) {
			return &FieldError{Field: "department_id", Rule: "uuid", Message: "department_id must be a UUID"}
		}
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM departments WHERE id = ? AND deleted = 0`, departmentID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return &FieldError{Field: "department_id", Rule: "exists", Message: "no such department"}
		}
		if err != nil {
			return fmt.Errorf("check department: %w", err)
		}
	}
	if unitID != "" {
		if !schema.ValidID(unitID) {
			return &FieldError{Field: "unit_id", Rule: "uuid", Message: "unit_id must be a UUID"}
		}
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM units WHERE id = ? AND deleted = 0`, unitID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return &FieldError{Field: "unit_id", Rule: "exists", Message: "no such unit"}
		}
		if err != nil {
			return fmt.Errorf("check unit: %w", err)
		}
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
