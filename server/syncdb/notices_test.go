package syncdb

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
)

// scheduleWorld is the review world with a second unit outside the team,
// its liaison, a schedule row for the team's unit and a draft notice.
type scheduleWorld struct {
	*reviewWorld
	otherUnit    string
	otherLiaison Actor
	visit        string // the team's visit to its unit
	notice       string // a draft notice for the team
	step         time.Duration
}

func newScheduleWorld(t *testing.T) *scheduleWorld {
	t.Helper()
	w := &scheduleWorld{reviewWorld: newReviewWorld(t), otherUnit: uuid.NewString(), visit: uuid.NewString(), notice: uuid.NewString()}
	w.otherLiaison = Actor{UserID: uuid.NewString(), Roles: []string{"unit_liaison"}, DeviceID: "dev-liaison-2", UnitID: w.otherUnit}
	w.serverApply(t,
		ServerChange{Table: "units", RowID: w.otherUnit, Fields: map[string]any{"name": "Điện Biên", "kind": "province"}},
		ServerChange{Table: "users", RowID: w.otherLiaison.UserID, Fields: map[string]any{"username": "liaison2", "roles": []any{"unit_liaison"}, "unit_id": w.otherUnit}},
	)
	w.mustApply(t, w.ic, "team_visits", w.visit, map[string]any{"team_id": w.team, "unit_id": w.unit, "starts_on": "2021-06-10", "ends_on": "2021-06-11",
		"place": "Tỉnh đoàn Lai Châu", "contact": "Đ/c Hà, 0912 345 678"})
	w.mustApply(t, w.ic, "notices", w.notice, map[string]any{"campaign_id": w.campaign, "team_id": w.team, "status": "draft",
		"number": "12-TB/TWĐTN-BKT", "title": "Thành lập đoàn kiểm tra định kỳ Đợt 1"})
	return w
}

// try pushes one change of a to table and returns its result.
func (w *scheduleWorld) try(t *testing.T, a Actor, table, id string, fields map[string]any) protocol.Result {
	t.Helper()
	w.step += time.Millisecond
	op := protocol.OpUpsert
	if fields == nil {
		op = protocol.OpDelete
	}
	return w.push(t, a, protocol.Change{ID: uuid.NewString(), Table: table, RowID: id, Op: op, HLC: w.stamp(a, w.step), Fields: fields})[0]
}

func (w *scheduleWorld) mustApply(t *testing.T, a Actor, table, id string, fields map[string]any) {
	t.Helper()
	if r := w.try(t, a, table, id, fields); r.Status != protocol.StatusApplied {
		t.Fatalf("%s %s by %v: %s %s %q", table, id, a.Roles, r.Status, r.Code, r.Message)
	}
}

func (w *scheduleWorld) everyone() map[string]Actor {
	return map[string]Actor{"admin": w.admin, "inspection committee": w.ic, "office": w.office, "department": w.dept,
		"secretary": w.sec, "team leader": w.leader, "team member": w.member, "liaison of the unit": w.liaison,
		"liaison of another unit": w.otherLiaison, "secretary outside the team": w.alice}
}

// Who reads the schedule and the notice, before and after the notice is
// issued: headquarters always (the draft too); the team's leader and
// members their team's schedule always and the notice once issued; the
// unit's liaison both only once issued; nobody else either.
func TestScheduleAndNoticeReaders(t *testing.T) {
	t.Parallel()
	w := newScheduleWorld(t)
	type reads struct{ visit, notice bool }
	before := map[string]reads{"admin": {true, true}, "inspection committee": {true, true}, "office": {true, true},
		"team leader": {true, false}, "team member": {true, false}}
	after := map[string]reads{"admin": {true, true}, "inspection committee": {true, true}, "office": {true, true},
		"team leader": {true, true}, "team member": {true, true}, "liaison of the unit": {true, true}}
	cursors := map[string]string{}
	copies := map[string]map[string]bool{} // each device's copy: rows it holds
	for name, a := range w.everyone() {
		got := w.pullAll(t, a)
		_, v := got["team_visits/"+w.visit]
		_, n := got["notices/"+w.notice]
		if (reads{v, n}) != before[name] {
			t.Errorf("before issue, %s reads visit=%v notice=%v, want %+v", name, v, n, before[name])
		}
		resp, err := w.db.Pull(context.Background(), a, protocol.PullRequest{Protocol: 1, DeviceID: a.DeviceID, Limit: 2000})
		if err != nil || resp.HasMore {
			t.Fatalf("pull as %s: %v (has_more %v)", name, err, resp.HasMore)
		}
		cursors[name] = resp.Cursor
		copies[name] = map[string]bool{}
		for _, r := range resp.Rows {
			copies[name][r.Table+"/"+r.RowID] = !r.Deleted
		}
	}
	w.mustApply(t, w.ic, "notices", w.notice, map[string]any{"status": "issued", "signed_on": "2021-06-01"})
	for name, a := range w.everyone() {
		// A device that synced before the issue, after its next pull: the
		// rows that entered its scope came by their change or by a reset.
		resp, err := w.db.Pull(context.Background(), a, protocol.PullRequest{Protocol: 1, DeviceID: a.DeviceID, Cursor: cursors[name], Limit: 2000})
		if err != nil {
			t.Fatal(err)
		}
		got := copies[name]
		for _, r := range resp.Rows {
			got[r.Table+"/"+r.RowID] = !r.Deleted
		}
		if resp.Reset {
			got = map[string]bool{}
			for k, r := range w.pullAll(t, a) {
				got[k] = !r.Deleted
			}
		}
		want := after[name]
		if got["team_visits/"+w.visit] != want.visit || got["notices/"+w.notice] != want.notice {
			t.Errorf("after issue, %s's next pull (reset %v) brings visit=%v notice=%v, want %+v", name, resp.Reset,
				got["team_visits/"+w.visit], got["notices/"+w.notice], want)
		}
		all := w.pullAll(t, a)
		_, v := all["team_visits/"+w.visit]
		_, n := all["notices/"+w.notice]
		if (reads{v, n}) != want {
			t.Errorf("after issue, %s reads visit=%v notice=%v, want %+v", name, v, n, want)
		}
	}
	// A change to the schedule after the issue reaches the liaison's
	// device by the ordinary pull, without a reset.
	resp, err := w.db.Pull(context.Background(), w.liaison, protocol.PullRequest{Protocol: 1, DeviceID: w.liaison.DeviceID, Limit: 2000})
	if err != nil || resp.HasMore {
		t.Fatalf("liaison snapshot: %v", err)
	}
	w.mustApply(t, w.ic, "team_visits", w.visit, map[string]any{"starts_on": "2021-06-12", "ends_on": "2021-06-12"})
	next, err := w.db.Pull(context.Background(), w.liaison, protocol.PullRequest{Protocol: 1, DeviceID: w.liaison.DeviceID, Cursor: resp.Cursor, Limit: 2000})
	if err != nil {
		t.Fatal(err)
	}
	moved := false
	for _, r := range next.Rows {
		moved = moved || r.Table == "team_visits" && r.RowID == w.visit && r.Fields["starts_on"] == "2021-06-12"
	}
	if next.Reset || !moved {
		t.Errorf("the liaison's next pull after a schedule change: reset %v, rows %+v", next.Reset, next.Rows)
	}
}

// An issued notice never changes, for anyone: a change is a new revision,
// numbered one after the issued notice it names, of the same campaign
// and team, itself drafted and issued. A draft may be deleted; an issued
// notice may not.
func TestNoticeRevisions(t *testing.T) {
	t.Parallel()
	w := newScheduleWorld(t)
	w.mustApply(t, w.ic, "notices", w.notice, map[string]any{"status": "issued"})
	for name, a := range w.everyone() {
		if r := w.try(t, a, "notices", w.notice, map[string]any{"content": "Sửa sau khi ban hành"}); r.Status != protocol.StatusRejected || r.Code != protocol.CodeForbidden {
			t.Errorf("%s changed an issued notice: %+v", name, r)
		}
		if r := w.try(t, a, "notices", w.notice, map[string]any{"status": "draft"}); r.Status != protocol.StatusRejected {
			t.Errorf("%s took an issued notice back to draft: %+v", name, r)
		}
		if r := w.try(t, a, "notices", w.notice, nil); r.Status != protocol.StatusRejected {
			t.Errorf("%s deleted an issued notice: %+v", name, r)
		}
	}
	draft := uuid.NewString()
	w.mustApply(t, w.ic, "notices", draft, map[string]any{"campaign_id": w.campaign, "status": "draft", "title": "Nháp"})
	revision := func(over map[string]any) map[string]any {
		f := map[string]any{"campaign_id": w.campaign, "team_id": w.team, "status": "draft", "revision": 2.0, "revises_id": w.notice,
			"content": "Đổi ngày làm việc tại Lai Châu"}
		for k, v := range over {
			f[k] = v
		}
		return f
	}
	for what, f := range map[string]map[string]any{
		"a revision of a draft":               revision(map[string]any{"revises_id": draft, "team_id": nil}),
		"a revision numbered 3 after 1":       revision(map[string]any{"revision": 3.0}),
		"a revision of another team":          revision(map[string]any{"team_id": nil}),
		"a second revision naming nothing":    revision(map[string]any{"revises_id": nil}),
		"a team of another campaign's notice": revision(map[string]any{"campaign_id": uuid.NewString()}),
	} {
		if r := w.try(t, w.ic, "notices", uuid.NewString(), f); r.Status != protocol.StatusRejected {
			t.Errorf("%s was accepted: %+v", what, r)
		}
	}
	// Drafted and issued on one device before it synced: one change.
	if r := w.try(t, w.ic, "notices", uuid.NewString(), revision(map[string]any{"status": "issued"})); r.Status != protocol.StatusApplied {
		t.Errorf("a revision drafted and issued before a sync: %+v", r)
	}
	rev := uuid.NewString()
	for name, a := range w.everyone() {
		ok := name == "admin" || name == "inspection committee"
		if r := w.try(t, a, "notices", rev, revision(nil)); (r.Status == protocol.StatusApplied) != ok {
			t.Errorf("%s drafting a revision: %+v, want allowed=%v", name, r, ok)
		}
	}
	w.mustApply(t, w.ic, "notices", rev, map[string]any{"status": "issued"})
	got := w.pullAll(t, w.liaison)
	if r := w.try(t, w.ic, "notices", rev, map[string]any{"status": "draft"}); r.Status != protocol.StatusRejected {
		t.Errorf("an issued revision taken back to draft: %+v", r)
	}
	if r, ok := got["notices/"+rev]; !ok || r.Fields["revision"] != 2.0 && r.Fields["revision"] != int64(2) {
		t.Errorf("the liaison does not read the issued revision: %+v", r)
	}
	w.mustApply(t, w.ic, "notices", draft, nil)
}

// A schedule row visits one of its team's units and ends no earlier than
// it starts; what it says is refused otherwise, and nothing changes.
func TestScheduleRowIsTheTeams(t *testing.T) {
	t.Parallel()
	w := newScheduleWorld(t)
	for what, f := range map[string]map[string]any{
		"a unit the team does not visit": {"team_id": w.team, "unit_id": w.otherUnit, "starts_on": "2021-06-10"},
		"an end before the start":        {"team_id": w.team, "unit_id": w.unit, "starts_on": "2021-06-10", "ends_on": "2021-06-09"},
	} {
		id := uuid.NewString()
		if r := w.try(t, w.ic, "team_visits", id, f); r.Status != protocol.StatusRejected || r.Code != protocol.CodeValidationFailed {
			t.Errorf("%s: %+v, want validation_failed", what, r)
		}
		if _, ok := w.pullAll(t, w.ic)["team_visits/"+id]; ok {
			t.Errorf("%s: the refused row is stored", what)
		}
	}
	if r := w.try(t, w.ic, "team_visits", w.visit, map[string]any{"unit_id": w.otherUnit}); r.Status != protocol.StatusRejected {
		t.Errorf("moving a visit to a unit outside the team: %+v", r)
	}
}

// A briefing is recorded and read by headquarters and the secretary and
// department leading its cluster, read by the liaisons of the units that
// host or attend it; recommendations raised at it are findings naming it,
// written by its recorders only, never naming a note as well.
func TestBriefingsAndTheirRecommendations(t *testing.T) {
	t.Parallel()
	w := newScheduleWorld(t)
	otherCluster := uuid.NewString()
	w.serverApply(t, ServerChange{Table: "clusters", RowID: otherCluster, Fields: map[string]any{"name": "Cụm 2"}})
	briefing := uuid.NewString()
	w.mustApply(t, w.dept, "briefings", briefing, map[string]any{"cluster_id": w.cluster, "campaign_id": w.campaign, "held_on": "2021-06-20",
		"host_unit_id": w.unit, "unit_ids": []any{w.unit}, "place": "Lào Cai", "minutes": "Các tỉnh báo cáo"})
	readers := map[string]bool{"admin": true, "inspection committee": true, "office": true, "department": true, "secretary": true,
		"liaison of the unit": true}
	for name, a := range w.everyone() {
		if _, ok := w.pullAll(t, a)["briefings/"+briefing]; ok != readers[name] {
			t.Errorf("%s reads the briefing: %v, want %v", name, ok, readers[name])
		}
	}
	// Moving it to a cluster its recorder does not lead is refused.
	for _, a := range []Actor{w.sec, w.dept} {
		if r := w.try(t, a, "briefings", briefing, map[string]any{"cluster_id": otherCluster}); r.Status != protocol.StatusRejected {
			t.Errorf("%v moved the briefing to another cluster: %+v", a.Roles, r)
		}
	}
	recorders := map[string]bool{"admin": true, "inspection committee": true, "office": true, "department": true, "secretary": true}
	for name, a := range w.everyone() {
		id := uuid.NewString()
		r := w.try(t, a, "findings", id, map[string]any{"author_id": a.UserID, "briefing_id": briefing, "unit_id": w.unit,
			"campaign_id": w.campaign, "category": "recommendation", "text": "Đề nghị hỗ trợ kinh phí"})
		if (r.Status == protocol.StatusApplied) != recorders[name] {
			t.Errorf("%s raising a recommendation at the briefing: %+v, want allowed=%v", name, r, recorders[name])
		}
	}
	// One raised for the whole cluster (no unit), recorded by the
	// department, reaches the secretary leading the cluster too.
	whole := uuid.NewString()
	w.mustApply(t, w.dept, "findings", whole, map[string]any{"author_id": w.dept.UserID, "briefing_id": briefing,
		"campaign_id": w.campaign, "category": "recommendation", "text": "Đề nghị tổ chức tập huấn chung cho cụm"})
	wholeReaders := map[string]bool{"admin": true, "inspection committee": true, "office": true, "department": true, "secretary": true}
	for name, a := range w.everyone() {
		if _, ok := w.pullAll(t, a)["findings/"+whole]; ok != wholeReaders[name] {
			t.Errorf("%s reads the cluster-wide recommendation: %v, want %v", name, ok, wholeReaders[name])
		}
	}
	note := w.noteAt(t, w.sec, "draft")
	if r := w.try(t, w.sec, "findings", uuid.NewString(), map[string]any{"author_id": w.sec.UserID, "briefing_id": briefing, "note_id": note,
		"category": "recommendation", "text": "Cả hai"}); r.Status != protocol.StatusRejected {
		t.Errorf("a finding naming both a note and a briefing: %+v", r)
	}
}

// A notice for the whole campaign (no team) announces every team of the
// campaign: once issued, their members and the liaisons of their units read
// it and the visits, and nobody else does.
func TestCampaignWideNoticeAnnouncesEveryTeam(t *testing.T) {
	t.Parallel()
	w := newScheduleWorld(t)
	wide := uuid.NewString()
	w.mustApply(t, w.ic, "notices", wide, map[string]any{"campaign_id": w.campaign, "status": "draft", "number": "30-TB/TWĐTN-BKT"})
	readers := map[string]bool{"admin": true, "inspection committee": true, "office": true}
	for name, a := range w.everyone() {
		_, ok := w.pullAll(t, a)["notices/"+wide]
		if ok != readers[name] {
			t.Errorf("draft: %s reads the campaign's notice: %v, want %v", name, ok, readers[name])
		}
	}
	w.mustApply(t, w.ic, "notices", wide, map[string]any{"status": "issued"})
	readers["team leader"], readers["team member"], readers["liaison of the unit"] = true, true, true
	for name, a := range w.everyone() {
		got := w.pullAll(t, a)
		_, notice := got["notices/"+wide]
		_, visit := got["team_visits/"+w.visit]
		if notice != readers[name] || visit != readers[name] {
			t.Errorf("issued: %s reads the campaign's notice %v and the visit %v, want %v", name, notice, visit, readers[name])
		}
	}
}
