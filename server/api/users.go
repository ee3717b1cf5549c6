package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"dicoso/server/auth"
)

// userJSON is the public part of a user (docs/protocol.md, Data) and whether the account
// is disabled. The password hash is never in it.
type userJSON struct {
	ID           string   `json:"id"`
	Username     string   `json:"username"`
	FullName     string   `json:"full_name"`
	Title        string   `json:"title"`
	Roles        []string `json:"roles"`
	DepartmentID *string  `json:"department_id"`
	UnitID       *string  `json:"unit_id"`
	Disabled     bool     `json:"disabled"`
}

func publicUser(u auth.User) userJSON {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return userJSON{ID: u.ID, Username: u.Username, FullName: u.FullName, Title: u.Title,
		Roles: u.Roles, DepartmentID: opt(u.DepartmentID), UnitID: opt(u.UnitID), Disabled: u.Disabled}
}

// createUserRequest: roles are those of sync/plan. The username's character set and the existence of the
// department and unit are checked by the auth package.
type createUserRequest struct {
	ID           string   `json:"id" validate:"omitempty,uuid"`
	Username     string   `json:"username" validate:"required,min=3,max=64"`
	Password     string   `json:"password" validate:"required,min=10,max=1024"`
	FullName     string   `json:"full_name" validate:"required,max=300"`
	Title        string   `json:"title" validate:"max=300"`
	Roles        []string `json:"roles" validate:"required,min=1,max=7,unique,dive,oneof=admin inspection_committee office department secretary inspector unit_liaison"`
	DepartmentID string   `json:"department_id" validate:"omitempty,uuid"`
	UnitID       string   `json:"unit_id" validate:"omitempty,uuid"`
}

// updateUserRequest changes the fields present. An empty or null
// department_id or unit_id clears it.
type updateUserRequest struct {
	FullName     *string   `json:"full_name" validate:"omitnil,min=1,max=300"`
	Title        *string   `json:"title" validate:"omitnil,max=300"`
	Roles        *[]string `json:"roles" validate:"omitnil,min=1,max=7,unique,dive,oneof=admin inspection_committee office department secretary inspector unit_liaison"`
	DepartmentID *string   `json:"department_id" validate:"omitnil,len=0|uuid"`
	UnitID       *string   `json:"unit_id" validate:"omitnil,len=0|uuid"`
	Password     *string   `json:"password" validate:"omitnil,min=10,max=1024"`
	Disabled     *bool     `json:"disabled"`
}

type userList struct {
	Items []userJSON `json:"items"`
}

// listUsers: GET /api/v1/users[?role=&department_id=&unit_id=].
func (s *Server) listUsers(c echo.Context) error {
	users, err := s.auth.ListUsers(c.Request().Context(), auth.UserFilter{
		Role: c.QueryParam("role"), DepartmentID: c.QueryParam("department_id"), UnitID: c.QueryParam("unit_id"),
	})
	if err != nil {
		return internal(err)
	}
	out := userList{Items: make([]userJSON, 0, len(users))}
	for _, u := range users {
		out.Items = append(out.Items, publicUser(u))
	}
	return c.JSON(http.StatusOK, out)
}

// getUser: GET /api/v1/users/:id.
func (s *Server) getUser(c echo.Context) error {
	u, err := s.auth.GetUser(c.Request().Context(), c.Param("id"))
	if err != nil {
		return authError(c, err)
	}
	return c.JSON(http.StatusOK, publicUser(u))
}

// createUser: POST /api/v1/users (admin). A null department_id or unit_id
// is no department or unit; null for any other field is refused.
func (s *Server) createUser(c echo.Context) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	var req createUserRequest
	if _, err := s.bindRow(c.Request().Context(), body, "users", &req); err != nil {
		return err
	}
	u, err := s.auth.CreateUser(c.Request().Context(), principalFrom(c).UserID, auth.NewUser{
		ID: req.ID, Username: req.Username, Password: req.Password, FullName: req.FullName, Title: req.Title,
		Roles: req.Roles, DepartmentID: req.DepartmentID, UnitID: req.UnitID,
	})
	if err != nil {
		return authError(c, err)
	}
	return c.JSON(http.StatusCreated, publicUser(u))
}

// updateUser: PATCH /api/v1/users/:id (admin). A null department_id or
// unit_id clears it, as "" does; null for any other field is refused.
func (s *Server) updateUser(c echo.Context) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	var req updateUserRequest
	nulls, err := s.bindRow(c.Request().Context(), body, "users", &req)
	if err != nil {
		return err
	}
	none := ""
	for _, name := range nulls {
		switch name {
		case "department_id":
			req.DepartmentID = &none
		case "unit_id":
			req.UnitID = &none
		}
	}
	u, err := s.auth.UpdateUser(c.Request().Context(), principalFrom(c).UserID, c.Param("id"), auth.UserPatch{
		FullName: req.FullName, Title: req.Title, Roles: req.Roles, DepartmentID: req.DepartmentID,
		UnitID: req.UnitID, Password: req.Password, Disabled: req.Disabled,
	})
	if err != nil {
		return authError(c, err)
	}
	return c.JSON(http.StatusOK, publicUser(u))
}

// deleteUser: DELETE /api/v1/users/:id (admin). A tombstone, not an erasure:
// the row stays for the records that name the user.
func (s *Server) deleteUser(c echo.Context) error {
	if err := s.auth.DeleteUser(c.Request().Context(), principalFrom(c).UserID, c.Param("id")); err != nil {
		return authError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
