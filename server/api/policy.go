package api

import (
	"fmt"
	"slices"

	"github.com/labstack/echo/v4"

	"dicoso/server/auth"
	"dicoso/server/syncdb"
	"dicoso/sync/schema"
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
	// actDecide: confirm, merge or reject a row devices proposed (a
	// grassroots place); the table's spec then judges the decision.
	actDecide action = "decide"
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
	// form (field names of docs/protocol.md, Data, wire JSON types).
	row func(p principal, act action, before, after map[string]any) error
}

// Rule shorthands.
var (
	anyUser = rule{anyone: true}
	// headquarters: the roles that read and review everything (sync/plan).
	headquarters = rule{roles: []string{auth.RoleAdmin, auth.RoleInspectionCommittee, auth.RoleOffice}}
)

// accessPolicy says which role may do what over REST (roles: see
// docs/architecture.md; duties from plan 356-KH/TWĐTN-BKT section III.1).
// Routes consult it through s.allow, handlers through s.allowRow. It is
// read-only after package initialisation.
//
// The synced tables' rules are not here: who may edit each reference table
// over REST, and everything a device may push or pull, is declared per
// table in server/syncdb/specs.go, and withTablePolicies makes the
// reference tables' entries (users among them) from it. Field data has no
// REST route: it moves through sync.
var accessPolicy = withTablePolicies(map[string]resourcePolicy{
	// Who is logged in; everyone changes their own password.
	"me": {actions: map[action]rule{actRead: anyUser, actUpdate: anyUser}},

	// Attachments: anyone logged in uploads the photos and files their
	// notes and check-ins name; reading one is further limited, in the
	// handler, to blobs named by a row the caller may pull.
	"attachments": {actions: map[action]rule{actCreate: anyUser, actRead: anyUser}},

	// Row history and merge conflicts: headquarters, the roles that read
	// every row (server/syncdb/specs.go) and review the concurrent edits the merge
	// lists — III.1: the Inspection Committee compiles what was found, the
	// Office answers the grassroots' recommendations.
	"history":   {actions: map[action]rule{actRead: headquarters}},
	"conflicts": {actions: map[action]rule{actRead: headquarters, actUpdate: headquarters}},

	// Sync: every user's device pushes and pulls; what a change may touch
	// and what a pull returns is decided per row by server/syncdb.
	"sync": {actions: map[action]rule{actPush: anyUser, actPull: anyUser}},

	// Synced rows read over the API (the console's notes list, one note
	// with its findings and rounds, one person's field activity;
	// reports_notes.go, reports_activity.go): everyone logged in; what each
	// reads is decided per row by server/syncdb's read scopes.
	"rows": {actions: map[action]rule{actRead: anyUser}},

	// Reports (headquarters; reports.go): headquarters read every report in
	// full. II.3: a secretary reads their own field-day tally; III.1: a
	// department follows up its own findings. Both read the campaigns'
	// coverage. reportRow, the row check, says which report is which.
	"reports": {
		actions: map[action]rule{actRead: {roles: headquarters.roles, ifRow: []string{auth.RoleSecretary, auth.RoleDepartment}}},
		row:     reportRow,
	},
})

// withTablePolicies adds to policies an entry per reference table edited
// over REST, from its spec: everyone logged in reads it (every role plans,
// logs or reviews against the same units, campaigns and teams, and
// devices pull them all anyway); the spec's Admin says who writes it.
func withTablePolicies(policies map[string]resourcePolicy) map[string]resourcePolicy {
	for _, t := range schema.Tables() {
		sp, ok := syncdb.SpecOf(t.Name)
		if !ok || sp.Admin == nil {
			continue
		}
		if _, dup := policies[t.Name]; dup {
			panic("policy: " + t.Name + " is both a table and another resource")
		}
		access := map[action]syncdb.Access{actCreate: sp.Admin.Create, actUpdate: sp.Admin.Update, actDelete: sp.Admin.Delete}
		rp := resourcePolicy{actions: map[action]rule{actRead: anyUser}}
		if len(sp.Admin.Decide.Roles) > 0 {
			access[actDecide] = sp.Admin.Decide
		}
		for act, a := range access {
			rp.actions[act] = rule{roles: a.Roles, ifRow: a.RowRoles}
		}
		rp.row = func(_ principal, act action, before, after map[string]any) error {
			if row := access[act].Row; row != nil {
				if err := row(before, after); err != nil {
					return forbidden(err.Error())
				}
			}
			return nil
		}
		policies[t.Name] = rp
	}
	return policies
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
