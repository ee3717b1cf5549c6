package plan

import (
	"fmt"
	"strings"
)

// The server may keep its store in PostgreSQL (docs/postgres.md) rather
// than SQLite. These are the tally's queries in PostgreSQL's dialect, beside
// SQLite's (tally.go) and line for line the same rules: the same
// parameters in the same order, the same columns in the same order. A
// change of the rules changes both; the report tests run on both stores
// and hold them to one answer.

// Queries are the three statements of the tally in one dialect.
type Queries struct {
	Plan, Periods, Tally Query
}

// SQLiteQueries are the tally as the phone and the embedded store run it.
func SQLiteQueries() Queries {
	return Queries{Plan: PlanQuery(), Periods: PeriodsQuery(), Tally: TallyQuery()}
}

// PostgresQueries are the tally for a PostgreSQL store.
func PostgresQueries() Queries {
	return Queries{Plan: planQueryPG(), Periods: PeriodsQuery(), Tally: tallyQueryPG()}
}

// yearStartPG is the first day of year ?1, as a date.
const yearStartPG = "make_date(CAST(?1 AS integer), 1, 1)"

func planQueryPG() Query {
	return Query{Params: []string{"year", "as_of"}, SQL: fmt.Sprintf(`WITH cal AS (
  SELECT (%[1]s + interval '1 year')::date - %[1]s AS days_in_year,
    (CAST(?2 AS text)::date - %[1]s) + 1 AS since_new_year
), p AS (
  SELECT id, number, title, min_field_days FROM plans
  WHERE deleted = 0 AND year = ?1 ORDER BY issued_on DESC, id LIMIT 1
), m AS (
  SELECT p.id AS plan_id, COALESCE(p.number, '') AS plan_number, COALESCE(p.title, '') AS plan_title,
    COALESCE(NULLIF(p.min_field_days, 0), %[2]d) AS min_field_days,
    cal.days_in_year, GREATEST(0, LEAST(cal.days_in_year, cal.since_new_year)) AS elapsed_days
  FROM cal LEFT JOIN p ON TRUE
)
SELECT plan_id, plan_number, plan_title, min_field_days, days_in_year, elapsed_days,
  round(min_field_days * elapsed_days * 1.0 / days_in_year, 1)::float8 AS expected_by_date,
  (min_field_days * elapsed_days + days_in_year - 1) / days_in_year AS due_by_date
FROM m`, yearStartPG, DefaultMinFieldDays)}
}

func tallyQueryPG() Query {
	shift := fmt.Sprintf("interval '%+d hours'", -UTCOffsetHours)
	haversine := `2 * 6371000 * asin(LEAST(1, sqrt(
            pow(sin(radians(u.lat - c.lat) / 2), 2) +
            cos(radians(c.lat)) * cos(radians(u.lat)) * pow(sin(radians(u.lng - c.lng) / 2), 2))))`
	near := fmt.Sprintf(`CASE WHEN c.received_at IS NULL OR c.received_at = '' THEN
        c.lat IS NOT NULL AND c.lng IS NOT NULL AND COALESCE((SELECT round(%s) <= %d
          FROM units u WHERE u.id = c.unit_id AND u.lat IS NOT NULL AND u.lng IS NOT NULL), TRUE)
      ELSE NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(c.flags::jsonb) fl(value) WHERE fl.value IN ('%s', '%s')) END`,
		haversine, NearUnitMeters, FlagFarFromUnit, FlagNoPosition)
	sql := `WITH logged AS (
  SELECT td.user_id, td.day, COALESCE(t.purpose, '') AS purpose,
    (EXISTS (SELECT 1 FROM checkins c
      WHERE c.user_id = td.user_id AND c.deleted = 0 AND COALESCE(c.voided, 0) = 0
      AND c.at >= to_char(td.day::timestamp + SHIFT, 'YYYY-MM-DD"T"HH24:MI:SS')
      AND c.at < to_char(td.day::timestamp + interval '1 day' + SHIFT, 'YYYY-MM-DD"T"HH24:MI:SS')
      AND (c.unit_id = td.unit_id OR c.unit_id IN (SELECT tu.value FROM jsonb_array_elements_text(t.unit_ids::jsonb) tu(value)))
      AND NEAR))::int AS verified
  FROM trip_days td JOIN trips t ON t.id = td.trip_id
  WHERE td.deleted = 0 AND t.deleted = 0 AND COALESCE(t.status, '') <> 'cancelled' AND t.user_id = td.user_id
    AND td.day BETWEEN to_char(YEAR_START, 'YYYY-MM-DD') AND to_char(YEAR_START + interval '1 year' - interval '1 day', 'YYYY-MM-DD')
    AND (CAST(?3 AS text) = '' OR td.user_id = ?3)
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
    WHERE day <= ?2 GROUP BY user_id, day, purpose) AS by_purpose
  GROUP BY user_id, purpose
UNION ALL
SELECT d.user_id, 'KPERIOD', p.id, count(*), sum(d.verified)
  FROM days d JOIN special_periods p ON p.deleted = 0 AND p.plan_id = ?4 AND d.day BETWEEN p.starts_on AND p.ends_on
  WHERE d.day <= ?2 GROUP BY d.user_id, p.id`
	sql = strings.NewReplacer("SHIFT", shift, "NEAR", near, "YEAR_START", yearStartPG,
		"KFIELD", KindField, "KPLANNED", KindPlanned, "KPURPOSE", KindPurpose, "KPERIOD", KindPeriod).Replace(sql)
	return Query{Params: []string{"year", "as_of", "user_id", "plan_id"}, SQL: sql}
}
