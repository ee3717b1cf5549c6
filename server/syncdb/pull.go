package syncdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
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
	// Written as String writes it: digits, no sign, no leading zero.
	seq, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || seq < 0 || strconv.FormatInt(seq, 10) != parts[1] {
		return cursor{}, errors.New("malformed cursor")
	}
	return cursor{seq: seq, scope: parts[2]}, nil
}

// ErrBadCursor is returned for a cursor this server did not make: one not
// written as it writes them, or naming a sequence beyond its change log's
// end (a device that pulled from this server before it was restored from
// an older backup; it resets).
var ErrBadCursor = errors.New("malformed cursor")

// logEnd is the newest sequence of the change log as tx sees it. Every
// cursor the server hands out was read in a snapshot that held its
// sequence, so it is at most logEnd in any later one.
func logEnd(ctx context.Context, tx querier) (int64, error) {
	var end int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM change_log").Scan(&end); err != nil {
		return 0, fmt.Errorf("read newest sequence: %w", err)
	}
	return end, nil
}

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
	a.dialect = d.st.Dialect()
	resp := protocol.PullResponse{Rows: []protocol.Row{}}
	err := d.st.ReadTx(ctx, func(tx *sql.Tx) error {
		end, err := logEnd(ctx, tx)
		if err != nil {
			return err
		}
		if after.seq > end {
			return ErrBadCursor
		}
		var scope string
		a, scope, err = withReach(ctx, tx, a)
		if err != nil {
			return err
		}
		if req.Cursor != "" && after.scope != scope {
			resp.Reset = true
			return nil
		}
		snapshot := req.Cursor == ""
		// Rows this device holds already are read like any other, so pages
		// and the cursor move exactly as without no_echo, and left out below.
		var own *ownRule
		if req.NoEcho && !snapshot {
			own = &ownRule{device: a.DeviceID, db: d}
		}
		next := after.seq
		// Left-out rows cost no bytes: a page goes on reading past them, up
		// to ownScan pages' worth, so a device back with a month of its own
		// writes gets what is new to it in one round trip.
		for scanned := 0; ; {
			rows, more, err := d.pullPage(ctx, tx, a, next, limit-len(resp.Rows), snapshot, own)
			if err != nil {
				return err
			}
			resp.HasMore = more
			for _, r := range rows {
				next = r.seq
				if !r.own {
					resp.Rows = append(resp.Rows, r.row)
				}
			}
			scanned += len(rows)
			if !more || own == nil || len(resp.Rows) >= limit || scanned >= ownScan*limit {
				break
			}
		}
		if !resp.HasMore {
			// Nothing visible is left: jump to the newest sequence so the
			// next pull does not rescan changes outside this scope.
			next = end
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

// ownScan bounds how many pages' worth of rows one pull with no_echo reads
// while it leaves them out.
const ownScan = 10

// pullPage reads one page of rows after the sequence from: up to limit
// rows, never splitting one sequence, and whether more follow.
func (d *DB) pullPage(ctx context.Context, tx *sql.Tx, a Actor, from int64, limit int, snapshot bool, own *ownRule) ([]pulledRow, bool, error) {
	rows, err := pullRange(ctx, tx, d.tables.list, a, from, math.MaxInt64, limit+1, snapshot, own)
	if err != nil || len(rows) <= limit {
		return rows, false, err
	}
	end := pageEnd(rows, limit)
	if end == 0 {
		// One sequence holds more rows than a page (a finding's
		// follow-ups, restamped together): send all of it, fetched
		// without a limit, since the next page starts after it.
		s := rows[0].seq
		if rows, err = pullRange(ctx, tx, d.tables.list, a, s-1, s, math.MaxInt, snapshot, own); err != nil {
			return nil, false, err
		}
		end = len(rows)
	}
	return rows[:end], true, nil
}

// pullRange reads, across every table, up to limit rows per table that the
// actor may read with after < seq <= until, sorted by seq. Outside a
// snapshot it includes the rows that departed the actor's scope.
func pullRange(ctx context.Context, tx *sql.Tx, tables []*schema.Table, a Actor, after, until int64, limit int, snapshot bool, own *ownRule) ([]pulledRow, error) {
	var rows []pulledRow
	for _, t := range tables {
		got, err := pullTable(ctx, tx, a, t, after, until, limit, own)
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
	own bool // the device holds every value of it already (ownRule): not sent
}

// ownRule is the rule of a pull with no_echo (docs/protocol.md, "Own
// writes"): a row is left out when every field of it that any write set
// was set by this device, the last of them being the row's last change,
// and every field no write set holds its column default (or nothing). The
// device holds each of those values, having written it itself and been
// told by the push answers what the server made of it (computed fields,
// defaults, versions). A field another writer set, however long ago, sends
// the row whole: a cursor does not prove the device holds it (a page of a
// pull gives a row at its last change only); so does a value no write set
// that is not the default (a row written into the file by other means). A
// row whose sequence moved without a write of its own (children restamped
// when their parent moved) and a row that departed the reader's scope are
// always sent.
type ownRule struct {
	device string
	db     *DB
}

func (o *ownRule) holds(seq int64, clocks map[string]fieldClock, cols []string, raw []any, defaults map[string]any) bool {
	last := false
	for _, fc := range clocks {
		if nodeOf(fc.H) != o.device {
			return false
		}
		last = last || fc.S == seq
	}
	if !last {
		return false
	}
	for i, c := range cols {
		if _, clocked := clocks[c]; !clocked && raw[i] != nil && !sameValue(normalSQL(raw[i]), normalSQL(defaults[c])) {
			return false
		}
	}
	return true
}

// normalSQL makes a scanned value comparable with a column default: text
// may come as bytes.
func normalSQL(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

func pullTable(ctx context.Context, tx *sql.Tx, a Actor, t *schema.Table, after, until int64, limit int, own *ownRule) ([]pulledRow, error) {
	cols := t.Columns()
	where, args := scopeClause(a, t)
	if where == "FALSE" {
		return nil, nil // nothing of it is theirs to read
	}
	clocksCol := ""
	if own != nil {
		clocksCol = ", clocks"
	}
	q := "SELECT id, " + strings.Join(cols, ", ") + ", deleted, version, seq" + clocksCol + " FROM " + t.Name + " AS r" +
		" WHERE r.seq > :after AND r.seq <= :until AND (" + where + ") ORDER BY r.seq LIMIT :limit"
	args = append(args, sql.Named("after", after), sql.Named("until", until), sql.Named("limit", limit))
	// Read before the rows: PostgreSQL runs a transaction's statements on
	// one connection, one at a time, so none may start while rows are open.
	var defaults map[string]any
	if own != nil {
		var err error
		if defaults, err = own.db.columnDefaults(ctx, tx, t); err != nil {
			return nil, err
		}
	}
	rs, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", t.Name, err)
	}
	defer rs.Close()
	var out []pulledRow
	// One set of scan targets for every row: the values are copied out.
	raw := make([]any, len(cols))
	dest := make([]any, 0, len(cols)+5)
	var id, version, clocks string
	var deleted, seq int64
	dest = append(dest, &id)
	for i := range raw {
		dest = append(dest, &raw[i])
	}
	dest = append(dest, &deleted, &version, &seq)
	if own != nil {
		dest = append(dest, &clocks)
	}
	for rs.Next() {
		if err := rs.Scan(dest...); err != nil {
			return nil, fmt.Errorf("pull %s: %w", t.Name, err)
		}
		if own != nil {
			var fcs map[string]fieldClock
			if err := json.Unmarshal([]byte(clocks), &fcs); err != nil {
				return nil, fmt.Errorf("decode clocks of %s %s: %w", t.Name, id, err)
			}
			if own.holds(seq, fcs, cols, raw, defaults) {
				out = append(out, pulledRow{seq: seq, own: true})
				continue
			}
		}
		fields := make(map[string]any, len(cols))
		for i := range t.Fields {
			f := &t.Fields[i]
			fields[f.Name] = f.FromSQL(raw[i])
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

// scopeClause is the WHERE condition, over the row aliased r, limiting
// table t to what a device of a pulls: the union of the spec's read scopes
// a matches (specs.go), leaving out those read over the API only; "FALSE"
// when none does or t has no spec, "TRUE" when one reads every row. Its
// dialect is the actor's store's.
func scopeClause(a Actor, t *schema.Table) (string, []any) {
	return scopeClauseWith(a, t, false, false)
}

// ReadClause is the WHERE condition, over the row aliased r, limiting table
// to every row a may read: what their devices pull and what they read over
// the API only (Scope.API: headquarters read every row in the console). A
// report or list of synced rows filters by it, so that each role sees
// exactly what the specs let it read. Its arguments are named :me, :dept
// and :unit; it is SQL of the engine's store's dialect. An unknown table
// reads "FALSE", a table read whole "TRUE".
func (d *DB) ReadClause(a Actor, table string) (string, []any) {
	a.dialect = d.st.Dialect()
	return readClause(a, table)
}

func readClause(a Actor, table string) (string, []any) {
	t, ok := schema.Lookup(table)
	if !ok {
		return "FALSE", scopeArgs(a)
	}
	return scopeClauseWith(a, t, false, true)
}

// scopeClauseWith is scopeClause; with parentReadable it takes the parent
// of a row read with its parent as readable, which is what the actor could
// read while that parent was in their scope; with api it adds the scopes
// read over the API only.
func scopeClauseWith(a Actor, t *schema.Table, parentReadable, api bool) (string, []any) {
	args := scopeArgs(a)
	sp, ok := specs[t.Name]
	if !ok {
		return "FALSE", args
	}
	var or []string
	for _, s := range sp.Read {
		if !a.mayMatch(s) || (s.API && !api) {
			continue
		}
		if !s.WithParent || parentReadable {
			if s.SQL == "TRUE" {
				return "TRUE", args
			}
			or = append(or, "("+s.sql(a.dialect)+")")
			continue
		}
		p := sp.Parent
		inner, _ := scopeClauseWith(a, mustTable(p.Table), false, api)
		or = append(or, "(("+s.sql(a.dialect)+") AND (r."+p.Field+" IS NULL OR r."+p.Field+" IN (SELECT r.id FROM "+p.Table+" r WHERE "+inner+")))")
	}
	if len(or) == 0 {
		return "FALSE", args
	}
	return strings.Join(or, " OR "), args
}

// scopeArgs are the values a scope clause names: :me, :dept and :unit.
func scopeArgs(a Actor) []any {
	return []any{sql.Named("me", a.UserID), sql.Named("dept", a.DepartmentID), sql.Named("unit", a.UnitID)}
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
func withReach(ctx context.Context, tx querier, a Actor) (Actor, string, error) {
	h := sha256.New()
	roles := slices.Clone(a.Roles)
	slices.Sort(roles)
	fmt.Fprintf(h, "%s|%s|%s|%s\n", a.UserID, strings.Join(roles, ","), a.DepartmentID, a.UnitID)
	if a.seesAll() {
		// Headquarters once pulled every row; they now read field data
		// over the API and pull their own rows, what waits on them (and
		// what any field role they hold reads). The mark makes a device
		// that pulled under the old scope reset and drop the rest.
		fmt.Fprint(h, "headquarters read field data over the API\n")
	}
	r := &reach{}
	{
		q := `SELECT 'team', t.id || ':' || COALESCE(t.campaign_id, '') || ':' || t.unit_ids FROM teams t
			WHERE t.deleted = 0 AND (t.leader_id = :me OR ` + a.dialect.Pick(
			`EXISTS (SELECT 1 FROM json_each(t.member_ids) m WHERE m.value = :me)`,
			`t.member_ids::jsonb @> jsonb_build_array(:me::text)`) + `)
			UNION ALL
			SELECT 'cluster', u.id FROM units u JOIN clusters c ON c.id = u.cluster_id
			WHERE c.deleted = 0 AND c.lead_secretary_id = :me
			UNION ALL
			SELECT 'finding', f.id || ':' || COALESCE(f.note_id, '') FROM findings f
			WHERE :in_dept = 1 AND f.deleted = 0 AND f.department_id = :dept` + scheduleReach(a.dialect) + `
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
		rs, err := tx.QueryContext(ctx, q, sql.Named("me", a.UserID), sql.Named("dept", a.DepartmentID), sql.Named("in_dept", inDept),
			sql.Named("unit", a.UnitID), sql.Named("is_liaison", isLiaison(a)))
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
