package plan

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The field-day tally is SQL, not Go: the server runs it over the central
// store and the phone over its own SQLite copy, which holds the same synced
// tables under the same column names. One text, two databases, one answer.
// The queries therefore read columns as a device holds them too: nullable
// where the server has defaults, and a check-in the server has not judged
// yet (no received_at: still in the phone's outbox) judged by the same
// radius the server applies.
//
// What counts (plan II.3):
//   - a field day is a distinct day of the year on which the user logged a
//     live trip day of their own live trip that is not cancelled; a day on
//     two trips, or logged twice, is one field day;
//   - days after the as-of date are planned, not yet spent in the field;
//   - a field day is verified when the user also checked in that day (in
//     Vietnam) at a unit of that day's trip, the check-in live, not voided,
//     with a position and not far from the unit;
//   - by purpose: a day with trips of two purposes counts once in each;
//   - by special period: the field days between the period's first and last
//     day, both included, of the periods of the year's plan;
//   - the minimum is the year's plan's, else DefaultMinFieldDays; the pace
//     due by the as-of date is that minimum times the share of the year
//     elapsed (the as-of day included), and a user is on pace with at least
//     that many field days.

// Query is one statement of the rules. Its parameters are bound by
// position (?1, ?2, …) in the order of Params, so that the same text runs
// under database/sql and in the PWA's SQLite worker.
type Query struct {
	SQL    string
	Params []string
}

// Args orders named values as the query's parameters.
func (q Query) Args(values map[string]any) []any {
	out := make([]any, len(q.Params))
	for i, p := range q.Params {
		out[i] = values[p]
	}
	return out
}

// yearStart is the first day of year ?1.
const yearStart = "printf('%04d-01-01', ?1)"

// PlanQuery reads the year's plan and the pace: always one row, with a
// null plan_id when the year has no plan. Parameters: year (integer),
// as_of (YYYY-MM-DD).
func PlanQuery() Query {
	return Query{Params: []string{"year", "as_of"}, SQL: fmt.Sprintf(`WITH cal AS (
  SELECT CAST(julianday(%[1]s, '+1 year') - julianday(%[1]s) AS INTEGER) AS days_in_year,
    CAST(julianday(?2) - julianday(%[1]s) AS INTEGER) + 1 AS since_new_year
), p AS (
  SELECT id, number, title, min_field_days FROM plans
  WHERE deleted = 0 AND year = ?1 ORDER BY issued_on DESC, id LIMIT 1
), m AS (
  SELECT p.id AS plan_id, COALESCE(p.number, '') AS plan_number, COALESCE(p.title, '') AS plan_title,
    COALESCE(NULLIF(p.min_field_days, 0), %[2]d) AS min_field_days,
    cal.days_in_year, max(0, min(cal.days_in_year, cal.since_new_year)) AS elapsed_days
  FROM cal LEFT JOIN p ON 1
)
SELECT plan_id, plan_number, plan_title, min_field_days, days_in_year, elapsed_days,
  round(min_field_days * elapsed_days * 1.0 / days_in_year, 1) AS expected_by_date,
  (min_field_days * elapsed_days + days_in_year - 1) / days_in_year AS due_by_date
FROM m`, yearStart, DefaultMinFieldDays)}
}

// PeriodsQuery lists the special periods of a plan (Tháng Thanh niên, the
// summer volunteer campaign). Parameter: plan_id (null: none).
func PeriodsQuery() Query {
	return Query{Params: []string{"plan_id"}, SQL: `SELECT id, COALESCE(name, '') AS name, starts_on, ends_on
FROM special_periods WHERE deleted = 0 AND plan_id = ?1 ORDER BY starts_on, name`}
}

// Kinds of TallyQuery rows.
const (
	KindField   = "field"   // key '': field days up to as_of, and the verified ones
	KindPlanned = "planned" // key '': distinct days after as_of already logged
	KindPurpose = "purpose" // key: a trip purpose
	KindPeriod  = "period"  // key: a special period's id
)

// TallyQuery counts field days per user: rows of (user_id, kind, key,
// days, verified); a user with no day logged in the year has no row.
// Parameters: year, as_of, user_id (” for every user), plan_id (whose
// special periods count; null for none).
func TallyQuery() Query {
	// A check-in's instant is stored in UTC; the day's bounds are the
	// Vietnamese midnights, written without a zone suffix so that any
	// "…Z" instant of that second sorts after the lower one (the (user_id,
	// at) index serves the range).
	shift := fmt.Sprintf("'%+d hours'", -UTCOffsetHours)
	haversine := `2 * 6371000 * asin(min(1, sqrt(
            pow(sin(radians(u.lat - c.lat) / 2), 2) +
            cos(radians(c.lat)) * cos(radians(u.lat)) * pow(sin(radians(u.lng - c.lng) / 2), 2))))`
	near := fmt.Sprintf(`CASE WHEN c.received_at IS NULL OR c.received_at = '' THEN
        -- not judged by the server yet (still in the outbox): judged here alike
        c.lat IS NOT NULL AND c.lng IS NOT NULL AND COALESCE((SELECT round(%s) <= %d
          FROM units u WHERE u.id = c.unit_id AND u.lat IS NOT NULL AND u.lng IS NOT NULL), 1)
      ELSE NOT EXISTS (SELECT 1 FROM json_each(c.flags) fl WHERE fl.value IN ('%s', '%s')) END`,
		haversine, NearUnitMeters, FlagFarFromUnit, FlagNoPosition)
	sql := `WITH logged AS (
  SELECT td.user_id, td.day, COALESCE(t.purpose, '') AS purpose,
    EXISTS (SELECT 1 FROM checkins c
      WHERE c.user_id = td.user_id AND c.deleted = 0 AND COALESCE(c.voided, 0) = 0
      AND c.at >= strftime('%Y-%m-%dT%H:%M:%S', td.day, SHIFT)
      AND c.at < strftime('%Y-%m-%dT%H:%M:%S', td.day, '+1 day', SHIFT)
      AND (c.unit_id = td.unit_id OR c.unit_id IN (SELECT tu.value FROM json_each(t.unit_ids) tu))
      AND NEAR) AS verified
  FROM trip_days td JOIN trips t ON t.id = td.trip_id
  WHERE td.deleted = 0 AND t.deleted = 0 AND COALESCE(t.status, '') <> 'cancelled' AND t.user_id = td.user_id
    AND td.day BETWEEN printf('%04d-01-01', ?1) AND printf('%04d-12-31', ?1)
    AND (?3 = '' OR td.user_id = ?3)
), days AS (
  SELECT user_id, day, max(verified) AS verified FROM logged GROUP BY user_id, day
)
SELECT user_id, 'KFIELD' AS kind, '' AS key, count(*) AS days, sum(verified) AS verified
  FROM days WHERE day <= ?2 GROUP BY user_id
UNION ALL
SELECT user_id, 'KPLANNED', '', count(*), 0 FROM days WHERE day > ?2 GROUP BY user_id
UNION ALL
SELECT user_id, 'KPURPOSE', purpose, count(*), sum(verified) FROM (
    SELECT user_id, day, purpose, max(verified) AS verified FROM logged
    WHERE day <= ?2 GROUP BY user_id, day, purpose)
  GROUP BY user_id, purpose
UNION ALL
SELECT d.user_id, 'KPERIOD', p.id, count(*), sum(d.verified)
  FROM days d JOIN special_periods p ON p.deleted = 0 AND p.plan_id = ?4 AND d.day BETWEEN p.starts_on AND p.ends_on
  WHERE d.day <= ?2 GROUP BY d.user_id, p.id`
	sql = strings.NewReplacer("SHIFT", shift, "NEAR", near,
		"KFIELD", KindField, "KPLANNED", KindPlanned, "KPURPOSE", KindPurpose, "KPERIOD", KindPeriod).Replace(sql)
	return Query{Params: []string{"year", "as_of", "user_id", "plan_id"}, SQL: sql}
}

// Querier runs a query: a *sql.DB, *sql.Tx or *sql.Conn.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Tally is the field days of a year as of one day.
type Tally struct {
	Year int
	AsOf string
	// Plan is the year's plan; nil when the year has none.
	Plan         *PlanRef
	MinFieldDays int
	DaysInYear   int
	// ElapsedDays of DaysInYear have passed by AsOf (AsOf included).
	ElapsedDays int
	// ExpectedByDate is MinFieldDays × ElapsedDays / DaysInYear, to one
	// decimal; DueByDate is the same rounded up to whole days: a user with
	// at least DueByDate field days is on pace.
	ExpectedByDate float64
	DueByDate      int
	Periods        []Period
	users          map[string]*UserDays
}

// PlanRef names a plan.
type PlanRef struct {
	ID, Number, Title string
}

// Period is a special period of the plan.
type Period struct {
	ID, Name         string
	StartsOn, EndsOn *string
}

// Days counts field days and the verified ones among them.
type Days struct {
	Field, Verified int
}

// UserDays is one user's tally.
type UserDays struct {
	Days
	Planned int
	// ByPurpose has an entry for every purpose; ByPeriod for every period
	// of the plan (by id).
	ByPurpose map[string]Days
	ByPeriod  map[string]Days
}

// OnPace reports whether fieldDays keep the pace due by the as-of date.
func (t *Tally) OnPace(fieldDays int) bool { return fieldDays >= t.DueByDate }

// Remaining is how many field days are still owed for the minimum.
func (t *Tally) Remaining(fieldDays int) int { return max(t.MinFieldDays-fieldDays, 0) }

// User is the tally of one user: zeros when they logged no day.
func (t *Tally) User(id string) UserDays {
	out := UserDays{ByPurpose: map[string]Days{}, ByPeriod: map[string]Days{}}
	for _, p := range Purposes() {
		out.ByPurpose[p] = Days{}
	}
	for _, p := range t.Periods {
		out.ByPeriod[p.ID] = Days{}
	}
	u := t.users[id]
	if u == nil {
		return out
	}
	out.Days, out.Planned = u.Days, u.Planned
	for k, v := range u.ByPurpose {
		out.ByPurpose[k] = v
	}
	for k, v := range u.ByPeriod {
		out.ByPeriod[k] = v
	}
	return out
}

// Compute runs the tally of year as of asOf (YYYY-MM-DD) over db, an
// SQLite database, for one user or, with userID "", for every user who
// logged a day. Run it in one read transaction for a consistent answer.
func Compute(ctx context.Context, db Querier, year int, asOf, userID string) (Tally, error) {
	return ComputeWith(ctx, db, SQLiteQueries(), year, asOf, userID)
}

// ComputeWith is Compute with the queries of db's dialect.
func ComputeWith(ctx context.Context, db Querier, qs Queries, year int, asOf, userID string) (Tally, error) {
	out := Tally{Year: year, AsOf: asOf, Periods: []Period{}, users: map[string]*UserDays{}}
	pq := qs.Plan
	var planID, number, title sql.NullString
	err := queryRows(ctx, db, pq, map[string]any{"year": year, "as_of": asOf}, func(rs *sql.Rows) error {
		return rs.Scan(&planID, &number, &title, &out.MinFieldDays, &out.DaysInYear, &out.ElapsedDays,
			&out.ExpectedByDate, &out.DueByDate)
	})
	if err != nil {
		return Tally{}, fmt.Errorf("plan of %d: %w", year, err)
	}
	var plan any // NULL binds when the year has no plan
	if planID.Valid {
		out.Plan = &PlanRef{ID: planID.String, Number: number.String, Title: title.String}
		plan = planID.String
	}
	err = queryRows(ctx, db, qs.Periods, map[string]any{"plan_id": plan}, func(rs *sql.Rows) error {
		var p Period
		var starts, ends sql.NullString
		if err := rs.Scan(&p.ID, &p.Name, &starts, &ends); err != nil {
			return err
		}
		p.StartsOn, p.EndsOn = nullable(starts), nullable(ends)
		out.Periods = append(out.Periods, p)
		return nil
	})
	if err != nil {
		return Tally{}, fmt.Errorf("special periods: %w", err)
	}
	args := map[string]any{"year": year, "as_of": asOf, "user_id": userID, "plan_id": plan}
	err = queryRows(ctx, db, qs.Tally, args, func(rs *sql.Rows) error {
		var user, kind, key string
		var d Days
		var verified sql.NullInt64
		if err := rs.Scan(&user, &kind, &key, &d.Field, &verified); err != nil {
			return err
		}
		d.Verified = int(verified.Int64)
		u := out.users[user]
		if u == nil {
			u = &UserDays{ByPurpose: map[string]Days{}, ByPeriod: map[string]Days{}}
			out.users[user] = u
		}
		switch kind {
		case KindField:
			u.Days = d
		case KindPlanned:
			u.Planned = d.Field
		case KindPurpose:
			u.ByPurpose[key] = d
		case KindPeriod:
			u.ByPeriod[key] = d
		}
		return nil
	})
	if err != nil {
		return Tally{}, fmt.Errorf("field days: %w", err)
	}
	return out, nil
}

func queryRows(ctx context.Context, db Querier, q Query, values map[string]any, row func(*sql.Rows) error) error {
	rs, err := db.QueryContext(ctx, q.SQL, q.Args(values)...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		if err := row(rs); err != nil {
			return err
		}
	}
	return rs.Err()
}

// nullable turns a NULL or empty column into nil.
func nullable(s sql.NullString) *string {
	if !s.Valid || s.String == "" {
		return nil
	}
	v := s.String
	return &v
}
