package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"dicoso/server/syncdb"
	"dicoso/sync/schema"
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
// in the field this year against the plan's minimum (60 in 2021).
type FieldDays struct {
	Year         int    `json:"year"`
	AsOf         string `json:"as_of"`
	PlanID       string `json:"plan_id"`
	PlanNumber   string `json:"plan_number"`
	MinFieldDays int    `json:"min_field_days"`
	// ElapsedDays of DaysInYear have passed by AsOf (AsOf included).
	ElapsedDays int `json:"elapsed_days"`
	DaysInYear  int `json:"days_in_year"`
	// ExpectedByDate is MinFieldDays × ElapsedDays / DaysInYear, to one
	// decimal: the days a secretary keeping pace has spent by AsOf.
	ExpectedByDate float64         `json:"expected_by_date"`
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
	// OnPace: FieldDays ≥ MinFieldDays × ElapsedDays / DaysInYear.
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

// ErrNoPlan is returned when no live plan exists for the year asked.
var ErrNoPlan = errors.New("no plan for that year")

// secretariesSQL lists the live users holding the secretary role, or the
// one named by :user.
const secretariesSQL = `SELECT u.id, u.username, u.full_name, u.title FROM users u
	WHERE u.deleted = 0 AND (:user = '' OR u.id = :user)
	AND EXISTS (SELECT 1 FROM json_each(u.roles) r WHERE r.value = 'secretary')
	ORDER BY u.full_name, u.username`

// tripDaysSQL lists, per secretary, each logged day of the year with its
// trip's purpose and whether it is verified. Check-ins are matched to the
// Vietnamese day by a range on the stored UTC instant (which also lets the
// (user_id, at) index serve it): the bounds carry no zone suffix so that
// any "…Z" instant of that second sorts after the lower one.
const tripDaysSQL = `SELECT td.user_id, td.day, t.purpose,
	EXISTS (SELECT 1 FROM checkins c
		WHERE c.user_id = td.user_id AND c.deleted = 0 AND c.voided = 0
		AND c.at >= strftime('%Y-%m-%dT%H:%M:%S', td.day, :shift)
		AND c.at < strftime('%Y-%m-%dT%H:%M:%S', td.day, '+1 day', :shift)
		AND (c.unit_id = td.unit_id OR c.unit_id IN (SELECT tu.value FROM json_each(t.unit_ids) tu))
		AND NOT EXISTS (SELECT 1 FROM json_each(c.flags) fl WHERE fl.value IN (:far, :nopos)))
	FROM trip_days td JOIN trips t ON t.id = td.trip_id
	WHERE td.deleted = 0 AND t.deleted = 0 AND t.status <> 'cancelled' AND t.user_id = td.user_id
	AND td.day BETWEEN :from AND :to
	AND td.user_id IN (SELECT u.id FROM users u WHERE u.deleted = 0 AND (:user = '' OR u.id = :user)
		AND EXISTS (SELECT 1 FROM json_each(u.roles) r WHERE r.value = 'secretary'))`

// FieldDays tallies the secretaries' field days of q.Year as of q.AsOf.
// It returns ErrNoPlan when the year has no plan, and store.ErrNotFound
// when q.UserID names no live secretary.
func (r *Reports) FieldDays(ctx context.Context, q FieldDaysQuery) (FieldDays, error) {
	asOf, err := time.Parse(time.DateOnly, q.AsOf)
	if err != nil {
		return FieldDays{}, fmt.Errorf("report field days: as-of date %q: %w", q.AsOf, err)
	}
	out := FieldDays{Year: q.Year, AsOf: q.AsOf, SpecialPeriods: []SpecialPeriod{}, Items: []SecretaryDays{}}
	start := time.Date(q.Year, time.January, 1, 0, 0, 0, 0, time.UTC)
	out.DaysInYear = int(start.AddDate(1, 0, 0).Sub(start).Hours() / 24)
	out.ElapsedDays = min(max(int(asOf.Sub(start).Hours()/24)+1, 0), out.DaysInYear)
	from, to := start.Format(time.DateOnly), start.AddDate(1, 0, -1).Format(time.DateOnly)

	var secs []SecretaryDays
	var logged []loggedDay
	err = r.read(ctx, "field days", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id, number, min_field_days FROM plans
			WHERE deleted = 0 AND year = ? ORDER BY issued_on DESC, id LIMIT 1`, q.Year).
			Scan(&out.PlanID, &out.PlanNumber, &out.MinFieldDays)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("year %d: %w", q.Year, ErrNoPlan)
		}
		if err != nil {
			return fmt.Errorf("read plan: %w", err)
		}
		if out.SpecialPeriods, err = specialPeriods(ctx, tx, out.PlanID); err != nil {
			return err
		}
		if secs, err = secretaries(ctx, tx, q.UserID); err != nil {
			return err
		}
		if q.UserID != "" && len(secs) == 0 {
			return notFound("secretary " + q.UserID)
		}
		logged, err = loggedDays(ctx, tx, q.UserID, from, to)
		return err
	})
	if err != nil {
		return FieldDays{}, err
	}

	expected := float64(out.MinFieldDays) * float64(out.ElapsedDays) / float64(out.DaysInYear)
	out.ExpectedByDate = math.Round(expected*10) / 10
	purposes := tripPurposes()
	byUser := make(map[string][]loggedDay)
	for _, d := range logged {
		byUser[d.userID] = append(byUser[d.userID], d)
	}
	for _, s := range secs {
		t := tally(byUser[s.UserID], q.AsOf, purposes, out.SpecialPeriods)
		s.FieldDays, s.VerifiedDays, s.PlannedDays = t.field, t.verified, t.planned
		s.MinFieldDays = out.MinFieldDays
		s.RemainingDays = max(out.MinFieldDays-t.field, 0)
		s.ExpectedByDate = out.ExpectedByDate
		// Compared in whole numbers so that a secretary exactly on the line
		// is on pace whatever the rounding of ExpectedByDate.
		s.OnPace = t.field*out.DaysInYear >= out.MinFieldDays*out.ElapsedDays
		s.ByPurpose = t.byPurpose
		s.SpecialPeriods = t.byPeriod
		out.Items = append(out.Items, s)
	}
	return out, nil
}

// tripPurposes are the four purposes of plan II.3, in the registry's order.
func tripPurposes() []string {
	t, _ := schema.Lookup("trips")
	f, _ := t.Field("purpose")
	return f.Values
}

func specialPeriods(ctx context.Context, tx *sql.Tx, planID string) ([]SpecialPeriod, error) {
	rs, err := tx.QueryContext(ctx, `SELECT id, name, starts_on, ends_on FROM special_periods
		WHERE deleted = 0 AND plan_id = ? ORDER BY starts_on, name`, planID)
	if err != nil {
		return nil, fmt.Errorf("read special periods: %w", err)
	}
	defer rs.Close()
	out := []SpecialPeriod{}
	for rs.Next() {
		var p SpecialPeriod
		var starts, ends sql.NullString
		if err := rs.Scan(&p.ID, &p.Name, &starts, &ends); err != nil {
			return nil, fmt.Errorf("read special periods: %w", err)
		}
		p.StartsOn, p.EndsOn = nullable(starts), nullable(ends)
		out = append(out, p)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read special periods: %w", err)
	}
	return out, nil
}

func secretaries(ctx context.Context, tx *sql.Tx, userID string) ([]SecretaryDays, error) {
	rs, err := tx.QueryContext(ctx, secretariesSQL, sql.Named("user", userID))
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

// loggedDay is one trip day as the tally needs it.
type loggedDay struct {
	userID, day, purpose string
	verified             bool
}

func loggedDays(ctx context.Context, tx *sql.Tx, userID, from, to string) ([]loggedDay, error) {
	rs, err := tx.QueryContext(ctx, tripDaysSQL,
		sql.Named("user", userID), sql.Named("from", from), sql.Named("to", to),
		sql.Named("shift", shiftToUTC),
		sql.Named("far", syncdb.FlagFarFromUnit), sql.Named("nopos", syncdb.FlagNoPosition))
	if err != nil {
		return nil, fmt.Errorf("read trip days: %w", err)
	}
	defer rs.Close()
	var out []loggedDay
	for rs.Next() {
		var d loggedDay
		if err := rs.Scan(&d.userID, &d.day, &d.purpose, &d.verified); err != nil {
			return nil, fmt.Errorf("read trip days: %w", err)
		}
		out = append(out, d)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read trip days: %w", err)
	}
	return out, nil
}

// tallied is one secretary's counts.
type tallied struct {
	field, verified, planned int
	byPurpose                []PurposeDays
	byPeriod                 []PeriodDays
}

// tally counts distinct days: a day logged on two trips (or twice on one)
// is one field day, verified when any of its trips is verified there.
func tally(days []loggedDay, asOf string, purposes []string, periods []SpecialPeriod) tallied {
	type mark struct{ logged, verified bool }
	all := map[string]*mark{}
	perPurpose := map[string]map[string]*mark{}
	planned := map[string]bool{}
	note := func(m map[string]*mark, day string, verified bool) {
		if m[day] == nil {
			m[day] = &mark{logged: true}
		}
		m[day].verified = m[day].verified || verified
	}
	for _, d := range days {
		if d.day > asOf { // YYYY-MM-DD strings order as dates
			planned[d.day] = true
			continue
		}
		note(all, d.day, d.verified)
		if perPurpose[d.purpose] == nil {
			perPurpose[d.purpose] = map[string]*mark{}
		}
		note(perPurpose[d.purpose], d.day, d.verified)
	}
	count := func(m map[string]*mark, keep func(day string) bool) (field, verified int) {
		for day, mk := range m {
			if !keep(day) {
				continue
			}
			field++
			if mk.verified {
				verified++
			}
		}
		return field, verified
	}
	every := func(string) bool { return true }
	out := tallied{planned: len(planned), byPurpose: []PurposeDays{}, byPeriod: []PeriodDays{}}
	out.field, out.verified = count(all, every)
	for _, p := range purposes {
		f, v := count(perPurpose[p], every)
		out.byPurpose = append(out.byPurpose, PurposeDays{Purpose: p, FieldDays: f, VerifiedDays: v})
	}
	for _, p := range periods {
		pd := PeriodDays{PeriodID: p.ID, Name: p.Name}
		if p.StartsOn != nil && p.EndsOn != nil {
			starts, ends := *p.StartsOn, *p.EndsOn
			pd.FieldDays, pd.VerifiedDays = count(all, func(day string) bool { return day >= starts && day <= ends })
		}
		out.byPeriod = append(out.byPeriod, pd)
	}
	return out
}
