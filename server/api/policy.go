package api

import (
	"fmt"
	"slices"

	"github.com/labstack/echo/v4"

	"dicoso/server/auth"
)

// action is what a caller does to a resource.
type action string

// Actions. Reference data and users take read/create/update/delete; the
// sync protocol takes push/pull.
const (
	actRead   action = "read"
	actCreate action = "create"
	actUpdate action = "update"
	actDelete action = "delete"
	actPush   action = "push"
	actPull   action = "pull"
)

// rule says who may take one action on one resource.
type rule struct {
	// anyone: every logged-in user, whatever their roles.
	anyone bool
	// roles may take the action on any row.
	roles []string
	// ifRow may take the action only on rows the resource's row check
	// admits (resourcePolicy.row); the handler runs it once it knows the row.
	ifRow []string
}

// resourcePolicy is the rules of one resource.
type resourcePolicy struct {
	actions map[action]rule
	// row decides for the ifRow roles. before is the row as stored (nil on
	// create), after the row as it would be (nil on delete); both in wire
	// form (field names of design §3, wire JSON types).
	row func(p principal, act action, before, after map[string]any) error
}

// Rule shorthands.
var (
	anyUser   = rule{anyone: true}
	adminOnly = rule{roles: []string{auth.RoleAdmin}}
	// headquarters: the roles that read and review everything (design §1).
	headquarters = rule{roles: []string{auth.RoleAdmin, auth.RoleInspectionCommittee, auth.RoleOffice}}
)

func grant(r ...string) rule { return rule{roles: r} }

// accessPolicy is the one place that says which role may do what (design
// §1; duties from plan 356-KH/TWĐTN-BKT section III.1). Routes consult it
// through s.allow, handlers through s.allowRow. It is read-only after
// package initialisation.
//
// Everyone logged in reads the reference data: every role plans, logs or
// reviews against the same units, campaigns and teams, and devices pull it
// all anyway. Field data has no REST route: it moves through sync, whose
// per-row rules (who may write which note, finding, check-in) live in
// server/syncdb/rules.go and whose read scopes live in server/syncdb/pull.go.
var accessPolicy = map[string]resourcePolicy{
	// Who is logged in; everyone changes their own password.
	"me": {actions: map[action]rule{actRead: anyUser, actUpdate: anyUser}},

	// Accounts and roles are the administrator's (design §4: POST /users is
	// admin only). Everyone reads the public part to name people.
	"users": {actions: map[action]rule{
		actRead: anyUser, actCreate: adminOnly, actUpdate: adminOnly, actDelete: adminOnly,
	}},

	// The organisation itself (units with their history, activity clusters,
	// departments): seeded from the plan and kept by the administrator. The
	// plan gives no office or department a duty to change it, so a
	// department cannot edit units, nor the Office clusters.
	"units":       adminWrites(),
	"clusters":    adminWrites(),
	"departments": adminWrites(),

	// III.1, Inspection Committee: "tham mưu xây dựng kế hoạch kiểm tra, đi
	// cơ sở" — it drafts the year's plan, so it may write it. Withdrawing a
	// plan the Secretariat issued is left to the administrator.
	"plans": {actions: map[action]rule{
		actRead:   anyUser,
		actCreate: grant(auth.RoleAdmin, auth.RoleInspectionCommittee),
		actUpdate: grant(auth.RoleAdmin, auth.RoleInspectionCommittee),
		actDelete: adminOnly,
	}},

	// III.1, Inspection Committee: drafts the plan and "tham mưu thông báo
	// thành lập các đoàn kiểm tra định kỳ, kiểm tra chuyên đề" — it sets up
	// the periodic rounds and the thematic inspection. III.1, Office: with
	// the Inspection Committee it organises the Secretaries' visits in Youth
	// Month and the Summer Volunteer Campaign — so it may write campaigns of
	// kind "special" (the row check), and no others.
	"campaigns": {
		actions: map[action]rule{
			actRead:   anyUser,
			actCreate: {roles: []string{auth.RoleAdmin, auth.RoleInspectionCommittee}, ifRow: []string{auth.RoleOffice}},
			actUpdate: {roles: []string{auth.RoleAdmin, auth.RoleInspectionCommittee}, ifRow: []string{auth.RoleOffice}},
			actDelete: {roles: []string{auth.RoleAdmin, auth.RoleInspectionCommittee}, ifRow: []string{auth.RoleOffice}},
		},
		row: onlySpecialCampaigns,
	},

	// III.1, Office: "tham mưu ... triển khai thực hiện việc đi cơ sở ...
	// trong Tháng Thanh niên 2021, Chiến dịch Thanh niên tình nguyện Hè" —
	// the special periods are its to keep, with the Inspection Committee
	// that drafts the plan naming them.
	"special_periods": {actions: map[action]rule{
		actRead:   anyUser,
		actCreate: grant(auth.RoleAdmin, auth.RoleInspectionCommittee, auth.RoleOffice),
		actUpdate: grant(auth.RoleAdmin, auth.RoleInspectionCommittee, auth.RoleOffice),
		actDelete: grant(auth.RoleAdmin, auth.RoleInspectionCommittee, auth.RoleOffice),
	}},

	// III.1, Inspection Committee: proposes the founding of the inspection
	// teams (members, leader, units) and organises them with the Office and
	// the departments holding the clusters.
	"teams": {actions: map[action]rule{
		actRead:   anyUser,
		actCreate: grant(auth.RoleAdmin, auth.RoleInspectionCommittee),
		actUpdate: grant(auth.RoleAdmin, auth.RoleInspectionCommittee),
		actDelete: grant(auth.RoleAdmin, auth.RoleInspectionCommittee),
	}},

	// Attachments: anyone logged in uploads the photos and files their
	// notes and check-ins name; reading one is further limited, in the
	// handler, to blobs named by a row the caller may pull.
	"attachments": {actions: map[action]rule{actCreate: anyUser, actRead: anyUser}},

	// Row history and merge conflicts: headquarters, the roles that read
	// every row (design §1) and review the concurrent edits the merge
	// lists — III.1: the Inspection Committee compiles what was found, the
	// Office answers the grassroots' recommendations.
	"history":   {actions: map[action]rule{actRead: headquarters}},
	"conflicts": {actions: map[action]rule{actRead: headquarters, actUpdate: headquarters}},

	// Sync: every user's device pushes and pulls; what a change may touch
	// and what a pull returns is decided per row by server/syncdb.
	"sync": {actions: map[action]rule{actPush: anyUser, actPull: anyUser}},

	// Reports (headquarters; reports.go): headquarters read every report in
	// full. II.3: a secretary reads their own field-day tally; III.1: a
	// department follows up its own findings. Both read the campaigns'
	// coverage. reportRow, the row check, says which report is which.
	"reports": {
		actions: map[action]rule{actRead: {roles: headquarters.roles, ifRow: []string{auth.RoleSecretary, auth.RoleDepartment}}},
		row:     reportRow,
	},
}

// adminWrites: read by anyone logged in, written by admins only.
func adminWrites() resourcePolicy {
	return resourcePolicy{actions: map[action]rule{
		actRead: anyUser, actCreate: adminOnly, actUpdate: adminOnly, actDelete: adminOnly,
	}}
}

// onlySpecialCampaigns is the Office's row rule on campaigns: the campaign
// must be of kind "special" before and after the change, so the Office can
// neither touch a periodic or thematic round nor turn one into its own.
func onlySpecialCampaigns(_ principal, _ action, before, after map[string]any) error {
	for _, row := range []map[string]any{before, after} {
		if row != nil && row["kind"] != "special" {
			return forbidden("the Office may only write campaigns of kind special (Youth Month, Summer Volunteer Campaign)")
		}
	}
	return nil
}

// lookupRule finds the rule for resource and act. A missing one is a
// programming error in the route table, caught when the server is built.
func lookupRule(resource string, act action) (resourcePolicy, rule) {
	rp, ok := accessPolicy[resource]
	if !ok {
		panic(fmt.Sprintf("policy: no resource %q", resource))
	}
	r, ok := rp.actions[act]
	if !ok {
		panic(fmt.Sprintf("policy: no rule for %s %s", act, resource))
	}
	if len(r.ifRow) > 0 && rp.row == nil {
		panic(fmt.Sprintf("policy: %s %s has row roles but no row check", act, resource))
	}
	return rp, r
}

func holdsAny(p principal, roles []string) bool {
	return slices.ContainsFunc(roles, p.hasRole)
}

// allow is the one middleware guarding a protected route: it authenticates
// the caller (401 without a valid token, see requireAuth) and admits them
// when the policy lets one of their roles take act on resource, outright
// or subject to the row check (403 forbidden otherwise).
func (s *Server) allow(resource string, act action) echo.MiddlewareFunc {
	_, r := lookupRule(resource, act)
	check := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principalFrom(c)
			if !r.anyone && !holdsAny(p, r.roles) && !holdsAny(p, r.ifRow) {
				return forbidden(fmt.Sprintf("your roles may not %s %s", act, resource))
			}
			return next(c)
		}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return s.requireAuth(check(next))
	}
}

// allowRow is the policy's second half, for handlers that know the row: a
// caller admitted by allow only through a row role must also pass the
// resource's row check. before and after are as in resourcePolicy.row.
func (s *Server) allowRow(c echo.Context, resource string, act action, before, after map[string]any) error {
	rp, r := lookupRule(resource, act)
	p := principalFrom(c)
	switch {
	case r.anyone || holdsAny(p, r.roles):
		return nil
	case holdsAny(p, r.ifRow):
		return rp.row(p, act, before, after)
	}
	return forbidden(fmt.Sprintf("your roles may not %s %s", act, resource))
}
