package syncdb

import (
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/plan"
	"dicoso/sync/protocol"
)

// placeWorld is the review world with the roles a place meets: every
// role alone, and an Office user who is also a secretary (who may propose
// a place and decide on others', never on their own).
type placeWorld struct {
	*reviewWorld
	roles     map[string]Actor
	hqField   Actor
	step      time.Duration
	placeSeen int
}

func newPlaceWorld(t *testing.T) *placeWorld {
	t.Helper()
	w := &placeWorld{reviewWorld: newReviewWorld(t)}
	w.hqField = Actor{UserID: uuid.NewString(), Roles: []string{plan.RoleOffice, plan.RoleSecretary}, DeviceID: "dev-office-sec"}
	w.serverApply(t, ServerChange{Table: "users", RowID: w.hqField.UserID, Fields: map[string]any{"username": "vanphong-bithu", "roles": w.hqField.Roles}})
	w.roles = map[string]Actor{
		plan.RoleAdmin: w.admin, plan.RoleInspectionCommittee: w.ic, plan.RoleOffice: w.office, plan.RoleDepartment: w.dept,
		plan.RoleSecretary: w.sec, plan.RoleInspector: w.leader, plan.RoleUnitLiaison: w.liaison,
	}
	return w
}

// proposal is a valid new place under the fixture's province, 100 m from
// where the proposer stands.
func (w *placeWorld) proposal() map[string]any {
	return map[string]any{"name": "UBND xã Tả Phìn", "kind": "grassroots", "parent_id": w.unit,
		"lat": 22.5001, "lng": 103.5001, "status": "proposed"}
}

func (w *placeWorld) pushPlace(t *testing.T, a Actor, id string, fields map[string]any) protocol.Result {
	t.Helper()
	w.step += time.Millisecond
	return w.push(t, a, protocol.Change{ID: uuid.NewString(), Table: "units", RowID: id, Op: protocol.OpUpsert,
		HLC: w.stamp(a, w.step), Fields: fields})[0]
}

// placeBy puts a place proposed by a on the server, at status.
func (w *placeWorld) placeBy(t *testing.T, a Actor, status string) string {
	t.Helper()
	id := uuid.NewString()
	fields := w.proposal()
	fields["proposed_by"], fields["status"] = a.UserID, status
	w.serverApply(t, ServerChange{Table: "units", RowID: id, Fields: fields})
	return id
}

// stored is a place's status, replaced_by_id and name on the server.
func (w *placeWorld) stored(t *testing.T, id string) string {
	t.Helper()
	var status, name string
	var kept sql.NullString
	if err := w.st.Reader().QueryRow("SELECT status, replaced_by_id, name FROM units WHERE id = ?", id).Scan(&status, &kept, &name); err != nil {
		if err == sql.ErrNoRows {
			return ""
		}
		t.Fatal(err)
	}
	return fmt.Sprintf("%s/%s/%s", status, kept.String, name)
}

func wantRefused(t *testing.T, what string, r protocol.Result, code, field string) {
	t.Helper()
	if r.Status != protocol.StatusRejected || r.Code != code || r.Field != field {
		t.Errorf("%s: %s %s field=%q %q, want rejected %s on %q", what, r.Status, r.Code, r.Field, r.Message, code, field)
	}
}

// Who may propose a place: a secretary or an inspector, whatever else
// they hold; nobody else, and the proposer is recorded as its owner.
func TestPlaceProposalByRole(t *testing.T) {
	t.Parallel()
	w := newPlaceWorld(t)
	proposers := []string{plan.RoleSecretary, plan.RoleInspector}
	for _, role := range slices.Sorted(maps.Keys(w.roles)) {
		a := w.roles[role]
		id := uuid.NewString()
		r := w.pushPlace(t, a, id, w.proposal())
		if want := slices.Contains(proposers, role); (r.Status == protocol.StatusApplied) != want {
			t.Errorf("%s proposes a place: %s %s %q, want allowed=%v", role, r.Status, r.Code, r.Message, want)
			continue
		}
		if r.Status != protocol.StatusApplied {
			if r.Code != protocol.CodeForbidden || w.stored(t, id) != "" {
				t.Errorf("%s: refused as %s, stored %q", role, r.Code, w.stored(t, id))
			}
			continue
		}
		var by, cluster string
		if err := w.st.Reader().QueryRow("SELECT proposed_by, cluster_id FROM units WHERE id = ?", id).Scan(&by, &cluster); err != nil {
			t.Fatal(err)
		}
		if by != a.UserID || cluster != w.cluster {
			t.Errorf("%s's place: proposed_by %s cluster %s, want %s and the province's cluster %s", role, by, cluster, a.UserID, w.cluster)
		}
	}
	// An Office user who is also a secretary proposes as the secretary.
	if r := w.pushPlace(t, w.hqField, uuid.NewString(), w.proposal()); r.Status != protocol.StatusApplied {
		t.Errorf("office+secretary proposes: %+v", r)
	}
}

// What a proposal may say: a grassroots place, proposed, named, under a
// confirmed province or central unit, with its position; nothing the
// administrator keeps (code, cluster) and never a decision.
func TestPlaceProposalFields(t *testing.T) {
	t.Parallel()
	w := newPlaceWorld(t)
	other := w.placeBy(t, w.member, "proposed")
	central := uuid.NewString()
	w.serverApply(t, ServerChange{Table: "units", RowID: central, Fields: map[string]any{"name": "Đoàn Khối các cơ quan Trung ương", "kind": "central_affiliated"}})
	with := func(k string, v any) map[string]any { f := w.proposal(); f[k] = v; return f }
	without := func(k string) map[string]any { f := w.proposal(); delete(f, k); return f }
	cases := []struct {
		name   string
		fields map[string]any
		code   string
		field  string
	}{
		{"a province", with("kind", "province"), protocol.CodeForbidden, "kind"},
		{"a central unit", with("kind", "central_affiliated"), protocol.CodeForbidden, "kind"},
		{"confirmed at once", with("status", "confirmed"), protocol.CodeForbidden, "status"},
		{"merged at once", with("status", "merged"), protocol.CodeForbidden, "status"},
		{"without a status", without("status"), protocol.CodeForbidden, "status"},
		{"without a name", with("name", "  "), protocol.CodeValidationFailed, "name"},
		{"without a parent", without("parent_id"), protocol.CodeValidationFailed, "parent_id"},
		{"under another proposed place", with("parent_id", other), protocol.CodeValidationFailed, "parent_id"},
		{"without lat", without("lat"), protocol.CodeValidationFailed, "lat"},
		{"without lng", with("lng", nil), protocol.CodeValidationFailed, "lng"},
		{"with a code", with("code", "X1"), protocol.CodeForbidden, "code"},
		{"with a cluster", with("cluster_id", w.cluster), protocol.CodeForbidden, "cluster_id"},
		{"merged into a unit", with("replaced_by_id", w.unit), protocol.CodeForbidden, "replaced_by_id"},
		{"for someone else", with("proposed_by", w.member.UserID), protocol.CodeForbidden, ""},
	}
	for _, c := range cases {
		id := uuid.NewString()
		r := w.pushPlace(t, w.sec, id, c.fields)
		wantRefused(t, c.name, r, c.code, c.field)
		if s := w.stored(t, id); s != "" {
			t.Errorf("%s: refused, yet stored %q", c.name, s)
		}
	}
	if r := w.pushPlace(t, w.sec, uuid.NewString(), with("parent_id", central)); r.Status != protocol.StatusApplied {
		t.Errorf("a place under a central unit: %+v", r)
	}
}

// Its proposer corrects a place while it is proposed, never decides it,
// and cannot touch it once decided; nobody deletes a place from a device.
func TestPlaceCorrectionByProposer(t *testing.T) {
	t.Parallel()
	w := newPlaceWorld(t)
	id := w.placeBy(t, w.sec, "proposed")
	if r := w.pushPlace(t, w.sec, id, map[string]any{"name": "Trường THPT Tả Phìn", "lat": 22.51, "lng": 103.51}); r.Status != protocol.StatusApplied {
		t.Fatalf("the proposer corrects the name and position: %+v", r)
	}
	for _, to := range []string{"confirmed", "merged", "rejected"} {
		wantRefused(t, "the proposer sets "+to, w.pushPlace(t, w.sec, id, map[string]any{"status": to}), protocol.CodeForbidden, "status")
	}
	wantRefused(t, "the proposer makes it a province", w.pushPlace(t, w.sec, id, map[string]any{"kind": "province"}), protocol.CodeForbidden, "kind")
	wantRefused(t, "the proposer clears its position", w.pushPlace(t, w.sec, id, map[string]any{"lat": nil}), protocol.CodeValidationFailed, "lat")
	// Someone else's proposal is not theirs to correct.
	theirs := w.placeBy(t, w.member, "proposed")
	wantRefused(t, "another field user corrects it", w.pushPlace(t, w.sec, theirs, map[string]any{"name": "Khác"}), protocol.CodeForbidden, "")
	for _, status := range []string{"confirmed", "rejected"} {
		decided := w.placeBy(t, w.sec, status)
		wantRefused(t, "the proposer corrects a "+status+" place", w.pushPlace(t, w.sec, decided, map[string]any{"name": "Sửa"}), protocol.CodeForbidden, "")
	}
	for name, a := range w.roles {
		w.step += time.Millisecond
		r := w.push(t, a, protocol.Change{ID: uuid.NewString(), Table: "units", RowID: id, Op: protocol.OpDelete, HLC: w.stamp(a, w.step)})[0]
		wantRefused(t, name+" deletes a place", r, protocol.CodeForbidden, "")
	}
	if got := w.stored(t, id); got != "proposed//Trường THPT Tả Phìn" {
		t.Errorf("the place after the refusals: %q", got)
	}
}

// Who decides: headquarters (admin, Inspection Committee, Office), on any
// place but one they proposed; every other role is refused, and the
// plan's own units are not decided from a device.
func TestPlaceDecisionByRole(t *testing.T) {
	t.Parallel()
	w := newPlaceWorld(t)
	hq := plan.AllSeeingRoles()
	for role, a := range w.roles {
		for _, to := range []string{"confirmed", "rejected", "merged"} {
			id := w.placeBy(t, w.member, "proposed")
			fields := map[string]any{"status": to}
			if to == "merged" {
				fields["replaced_by_id"] = w.unit
			}
			r := w.pushPlace(t, a, id, fields)
			want := slices.Contains(hq, role)
			if (r.Status == protocol.StatusApplied) != want {
				t.Errorf("%s sets a proposed place %s: %s %s %q, want allowed=%v", role, to, r.Status, r.Code, r.Message, want)
				continue
			}
			wantStored := "proposed//UBND xã Tả Phìn"
			if want {
				kept := ""
				if to == "merged" {
					kept = w.unit
				}
				wantStored = to + "/" + kept + "/UBND xã Tả Phìn"
			} else if r.Code != protocol.CodeForbidden {
				t.Errorf("%s sets %s: refused as %s", role, to, r.Code)
			}
			if got := w.stored(t, id); got != wantStored {
				t.Errorf("%s sets %s: stored %q, want %q", role, to, got, wantStored)
			}
		}
		// The plan's province is the administrator's, over REST.
		r := w.pushPlace(t, a, w.unit, map[string]any{"status": "rejected"})
		wantRefused(t, role+" rejects the province", r, protocol.CodeForbidden, "")
	}
	// Headquarters who proposed a place do not decide it; another does.
	own := w.placeBy(t, w.hqField, "proposed")
	wantRefused(t, "office+secretary confirms their own place", w.pushPlace(t, w.hqField, own, map[string]any{"status": "confirmed"}), protocol.CodeForbidden, "status")
	wantRefused(t, "office+secretary merges their own place", w.pushPlace(t, w.hqField, own,
		map[string]any{"status": "merged", "replaced_by_id": w.unit}), protocol.CodeForbidden, "status")
	if r := w.pushPlace(t, w.hqField, w.placeBy(t, w.sec, "proposed"), map[string]any{"status": "confirmed"}); r.Status != protocol.StatusApplied {
		t.Errorf("office+secretary confirms another's place: %+v", r)
	}
	if r := w.pushPlace(t, w.ic, own, map[string]any{"status": "confirmed"}); r.Status != protocol.StatusApplied {
		t.Errorf("the Inspection Committee confirms the office secretary's place: %+v", r)
	}
}

// Every move of a place's status, by headquarters: out of proposed and
// between decisions, never back to proposed.
func TestPlaceStatusMoves(t *testing.T) {
	t.Parallel()
	w := newPlaceWorld(t)
	for _, from := range []string{"proposed", "confirmed", "merged", "rejected"} {
		for _, to := range []string{"proposed", "confirmed", "merged", "rejected"} {
			id := w.placeBy(t, w.member, from)
			if from == "merged" {
				w.serverApply(t, ServerChange{Table: "units", RowID: id, Fields: map[string]any{"replaced_by_id": w.unit}})
			}
			fields := map[string]any{"status": to, "replaced_by_id": nil}
			if to == "merged" {
				fields["replaced_by_id"] = w.unit
			}
			r := w.pushPlace(t, w.office, id, fields)
			if want := to != "proposed"; (r.Status == protocol.StatusApplied) != want {
				t.Errorf("%s -> %s: %s %s %q, want allowed=%v", from, to, r.Status, r.Code, r.Message, want)
			}
		}
	}
}

// A merge names the unit the place duplicates: a live, confirmed unit
// other than itself; only a merged place names one.
func TestPlaceMergeTarget(t *testing.T) {
	t.Parallel()
	w := newPlaceWorld(t)
	id := w.placeBy(t, w.member, "proposed")
	proposed := w.placeBy(t, w.sec, "proposed")
	merged := w.placeBy(t, w.sec, "confirmed")
	w.serverApply(t, ServerChange{Table: "units", RowID: merged, Fields: map[string]any{"status": "merged", "replaced_by_id": w.unit}})
	gone := w.placeBy(t, w.sec, "confirmed")
	w.serverApply(t, ServerChange{Table: "units", RowID: gone, Delete: true})
	for name, fields := range map[string]map[string]any{
		"into nothing":          {"status": "merged"},
		"into itself":           {"status": "merged", "replaced_by_id": id},
		"into a proposed place": {"status": "merged", "replaced_by_id": proposed},
		"into a merged place":   {"status": "merged", "replaced_by_id": merged},
		"into a deleted place":  {"status": "merged", "replaced_by_id": gone},
		"confirmed, naming one": {"status": "confirmed", "replaced_by_id": w.unit},
	} {
		wantRefused(t, "a merge "+name, w.pushPlace(t, w.admin, id, fields), protocol.CodeValidationFailed, "replaced_by_id")
	}
	if got := w.stored(t, id); got != "proposed//UBND xã Tả Phìn" {
		t.Fatalf("after the refused merges: %q", got)
	}
	confirmed := w.placeBy(t, w.sec, "confirmed")
	if r := w.pushPlace(t, w.admin, id, map[string]any{"status": "merged", "replaced_by_id": confirmed}); r.Status != protocol.StatusApplied {
		t.Fatalf("a merge into a confirmed place: %+v", r)
	}
	// Undone: confirmed after all, no longer naming the kept unit.
	wantRefused(t, "unmerged still naming it", w.pushPlace(t, w.admin, id, map[string]any{"status": "confirmed"}), protocol.CodeValidationFailed, "replaced_by_id")
	if r := w.pushPlace(t, w.admin, id, map[string]any{"status": "confirmed", "replaced_by_id": nil}); r.Status != protocol.StatusApplied {
		t.Fatalf("unmerged: %+v", r)
	}
	if got := w.stored(t, id); got != "confirmed//UBND xã Tả Phìn" {
		t.Fatalf("after the unmerge: %q", got)
	}
}

// Everyone pulls every place, proposed or decided, with its standing and
// its proposer; a merged place comes with the unit it points to, the same
// on every device, and a check-in made there still names it.
func TestPlacesArePulledByEveryone(t *testing.T) {
	t.Parallel()
	w := newPlaceWorld(t)
	id := uuid.NewString()
	if r := w.pushPlace(t, w.sec, id, w.proposal()); r.Status != protocol.StatusApplied {
		t.Fatal(r)
	}
	for role, a := range w.roles {
		row, ok := w.pullAll(t, a)["units/"+id]
		if !ok || row.Fields["status"] != "proposed" || row.Fields["proposed_by"] != w.sec.UserID || row.Fields["kind"] != "grassroots" {
			t.Errorf("%s pulled the place as %+v (found %v)", role, row.Fields, ok)
		}
	}
	w.step += time.Millisecond
	checkin := protocol.Change{ID: uuid.NewString(), Table: "checkins", RowID: uuid.NewString(), Op: protocol.OpUpsert,
		HLC: w.stamp(w.sec, w.step), Fields: map[string]any{"unit_id": id, "at": "2021-06-03T08:00:00Z", "lat": 22.5001, "lng": 103.5001}}
	if r := w.push(t, w.sec, checkin)[0]; r.Status != protocol.StatusApplied {
		t.Fatal(r)
	}
	if r := w.pushPlace(t, w.office, id, map[string]any{"status": "merged", "replaced_by_id": w.unit}); r.Status != protocol.StatusApplied {
		t.Fatal(r)
	}
	for role, a := range w.roles {
		rows := w.pullAll(t, a)
		if row := rows["units/"+id]; row.Fields["status"] != "merged" || row.Fields["replaced_by_id"] != w.unit || row.Deleted {
			t.Errorf("%s pulled the merged place as %+v", role, row)
		}
	}
	if row := w.pullAll(t, w.sec)["checkins/"+checkin.RowID]; row.Fields["unit_id"] != id {
		t.Errorf("the check-in at the merged place: %+v", row.Fields)
	}
}

// A check-in is judged against the place it names: 50 m from a proposed
// commune 100 km from its province's capital is near (no flag, the
// distance to the place), in the push that proposes the place as in a
// later one; the same position checked in at the province is far.
func TestCheckinJudgedAgainstPlace(t *testing.T) {
	t.Parallel()
	w := newPlaceWorld(t)
	// The fixture's province point is (22.3964, 103.4582); 0.9° of
	// latitude north is about 100 km.
	placeLat, placeLng := 23.2964, 103.4582
	standLat := placeLat + 0.00045 // about 50 m north
	checkin := func(unit string) protocol.Change {
		w.step += time.Millisecond
		return protocol.Change{ID: uuid.NewString(), Table: "checkins", RowID: uuid.NewString(), Op: protocol.OpUpsert,
			HLC: w.stamp(w.sec, w.step), Fields: map[string]any{"unit_id": unit, "at": "2021-06-03T08:00:00Z",
				"lat": standLat, "lng": placeLng, "accuracy_m": 12.0}}
	}
	judged := func(id string) (float64, string) {
		var d float64
		var flags string
		if err := w.st.Reader().QueryRow("SELECT distance_m, flags FROM checkins WHERE id = ?", id).Scan(&d, &flags); err != nil {
			t.Fatal(err)
		}
		return d, flags
	}
	fields := w.proposal()
	fields["lat"], fields["lng"] = placeLat, placeLng

	// Proposed and checked in at, in one push.
	place := uuid.NewString()
	w.step += time.Millisecond
	first := checkin(place)
	res := w.push(t, w.sec, protocol.Change{ID: uuid.NewString(), Table: "units", RowID: place, Op: protocol.OpUpsert,
		HLC: w.stamp(w.sec, w.step-time.Microsecond*500), Fields: fields}, first)
	for _, r := range res {
		if r.Status != protocol.StatusApplied {
			t.Fatalf("place and check-in in one push: %+v", res)
		}
	}
	if d, flags := judged(first.RowID); d < 40 || d > 60 || flags != "[]" {
		t.Errorf("check-in at the place proposed in the same push: %v m, flags %s; want about 50 m, none", d, flags)
	}
	// Checked in at again, in a later push, once confirmed.
	if r := w.pushPlace(t, w.office, place, map[string]any{"status": "confirmed"}); r.Status != protocol.StatusApplied {
		t.Fatal(r)
	}
	later := checkin(place)
	if r := w.push(t, w.sec, later)[0]; r.Status != protocol.StatusApplied {
		t.Fatal(r)
	}
	if d, flags := judged(later.RowID); d < 40 || d > 60 || flags != "[]" {
		t.Errorf("check-in at the confirmed place: %v m, flags %s; want about 50 m, none", d, flags)
	}
	// The same spot named as the province: 100 km off.
	far := checkin(w.unit)
	if r := w.push(t, w.sec, far)[0]; r.Status != protocol.StatusApplied {
		t.Fatal(r)
	}
	if d, flags := judged(far.RowID); d < 99000 || d > 101000 || flags != `["`+FlagFarFromUnit+`"]` {
		t.Errorf("check-in at the province from the commune: %v m, flags %s; want about 100 km, far_from_unit", d, flags)
	}
}
