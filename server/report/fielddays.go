package report

import (
	"context"
	"database/sql"
	"dicoso/server/store"
	"fmt"
	"time"

	"dicoso/sync/plan"
)

// FieldDaysQuery selects a field-day tally.
type FieldDaysQuery struct {
	Year int
	// AsOf (YYYY-MM-DD) is the day the tally is read on: days logged for
	// later dates are planned, not yet spent in the field, and the pace
	// expected of a secretary is the share of the year elapsed by then.
	AsOf string
	// UserID limits the tally to one secretary; "" tallies them all.
	UserID string
}

// FieldDays is the live tally of plan II.3: each secretary's distinct days
// in the field this year against the plan's minimum (60 in 2021). What
// counts is sync/plan's to say (see plan.TallyQuery).
type FieldDays struct {
	Year int    `json:"year"`
	AsOf string `json:"as_of"`
	// PlanID and PlanNumber name the year's plan; null when the year has
	// none (its days are still tallied, against plan.DefaultMinFieldDays).
	PlanID       *string `json:"plan_id"`
	PlanNumber   *string `json:"plan_number"`
	MinFieldDays int     `json:"min_field_days"`
	// ElapsedDays of DaysInYear have passed by AsOf (AsOf included).
	ElapsedDays int `json:"elapsed_days"`
	DaysInYear  int `json:"days_in_year"`
	// ExpectedByDate is MinFieldDays × ElapsedDays / DaysInYear, to one
	// decimal: the days a secretary keeping pace has spent by AsOf.
	ExpectedByDate float64 `json:"expected_by_date"`
	// DueByDate is the same rounded up to whole days: a secretary with at
	// least that many field days is on pace.
	DueByDate      int             `json:"due_by_date"`
	SpecialPeriods []SpecialPeriod `json:"special_periods"`
	Items          []SecretaryDays `json:"items"`
}

// SpecialPeriod is a period of the plan the secretaries are asked to visit
// in (Tháng Thanh niên, Chiến dịch Thanh niên tình nguyện Hè).
type SpecialPeriod struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	StartsOn *string `json:"starts_on"`
	EndsOn   *string `json:"ends_on"`
}

// SecretaryDays is one secretary's tally.
type SecretaryDays struct {
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	FullName string `json:"full_name"`
	Title    string `json:"title"`
	// FieldDays are the distinct days up to AsOf of the secretary's live
	// trip days on live trips that are not cancelled.
	FieldDays int `json:"field_days"`
	// VerifiedDays are the field days on which the secretary also checked
	// in (live, not voided) at a unit of that day's trip, and the check-in
	// had a position within reach of the unit (no far_from_unit or
	// no_position flag).
	VerifiedDays int `json:"verified_days"`
	// PlannedDays are distinct days of the year after AsOf already logged.
	PlannedDays    int     `json:"planned_days"`
	MinFieldDays   int     `json:"min_field_days"`
	RemainingDays  int     `json:"remaining_days"`
	ExpectedByDate float64 `json:"expected_by_date"`
	// OnPace: FieldDays ≥ MinFieldDays × ElapsedDays / DaysInYear (that is,
	// at least the report's DueByDate).
	OnPace bool `json:"on_pace"`
	// ByPurpose has one entry per trip purpose, in the plan's order. A day
	// with trips of two purposes counts once in each.
	ByPurpose []PurposeDays `json:"by_purpose"`
	// SpecialPeriods has one entry per special period of the plan.
	SpecialPeriods []PeriodDays `json:"special_periods"`
}

// PurposeDays counts the days spent on one trip purpose.
type PurposeDays struct {
	Purpose      string `json:"purpose"`
	FieldDays    int    `json:"field_days"`
	VerifiedDays int    `json:"verified_days"`
}

// PeriodDays counts the field days inside one special period.
type PeriodDays struct {
	PeriodID     string `json:"period_id"`
	Name         string `json:"name"`
	FieldDays    int    `json:"field_days"`
	VerifiedDays int    `json:"verified_days"`
}

// secretariesSQL lists the live users holding the tallied role, or the one
// named by :user.
func secretariesSQL(d store.Dialect) string {
	return `SELECT u.id, u.username, u.full_name, u.title FROM users u
	WHERE u.deleted = 0 AND (:user = '' OR u.id = :user)
	AND EXISTS (SELECT 1 FROM ` + d.JSONEach("u.roles", "r") + ` WHERE r.value = :role)
	ORDER BY u.full_name, u.username`
}

// FieldDays tallies the secretaries' field days of q.Year as of q.AsOf by
// the rules of sync/plan, the same the phones apply to their own copy. A
// year with no plan is tallied against plan.DefaultMinFieldDays, with no
// plan named. It returns store.ErrNotFound when q.UserID names no live
// secretary.
func (r *Reports) FieldDays(ctx context.Context, q FieldDaysQuery) (FieldDays, error) {
	if _, err := time.Parse(time.DateOnly, q.AsOf); err != nil {
		return FieldDays{}, fmt.Errorf("report field days: as-of date %q: %w", q.AsOf, err)
	}
	var secs []SecretaryDays
	var t plan.Tally
	err := r.read(ctx, "field days", func(tx *sql.Tx) error {
		var err error
		if secs, err = secretaries(ctx, r.st.Dialect(), tx, q.UserID); err != nil {
			return err
		}
		if q.UserID != "" && len(secs) == 0 {
			return notFound("secretary " + q.UserID)
		}
		qs := plan.SQLiteQueries()
		if r.st.Dialect() == store.Postgres {
			qs = plan.PostgresQueries()
		}
		t, err = plan.ComputeWith(ctx, tx, qs, q.Year, q.AsOf, q.UserID)
		return err
	})
	if err != nil {
		return FieldDays{}, err
	}

	out := FieldDays{
		Year: t.Year, AsOf: t.AsOf, MinFieldDays: t.MinFieldDays,
		ElapsedDays: t.ElapsedDays, DaysInYear: t.DaysInYear, ExpectedByDate: t.ExpectedByDate, DueByDate: t.DueByDate,
		SpecialPeriods: []SpecialPeriod{}, Items: []SecretaryDays{},
	}
	if t.Plan != nil {
		out.PlanID, out.PlanNumber = &t.Plan.ID, &t.Plan.Number
	}
	for _, p := range t.Periods {
		out.SpecialPeriods = append(out.SpecialPeriods, SpecialPeriod{ID: p.ID, Name: p.Name, StartsOn: p.StartsOn, EndsOn: p.EndsOn})
	}
	for _, s := range secs {
		u := t.User(s.UserID)
		s.FieldDays, s.VerifiedDays, s.PlannedDays = u.Field, u.Verified, u.Planned
		s.MinFieldDays = t.MinFieldDays
		s.RemainingDays = t.Remaining(u.Field)
		s.ExpectedByDate = t.ExpectedByDate
		s.OnPace = t.OnPace(u.Field)
		s.ByPurpose = []PurposeDays{}
		for _, p := range plan.Purposes() {
			d := u.ByPurpose[p]
			s.ByPurpose = append(s.ByPurpose, PurposeDays{Purpose: p, FieldDays: d.Field, VerifiedDays: d.Verified})
		}
		s.SpecialPeriods = []PeriodDays{}
		for _, p := range t.Periods {
			d := u.ByPeriod[p.ID]
			s.SpecialPeriods = append(s.SpecialPeriods, PeriodDays{PeriodID: p.ID, Name: p.Name, FieldDays: d.Field, VerifiedDays: d.Verified})
		}
		out.Items = append(out.Items, s)
	}
	return out, nil
}

func secretaries(ctx context.Context, d store.Dialect, tx *sql.Tx, userID string) ([]SecretaryDays, error) {
	rs, err := tx.QueryContext(ctx, secretariesSQL(d), sql.Named("user", userID), sql.Named("role", plan.TalliedRole))
	if err != nil {
		return nil, fmt.Errorf("read secretaries: %w", err)
	}
	defer rs.Close()
	var out []SecretaryDays
	for rs.Next() {
		var s SecretaryDays
		if err := rs.Scan(&s.UserID, &s.Username, &s.FullName, &s.Title); err != nil {
			return nil, fmt.Errorf("read secretaries: %w", err)
		}
		out = append(out, s)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read secretaries: %w", err)
	}
	return out, nil
}
