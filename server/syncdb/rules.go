package syncdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// Fields of a visit note only a reviewer writes.
var reviewFields = []string{"reviewed_by", "review_comment"}

// checkRules enforces, for a device's change, who may write what (design §1)
// and which rows are append-only. Server-made changes pass.
func (d *DB) checkRules(ctx context.Context, tx *wtx, w *writeCtx, t *schema.Table,
	cur *rowState, op protocol.Op, vals map[string]any) error {
	if w.server {
		return nil
	}
	a := w.actor
	if cur != nil && t.AppendOnly {
		if op == protocol.OpDelete {
			return reject(protocol.CodeImmutable, "%s rows are append-only and cannot be deleted", t.Name)
		}
		for name := range vals {
			if !t.MayChangeAfterCreate(name) {
				return reject(protocol.CodeImmutable, "%s rows are append-only: %s cannot change after creation", t.Name, name)
			}
		}
	}
	owner := ""
	if cur != nil {
		owner, _ = cur.values[t.Owner].(string)
		if v, set := vals[t.Owner]; set && v != owner {
			return reject(protocol.CodeImmutable, "%s cannot change owner", t.Name)
		}
	} else if op == protocol.OpUpsert {
		owner, _ = vals[t.Owner].(string)
		if owner != a.UserID {
			return reject(protocol.CodeForbidden, "a new %s row must belong to its author", t.Name)
		}
	}
	isOwner := owner == a.UserID
	if err := mayNameAttachments(ctx, tx, a, t, vals); err != nil {
		return err
	}

	switch t.Name {
	case "trips":
		if !isOwner {
			return reject(protocol.CodeForbidden, "only the secretary who logged a trip may change it")
		}
	case "trip_days":
		if !isOwner {
			return reject(protocol.CodeForbidden, "only the owner of a trip day may change it")
		}
		if trip, ok := vals["trip_id"].(string); ok {
			if err := requireOwner(ctx, tx, "trips", "user_id", trip, a.UserID, "a trip day must belong to one of your own trips"); err != nil {
				return err
			}
		}
	case "checkins":
		if !isOwner && !(a.seesAll() && onlyFields(vals, "voided", "void_reason")) {
			return reject(protocol.CodeForbidden, "only the author may change a check-in")
		}
	case "visit_notes":
		if !a.writesNotes() {
			return reject(protocol.CodeForbidden, "a unit liaison reads the visit notes about their unit but does not write them")
		}
		return d.noteRules(ctx, tx, w, cur, isOwner, op, vals)
	case "findings":
		if !a.writesNotes() {
			return reject(protocol.CodeForbidden, "a unit liaison reads the findings about their unit but does not write them")
		}
		if err := mayCiteNote(ctx, tx, a, vals); err != nil {
			return err
		}
		return findingRules(a, cur, isOwner, op, vals)
	case "follow_ups":
		finding, _ := vals["finding_id"].(string)
		return followUpRules(ctx, tx, a, finding)
	}
	return nil
}

// The transition table of a visit note's status: from the status the
// server holds ("" for a new note) to the statuses one may set. The author
// drafts, submits, may take a submitted note back, and resubmits after a
// revision request; a reviewer sends a submitted note back for revision or
// accepts it, and may change that decision, but never reviews a draft.
// Anything not listed is refused.
var (
	noteAuthorMoves = statusMoves{
		"":               {"draft", "submitted"},
		"draft":          {"draft", "submitted"},
		"submitted":      {"draft", "submitted"},
		"needs_revision": {"submitted"},
	}
	noteReviewerMoves = statusMoves{
		"submitted":      {"needs_revision", "reviewed"},
		"needs_revision": {"needs_revision", "reviewed"},
		"reviewed":       {"needs_revision", "reviewed"},
	}
)

// statusMoves maps a status to the statuses it may move to.
type statusMoves map[string][]string

func (m statusMoves) allows(from, to string) bool { return slices.Contains(m[from], to) }

// writesNotes reports whether a holds a role that writes visit notes and
// findings: any but unit_liaison, whose duty in the plan (III.2) is to
// coordinate and read the conclusions about their unit.
func (a Actor) writesNotes() bool {
	return slices.ContainsFunc(a.Roles, func(r string) bool { return r != "unit_liaison" })
}

// noteRules: the author writes the note and moves it between draft and
// submitted; a reviewer (an all-seeing role or the leader of the note's
// inspection team) decides needs_revision or reviewed and comments, once
// the note is submitted.
//
// A status move is judged from the status the writer had seen: the
// server's, unless a change the device had not pulled wrote it. Two such
// concurrent decisions are both legal where each was made; the merge then
// decides between them by clock and lists the pair for review.
func (d *DB) noteRules(ctx context.Context, tx *wtx, w *writeCtx, cur *rowState, isOwner bool, op protocol.Op, vals map[string]any) error {
	a := w.actor
	reviewer := false
	if cur != nil {
		ok, err := d.reviewsNote(ctx, tx, a, cur)
		if err != nil {
			return err
		}
		reviewer = ok
	}
	if !isOwner && !reviewer {
		return reject(protocol.CodeForbidden, "only the author or a reviewer may change this note")
	}
	held := "" // the status the server holds
	if cur != nil {
		held, _ = cur.values["status"].(string)
	}
	if op == protocol.OpDelete {
		if !isOwner {
			return reject(protocol.CodeForbidden, "only the author may delete a note")
		}
		if held != "draft" {
			return reject(protocol.CodeForbidden, "only a draft note may be deleted")
		}
		return nil
	}
	// A review needs a note to review: the server's copy must have been
	// submitted, whatever the reviewer's device showed.
	reviewing := reviewer && held != "draft"
	const draftMsg = "this note is a draft on the server: it can be reviewed once its author submits it"
	for name := range vals {
		review := slices.Contains(reviewFields, name)
		switch {
		case name == "status":
		case review && !reviewing && reviewer:
			return rejectField(name, draftMsg)
		case review && !reviewing:
			return rejectField(name, "only a reviewer may comment on a note")
		case !review && !isOwner:
			return rejectField(name, "a reviewer may only set the review status and comment")
		}
	}
	if by, set := vals["reviewed_by"]; set && by != a.UserID {
		return rejectField("reviewed_by", "reviewed_by must be the reviewer")
	}
	to, set := vals["status"].(string)
	if !set {
		return nil
	}
	from, err := seenValue(ctx, tx, d, w, cur, "status")
	if err != nil {
		return err
	}
	if (isOwner && noteAuthorMoves.allows(from, to)) || (reviewing && noteReviewerMoves.allows(from, to)) {
		return nil
	}
	switch {
	case reviewer && held == "draft":
		return rejectField("status", draftMsg)
	case reviewer && !isOwner:
		return rejectField("status", "a reviewer may only set needs_revision or reviewed, on a submitted note")
	case from == "":
		return rejectField("status", "a new note is a draft or submitted")
	}
	return rejectField("status", "the note is %s: its author may move it only between draft and submitted, or resubmit it after a revision request", from)
}

// seenValue is the value of a field as the pushing device had seen it:
// the stored one, unless a change the device had not pulled wrote it, in
// which case the last one written up to the device's base cursor ("" when
// none was).
func seenValue(ctx context.Context, tx *wtx, d *DB, w *writeCtx, cur *rowState, field string) (string, error) {
	if cur == nil {
		return "", nil
	}
	held, _ := cur.values[field].(string)
	fc, ok := cur.clocks[field]
	if !ok || !d.concurrent(w, fc) {
		return held, nil
	}
	var seen sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT json_extract(applied, '$.' || :field) FROM change_log
		WHERE tbl = :tbl AND row_id = :row AND seq <= :base AND json_type(applied, '$.' || :field) IS NOT NULL
		ORDER BY seq DESC LIMIT 1`,
		sql.Named("field", field), sql.Named("tbl", cur.table.Name), sql.Named("row", cur.id), sql.Named("base", w.baseSeq)).Scan(&seen)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the %s a device had seen: %w", field, err)
	}
	return seen.String, nil
}

// reviewsNote reports whether a reviews the note: an all-seeing role, or
// the leader of a team of the note's campaign that covers its unit.
func (d *DB) reviewsNote(ctx context.Context, tx *wtx, a Actor, cur *rowState) (bool, error) {
	if a.seesAll() {
		return true, nil
	}
	campaign, _ := cur.values["campaign_id"].(string)
	unit, _ := cur.values["unit_id"].(string)
	var ok bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM teams t, json_each(t.unit_ids) u
		WHERE t.deleted = 0 AND t.leader_id = ? AND t.campaign_id = ? AND u.value = ?)`, a.UserID, campaign, unit).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check team leader: %w", err)
	}
	return ok, nil
}

func rejectField(field, format string, args ...any) *rejection {
	rj := reject(protocol.CodeForbidden, format, args...)
	rj.field = field
	return rj
}

// mayCiteNote: a finding may only name a note its writer may read. The
// department read scope trusts that link (a department reads the notes of
// the findings assigned to it), so without this check anyone could open
// any note to their department by filing a finding on it.
func mayCiteNote(ctx context.Context, tx *wtx, a Actor, vals map[string]any) error {
	note, _ := vals["note_id"].(string)
	if note == "" || a.seesAll() {
		return nil
	}
	n, err := loadRow(ctx, tx, mustTable("visit_notes"), note)
	if err != nil {
		return err
	}
	if n == nil {
		return nil // checkRefs refuses the dangling reference
	}
	if n.values["author_id"] == a.UserID {
		return nil
	}
	// The scope is SQL over the file: write what this transaction merged
	// so far, so a note created earlier in it is judged as it now stands.
	if err := tx.flush(ctx); err != nil {
		return err
	}
	where, args := scopeClause(a, mustTable("visit_notes"))
	var ok bool
	err = tx.tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM visit_notes r WHERE r.id = :note AND ("+where+"))",
		append(args, sql.Named("note", note))...).Scan(&ok)
	if err != nil {
		return fmt.Errorf("check note %s: %w", note, err)
	}
	if !ok {
		rj := reject(protocol.CodeForbidden, "a finding may only cite a note you may read")
		rj.field = "note_id"
		return rj
	}
	return nil
}

// findingRules: the author owns the finding; the Inspection Committee, the
// Office and admins triage it (department, due date, status, answer); the
// assigned department works it (status, answer).
func findingRules(a Actor, cur *rowState, isOwner bool, op protocol.Op, vals map[string]any) error {
	if isOwner {
		return nil
	}
	if op == protocol.OpDelete {
		return reject(protocol.CodeForbidden, "only the author may delete a finding")
	}
	if a.seesAll() && onlyFields(vals, "department_id", "status", "due_on", "answer") {
		return nil
	}
	if a.Has("department") && cur != nil && a.DepartmentID != "" && cur.values["department_id"] == a.DepartmentID &&
		onlyFields(vals, "status", "answer") {
		return nil
	}
	return reject(protocol.CodeForbidden, "you may not change this finding")
}

// followUpRules: a follow-up is written by the finding's author, its
// assigned department, or an all-seeing role.
func followUpRules(ctx context.Context, tx *wtx, a Actor, finding string) error {
	if a.seesAll() || finding == "" {
		return nil
	}
	f, err := loadRow(ctx, tx, mustTable("findings"), finding)
	if err != nil {
		return err
	}
	if f == nil {
		return reject(protocol.CodeValidationFailed, "finding_id: no findings row %s", finding)
	}
	dept, _ := f.values["department_id"].(string)
	if f.values["author_id"] == a.UserID || (a.Has("department") && dept != "" && dept == a.DepartmentID) {
		return nil
	}
	return reject(protocol.CodeForbidden, "only the finding's author, its department or the Inspection Committee may follow it up")
}

func requireOwner(ctx context.Context, tx *wtx, table, ownerCol, id, user, msg string) error {
	r, err := loadRow(ctx, tx, mustTable(table), id)
	if err != nil {
		return err
	}
	if r == nil {
		return reject(protocol.CodeValidationFailed, "no %s row %s", table, id)
	}
	if r.values[ownerCol] != user {
		return reject(protocol.CodeForbidden, "%s", msg)
	}
	return nil
}

func onlyFields(vals map[string]any, allowed ...string) bool {
	for name := range vals {
		if !slices.Contains(allowed, name) {
			return false
		}
	}
	return true
}

// Check-in flags, computed on receipt.
const (
	FlagFarFromUnit = "far_from_unit" // more than FarFromUnitMeters from the unit's point
	FlagLowAccuracy = "low_accuracy"  // the phone's fix was worse than LowAccuracyMeters
	FlagFutureTime  = "future_time"   // stamped later than the server received it
	FlagNoPosition  = "no_position"   // no coordinates were sent

	FarFromUnitMeters = 5000
	LowAccuracyMeters = 200
)

// computeFields fills the server-computed fields of a new check-in: when it
// arrived, how far it was from the unit's coordinates, and what looks off.
func (d *DB) computeFields(ctx context.Context, tx *wtx, w *writeCtx, t *schema.Table, vals map[string]any) {
	if t.Name != "checkins" {
		return
	}
	vals["received_at"] = w.now.UTC().Format(time.RFC3339Nano)
	flags := []string{}
	lat, okLat := vals["lat"].(float64)
	lng, okLng := vals["lng"].(float64)
	if okLat && okLng {
		var ulat, ulng sql.NullFloat64
		unit, _ := vals["unit_id"].(string)
		err := tx.QueryRowContext(ctx, "SELECT lat, lng FROM units WHERE id = ?", unit).Scan(&ulat, &ulng)
		if err == nil && ulat.Valid && ulng.Valid {
			dist := math.Round(Haversine(lat, lng, ulat.Float64, ulng.Float64))
			vals["distance_m"] = dist
			if dist > FarFromUnitMeters {
				flags = append(flags, FlagFarFromUnit)
			}
		}
	} else {
		flags = append(flags, FlagNoPosition)
	}
	if acc, ok := vals["accuracy_m"].(float64); ok && acc > LowAccuracyMeters {
		flags = append(flags, FlagLowAccuracy)
	}
	if at, ok := vals["at"].(string); ok {
		if ts, err := time.Parse(time.RFC3339Nano, at); err == nil && ts.After(w.now.Add(d.opts.ClockSkew)) {
			flags = append(flags, FlagFutureTime)
		}
	}
	b, _ := jsonList(flags)
	vals["flags"] = b
}

// Haversine is the great-circle distance in metres.
func Haversine(lat1, lng1, lat2, lng2 float64) float64 {
	const r = 6371000.0
	rad := math.Pi / 180
	dlat := (lat2 - lat1) * rad
	dlng := (lng2 - lng1) * rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlng/2)*math.Sin(dlng/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}
