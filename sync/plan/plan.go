// Package plan holds the business rules of Plan 356-KH/TWĐTN-BKT that the
// server and the devices both apply: the secretaries' field-day tally (what
// counts as a field day, when a day is verified, the minimum and the pace),
// how near a check-in must be to its unit, the plan's calendar and the role
// sets. The PWA receives them as generated TypeScript
// (pwa/src/store/plan.gen.ts, written by `go generate ./sync/schema`), so a
// rule changed here changes on the server and on the phone together.
package plan

import (
	"slices"
	"time"

	"dicoso/sync/schema"
)

// DefaultMinFieldDays is the minimum of field days a secretary owes in a
// year (plan II.3: "ít nhất 60 ngày/năm"). It applies to a year whose plan
// sets no minimum (min_field_days 0) and to a year with no plan at all: the
// secretaries keep going to the grassroots before the year's plan is
// issued, and their days count against the standing minimum meanwhile.
const DefaultMinFieldDays = 60

// NearUnitMeters is how far from its unit's point a check-in may be and
// still place the user at the unit. The server flags a check-in farther
// away far_from_unit when it receives it; a flagged check-in verifies no
// field day.
const NearUnitMeters = 5000

// Check-in flags the tally reads (the server sets them on receipt).
const (
	FlagFarFromUnit = "far_from_unit" // more than NearUnitMeters from the unit's point
	FlagNoPosition  = "no_position"   // no coordinates were sent
)

// UTCOffsetHours is the plan's calendar: a field day, a check-in's day and
// "today" are days in Vietnam (UTC+7 all year, no daylight saving time), so
// a check-in at 06:30 in Hà Nội counts on that day, not on the UTC day
// before.
const UTCOffsetHours = 7

// Vietnam is the plan's calendar as a time zone.
func Vietnam() *time.Location { return time.FixedZone("ICT", UTCOffsetHours*3600) }

// Today is the plan's date (Vietnam) at instant now, as YYYY-MM-DD.
func Today(now time.Time) string { return now.In(Vietnam()).Format(time.DateOnly) }

// UntilTomorrow is how long after now the plan's date (Vietnam) changes.
func UntilTomorrow(now time.Time) time.Duration {
	local := now.In(Vietnam())
	y, m, d := local.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, Vietnam()).Sub(now)
}

// Roles. A user may hold several.
const (
	RoleAdmin               = "admin"
	RoleInspectionCommittee = "inspection_committee"
	RoleOffice              = "office"
	RoleDepartment          = "department"
	RoleSecretary           = "secretary"
	RoleInspector           = "inspector"
	RoleUnitLiaison         = "unit_liaison"
)

// TalliedRole is the role whose field days the plan counts (II.3: the
// secretaries of the Central Youth Union).
const TalliedRole = RoleSecretary

// Roles lists every role.
func Roles() []string {
	return []string{RoleAdmin, RoleInspectionCommittee, RoleOffice, RoleDepartment,
		RoleSecretary, RoleInspector, RoleUnitLiaison}
}

// AllSeeingRoles are headquarters: the roles that read every row and
// review every note and finding (the administrator, the Inspection
// Committee, which compiles the findings, and the Office, which compiles
// the recommendations; plan III.1).
func AllSeeingRoles() []string {
	return []string{RoleAdmin, RoleInspectionCommittee, RoleOffice}
}

// RegisterRoles read the findings register: headquarters, and the
// departments that follow the findings assigned to them up (plan III.1).
func RegisterRoles() []string {
	return append(AllSeeingRoles(), RoleDepartment)
}

// FieldRoles work at the grassroots (II.3: the secretaries' field days;
// I.1: the inspectors' visits): they check in, log trips and propose the
// grassroots places they visit.
func FieldRoles() []string {
	return []string{RoleSecretary, RoleInspector}
}

// SeesAll reports whether a user holding roles is headquarters.
func SeesAll(roles []string) bool {
	return slices.ContainsFunc(AllSeeingRoles(), func(r string) bool { return slices.Contains(roles, r) })
}

// Purposes are the four purposes of a field trip (plan II.3), in the
// plan's order: the registry's values of trips.purpose.
func Purposes() []string {
	t, ok := schema.Lookup("trips")
	if !ok {
		panic("plan: the registry has no trips table")
	}
	f, ok := t.Field("purpose")
	if !ok {
		panic("plan: the registry has no trips.purpose")
	}
	return slices.Clone(f.Values)
}
