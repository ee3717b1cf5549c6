// Package report computes the headquarters reports of plan
// 356-KH/TWĐTN-BKT (sync/plan): each secretary's field-day tally against
// the plan's minimum, the coverage of the inspection campaigns, and the
// findings register (with the Office's recommendations register as one of
// its categories), plus the register's XLSX export.
//
// Reports only read. Each one runs as plain SQL in one read transaction on
// the store's reader pool, so it sees one consistent snapshot while devices
// keep pushing. Who may see what is decided by the caller (the API) and
// handed in as query fields; this package applies them.
package report

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"dicoso/server/store"
	"dicoso/sync/plan"
)

// Reports reads the central store for reports.
type Reports struct {
	st *store.Store
}

// New reads from st.
func New(st *store.Store) *Reports { return &Reports{st: st} }

// read runs fn in one read transaction (one snapshot).
func (r *Reports) read(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	if err := r.st.ReadTx(ctx, fn); err != nil {
		return fmt.Errorf("report %s: %w", what, err)
	}
	return nil
}

// vietnam is the plan's calendar (plan.UTCOffsetHours): a field day, a
// check-in's day and "today" are days in Vietnam, not UTC days: a check-in
// at 06:30 in Hà Nội is 23:30 UTC the day before.
func vietnam() *time.Location { return plan.Vietnam() }

// Today is the date in Vietnam at instant now, as YYYY-MM-DD.
func Today(now time.Time) string { return plan.Today(now) }

// localDate is the Vietnamese date of a stored RFC 3339 instant, "" when it
// does not parse.
func localDate(instant string) string {
	t, err := time.Parse(time.RFC3339Nano, instant)
	if err != nil {
		return ""
	}
	return t.In(vietnam()).Format(time.DateOnly)
}

// nullable turns a NULL or empty column into nil, for JSON null.
func nullable(s sql.NullString) *string {
	if !s.Valid || s.String == "" {
		return nil
	}
	v := s.String
	return &v
}

// notFound is store.ErrNotFound naming what was missing.
func notFound(what string) error { return fmt.Errorf("%s: %w", what, store.ErrNotFound) }
