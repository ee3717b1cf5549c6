package syncdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"dicoso/sync/hlc"
	"dicoso/sync/plan"
	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// This file is the vocabulary of specs.go: who the writers are, the
// conditions and checks on a change, and the read scopes' SQL.

// checkRules judges a device's change by its table's spec (specs.go). The
// schema's own constraints come first: append-only rows, the owner that
// never changes, a new row that belongs to its author. Server-made changes
// pass: the REST layer admitted them (Spec.Admin), or the server itself
// made them.
func (d *DB) checkRules(ctx context.Context, tx *wtx, w *writeCtx, t *schema.Table,
	cur *rowState, op protocol.Op, vals map[string]any) error {
	if w.server {
		return nil
	}
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
	if t.Owner != "" {
		if cur != nil {
			if v, set := vals[t.Owner]; set && v != cur.values[t.Owner] {
				return reject(protocol.CodeImmutable, "%s cannot change owner", t.Name)
			}
		} else if vals[t.Owner] != w.actor.UserID {
			return reject(protocol.CodeForbidden, "a new %s row must belong to its author", t.Name)
		}
	}
	sp, ok := specs[t.Name]
	if !ok {
		return reject(protocol.CodeForbidden, "%s rows cannot be written: the table has no rules", t.Name)
	}
	rule := sp.Update
	switch {
	case op == protocol.OpDelete:
		rule = sp.Delete
	case cur == nil:
		rule = sp.Create
	}
	if len(rule.Grants) == 0 {
		return reject(protocol.CodeForbidden, "%s rows cannot be %s from a device", t.Name, operation(cur, op))
	}
	c := &change{ctx: ctx, d: d, tx: tx, w: w, t: t, sp: sp, cur: cur, vals: vals}
	if err := c.judge(rule); err != nil {
		return err
	}
	return mayNameAttachments(ctx, tx, w.actor, t, sp, vals)
}

// Writers.
var (
	// author: the row is theirs (its owner field names them).
	author = Who{Name: "its author", is: func(c *change) (bool, error) {
		return c.value(c.t.Owner) == c.actor().UserID, nil
	}}
	// writer: the author, holding a role that writes visit notes and
	// findings: any but unit_liaison, whose duty (III.2) is to coordinate
	// and read the conclusions about their unit.
	writer = Who{Name: "its author (not a unit liaison)", is: func(c *change) (bool, error) {
		a := c.actor()
		return c.value(c.t.Owner) == a.UserID && slices.ContainsFunc(a.Roles, func(r string) bool { return r != plan.RoleUnitLiaison }), nil
	}}
	// headquarter: an admin, the Inspection Committee or the Office.
	headquarter = Who{Name: "headquarters", is: func(c *change) (bool, error) { return c.actor().seesAll(), nil }}
	// noteReviewer: headquarters, or the leader of a team of the note's
	// campaign that covers its unit.
	noteReviewer = Who{Name: "a reviewer of this note", is: func(c *change) (bool, error) {
		if c.cur == nil {
			return false, nil
		}
		if c.actor().seesAll() {
			return true, nil
		}
		return leadsTeamOf(c, c.stored("campaign_id"), c.stored("unit_id"))
	}}
	// reviewerOfItsNote: a reviewer (as noteReviewer) of the note a review
	// round names.
	reviewerOfItsNote = Who{Name: "a reviewer of its note", is: func(c *change) (bool, error) {
		n, err := reviewedNote(c)
		if err != nil || n == nil {
			return false, err
		}
		if c.actor().seesAll() {
			return true, nil
		}
		return leadsTeamOf(c, n.values["campaign_id"], n.values["unit_id"])
	}}
	// assignedDepartment: a department user of the department the finding
	// is assigned to.
	assignedDepartment = Who{Name: "the assigned department", is: func(c *change) (bool, error) {
		a := c.actor()
		return a.Has(plan.RoleDepartment) && a.DepartmentID != "" && c.stored("department_id") == a.DepartmentID, nil
	}}
	// findingAuthor and findingDepartment: the author, and a user of the
	// assigned department, of the finding a follow-up follows.
	findingAuthor = Who{Name: "the finding's author", is: func(c *change) (bool, error) {
		f, err := followedFinding(c)
		return f != nil && f.values["author_id"] == c.actor().UserID, err
	}}
	findingDepartment = Who{Name: "the finding's department", is: func(c *change) (bool, error) {
		f, err := followedFinding(c)
		a := c.actor()
		return f != nil && a.Has(plan.RoleDepartment) && a.DepartmentID != "" && f.values["department_id"] == a.DepartmentID, err
	}}
)

// fieldWorker: a secretary or an inspector (sync/plan's field roles),
// whoever else they are.
var fieldWorker = Who{Name: "a secretary or an inspector", is: func(c *change) (bool, error) {
	return slices.ContainsFunc(plan.FieldRoles(), c.actor().Has), nil
}}

// both is a writer who is x and y.
func both(x, y Who) Who {
	return Who{Name: x.Name + " being " + y.Name, is: func(c *change) (bool, error) {
		ok, err := x.is(c)
		if err != nil || !ok {
			return false, err
		}
		return y.is(c)
	}}
}

// leadsTeamOf reports whether the writer leads a live team of campaign
// covering unit.
// The answer is kept for the transaction (a reviewer's batch asks it for
// every change), until a team is written in it.
func leadsTeamOf(c *change, campaign, unit any) (bool, error) {
	key := fmt.Sprint(c.actor().UserID, "/", campaign, "/", unit)
	if ok, known := c.tx.leads[key]; known {
		return ok, nil
	}
	var ok bool
	err := c.tx.QueryRowContext(c.ctx, `SELECT EXISTS (SELECT 1 FROM teams t, `+c.tx.dialect.JSONEach("t.unit_ids", "u")+`
		WHERE t.deleted = 0 AND t.leader_id = ? AND t.campaign_id = ? AND u.value = ?)`,
		c.actor().UserID, campaign, unit).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check team leader: %w", err)
	}
	if c.tx.leads == nil {
		c.tx.leads = map[string]bool{}
	}
	c.tx.leads[key] = ok
	return ok, nil
}

// reviewedNote is the note a review round names; a missing one is refused
// as the dangling reference it is.
func reviewedNote(c *change) (*rowState, error) {
	id, _ := c.value("note_id").(string)
	if id == "" {
		return nil, nil //nolint:nilnil // no note named: the required-field check refuses it
	}
	n, err := loadRow(c.ctx, c.tx, mustTable("visit_notes"), id)
	if err != nil {
		return nil, err
	}
	if n == nil || n.deleted {
		rj := reject(protocol.CodeValidationFailed, "note_id: no visit_notes row %s", id)
		rj.field = "note_id"
		return nil, rj
	}
	return n, nil
}

// Checks of a review round: the note is handed in on the server (a draft
// is not reviewed, whatever the reviewer's device showed), and sending a
// note back says why.
func reviewsHandedInNote(c *change) error {
	n, err := reviewedNote(c)
	if err != nil || n == nil {
		return err
	}
	if n.values["status"] == "draft" {
		rj := reject(protocol.CodeForbidden, "this note is a draft on the server: it can be reviewed once its author submits it")
		rj.field = "note_id"
		return rj
	}
	return nil
}

func reasonWhenSentBack(c *change) error {
	if c.value("decision") != "needs_revision" {
		return nil
	}
	if comment, _ := c.value("comment").(string); strings.TrimSpace(comment) == "" {
		rj := reject(protocol.CodeValidationFailed, "a note sent back for revision needs a comment saying what to revise")
		rj.field = "comment"
		return rj
	}
	return nil
}

// followedFinding is the finding a follow-up names; a missing one is
// refused as the dangling reference it is.
func followedFinding(c *change) (*rowState, error) {
	id, _ := c.value("finding_id").(string)
	if id == "" {
		return nil, nil //nolint:nilnil // no finding named: nobody is its author
	}
	f, err := loadRow(c.ctx, c.tx, mustTable("findings"), id)
	if err != nil {
		return nil, err
	}
	if f == nil {
		rj := reject(protocol.CodeValidationFailed, "finding_id: no findings row %s", id)
		rj.field = "finding_id"
		return nil, rj
	}
	return f, nil
}

// Conditions on a visit note as the server holds it.
var (
	// A review needs a note to review: the server's copy must have been
	// submitted, whatever the reviewer's device showed.
	submittedNote = Cond{Name: "not a draft", Refused: "this note is a draft on the server: it can be reviewed once its author submits it",
		holds: func(c *change) (bool, error) { return c.stored("status") != "draft", nil }}
	draftNote = Cond{Name: "a draft", Refused: "only a draft note may be deleted",
		holds: func(c *change) (bool, error) { return c.stored("status") == "draft", nil }}
	// findingNoteOpen: the note a finding cites is a draft or sent back
	// for revision, or was when the change was made: a change stamped
	// before the note's status was last written was made before that
	// hand-in (a device's clock moves past every stamp it has seen, its own
	// hand-in and every pulled one included, so an edit made after seeing
	// the hand-in is stamped after it), unless its device had pulled the
	// hand-in (base cursor past it), which no clock can undo. Offline, a
	// phone sends a finding's corrections with, or after, the hand-in that
	// followed them. A finding citing no note, or a note deleted since, is
	// its author's alone and stays open.
	findingNoteOpen = Cond{Name: "its note a draft or sent back",
		Refused: "vấn đề chỉ được sửa hoặc xoá khi ghi chép còn là bản nháp hoặc bị trả lại để chỉnh sửa " +
			"(a finding can be corrected or deleted only while its note is a draft or sent back for revision)",
		holds: func(c *change) (bool, error) {
			id, _ := c.stored("note_id").(string)
			if id == "" {
				return true, nil
			}
			n, err := loadRow(c.ctx, c.tx, mustTable("visit_notes"), id)
			if err != nil || n == nil || n.deleted {
				return err == nil, err
			}
			return noteOpenAsOf(c, n, openForFindings)
		}}
	// notReviewedNote: a note's author amends it until it is reviewed, or
	// was amending it when it was (judged as findingNoteOpen judges a
	// finding's note): what was reviewed is what was handed in.
	notReviewedNote = Cond{Name: "not reviewed",
		Refused: "ghi chép đã được duyệt: người viết không sửa được nữa " +
			"(this note has been reviewed: its author may no longer change it, unless a reviewer sends it back for revision)",
		holds: func(c *change) (bool, error) { return noteOpenAsOf(c, c.cur, notReviewed) }}
)

// The statuses of a visit note open to a change: its findings are
// corrected while it is a draft or sent back for revision; the note itself
// is amended, and findings added to it, until it is reviewed.
func openForFindings(status any) bool { return status == "draft" || status == "needs_revision" }
func notReviewed(status any) bool     { return status != "reviewed" }

// noteOpenAsOf reports whether note n was open to the change: its status
// is one open says, or was when the change was made. A change stamped
// before the note's status was last written was made before that hand-in
// or review (a device's clock moves past every stamp it has seen, its own
// and every pulled one, so an edit made after seeing it is stamped after
// it), unless its device had pulled that status (base cursor past it),
// which no clock can undo. Offline, a phone sends an edit with, or after,
// the hand-in or review that followed it.
func noteOpenAsOf(c *change, n *rowState, open func(status any) bool) (bool, error) {
	if open(n.values["status"]) {
		return true, nil
	}
	fc := n.clocks["status"]
	closed, err := hlc.Parse(fc.H)
	if err != nil || c.w.stamp.Compare(closed) >= 0 {
		return false, nil // an unreadable clock (a damaged file) keeps it closed
	}
	// Stamped before it closed, yet made by a device that had pulled the
	// closing status: made after seeing it, on a clock running behind.
	// Causality, not the clock, says when.
	pulled, ok, err := pulledUpTo(c.ctx, c.tx, c.w, mustTable("visit_notes"), n)
	return !ok || fc.S > pulled, err
}

// findingsNote: a finding is added only to a note not yet reviewed, and
// moved only onto a note open to its findings (a draft or sent back), as
// of the change, as its corrections are judged on the note it leaves.
func findingsNote(c *change) error {
	id, _ := c.vals["note_id"].(string)
	if id == "" || (c.cur != nil && c.stored("note_id") == id) {
		return nil
	}
	n, err := loadRow(c.ctx, c.tx, mustTable("visit_notes"), id)
	if err != nil || n == nil || n.deleted {
		return err // a missing note: checkRefs refuses the reference
	}
	if c.cur == nil {
		ok, err := noteOpenAsOf(c, n, notReviewed)
		if err != nil || ok {
			return err
		}
		return rejectField("note_id", "ghi chép đã được duyệt: không thêm được vấn đề vào ghi chép này "+
			"(this note has been reviewed: findings can no longer be added to it)")
	}
	ok, err := noteOpenAsOf(c, n, openForFindings)
	if err != nil || ok {
		return err
	}
	return rejectField("note_id", "chỉ chuyển được vấn đề sang ghi chép còn là bản nháp hoặc bị trả lại để chỉnh sửa "+
		"(a finding can be moved only onto a note that is a draft or sent back for revision)")
}

// Conditions on a place as the server holds it.
var (
	// proposedPlace: its proposer corrects it only until it is decided.
	proposedPlace = Cond{Name: "still proposed", Refused: "this place has been decided by headquarters: it can no longer be corrected from the field",
		holds: func(c *change) (bool, error) { return c.stored("status") == "proposed", nil }}
	// grassrootsPlace: headquarters decide on places proposed from the
	// field; the plan's provinces and central units are the
	// administrator's, edited over REST.
	grassrootsPlace = Cond{Name: "a grassroots place", Refused: "only grassroots places are decided from a device; the plan's units are edited by the administrator",
		holds: func(c *change) (bool, error) { return c.stored("kind") == "grassroots", nil }}
)

// Checks on the values a change writes.

// proposedGrassroots: a place proposed from the field is a grassroots
// unit, proposed, and named.
func proposedGrassroots(c *change) error {
	if c.vals["kind"] != "grassroots" {
		rj := reject(protocol.CodeForbidden, "a place proposed from the field is of kind grassroots")
		rj.field = "kind"
		return rj
	}
	if c.vals["status"] != "proposed" {
		return rejectField("status", "a place proposed from the field stays proposed until headquarters decide on it")
	}
	if name, _ := c.vals["name"].(string); strings.TrimSpace(name) == "" {
		rj := reject(protocol.CodeValidationFailed, "a place needs a name")
		rj.field = "name"
		return rj
	}
	return nil
}

// placeParent: a grassroots place belongs to a live, confirmed province or
// central unit; a new one must name it.
func placeParent(c *change) error {
	v, set := c.vals["parent_id"]
	if !set && c.cur != nil {
		return nil
	}
	id, _ := v.(string)
	bad := func() error {
		rj := reject(protocol.CodeValidationFailed, "a grassroots place belongs to a province or a central unit (parent_id)")
		rj.field = "parent_id"
		return rj
	}
	if id == "" {
		return bad()
	}
	p, err := loadRow(c.ctx, c.tx, mustTable("units"), id)
	if err != nil {
		return err
	}
	if p == nil || p.deleted || (p.values["kind"] != "province" && p.values["kind"] != "central_affiliated") ||
		(p.values["status"] != nil && p.values["status"] != "confirmed") {
		return bad()
	}
	return nil
}

// placePosition: a new place has the position it was proposed from (the
// check-ins there are judged against it); a correction moves it, never
// clears it.
func placePosition(c *change) error {
	for _, f := range []string{"lat", "lng"} {
		v, set := c.vals[f]
		if (set || c.cur == nil) && v == nil {
			rj := reject(protocol.CodeValidationFailed, "a grassroots place needs its position (lat and lng)")
			rj.field = f
			return rj
		}
	}
	return nil
}

// notOwnProposal: a place is decided by someone other than its proposer.
func notOwnProposal(c *change) error {
	_, status := c.vals["status"]
	_, kept := c.vals["replaced_by_id"]
	if (status || kept) && c.stored("proposed_by") == c.actor().UserID {
		return rejectField("status", "you proposed this place: someone else at headquarters decides on it")
	}
	return nil
}

// mergedIntoLiveUnit: a merged place names the unit it duplicates, a live
// confirmed unit other than itself (so merges never form a cycle), and
// only a merged place names one.
func mergedIntoLiveUnit(c *change) error {
	kept, _ := c.value("replaced_by_id").(string)
	if c.value("status") != "merged" {
		if kept != "" {
			rj := reject(protocol.CodeValidationFailed, "only a merged place names the unit it duplicates (replaced_by_id)")
			rj.field = "replaced_by_id"
			return rj
		}
		return nil
	}
	bad := func() error {
		rj := reject(protocol.CodeValidationFailed, "a merged place names the confirmed unit it duplicates (replaced_by_id)")
		rj.field = "replaced_by_id"
		return rj
	}
	if kept == "" || kept == c.cur.id {
		return bad()
	}
	u, err := loadRow(c.ctx, c.tx, mustTable("units"), kept)
	if err != nil {
		return err
	}
	if u == nil || u.deleted || (u.values["status"] != nil && u.values["status"] != "confirmed") {
		return bad()
	}
	return nil
}

// reviewedBySelf: a reviewer names only themselves as the reviewer.
func reviewedBySelf(c *change) error {
	if by, set := c.vals["reviewed_by"]; set && by != c.actor().UserID {
		return rejectField("reviewed_by", "reviewed_by must be the reviewer")
	}
	return nil
}

// endsNotBeforeStart: a row's end (ends_on), when it has one, is not
// before its start (starts_on), on the row as the change leaves it, so a
// change of either date alone is judged against the other as stored; what
// names the row in the refusal. Dates were checked by the schema, so
// YYYY-MM-DD strings compare as text. (Campaigns and special periods,
// edited over REST, are held to the same by server/api's checkSpans.)
func endsNotBeforeStart(what string) Check {
	return func(c *change) error {
		start, _ := c.value("starts_on").(string)
		if end, _ := c.value("ends_on").(string); end != "" && end < start {
			return rejectValidation("ends_on", "ngày kết thúc trước ngày bắt đầu (the "+what+" ends before it starts)")
		}
		return nil
	}
}

// ownTrip: a trip day, a check-in or a visit note names one of its
// owner's own trips (a check-in or a note may name none): the reports
// count the day, the check-in and the note under that trip.
func ownTrip(c *change) error {
	trip, ok := c.vals["trip_id"].(string)
	if !ok {
		return nil
	}
	r, err := loadRow(c.ctx, c.tx, mustTable("trips"), trip)
	if err != nil {
		return err
	}
	if r == nil {
		return reject(protocol.CodeValidationFailed, "no trips row %s", trip)
	}
	if r.values["user_id"] != c.actor().UserID {
		return rejectField("trip_id", "chuyến đi này không phải của bạn (a %s names one of your own trips only)",
			map[string]string{"trip_days": "trip day", "checkins": "check-in", "visit_notes": "visit note"}[c.t.Name])
	}
	return nil
}

// notFutureDay: a trip day written is not after today in Vietnam by the
// server's clock (sync/plan's calendar): a field day is one spent in the
// field, and ticking days ahead would raise the tally before they happen.
// The server's clock is allowed to lag a device's by the tolerated clock
// skew, so that a day ticked just after midnight on a phone a minute fast
// is not refused for ever.
func notFutureDay(c *change) error {
	day, set := c.vals["day"].(string)
	if !set {
		return nil // not written: the stored day was judged when it was
	}
	today := plan.Today(c.w.now.Add(c.d.opts.ClockSkew))
	if day > today {
		rj := reject(protocol.CodeValidationFailed, "a field day cannot be in the future")
		rj.field = "day"
		return rj
	}
	return nil
}

// citesReadableNote: a finding may only name a note its writer may read.
// The department read scope trusts that link (a department reads the
// notes of the findings assigned to it), so without this check anyone
// could open any note to their department by filing a finding on it.
func citesReadableNote(c *change) error {
	note, _ := c.vals["note_id"].(string)
	a := c.actor()
	if note == "" || a.seesAll() {
		return nil
	}
	n, err := loadRow(c.ctx, c.tx, mustTable("visit_notes"), note)
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
	if err := c.tx.flush(c.ctx); err != nil {
		return err
	}
	where, args := scopeClauseWith(a, mustTable("visit_notes"), false, true)
	var ok bool
	err = c.tx.tx.QueryRowContext(c.ctx, "SELECT EXISTS (SELECT 1 FROM visit_notes r WHERE r.id = :note AND ("+where+"))",
		append(args, sql.Named("note", note))...).Scan(&ok)
	if err != nil {
		return fmt.Errorf("check note %s: %w", note, err)
	}
	if !ok {
		return rejectField("note_id", "a finding may only cite a note you may read")
	}
	return nil
}

// errOfficeCampaign is the Office's refusal on other campaigns than its own.
var errOfficeCampaign = errors.New("the Office may only write campaigns of kind special (Youth Month, Summer Volunteer Campaign)")

// Read scopes. Each SQL is a constant over the row aliased r; only values
// travel as parameters (:me, :dept, :unit).
var (
	// Headquarters read every row in the console, over the API: a
	// headquarters browser never needs the national dataset on the device
	// (issue 8), so their devices pull only the other scopes they match
	// (their own rows, or a field role's).
	headquartersRead = Scope{Name: "headquarters read every row (over the API)", Roles: headquarters, SQL: "TRUE", API: true}
	// Headquarters' own planning records (team schedules, notices,
	// briefings) are few and written on their devices: they pull them all.
	headquartersPlans = Scope{Name: "headquarters read every row", Roles: headquarters, SQL: "TRUE"}
	// What waits on headquarters their devices do pull, so that a reviewer
	// or the Office can work on a phone too: the notes in review (handed in
	// and not yet accepted, a note sent back included, as it comes back to
	// them; accepting one moves it out), and the findings still open or in
	// progress (the register's work; resolving or dismissing one moves it
	// out), each with the rows read with it.
	headquartersQueue = Scope{Name: "headquarters: notes in review", Roles: headquarters, SQL: `r.status IN ('submitted', 'needs_revision')`}
	headquartersOpen  = Scope{Name: "headquarters: findings still open or in progress", Roles: headquarters,
		SQL: `COALESCE(r.status, 'open') IN ('open', 'in_progress')`}
	// Field data by units of a campaign team the reader leads or belongs to
	// (and, where the row has one, for that team's campaign).
	teamUnits = Scope{Name: "a team's leader and members: the team's units, in its campaign", needs: inTeam,
		SQL: `EXISTS (SELECT 1 FROM teams t, json_each(t.unit_ids) tu
		WHERE t.deleted = 0 AND tu.value = r.unit_id
		AND (r.campaign_id IS NULL OR r.campaign_id = t.campaign_id)
		AND (t.leader_id = :me OR EXISTS (SELECT 1 FROM json_each(t.member_ids) m WHERE m.value = :me)))`,
		PG: `EXISTS (SELECT 1 FROM teams t, jsonb_array_elements_text(t.unit_ids::jsonb) tu(value)
		WHERE t.deleted = 0 AND tu.value = r.unit_id
		AND (r.campaign_id IS NULL OR r.campaign_id = t.campaign_id)
		AND (t.leader_id = :me OR t.member_ids::jsonb @> jsonb_build_array(:me::text)))`}
	teamUnitsAnyCampaign = Scope{Name: "a team's leader and members: the team's units", needs: inTeam,
		SQL: `EXISTS (SELECT 1 FROM teams t, json_each(t.unit_ids) tu
		WHERE t.deleted = 0 AND tu.value = r.unit_id
		AND (t.leader_id = :me OR EXISTS (SELECT 1 FROM json_each(t.member_ids) m WHERE m.value = :me)))`,
		PG: `EXISTS (SELECT 1 FROM teams t, jsonb_array_elements_text(t.unit_ids::jsonb) tu(value)
		WHERE t.deleted = 0 AND tu.value = r.unit_id
		AND (t.leader_id = :me OR t.member_ids::jsonb @> jsonb_build_array(:me::text)))`}
	tripsOfMyCampaigns = Scope{Name: "a team's leader and members: trips of the team's campaign", needs: inTeam,
		SQL: `r.campaign_id IN (SELECT t.campaign_id FROM teams t WHERE t.deleted = 0
		AND (t.leader_id = :me OR EXISTS (SELECT 1 FROM json_each(t.member_ids) m WHERE m.value = :me)))`,
		PG: `r.campaign_id IN (SELECT t.campaign_id FROM teams t WHERE t.deleted = 0
		AND (t.leader_id = :me OR t.member_ids::jsonb @> jsonb_build_array(:me::text)))`}
	// A secretary reads the field data of the units of the clusters they lead.
	myClusters = Scope{Name: "a secretary: the units of the clusters they lead", Roles: []string{plan.RoleSecretary}, needs: leadCluster,
		SQL: clusterUnit}
	tripsToMyClusters = Scope{Name: "a secretary: trips to units of the clusters they lead", Roles: []string{plan.RoleSecretary}, needs: leadCluster,
		SQL: `EXISTS (SELECT 1 FROM json_each(r.unit_ids) tu JOIN units u ON u.id = tu.value
		JOIN clusters c ON c.id = u.cluster_id WHERE c.deleted = 0 AND c.lead_secretary_id = :me)`,
		PG: `EXISTS (SELECT 1 FROM jsonb_array_elements_text(r.unit_ids::jsonb) tu(value) JOIN units u ON u.id = tu.value
		JOIN clusters c ON c.id = u.cluster_id WHERE c.deleted = 0 AND c.lead_secretary_id = :me)`}
	// A liaison reads what concerns their unit: check-ins, the notes once
	// handed in, their findings with them.
	liaisonUnit        = Scope{Name: "a unit liaison: their unit", Roles: []string{plan.RoleUnitLiaison}, needs: hasUnit, SQL: `r.unit_id = :unit`}
	liaisonHandedIn    = Scope{Name: "a unit liaison: their unit's handed-in notes", Roles: []string{plan.RoleUnitLiaison}, needs: hasUnit, SQL: `r.unit_id = :unit AND ` + handedIn}
	liaisonFollowsNote = Scope{Name: "a unit liaison: their unit's findings, with their note", Roles: []string{plan.RoleUnitLiaison}, needs: hasUnit,
		SQL: `r.unit_id = :unit`, WithParent: true}
	// A department reads the findings assigned to it, and the notes they
	// were recorded on once handed in.
	departmentAssigned = Scope{Name: "a department: the findings assigned to it", Roles: []string{plan.RoleDepartment}, needs: hasDept,
		SQL: `r.department_id = :dept`}
	departmentCited = Scope{Name: "a department: handed-in notes its findings cite", Roles: []string{plan.RoleDepartment}, needs: hasDept,
		SQL: `EXISTS (SELECT 1 FROM findings f WHERE f.note_id = r.id AND f.deleted = 0 AND f.department_id = :dept) AND ` + handedIn}
	// A follow-up is read with its finding.
	withItsFinding = Scope{Name: "whoever reads its finding", SQL: "TRUE", WithParent: true}
	withItsNote    = Scope{Name: "whoever reads its note", SQL: "TRUE", WithParent: true}
)

// own is the author's scope: rows whose owner field names the reader.
func own(field string) Scope { return Scope{Name: "the author", SQL: "r." + field + " = :me"} }

const (
	clusterUnit = `r.unit_id IN (SELECT u.id FROM units u JOIN clusters c ON c.id = u.cluster_id
		WHERE c.deleted = 0 AND c.lead_secretary_id = :me)`
	// handedIn: a note its author has submitted (and a reviewer may have
	// accepted); not a draft, nor one sent back for revision.
	handedIn = `r.status IN ('submitted', 'reviewed')`
)

// need names the condition under which a scope can match anything.
type need int

const (
	always      need = iota
	inTeam           // the reader leads or belongs to an inspection team
	leadCluster      // the reader leads a cluster as its secretary
	hasDept          // the reader belongs to a department
	hasUnit          // the reader is attached to a unit (a liaison)
)

// mayMatch reports whether scope s can select anything for actor a.
// Scopes that cannot are left out of the query, so that a plain author's
// pull is one walk of the (owner, seq) index rather than a scan of every
// change since the cursor. With the actor's reach unknown, every scope the
// roles allow stays.
func (a Actor) mayMatch(s Scope) bool {
	if s.Roles != nil && !slices.ContainsFunc(s.Roles, a.Has) {
		return false
	}
	switch s.needs {
	case hasDept:
		return a.DepartmentID != ""
	case hasUnit:
		return a.UnitID != ""
	case inTeam:
		return a.reach == nil || a.reach.inTeam
	case leadCluster:
		return a.reach == nil || a.reach.leadsCluster
	}
	return true
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
	err := tx.QueryRowContext(ctx, tx.dialect.Pick(
		`SELECT json_extract(applied, '$.' || :field) FROM change_log
		WHERE tbl = :tbl AND row_id = :row AND seq <= :base AND json_type(applied, '$.' || :field) IS NOT NULL
		ORDER BY seq DESC LIMIT 1`,
		`SELECT applied::jsonb ->> :field::text FROM change_log
		WHERE tbl = :tbl AND row_id = :row AND seq <= :base AND (applied::jsonb -> :field::text) IS NOT NULL
		ORDER BY seq DESC LIMIT 1`),
		sql.Named("field", field), sql.Named("tbl", cur.table.Name), sql.Named("row", cur.id), sql.Named("base", w.baseSeq)).Scan(&seen)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the %s a device had seen: %w", field, err)
	}
	return seen.String, nil
}

func rejectField(field, format string, args ...any) *rejection {
	rj := reject(protocol.CodeForbidden, format, args...)
	rj.field = field
	return rj
}

// Check-in flags, computed on receipt. The radius and the flags the tally
// reads are the plan's (sync/plan), shared with the phones, which judge
// unsent check-ins by the same radius.
const (
	FlagFarFromUnit = plan.FlagFarFromUnit // more than FarFromUnitMeters from the unit's point
	FlagLowAccuracy = "low_accuracy"       // the phone's fix was worse than LowAccuracyMeters
	FlagFutureTime  = "future_time"        // stamped later than the server received it
	FlagNoPosition  = plan.FlagNoPosition  // no coordinates were sent

	FarFromUnitMeters = plan.NearUnitMeters
	LowAccuracyMeters = 200
)

// computeFields fills the server-computed fields of a row a device
// creates, as its spec says.
func (d *DB) computeFields(ctx context.Context, tx *wtx, w *writeCtx, t *schema.Table, vals map[string]any) {
	if sp, ok := specs[t.Name]; ok && sp.Compute != nil {
		sp.Compute(ctx, d, tx, w, vals)
	}
}

// computeCheckin fills a new check-in's computed fields: when it arrived,
// how far it was from the unit's coordinates, and what looks off.
func computeCheckin(ctx context.Context, d *DB, tx *wtx, w *writeCtx, vals map[string]any) {
	vals["received_at"] = w.now.UTC().Format(time.RFC3339Nano)
	flags := []string{}
	lat, okLat := vals["lat"].(float64)
	lng, okLng := vals["lng"].(float64)
	if okLat && okLng {
		// The unit checked in at, as this transaction holds it: a place
		// proposed earlier in the same push is judged against too.
		unit, _ := vals["unit_id"].(string)
		u, err := loadRow(ctx, tx, mustTable("units"), unit)
		ulat, okULat := unitCoord(u, "lat")
		ulng, okULng := unitCoord(u, "lng")
		if err == nil && okULat && okULng {
			dist := math.Round(Haversine(lat, lng, ulat, ulng))
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

// unitCoord is a unit's stored coordinate; false when the unit or the
// value is missing.
func unitCoord(u *rowState, field string) (float64, bool) {
	if u == nil {
		return 0, false
	}
	v, ok := u.values[field].(float64)
	return v, ok
}

// computePlace fills a proposed place's activity cluster from its parent,
// so the secretary leading that cluster reads the check-ins made there as
// they read the province's.
func computePlace(ctx context.Context, d *DB, tx *wtx, w *writeCtx, vals map[string]any) {
	parent, _ := vals["parent_id"].(string)
	if p, err := loadRow(ctx, tx, mustTable("units"), parent); err == nil && p != nil {
		vals["cluster_id"] = p.values["cluster_id"]
	}
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
