package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// Activity is one person's trips, field days and check-ins of a year, as
// the console's field-day detail shows them: every row the viewer may read
// of them (NotesViewer.Read), in one snapshot. One person's year is a few
// hundred rows at most, so it comes whole.
type Activity struct {
	UserID   string            `json:"user_id"`
	Year     int               `json:"year"`
	Trips    []ActivityTrip    `json:"trips"`
	Days     []ActivityDay     `json:"days"`
	Checkins []ActivityCheckin `json:"checkins"`
}

// ActivityTrip is one trip, newest first.
type ActivityTrip struct {
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	Purpose  string  `json:"purpose"`
	Status   string  `json:"status"`
	StartsOn *string `json:"starts_on"`
	EndsOn   *string `json:"ends_on"`
}

// ActivityDay is one logged field day, in date order.
type ActivityDay struct {
	ID       string  `json:"id"`
	TripID   *string `json:"trip_id"`
	Day      string  `json:"day"`
	UnitName *string `json:"unit_name"`
	Activity string  `json:"activity"`
}

// ActivityCheckin is one check-in with the server's flags (far from unit,
// low accuracy, clock ahead, no position), newest first. Day is its date
// in Vietnam, as the tally counts it.
type ActivityCheckin struct {
	ID         string   `json:"id"`
	At         string   `json:"at"`
	Day        string   `json:"day"`
	UnitName   *string  `json:"unit_name"`
	TripID     *string  `json:"trip_id"`
	AccuracyM  *float64 `json:"accuracy_m"`
	DistanceM  *float64 `json:"distance_m"`
	Flags      []string `json:"flags"`
	Voided     bool     `json:"voided"`
	VoidReason string   `json:"void_reason"`
	Note       string   `json:"note"`
}

// Activity reads user's trips, days and check-ins of year that v may read.
func (r *Reports) Activity(ctx context.Context, user string, year int, v NotesViewer) (Activity, error) {
	out := Activity{UserID: user, Year: year, Trips: []ActivityTrip{}, Days: []ActivityDay{}, Checkins: []ActivityCheckin{}}
	y := strconv.Itoa(year)
	err := r.read(ctx, "activity", func(tx *sql.Tx) error {
		read, args := v.Read("trips")
		args = append(slices.Clone(args), sql.Named("user", user), sql.Named("year", y))
		rs, err := tx.QueryContext(ctx, `SELECT r.id, COALESCE(r.title, ''), COALESCE(r.purpose, ''), COALESCE(r.status, ''), r.starts_on, r.ends_on
			FROM trips r WHERE r.deleted = 0 AND r.user_id = :user
			AND (substr(r.starts_on, 1, 4) = :year OR substr(COALESCE(r.ends_on, r.starts_on), 1, 4) = :year) AND (`+read+`)
			ORDER BY r.starts_on DESC, r.title, r.id`, args...)
		if err != nil {
			return fmt.Errorf("read trips: %w", err)
		}
		for rs.Next() {
			var t ActivityTrip
			var starts, ends sql.NullString
			if err := rs.Scan(&t.ID, &t.Title, &t.Purpose, &t.Status, &starts, &ends); err != nil {
				rs.Close()
				return fmt.Errorf("read trips: %w", err)
			}
			t.StartsOn, t.EndsOn = nullable(starts), nullable(ends)
			out.Trips = append(out.Trips, t)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return fmt.Errorf("read trips: %w", err)
		}

		read, args = v.Read("trip_days")
		args = append(slices.Clone(args), sql.Named("user", user), sql.Named("year", y))
		rs, err = tx.QueryContext(ctx, `SELECT r.id, r.trip_id, COALESCE(r.day, ''), u.name, COALESCE(r.activity, '')
			FROM trip_days r LEFT JOIN units u ON u.id = r.unit_id
			WHERE r.deleted = 0 AND r.user_id = :user AND substr(r.day, 1, 4) = :year AND (`+read+`)
			ORDER BY r.day, r.id`, args...)
		if err != nil {
			return fmt.Errorf("read trip days: %w", err)
		}
		for rs.Next() {
			var d ActivityDay
			var trip, unit sql.NullString
			if err := rs.Scan(&d.ID, &trip, &d.Day, &unit, &d.Activity); err != nil {
				rs.Close()
				return fmt.Errorf("read trip days: %w", err)
			}
			d.TripID, d.UnitName = nullable(trip), nullable(unit)
			out.Days = append(out.Days, d)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return fmt.Errorf("read trip days: %w", err)
		}

		read, args = v.Read("checkins")
		args = append(slices.Clone(args), sql.Named("user", user))
		rs, err = tx.QueryContext(ctx, `SELECT r.id, COALESCE(r.at, ''), u.name, r.trip_id, r.accuracy_m, r.distance_m,
			COALESCE(r.flags, '[]'), COALESCE(r.voided, 0), COALESCE(r.void_reason, ''), COALESCE(r.note, '')
			FROM checkins r LEFT JOIN units u ON u.id = r.unit_id
			WHERE r.deleted = 0 AND r.user_id = :user AND (`+read+`) ORDER BY r.at DESC, r.id`, args...)
		if err != nil {
			return fmt.Errorf("read check-ins: %w", err)
		}
		defer rs.Close()
		for rs.Next() {
			var c ActivityCheckin
			var unit, trip sql.NullString
			var acc, dist sql.NullFloat64
			var flags string
			if err := rs.Scan(&c.ID, &c.At, &unit, &trip, &acc, &dist, &flags, &c.Voided, &c.VoidReason, &c.Note); err != nil {
				return fmt.Errorf("read check-ins: %w", err)
			}
			c.Day = localDate(c.At)
			if len(c.Day) < 4 || c.Day[:4] != y {
				continue // the tally's year is the check-in's day in Vietnam
			}
			c.UnitName, c.TripID = nullable(unit), nullable(trip)
			if acc.Valid {
				c.AccuracyM = &acc.Float64
			}
			if dist.Valid {
				c.DistanceM = &dist.Float64
			}
			c.Flags = []string{}
			if err := json.Unmarshal([]byte(flags), &c.Flags); err != nil || c.Flags == nil {
				c.Flags = []string{}
			}
			out.Checkins = append(out.Checkins, c)
		}
		return rs.Err()
	})
	return out, err
}
