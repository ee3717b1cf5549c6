package syncdb

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/store/storetest"
	"dicoso/sync/plan"
	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// The operations a device may attempt on a table: create a row of its own;
// update or delete one of its own; update or delete someone else's.
const (
	opCreate      = "create"
	opUpdateOwn   = "update own"
	opDeleteOwn   = "delete own"
	opUpdateOther = "update other's"
	opDeleteOther = "delete other's"
)

var specOps = []string{opCreate, opUpdateOwn, opDeleteOwn, opUpdateOther, opDeleteOther}

// expectedGrants is who may do what, written out independently of
// specs.go: the test is the second opinion. Each role is held alone, by
// someone standing where that role stands to the rows: the inspector leads
// the team of the rows' campaign and unit, the secretary leads the unit's
// cluster, the department is the one the findings are assigned to, the
// liaison is the unit's. The other rows' author is a member of the team;
// "update other's" is what each table's non-authors may do at best (a
// review of a submitted note, a finding's status, voiding a check-in).
// A table or operation not listed is refused to everyone.
func expectedGrants() map[string]map[string][]string {
	all := []string{plan.RoleAdmin, plan.RoleInspectionCommittee, plan.RoleOffice, plan.RoleDepartment, plan.RoleSecretary, plan.RoleInspector, plan.RoleUnitLiaison}
	writers := []string{plan.RoleAdmin, plan.RoleInspectionCommittee, plan.RoleOffice, plan.RoleDepartment, plan.RoleSecretary, plan.RoleInspector}
	hq := []string{plan.RoleAdmin, plan.RoleInspectionCommittee, plan.RoleOffice}
	field := []string{plan.RoleSecretary, plan.RoleInspector}
	return map[string]map[string][]string{
		// A grassroots place: proposed by a secretary or an inspector,
		// corrected by its proposer or headquarters, decided (here:
		// confirmed) by headquarters when someone else proposed it.
		"units":       {opCreate: field, opUpdateOwn: append(slices.Clone(hq), field...), opUpdateOther: hq},
		"trips":       {opCreate: all, opUpdateOwn: all, opDeleteOwn: all},
		"trip_days":   {opCreate: all, opUpdateOwn: all, opDeleteOwn: all},
		"checkins":    {opCreate: all, opUpdateOwn: all, opUpdateOther: hq},
		"visit_notes": {opCreate: writers, opUpdateOwn: writers, opDeleteOwn: writers, opUpdateOther: append(slices.Clone(hq), plan.RoleInspector)},
		"findings":    {opCreate: writers, opUpdateOwn: writers, opDeleteOwn: writers, opUpdateOther: append(slices.Clone(hq), plan.RoleDepartment)},
		"follow_ups":  {opCreate: append(slices.Clone(hq), plan.RoleDepartment)},
		"reviews":     {opCreate: append(slices.Clone(hq), plan.RoleInspector)},
		// III.1: the Inspection Committee schedules the teams and drafts
		// and issues the notice; nobody else writes either.
		"team_visits": everyOp(plan.RoleAdmin, plan.RoleInspectionCommittee),
		"notices":     everyOp(plan.RoleAdmin, plan.RoleInspectionCommittee),
		// II.1: a briefing is recorded by headquarters or the secretary and
		// department leading its cluster (both lead the walker's cluster).
		"briefings": everyOp(append(slices.Clone(hq), plan.RoleSecretary, plan.RoleDepartment)...),
	}
}

// everyOp grants every operation to roles.
func everyOp(roles ...string) map[string][]string {
	m := map[string][]string{}
	for _, op := range specOps {
		m[op] = roles
	}
	return m
}

// TestSpecWalk pushes every operation on every registered table as every
// role, and checks the outcome against expectedGrants: applied, or refused
// as forbidden (immutable for append-only rows) with nothing changed.
func TestSpecWalk(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	roles := map[string]Actor{
		plan.RoleAdmin: w.admin, plan.RoleInspectionCommittee: w.ic, plan.RoleOffice: w.office, plan.RoleDepartment: w.dept,
		plan.RoleSecretary: w.sec, plan.RoleInspector: w.leader, plan.RoleUnitLiaison: w.liaison,
	}
	other := w.member
	// A finding by the other author, assigned to the department, which
	// follow-ups follow.
	followed := w.seedRow(t, "findings", other)
	expected := expectedGrants()
	step := time.Duration(0)
	walked := 0
	for _, table := range schema.Tables() {
		for _, op := range specOps {
			for _, role := range slices.Sorted(maps.Keys(roles)) {
				a := roles[role]
				step += time.Millisecond
				ch, id := w.attempt(t, table, op, a, other, followed)
				ch.ID, ch.HLC = uuid.NewString(), w.stamp(a, step)
				before := w.rowState(t, table, id)
				res := w.push(t, a, ch)[0]
				want := slices.Contains(expected[table.Name][op], role)
				walked++
				if got := res.Status == protocol.StatusApplied; got != want {
					t.Errorf("%s %s as %s: %s %s %q, want allowed=%v", op, table.Name, role, res.Status, res.Code, res.Message, want)
					continue
				}
				if want {
					continue
				}
				if res.Code != protocol.CodeForbidden && res.Code != protocol.CodeImmutable {
					t.Errorf("%s %s as %s: refused as %s %q, want forbidden", op, table.Name, role, res.Code, res.Message)
				}
				if after := w.rowState(t, table, id); after != before {
					t.Errorf("%s %s as %s: refused, yet the row changed", op, table.Name, role)
				}
			}
		}
	}
	if n := len(schema.Tables()) * len(specOps) * len(roles); walked != n {
		t.Fatalf("walked %d pushes, want %d", walked, n)
	}
}

// rowState is a row's stored sync state ("" when absent): it changes with
// any write.
func (w *reviewWorld) rowState(t *testing.T, table *schema.Table, id string) string {
	t.Helper()
	var version string
	var deleted, seq int64
	err := w.st.Reader().QueryRow("SELECT version, deleted, seq FROM "+table.Name+" WHERE id = ?", id).Scan(&version, &deleted, &seq)
	if err == sql.ErrNoRows {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s/%d/%d", version, deleted, seq)
}

// attempt is the change a tries for op on table, and the row it targets.
func (w *reviewWorld) attempt(t *testing.T, table *schema.Table, op string, a, other Actor, followed string) (protocol.Change, string) {
	t.Helper()
	if table.Reference && !table.Proposed {
		return w.referenceAttempt(table, op), w.referenceRow(table)
	}
	switch op {
	case opCreate:
		id := uuid.NewString()
		fields := w.newFields(t, table.Name, a, followed)
		delete(fields, table.Owner) // a device leaves its own id to the server
		return protocol.Change{Table: table.Name, RowID: id, Op: protocol.OpUpsert, Fields: fields}, id
	case opUpdateOwn, opDeleteOwn:
		id := w.seedRow(t, table.Name, a)
		if op == opDeleteOwn {
			return protocol.Change{Table: table.Name, RowID: id, Op: protocol.OpDelete}, id
		}
		return protocol.Change{Table: table.Name, RowID: id, Op: protocol.OpUpsert, Fields: ownEdit[table.Name]}, id
	case opUpdateOther:
		id := w.seedRow(t, table.Name, other)
		fields := othersEdit[table.Name]
		if table.Name == "visit_notes" {
			fields = map[string]any{"status": "needs_revision", "review_comment": "Bổ sung", "reviewed_by": a.UserID}
		}
		return protocol.Change{Table: table.Name, RowID: id, Op: protocol.OpUpsert, Fields: fields}, id
	}
	id := w.seedRow(t, table.Name, other)
	return protocol.Change{Table: table.Name, RowID: id, Op: protocol.OpDelete}, id
}

// ownEdit and othersEdit are the updates tried on an own row and on
// someone else's.
var (
	ownEdit = map[string]map[string]any{
		"trips":       {"title": "Sửa tiêu đề"},
		"trip_days":   {"activity": "Làm việc với Ban Thường vụ"},
		"checkins":    {"voided": true, "void_reason": "nhầm đơn vị"},
		"visit_notes": {"title": "Sửa tiêu đề"},
		"findings":    {"text": "Sửa nội dung"},
		"follow_ups":  {"text": "Sửa nội dung"},
		"reviews":     {"comment": "Sửa nhận xét"},
		"units":       {"name": "UBND xã Tả Phìn"},
		"team_visits": {"place": "Hội trường Tỉnh đoàn"},
		"notices":     {"content": "Kiểm tra việc thực hiện Nghị quyết"},
		"briefings":   {"minutes": "Các đơn vị báo cáo kết quả"},
	}
	othersEdit = map[string]map[string]any{
		"trips":       {"title": "Sửa tiêu đề"},
		"trip_days":   {"activity": "Làm việc với Ban Thường vụ"},
		"checkins":    {"voided": true, "void_reason": "nhầm đơn vị"},
		"findings":    {"status": "in_progress"},
		"follow_ups":  {"text": "Sửa nội dung"},
		"reviews":     {"comment": "Sửa nhận xét"},
		"units":       {"status": "confirmed"},
		"team_visits": {"place": "Hội trường Tỉnh đoàn"},
		"notices":     {"content": "Kiểm tra việc thực hiện Nghị quyết"},
		"briefings":   {"minutes": "Các đơn vị báo cáo kết quả"},
	}
)

// newFields are a valid new row of table owned by a.
func (w *reviewWorld) newFields(t *testing.T, table string, a Actor, followed string) map[string]any {
	t.Helper()
	switch table {
	case "trips":
		return map[string]any{"user_id": a.UserID, "purpose": "inspection", "starts_on": "2021-06-03",
			"campaign_id": w.campaign, "unit_ids": []any{w.unit}, "title": "Kiểm tra"}
	case "trip_days":
		return map[string]any{"user_id": a.UserID, "trip_id": w.seedRow(t, "trips", a), "day": "2021-06-03", "unit_id": w.unit}
	case "checkins":
		return map[string]any{"user_id": a.UserID, "unit_id": w.unit, "at": "2021-06-03T08:00:00Z", "lat": 22.39, "lng": 103.45}
	case "visit_notes":
		return map[string]any{"author_id": a.UserID, "unit_id": w.unit, "campaign_id": w.campaign, "title": "Ghi chép", "status": "draft"}
	case "findings":
		return map[string]any{"author_id": a.UserID, "unit_id": w.unit, "campaign_id": w.campaign, "category": "shortcoming",
			"text": "Chưa sơ kết", "department_id": w.dept.DepartmentID}
	case "follow_ups":
		return map[string]any{"author_id": a.UserID, "finding_id": followed, "text": "Đã nhắc", "at": "2021-06-04T08:00:00Z"}
	case "team_visits":
		return map[string]any{"team_id": w.team, "unit_id": w.unit, "starts_on": "2021-06-10", "ends_on": "2021-06-11", "place": "Tỉnh đoàn"}
	case "notices":
		return map[string]any{"campaign_id": w.campaign, "team_id": w.team, "status": "draft", "title": "Thành lập đoàn kiểm tra"}
	case "briefings":
		return map[string]any{"cluster_id": w.cluster, "campaign_id": w.campaign, "held_on": "2021-06-20", "host_unit_id": w.unit,
			"unit_ids": []any{w.unit}, "place": "Lào Cai"}
	case "units":
		return map[string]any{"proposed_by": a.UserID, "name": "Xã Tả Phìn", "kind": "grassroots", "parent_id": w.unit,
			"lat": 22.41, "lng": 103.47, "status": "proposed"}
	case "reviews":
		return map[string]any{"reviewer_id": a.UserID, "note_id": w.seedRow(t, "visit_notes", w.member), "decision": "needs_revision",
			"comment": "Bổ sung số liệu", "at": "2021-06-04T08:00:00Z"}
	}
	t.Fatalf("no fields for a new %s row", table)
	return nil
}

// seedRow puts a row of table owned by a on the server, as the server
// would (no rules), and returns its id. A note is submitted when someone
// else owns it (to be reviewed), a draft when the walker does (to be
// deleted).
func (w *reviewWorld) seedRow(t *testing.T, table string, a Actor) string {
	t.Helper()
	id := uuid.NewString()
	fields := w.newFields(t, table, a, "")
	if table == "follow_ups" {
		fields["finding_id"] = w.seedRow(t, "findings", a)
	}
	if table == "visit_notes" && a.UserID == w.member.UserID {
		fields["status"] = "submitted"
	}
	w.serverApply(t, ServerChange{Table: table, RowID: id, Fields: fields})
	return id
}

// referenceRow is an existing row of a reference table.
func (w *reviewWorld) referenceRow(table *schema.Table) string {
	return map[string]string{
		"departments": w.dept.DepartmentID, "users": w.member.UserID, "clusters": w.cluster, "units": w.unit,
		"plans": w.plan, "campaigns": w.campaign, "special_periods": w.period, "teams": w.team,
	}[table.Name]
}

func (w *reviewWorld) referenceAttempt(table *schema.Table, op string) protocol.Change {
	ch := protocol.Change{Table: table.Name, RowID: w.referenceRow(table), Op: protocol.OpUpsert,
		Fields: map[string]any{table.Columns()[0]: nil}}
	switch op {
	case opCreate:
		ch.RowID = uuid.NewString()
	case opDeleteOwn, opDeleteOther:
		ch.Op, ch.Fields = protocol.OpDelete, nil
	}
	return ch
}

// A synced table with no spec allows nothing: no device creates, changes
// or deletes its rows, whatever its roles, and no pull returns them, not
// even to their owner or to an admin.
func TestTableWithoutSpecIsRefusedEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	if _, err := st.Writer().ExecContext(ctx, `CREATE TABLE scratch_notes (id TEXT PRIMARY KEY, user_id TEXT, text TEXT NOT NULL DEFAULT '',
		deleted INTEGER NOT NULL DEFAULT 0, version TEXT NOT NULL DEFAULT '', clocks TEXT NOT NULL DEFAULT '{}', seq INTEGER NOT NULL DEFAULT 0)`); err != nil {
		t.Fatal(err)
	}
	scratch := schema.Define(&schema.Table{Name: "scratch_notes", Owner: "user_id", Required: []string{"user_id"}, Fields: []schema.Field{
		{Name: "user_id", Type: schema.ID, Ref: "users"},
		{Name: "text", Type: schema.Text, Max: 200},
	}})
	if _, ok := SpecOf(scratch.Name); ok {
		t.Fatal("the scratch table has a spec")
	}
	now := time.Date(2021, 6, 3, 9, 0, 0, 0, time.UTC)
	db := newDB(st, Options{Now: func() time.Time { return now }}, newTableSet(append(schema.Tables(), scratch)))
	t.Cleanup(db.Close)

	alice := Actor{UserID: uuid.NewString(), Roles: []string{"secretary"}, DeviceID: "dev-alice"}
	admin := Actor{UserID: uuid.NewString(), Roles: []string{"admin"}, DeviceID: "dev-admin"}
	own := uuid.NewString()
	err := st.InTx(ctx, func(tx *sql.Tx) error {
		return db.ApplyServerTx(ctx, tx, "", []ServerChange{
			{Table: "users", RowID: alice.UserID, Fields: map[string]any{"username": "alice", "roles": alice.Roles}},
			{Table: "users", RowID: admin.UserID, Fields: map[string]any{"username": "admin", "roles": admin.Roles}},
			// The server itself may write it: no device is judged.
			{Table: "scratch_notes", RowID: own, Fields: map[string]any{"user_id": alice.UserID, "text": "của máy chủ"}},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	stamp := func(a Actor, n int) string { return fmt.Sprintf("%015d.%05d.%s", now.UnixMilli(), n, a.DeviceID) }
	for i, a := range []Actor{alice, admin} {
		changes := []protocol.Change{
			{ID: uuid.NewString(), Table: "scratch_notes", RowID: uuid.NewString(), Op: protocol.OpUpsert, HLC: stamp(a, 3*i+1), Fields: map[string]any{"text": "mới"}},
			{ID: uuid.NewString(), Table: "scratch_notes", RowID: own, Op: protocol.OpUpsert, HLC: stamp(a, 3*i+2), Fields: map[string]any{"text": "sửa"}},
			{ID: uuid.NewString(), Table: "scratch_notes", RowID: own, Op: protocol.OpDelete, HLC: stamp(a, 3*i+3)},
		}
		resp, err := db.Push(ctx, a, protocol.PushRequest{Protocol: 1, DeviceID: a.DeviceID, Changes: changes})
		if err != nil {
			t.Fatal(err)
		}
		for j, r := range resp.Results {
			if r.Status != protocol.StatusRejected || r.Code != protocol.CodeForbidden {
				t.Errorf("%s, change %d on the scratch table: %+v, want forbidden", a.Roles[0], j, r)
			}
		}
		pulled, err := db.Pull(ctx, a, protocol.PullRequest{Protocol: 1, DeviceID: a.DeviceID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range pulled.Rows {
			if r.Table == "scratch_notes" {
				t.Errorf("%s pulled a scratch row: %+v", a.Roles[0], r)
			}
		}
		if len(pulled.Rows) == 0 {
			t.Errorf("%s pulled nothing at all: the pull is not working", a.Roles[0])
		}
	}
	var text string
	var deleted int
	if err := st.Reader().QueryRow("SELECT text, deleted FROM scratch_notes WHERE id = ?", own).Scan(&text, &deleted); err != nil {
		t.Fatal(err)
	}
	if text != "của máy chủ" || deleted != 0 {
		t.Fatalf("the scratch row after the refused pushes: %q deleted=%d", text, deleted)
	}
}

// Every spec names only what its table has, and every grant writing a
// status field says which moves it makes (validateSpecs runs at start; the
// test shows it catches a slip).
func TestSpecValidationCatchesSlips(t *testing.T) {
	t.Parallel()
	if err := validateSpecs(specs); err != nil {
		t.Fatal(err)
	}
	notes := *specs["visit_notes"]
	notes.Update.Grants = append(slices.Clone(notes.Update.Grants), Grant{Who: headquarter, Fields: []string{"status"}})
	if err := validateSpecs(map[string]*Spec{"visit_notes": &notes}); err == nil {
		t.Error("a grant writing status without moves passed validation")
	}
	trips := *specs["trips"]
	trips.Moves = []string{"colour"}
	if err := validateSpecs(map[string]*Spec{"trips": &trips}); err == nil {
		t.Error("a spec naming a field its table lacks passed validation")
	}
	if err := validateSpecs(map[string]*Spec{"secrets": {}}); err == nil {
		t.Error("a spec for a table that does not exist passed validation")
	}
}
