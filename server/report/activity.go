package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"dicoso/server/store"
)

// One person's trips and check-ins of a year, as the console's field-day
// detail shows them: every row the viewer may read of them
// (NotesViewer.Read), a page at a time, as the notes list pages.

// ActivityQuery selects a page of one person's trips, or check-ins, of a
// year (a year in Vietnam: a check-in counts on its day there).
type ActivityQuery struct {
	UserID string
	Year   int
	Limit  int
	// Cursor continues a listing from where its previous page ended.
	Cursor string
	Viewer NotesViewer
}

// TripPage is one page of a person's trips, newest first.
type TripPage struct {
	Items []ActivityTrip `json:"items"`
	// NextCursor continues the listing; null on the last page.
	NextCursor *string `json:"next_cursor"`
}

// CheckinPage is one page of a person's check-ins, newest first.
type CheckinPage struct {
	Items      []ActivityCheckin `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

// ActivityTrip is one trip with its field days of the year.
type ActivityTrip struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Purpose  string        `json:"purpose"`
	Status   string        `json:"status"`
	StartsOn *string       `json:"starts_on"`
	EndsOn   *string       `json:"ends_on"`
	Days     []ActivityDay `json:"days"`
}

// ActivityDay is one logged field day of a trip, in date order.
type ActivityDay struct {
	ID       string  `json:"id"`
	Day      string  `json:"day"`
	UnitName *string `json:"unit_name"`
	Activity string  `json:"activity"`
	// CheckedIn: the person checked in that day (a check-in not voided,
	// on that day in Vietnam, that the viewer may read).
	CheckedIn bool `json:"checked_in"`
}

// ActivityCheckin is one check-in with the server's flags (far from unit,
// low accuracy, clock ahead, no position). Day is its date in Vietnam, as
// the tally counts it.
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

// fingerprint names the listing of one person's rows of table a viewer reads.
func (q ActivityQuery) fingerprint(table string) string {
	read, args := q.Viewer.Read(table)
	return fingerprint("activity", table, q.Viewer.UserID, read, fmt.Sprint(args...), q.UserID, strconv.Itoa(q.Year))
}

// yearBounds are the instants (UTC, as check-ins are stored, to the second)
// at which the year begins and ends in Vietnam.
func yearBounds(year int) (string, string) {
	at := func(y int) string {
		return time.Date(y, 1, 1, 0, 0, 0, 0, vietnam()).UTC().Format("2006-01-02T15:04:05")
	}
	return at(year), at(year + 1)
}

// ActivityTrips is a page of the trips of q's person that q's viewer
// reads, newest first (by start), each with its days of the year. It
// returns ErrBadCursor for a cursor that does not continue this listing.
func (r *Reports) ActivityTrips(ctx context.Context, q ActivityQuery) (TripPage, error) {
	fp := q.fingerprint("trips")
	order := keyset{Key: "NULLIF(s.starts_on, '')", Desc: true}
	after, err := order.decode(q.Cursor, fp)
	if err != nil {
		return TripPage{}, err
	}
	y := strconv.Itoa(q.Year)
	read, args := q.Viewer.Read("trips")
	rows := `SELECT r.id AS id, COALESCE(r.title, '') AS title, COALESCE(r.purpose, '') AS purpose, COALESCE(r.status, '') AS status,
		r.starts_on AS starts_on, r.ends_on AS ends_on
		FROM trips r WHERE r.deleted = 0 AND r.user_id = :user
		AND (substr(r.starts_on, 1, 4) = :year OR substr(COALESCE(r.ends_on, r.starts_on), 1, 4) = :year) AND (` + read + `)`
	page, pageArgs := order.page(rows, append(slices.Clone(args), sql.Named("user", q.UserID), sql.Named("year", y)), after, q.Limit)
	out := TripPage{}
	err = r.read(ctx, "trips", func(tx *sql.Tx) error {
		var err error
		out.Items, out.NextCursor, err = readPage(ctx, tx, page, pageArgs, q.Limit, fp, func(rs *sql.Rows, c *pageCursor) (ActivityTrip, error) {
			t := ActivityTrip{Days: []ActivityDay{}}
			var starts, ends sql.NullString
			err := rs.Scan(&t.ID, &t.Title, &t.Purpose, &t.Status, &starts, &ends, &c.Null, &c.Key)
			t.StartsOn, t.EndsOn, c.ID = nullable(starts), nullable(ends), t.ID
			return t, err
		})
		if err != nil {
			return fmt.Errorf("read trips: %w", err)
		}
		return tripDays(ctx, r.st.Dialect(), tx, q, out.Items)
	})
	if err != nil {
		return TripPage{}, err
	}
	return out, nil
}

// tripDays fills the days of the year of trips (one page) that q's viewer
// reads, and whether the person checked in each of those days.
func tripDays(ctx context.Context, d store.Dialect, tx *sql.Tx, q ActivityQuery, trips []ActivityTrip) error {
	if len(trips) == 0 {
		return nil
	}
	byID := make(map[string]*ActivityTrip, len(trips))
	ids := make([]string, len(trips))
	for i := range trips {
		byID[trips[i].ID], ids[i] = &trips[i], trips[i].ID
	}
	list, _ := json.Marshal(ids) // strings always encode
	read, args := q.Viewer.Read("trip_days")
	rs, err := tx.QueryContext(ctx, `SELECT r.id, r.trip_id, COALESCE(r.day, ''), u.name, COALESCE(r.activity, '')
		FROM trip_days r LEFT JOIN units u ON u.id = r.unit_id
		WHERE r.deleted = 0 AND r.user_id = :user AND substr(r.day, 1, 4) = :year
		AND r.trip_id IN (SELECT j.value FROM `+d.JSONEach(":trips", "j")+`) AND (`+read+`)
		ORDER BY r.day, r.id`,
		append(slices.Clone(args), sql.Named("user", q.UserID), sql.Named("year", strconv.Itoa(q.Year)), sql.Named("trips", string(list)))...)
	if err != nil {
		return fmt.Errorf("read trip days: %w", err)
	}
	first, last := "", ""
	for rs.Next() {
		var day ActivityDay
		var trip string
		var unit sql.NullString
		if err := rs.Scan(&day.ID, &trip, &day.Day, &unit, &day.Activity); err != nil {
			rs.Close()
			return fmt.Errorf("read trip days: %w", err)
		}
		day.UnitName = nullable(unit)
		if t := byID[trip]; t != nil {
			t.Days = append(t.Days, day)
			if first == "" || day.Day < first {
				first = day.Day
			}
			last = max(last, day.Day)
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("read trip days: %w", err)
	}
	if last == "" {
		return nil
	}
	// The check-ins of those days: the instants from the first day's start
	// to the last day's end, in Vietnam.
	from, errFrom := time.ParseInLocation(time.DateOnly, first, vietnam())
	to, errTo := time.ParseInLocation(time.DateOnly, last, vietnam())
	if errFrom != nil || errTo != nil {
		return nil // a day that is no date: no check-in is on it
	}
	read, args = q.Viewer.Read("checkins")
	rs, err = tx.QueryContext(ctx, `SELECT COALESCE(r.at, '') FROM checkins r
		WHERE r.deleted = 0 AND COALESCE(r.voided, 0) = 0 AND r.user_id = :user AND r.at >= :from AND r.at < :to AND (`+read+`)`,
		append(slices.Clone(args), sql.Named("user", q.UserID),
			sql.Named("from", from.UTC().Format("2006-01-02T15:04:05")), sql.Named("to", to.AddDate(0, 0, 1).UTC().Format("2006-01-02T15:04:05")))...)
	if err != nil {
		return fmt.Errorf("read the check-ins of trip days: %w", err)
	}
	defer rs.Close()
	checked := map[string]bool{}
	for rs.Next() {
		var at string
		if err := rs.Scan(&at); err != nil {
			return fmt.Errorf("read the check-ins of trip days: %w", err)
		}
		checked[localDate(at)] = true
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("read the check-ins of trip days: %w", err)
	}
	for i := range trips {
		for j := range trips[i].Days {
			trips[i].Days[j].CheckedIn = checked[trips[i].Days[j].Day]
		}
	}
	return nil
}

// ActivityCheckins is a page of the check-ins of q's person on days of
// q's year that q's viewer reads, newest first. It returns ErrBadCursor
// for a cursor that does not continue this listing.
func (r *Reports) ActivityCheckins(ctx context.Context, q ActivityQuery) (CheckinPage, error) {
	fp := q.fingerprint("checkins")
	order := keyset{Key: "NULLIF(s.at, '')", Desc: true}
	after, err := order.decode(q.Cursor, fp)
	if err != nil {
		return CheckinPage{}, err
	}
	from, to := yearBounds(q.Year)
	read, args := q.Viewer.Read("checkins")
	rows := `SELECT r.id AS id, COALESCE(r.at, '') AS at, u.name AS unit_name, r.trip_id AS trip_id, r.accuracy_m AS accuracy_m,
		r.distance_m AS distance_m, COALESCE(r.flags, '[]') AS flags, COALESCE(r.voided, 0) AS voided,
		COALESCE(r.void_reason, '') AS void_reason, COALESCE(r.note, '') AS note
		FROM checkins r LEFT JOIN units u ON u.id = r.unit_id
		WHERE r.deleted = 0 AND r.user_id = :user AND r.at >= :from AND r.at < :to AND (` + read + `)`
	page, pageArgs := order.page(rows, append(slices.Clone(args), sql.Named("user", q.UserID), sql.Named("from", from), sql.Named("to", to)), after, q.Limit)
	out := CheckinPage{}
	err = r.read(ctx, "check-ins", func(tx *sql.Tx) error {
		var err error
		out.Items, out.NextCursor, err = readPage(ctx, tx, page, pageArgs, q.Limit, fp, scanCheckin)
		if err != nil {
			return fmt.Errorf("read check-ins: %w", err)
		}
		return nil
	})
	if err != nil {
		return CheckinPage{}, err
	}
	return out, nil
}

func scanCheckin(rs *sql.Rows, cur *pageCursor) (ActivityCheckin, error) {
	var c ActivityCheckin
	var unit, trip sql.NullString
	var acc, dist sql.NullFloat64
	var flags string
	if err := rs.Scan(&c.ID, &c.At, &unit, &trip, &acc, &dist, &flags, &c.Voided, &c.VoidReason, &c.Note, &cur.Null, &cur.Key); err != nil {
		return c, err
	}
	cur.ID = c.ID
	c.Day = localDate(c.At)
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
	return c, nil
}
