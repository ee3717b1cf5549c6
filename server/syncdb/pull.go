package syncdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// cursor is what a pull cursor encodes: the last change sequence the device
// has, and a fingerprint of the access scope it was read under. When the
// scope changes (a role, a team, a cluster) the fingerprint no longer
// matches and the device is told to reset: rows may have left its scope.
type cursor struct {
	seq   int64
	scope string
}

func (c cursor) String() string { return "1." + strconv.FormatInt(c.seq, 10) + "." + c.scope }

func parseCursor(s string) (cursor, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] != "1" {
		return cursor{}, errors.New("malformed cursor")
	}
	seq, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || seq < 0 {
		return cursor{}, errors.New("malformed cursor")
	}
	return cursor{seq: seq, scope: parts[2]}, nil
}

// ErrBadCursor is returned for a cursor this server did not make.
var ErrBadCursor = errors.New("malformed cursor")

// Pull returns up to req.Limit rows the actor may read that changed after
// the cursor, in change order, all read in one snapshot.
func (d *DB) Pull(ctx context.Context, a Actor, req protocol.PullRequest) (protocol.PullResponse, error) {
	var after cursor
	if req.Cursor != "" {
		c, err := parseCursor(req.Cursor)
		if err != nil {
			return protocol.PullResponse{}, ErrBadCursor
		}
		after = c
	}
	limit := req.Limit
	if limit <= 0 {
		limit = protocol.DefaultPullLimit
	}
	resp := protocol.PullResponse{Rows: []protocol.Row{}}
	err := d.st.ReadTx(ctx, func(tx *sql.Tx) error {
		var scope string
		var err error
		a, scope, err = withReach(ctx, tx, a)
		if err != nil {
			return err
		}
		if req.Cursor != "" && after.scope != scope {
			resp.Reset = true
			return nil
		}
		snapshot := req.Cursor == ""
		rows, err := pullRange(ctx, tx, a, after.seq, math.MaxInt64, limit+1, snapshot)
		if err != nil {
			return err
		}
		next := after.seq
		if len(rows) > limit {
			resp.HasMore = true
			end := pageEnd(rows, limit)
			if end == 0 {
				// One sequence holds more rows than a page (a finding's
				// follow-ups, restamped together): send all of it, fetched
				// without a limit, since the next page starts after it.
				s := rows[0].seq
				if rows, err = pullRange(ctx, tx, a, s-1, s, math.MaxInt, snapshot); err != nil {
					return err
				}
				end = len(rows)
			}
			rows = rows[:end]
		}
		for _, r := range rows {
			resp.Rows = append(resp.Rows, r.row)
			next = r.seq
		}
		if !resp.HasMore {
			// Nothing visible is left: jump to the newest sequence so the
			// next pull does not rescan changes outside this scope.
			if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM change_log").Scan(&next); err != nil {
				return fmt.Errorf("read newest sequence: %w", err)
			}
			next = max(next, after.seq)
		}
		resp.Cursor = cursor{seq: next, scope: scope}.String()
		return nil
	})
	if err != nil {
		return protocol.PullResponse{}, err
	}
	resp.ServerTime = d.now().UTC().Format(time.RFC3339Nano)
	return resp, nil
}

// pullRange reads, across every table, up to limit rows per table that the
// actor may read with after < seq <= until, sorted by seq. Outside a
// snapshot it includes the rows that departed the actor's scope.
func pullRange(ctx context.Context, tx *sql.Tx, a Actor, after, until int64, limit int, snapshot bool) ([]pulledRow, error) {
	var rows []pulledRow
	for _, t := range schema.Tables() {
		got, err := pullTable(ctx, tx, a, t, after, until, limit)
		if err != nil {
			return nil, err
		}
		rows = append(rows, got...)
		if snapshot {
			continue // a snapshot starts from nothing: nothing to drop
		}
		gone, err := pullDeparted(ctx, tx, a, t, after, until, limit)
		if err != nil {
			return nil, err
		}
		rows = append(rows, gone...)
	}
	slices.SortFunc(rows, func(x, y pulledRow) int { return cmpInt64(x.seq, y.seq) })
	return rows, nil
}

// pageEnd is where a page of sorted rows ends: at limit, moved back so that
// rows sharing one sequence (a finding's follow-ups, restamped by the move
// of their finding) are never split across pages, since the next page
// starts after the cursor's sequence. 0 means the first sequence alone
// holds more rows than a page.
func pageEnd(rows []pulledRow, limit int) int {
	end := limit
	for end > 0 && rows[end-1].seq == rows[limit].seq {
		end--
	}
	return end
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type pulledRow struct {
	seq int64
	row protocol.Row
}

func pullTable(ctx context.Context, tx *sql.Tx, a Actor, t *schema.Table, after, until int64, limit int) ([]pulledRow, error) {
	cols := t.Columns()
	where, args := scopeClause(a, t)
	q := "SELECT id, " + strings.Join(cols, ", ") + ", deleted, version, seq FROM " + t.Name + " AS r" +
		" WHERE r.seq > :after AND r.seq <= :until AND (" + where + ") ORDER BY r.seq LIMIT :limit"
	args = append(args, sql.Named("after", after), sql.Named("until", until), sql.Named("limit", limit))
	rs, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", t.Name, err)
	}
	defer rs.Close()
	var out []pulledRow
	for rs.Next() {
		raw := make([]any, len(cols))
		dest := make([]any, 0, len(cols)+4)
		var id, version string
		var deleted, seq int64
		dest = append(dest, &id)
		for i := range raw {
			dest = append(dest, &raw[i])
		}
		dest = append(dest, &deleted, &version, &seq)
		if err := rs.Scan(dest...); err != nil {
			return nil, fmt.Errorf("pull %s: %w", t.Name, err)
		}
		fields := make(map[string]any, len(cols))
		for i, c := range cols {
			f, _ := t.Field(c)
			fields[c] = f.FromSQL(raw[i])
		}
		out = append(out, pulledRow{seq: seq, row: protocol.Row{
			Table: t.Name, RowID: id, Fields: fields, Deleted: deleted != 0, Version: version,
		}})
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("pull %s: %w", t.Name, err)
	}
	return out, nil
}

// The scope of field data (design §1), as SQL over the row aliased r.
// Each clause is a constant; only values travel as parameters.
const (
	// r.unit_id is one of the units of a campaign team the actor leads or
	// belongs to (and, where the row has one, for that team's campaign).
	inMyTeamUnits = `EXISTS (SELECT 1 FROM teams t, json_each(t.unit_ids) tu
		WHERE t.deleted = 0 AND tu.value = r.unit_id
		AND (r.campaign_id IS NULL OR r.campaign_id = t.campaign_id)
		AND (t.leader_id = :me OR EXISTS (SELECT 1 FROM json_each(t.member_ids) m WHERE m.value = :me)))`
	inMyTeamUnitsNoCampaign = `EXISTS (SELECT 1 FROM teams t, json_each(t.unit_ids) tu
		WHERE t.deleted = 0 AND tu.value = r.unit_id
		AND (t.leader_id = :me OR EXISTS (SELECT 1 FROM json_each(t.member_ids) m WHERE m.value = :me)))`
	// r.unit_id is in a cluster the actor leads as secretary.
	inMyClusters = `r.unit_id IN (SELECT u.id FROM units u JOIN clusters c ON c.id = u.cluster_id
		WHERE c.deleted = 0 AND c.lead_secretary_id = :me)`
	tripInMyClusters = `EXISTS (SELECT 1 FROM json_each(r.unit_ids) tu JOIN units u ON u.id = tu.value
		JOIN clusters c ON c.id = u.cluster_id WHERE c.deleted = 0 AND c.lead_secretary_id = :me)`
	tripInMyTeams = `r.campaign_id IN (SELECT t.campaign_id FROM teams t WHERE t.deleted = 0
		AND (t.leader_id = :me OR EXISTS (SELECT 1 FROM json_each(t.member_ids) m WHERE m.value = :me)))`
	myUnit = `r.unit_id = :unit`
)

// A scopeRule widens an actor's read of one table beyond their own rows.
type scopeRule struct {
	role  string // the role it needs; "" for any
	needs need   // what else must be true for it to match at all
	sql   string
	// withParent: the row is read only with its parent row (parents), so
	// it enters and leaves the actor's copy with it.
	withParent bool
}

// A parentLink names the row a row is read with: field holds its id in
// table. A row with no parent (the field null) is read on its own rules.
type parentLink struct {
	table, field string
}

// parents are the rows some rows are read with: a follow-up with its
// finding, a liaison's finding with its note.
var parents = map[string]parentLink{
	"findings":   {"visit_notes", "note_id"},
	"follow_ups": {"findings", "finding_id"},
}

// need names the condition under which a rule can match anything.
type need int

const (
	always      need = iota
	inTeam           // the actor leads or belongs to an inspection team
	leadCluster      // the actor leads a cluster as its secretary
	hasDept          // the actor belongs to a department
	hasUnit          // the actor is attached to a unit (a liaison)
)

// scopeRules is design §1's read scope of field data, beyond "own rows".
var scopeRules = map[string][]scopeRule{
	"trips": {
		{"", inTeam, tripInMyTeams, false},
		{"secretary", leadCluster, tripInMyClusters, false},
	},
	"trip_days": {
		{"secretary", leadCluster, inMyClusters, false},
	},
	"checkins": {
		{"", inTeam, inMyTeamUnitsNoCampaign, false},
		{"secretary", leadCluster, inMyClusters, false},
		{"unit_liaison", hasUnit, myUnit, false},
	},
	"visit_notes": {
		{"", inTeam, inMyTeamUnits, false},
		{"secretary", leadCluster, inMyClusters, false},
		// A liaison sees the conclusions about their unit, not drafts.
		{"unit_liaison", hasUnit, myUnit + ` AND ` + handedIn, false},
		// A department sees the notes its findings were recorded on, once
		// they are handed in.
		{"department", hasDept, `EXISTS (SELECT 1 FROM findings f WHERE f.note_id = r.id AND f.deleted = 0 AND f.department_id = :dept) AND ` + handedIn, false},
	},
	"findings": {
		{"", inTeam, inMyTeamUnits, false},
		{"secretary", leadCluster, inMyClusters, false},
		// A liaison sees a finding about their unit with its note.
		{"unit_liaison", hasUnit, myUnit, true},
		{"department", hasDept, `r.department_id = :dept`, false},
	},
	// A follow-up is visible with its finding.
	"follow_ups": {
		{"", always, "1", true},
	},
}

// handedIn: a note its author has submitted (and a reviewer may have
// accepted); not a draft, nor one sent back for revision.
const handedIn = `r.status IN ('submitted', 'reviewed')`

// mayMatch reports whether rule r can select anything for actor a. Rules
// that cannot are left out of the query, so that a plain author's pull is
// one walk of the (owner, seq) index rather than a scan of every change
// since the cursor. With the actor's reach unknown, every rule stays.
func (a Actor) mayMatch(r scopeRule) bool {
	if r.role != "" && !a.Has(r.role) {
		return false
	}
	switch r.needs {
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

// scopeClause is the WHERE condition limiting table t to what a may read.
func scopeClause(a Actor, t *schema.Table) (string, []any) {
	return scopeClauseWith(a, t, false)
}

// scopeClauseWith is scopeClause; with parentReadable it takes the
// parent of a row read with its parent as readable, which is what the
// actor could read while that parent was in their scope.
func scopeClauseWith(a Actor, t *schema.Table, parentReadable bool) (string, []any) {
	args := []any{sql.Named("me", a.UserID), sql.Named("dept", a.DepartmentID), sql.Named("unit", a.UnitID)}
	if t.Reference || a.seesAll() {
		return "1", args
	}
	or := []string{"r." + t.Owner + " = :me"}
	for _, r := range scopeRules[t.Name] {
		if !a.mayMatch(r) {
			continue
		}
		if !r.withParent || parentReadable {
			or = append(or, "("+r.sql+")")
			continue
		}
		p := parents[t.Name]
		inner, _ := scopeClause(a, mustTable(p.table))
		or = append(or, "(("+r.sql+") AND (r."+p.field+" IS NULL OR r."+p.field+" IN (SELECT r.id FROM "+p.table+" r WHERE "+inner+")))")
	}
	return strings.Join(or, " OR "), args
}

func mustTable(name string) *schema.Table {
	t, ok := schema.Lookup(name)
	if !ok {
		panic("schema has no table " + name) // a programming error, caught by any pull test
	}
	return t
}

// reach is what an actor's read scope depends on beyond their user row.
type reach struct {
	inTeam       bool // leads or belongs to a live inspection team
	leadsCluster bool // is the lead secretary of a live cluster
}

// withReach reads the actor's team and cluster memberships, returning the
// actor with them and a fingerprint of everything the read scope depends on.
func withReach(ctx context.Context, tx *sql.Tx, a Actor) (Actor, string, error) {
	h := sha256.New()
	roles := slices.Clone(a.Roles)
	slices.Sort(roles)
	fmt.Fprintf(h, "%s|%s|%s|%s\n", a.UserID, strings.Join(roles, ","), a.DepartmentID, a.UnitID)
	r := &reach{}
	if !a.seesAll() {
		q := `SELECT 'team', t.id || ':' || COALESCE(t.campaign_id, '') || ':' || t.unit_ids FROM teams t
			WHERE t.deleted = 0 AND (t.leader_id = :me OR EXISTS (SELECT 1 FROM json_each(t.member_ids) m WHERE m.value = :me))
			UNION ALL
			SELECT 'cluster', u.id FROM units u JOIN clusters c ON c.id = u.cluster_id
			WHERE c.deleted = 0 AND c.lead_secretary_id = :me
			UNION ALL
			SELECT 'finding', f.id || ':' || COALESCE(f.note_id, '') FROM findings f
			WHERE :in_dept = 1 AND f.deleted = 0 AND f.department_id = :dept
			ORDER BY 1, 2`
		// A department reads the notes and follow-ups of the findings
		// assigned to it: they enter or leave its scope when a finding
		// changes, not when they do, so no pull by sequence would bring or
		// drop them. The assigned findings are part of the scope: assigning
		// one elsewhere or here resets the department's devices.
		inDept := 0
		if a.Has("department") && a.DepartmentID != "" {
			inDept = 1
		}
		rs, err := tx.QueryContext(ctx, q, sql.Named("me", a.UserID), sql.Named("dept", a.DepartmentID), sql.Named("in_dept", inDept))
		if err != nil {
			return a, "", fmt.Errorf("read scope: %w", err)
		}
		defer rs.Close()
		for rs.Next() {
			var kind, v string
			if err := rs.Scan(&kind, &v); err != nil {
				return a, "", fmt.Errorf("read scope: %w", err)
			}
			r.inTeam = r.inTeam || kind == "team"
			r.leadsCluster = r.leadsCluster || kind == "cluster"
			fmt.Fprintf(h, "%s %s\n", kind, v)
		}
		if err := rs.Err(); err != nil {
			return a, "", fmt.Errorf("read scope: %w", err)
		}
	}
	a.reach = r
	return a, hex.EncodeToString(h.Sum(nil))[:16], nil
}
