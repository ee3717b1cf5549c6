package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/syncdb"
	"dicoso/sync/client"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "seed of TestConvergence (0: $DICOSO_SEED, else a fresh one, printed)")
	seedsFlag = flag.Int("seeds", 0, "run TestConvergence over this many seeds, from -seed upwards (0: $DICOSO_SEEDS, else 1)")
	opsFlag   = flag.Int("convergence.ops", 2400, "local writes TestConvergence makes across its devices, per seed (with -seeds: 500 unless set)")
)

// manySeedsOps is the writes per seed over many seeds: each run still
// passes its scope change, clock corrections, resets and replays, and a
// thousand of them take about an hour on two cores.
const manySeedsOps = 500

// TestConvergence runs several devices of several users through thousands
// of random edits across the field-data tables while their network drops
// answers after the server acted, replays old pushes late, goes away for a
// while, and devices get killed and restarted, with pushes and pulls
// interleaved at random and a scope change half way. Some devices' clocks
// run wrong: hours and days behind, minutes ahead (within the server's skew
// limit) and an hour ahead (beyond it), and a restarted phone may come back
// with its clock wrong again (a flat battery, a user setting the date by
// hand). Then every device syncs until nothing moves, and:
//   - every device holds exactly the server's state of every row its user
//     may read (the server's store read directly);
//   - every change any answer called applied is in the change log, once;
//   - every change a device made is either in the change log or in that
//     device's rejected list: nothing was dropped silently;
//   - an edit made after the device had pulled a field's current value
//     replaced that value, whatever the two clocks said (see causality).
//
// The run is a function of the seed (the order of steps and every random
// choice); a failure prints the seed to reproduce it with -seed. With
// -seeds N (or DICOSO_SEEDS) it runs N seeds, seed, seed+1, ..., as many
// at a time as -parallel allows (the number of CPUs), and lists the seeds
// that failed (see manySeedsOps for their size).
func TestConvergence(t *testing.T) {
	t.Parallel()
	seed := *seedFlag
	if seed == 0 {
		if s, err := strconv.ParseUint(os.Getenv("DICOSO_SEED"), 10, 64); err == nil {
			seed = s
		} else {
			seed = rand.Uint64N(1 << 53) // printable and replayable as a plain number
		}
	}
	seeds := *seedsFlag
	if seeds == 0 {
		if n, err := strconv.Atoi(os.Getenv("DICOSO_SEEDS")); err == nil {
			seeds = n
		}
	}
	ops := *opsFlag
	if seeds > 1 && !flagSet("convergence.ops") {
		ops = manySeedsOps
	}
	if seeds <= 1 {
		st := runConvergence(t, seed, ops)
		if !t.Failed() {
			st.requireEveryPath(t)
		}
		return
	}

	// Many seeds: each its own world and subtest, so one failure does not
	// stop the others; what every run must exercise is judged over all.
	if deadline, ok := t.Deadline(); ok && time.Until(deadline) < time.Duration(seeds)*5*time.Second {
		t.Fatalf("%d seeds take up to %v; run with -timeout 0", seeds, time.Duration(seeds)*5*time.Second)
	}
	start := time.Now()
	var (
		mu     sync.Mutex
		all    runStats
		failed []uint64
	)
	t.Run("seeds", func(t *testing.T) {
		for i := range seeds {
			s := seed + uint64(i)
			t.Run(fmt.Sprint("seed=", s), func(t *testing.T) {
				t.Parallel()
				t.Cleanup(func() {
					if t.Failed() {
						mu.Lock()
						failed = append(failed, s)
						mu.Unlock()
					}
				})
				st := runConvergence(t, s, ops)
				mu.Lock()
				all.add(st)
				mu.Unlock()
			})
		}
	})
	slices.Sort(failed)
	t.Logf("%d seeds (%d to %d), %d writes each, in %v: %d failed %v",
		seeds, seed, seed+uint64(seeds)-1, ops, time.Since(start).Round(time.Second), len(failed), failed)
	t.Logf("over all seeds: %s", all)
	if len(failed) > 0 {
		t.Errorf("%d of %d seeds failed: %v; replay one with: go test ./sync/client -run 'TestConvergence$' -count=1 -convergence.ops %d -seed SEED",
			len(failed), seeds, failed, ops)
	}
	all.requireEveryPath(t)
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// runStats is what one run exercised.
type runStats struct {
	applied, rejected, duplicate, resets, restamped int
	// overrides counts edits that replaced a value the device had pulled
	// although their clock was older than that value's: pure
	// last-writer-wins by clock would have dropped them.
	overrides int
}

func (r *runStats) add(o runStats) {
	r.applied += o.applied
	r.rejected += o.rejected
	r.duplicate += o.duplicate
	r.resets += o.resets
	r.restamped += o.restamped
	r.overrides += o.overrides
}

func (r runStats) String() string {
	return fmt.Sprintf("%d changes applied, %d rejected, %d duplicate answers, %d resets, %d re-stamped, %d edits kept over a newer clock they had seen",
		r.applied, r.rejected, r.duplicate, r.resets, r.restamped, r.overrides)
}

// requireEveryPath fails a run (or a set of runs) that never took one of
// the paths the test is there for.
func (r runStats) requireEveryPath(t *testing.T) {
	t.Helper()
	if r.applied == 0 || r.rejected == 0 || r.duplicate == 0 || r.resets == 0 || r.restamped == 0 {
		t.Errorf("the run did not exercise every path: %s", r)
	}
}

// runConvergence is one run of TestConvergence with one seed.
func runConvergence(t *testing.T, seed uint64, ops int) runStats {
	t.Logf("seed %d", seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("reproduce with: go test ./sync/client -run 'TestConvergence$' -count=1 -convergence.ops %d -seed %d", ops, seed)
		}
	})
	start := time.Now()
	w := newWorld(t, worldOptions{})
	master := rand.New(rand.NewPCG(seed, 1))
	s := &sim{t: t, w: w, made: map[string]madeChange{}}
	// clocks are what a device's clock may read against true time: the
	// first when it starts, any of them after a restart.
	specs := []struct {
		name, user string
		clocks     []time.Duration
	}{
		{"lan-phone", "lan", []time.Duration{0}},
		{"lan-laptop", "lan", []time.Duration{4 * time.Minute, 0}}, // ahead, within the server's skew limit
		{"minh-laptop", "minh", []time.Duration{time.Hour}},        // ahead beyond it: refused, the server makes it correct itself
		{"hoa-phone", "hoa", []time.Duration{-3 * time.Hour, 0, -7 * time.Hour}},
		{"tuan-phone", "tuan", []time.Duration{-48 * time.Hour, 0}}, // the reviewer two days behind
		{"kiem-laptop", "kiem", []time.Duration{2 * time.Minute, -26 * time.Hour}},
		{"phong-laptop", "phong", []time.Duration{-5 * 24 * time.Hour, 0}},
	}
	s.devices = make([]*simDevice, len(specs))
	t.Cleanup(func() { // a device file holds descriptors: many seeds in one process run out of them
		for _, d := range s.devices {
			if d != nil && d.dev != nil {
				d.dev.Close()
			}
		}
	})
	var wg sync.WaitGroup
	for i, sp := range specs {
		d := &simDevice{name: sp.name, user: w.users[sp.user], clocks: sp.clocks, skew: sp.clocks[0],
			rng: rand.New(rand.NewPCG(seed, uint64(i)+100)), dirty: map[string]bool{}}
		d.net = newNet(w, seed+uint64(i))
		d.net.set(func(n *netSim) { n.dropAnswer, n.replay = 0.05, 0.05 })
		s.devices[i] = d
		wg.Add(1)
		go func() { // logins hash passwords: do them side by side
			defer wg.Done()
			d.dev = s.open(d)
			if _, err := d.dev.Login(context.Background(), d.user.username, userPassword); err != nil {
				t.Errorf("login %s: %v", d.name, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return runStats{}
	}
	t.Logf("setup %v", time.Since(start))

	scopeChanged := false
	for s.writes < ops {
		if !scopeChanged && s.writes >= ops/2 {
			// The admin puts hoa in a second team: her scope grows, her
			// device is told to reset.
			scopeChanged = true
			team := uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("team2-", seed))).String()
			w.server(t, syncdb.ServerChange{Table: "teams", RowID: team, Fields: map[string]any{
				"campaign_id": w.campaign, "name": "Đoàn 2", "member_ids": []string{w.users["hoa"].id}, "unit_ids": []string{w.units[2]}}})
		}
		s.step(s.devices[master.IntN(len(s.devices))])
		if t.Failed() {
			return runStats{}
		}
	}
	t.Logf("random phase %v: %d writes (%v), %d syncs (%v)", time.Since(start), s.writes, s.writeTime, s.syncs, s.syncTime)

	// Quiesce: the network heals; the first round pushes side by side (the
	// server merges concurrent pushes), then rounds until nothing moves.
	for _, d := range s.devices {
		d.net.set(func(n *netSim) { n.offline, n.dropAnswer, n.replay = false, 0, 0 })
	}
	var mu sync.Mutex
	for _, d := range s.devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := d.dev.Sync(context.Background())
			if err != nil {
				t.Errorf("final sync %s: %v", d.name, err)
			}
			mu.Lock()
			s.total.add(rep)
			mu.Unlock()
		}()
	}
	wg.Wait()
	quiet := false
	for round := 0; round < 5 && !quiet && !t.Failed(); round++ {
		quiet = true
		for _, d := range s.devices {
			rep := mustSync(t, d.dev)
			s.total.add(rep)
			if rep.Pushed > 0 || rep.Pulled > 0 {
				quiet = false
			}
		}
	}
	if !quiet {
		t.Fatal("devices did not stop exchanging changes")
	}
	st := s.check()
	t.Logf("total %v; pushes applied %d, duplicate %d, rejected %d, restamped %d; rows pulled %d; resets %d",
		time.Since(start), s.total.Applied, s.total.Duplicate, s.total.Rejected, s.total.Restamped, s.total.Pulled, s.resets)
	return st
}

type sim struct {
	t                   *testing.T
	w                   *world
	devices             []*simDevice
	writes              int
	syncs               int
	resets              int
	total               totals
	writeTime, syncTime time.Duration
	made                map[string]madeChange // by change id
}

// madeChange is what the test knows of a device's edit when it was made.
type madeChange struct {
	device string
	// seen is how far into the server's change log the device had pulled
	// when it made the edit: every change up to it that its user may read
	// was on the device, as the row it showed, except where the device
	// showed its own value instead (see causality).
	seen int64
	// n orders the device's edits as they were made.
	n int
}

type totals struct{ client.Report }

func (t *totals) add(r client.Report) {
	t.Pushed += r.Pushed
	t.Applied += r.Applied
	t.Duplicate += r.Duplicate
	t.Rejected += r.Rejected
	t.Restamped += r.Restamped
	t.Pulled += r.Pulled
}

type simDevice struct {
	name    string
	user    userInfo
	clocks  []time.Duration // what its clock may read against true time
	skew    time.Duration   // what it reads now
	pulled  int64           // the server's change log had this many entries when its last complete pull began
	dev     *client.Device
	net     *netSim
	rng     *rand.Rand
	changes []string // ids of the changes it made
	cache   map[string][]client.Row
	dirty   map[string]bool
}

func (s *sim) open(d *simDevice) *client.Device {
	dev, err := client.Open(context.Background(), s.w.dir+"/"+d.name+".db",
		s.w.options(d.name, d.net, func(o *client.Options) {
			o.PullLimit = 50
			o.PushBatch = 40
			o.MaxAttempts = 4
			o.RelaxedDurability = true
			if skew := d.skew; skew != 0 {
				o.Now = func() time.Time { return time.Now().Add(skew) }
			}
		}))
	if err != nil {
		s.t.Fatalf("open %s: %v", d.name, err)
	}
	return dev
}

// step is one random action of one device.
func (s *sim) step(d *simDevice) {
	r := d.rng.Float64()
	offline := false
	d.net.set(func(n *netSim) { offline = n.offline })
	switch {
	case offline && r < 0.2:
		d.net.set(func(n *netSim) { n.offline = false })
	case !offline && r < 0.02:
		d.net.set(func(n *netSim) { n.offline = true })
	case r < 0.10:
		s.sync(d, d.dev.Sync, true)
	case r < 0.13:
		s.sync(d, d.dev.Push, false)
	case r < 0.16:
		s.sync(d, d.dev.Pull, true)
	case r < 0.175:
		// Killed and restarted: only what was committed survives, and the
		// clock may come back wrong.
		if err := d.dev.Close(); err != nil {
			s.t.Fatalf("close %s: %v", d.name, err)
		}
		d.skew = d.clocks[d.rng.IntN(len(d.clocks))]
		d.dev = s.open(d)
		d.cache = nil
	default:
		t0 := time.Now()
		s.write(d)
		s.writeTime += time.Since(t0)
	}
}

// sync runs one of the device's sync calls; pulls says whether it pulls.
func (s *sim) sync(d *simDevice, fn func(context.Context) (client.Report, error), pulls bool) {
	s.syncs++
	t0 := time.Now()
	var before int64
	if pulls {
		before = s.logLength()
	}
	rep, err := fn(context.Background())
	if err == nil && pulls {
		d.pulled = before
	}
	s.syncTime += time.Since(t0)
	s.total.add(rep)
	if rep.Reset {
		s.resets++
	}
	d.cache = nil
	if err != nil && !errors.Is(err, errLost) {
		s.t.Fatalf("%s: sync: %v", d.name, err)
	}
}

// rows is the device's live rows of a table, as it would show them.
func (d *simDevice) rows(t *testing.T, table string) []client.Row {
	if d.cache == nil {
		d.cache, d.dirty = map[string][]client.Row{}, map[string]bool{}
	}
	if rows, ok := d.cache[table]; ok && !d.dirty[table] {
		return rows
	}
	rows, err := d.dev.All(context.Background(), table)
	if err != nil {
		t.Fatalf("%s: list %s: %v", d.name, table, err)
	}
	d.cache[table], d.dirty[table] = rows, false
	return rows
}

// pick is a random row of table satisfying keep, if any.
func (d *simDevice) pick(t *testing.T, table string, keep func(client.Row) bool) (client.Row, bool) {
	var cands []client.Row
	for _, r := range d.rows(t, table) {
		if keep == nil || keep(r) {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		return client.Row{}, false
	}
	return cands[d.rng.IntN(len(cands))], true
}

func (d *simDevice) owns(field string) func(client.Row) bool {
	return func(r client.Row) bool { return r.Fields[field] == d.user.id }
}

func (d *simDevice) text(field string) string {
	return fmt.Sprintf("%s %s %d", d.name, field, d.rng.IntN(100000))
}

func (d *simDevice) date() string {
	return time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d.rng.IntN(365)).Format(time.DateOnly)
}

func (d *simDevice) oneOf(xs ...string) string { return xs[d.rng.IntN(len(xs))] }

// subset is a random non-empty subset of a field generator (keys in order,
// so the run stays a function of the seed).
func (d *simDevice) subset(gen map[string]func() any) map[string]any {
	keys := slices.Sorted(maps.Keys(gen))
	out := map[string]any{}
	for len(out) == 0 {
		for _, k := range keys {
			if d.rng.IntN(3) == 0 {
				out[k] = gen[k]()
			}
		}
	}
	return out
}

// newID is a row id drawn from the device's generator: rows are listed by
// id, so random ids from elsewhere would change which rows get picked.
func (d *simDevice) newID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(d.rng.UintN(256))
	}
	id, err := uuid.FromBytes(b[:])
	if err != nil {
		panic(err) // 16 bytes always make a UUID
	}
	return id.String()
}

func has(u userInfo, role string) bool { return slices.Contains(u.roles, role) }

// op is one kind of local write; it returns false when it does not apply
// to this device now.
type op struct {
	weight int
	run    func(s *sim, d *simDevice) bool
}

var purposes = []string{"thematic_survey", "inspection", "meeting", "working_session"}

func fieldWorker(u userInfo) bool { return has(u, "secretary") || has(u, "inspector") }

// ops are the writes users make, mostly allowed, some not (the server must
// refuse those, and the device must show the server's state again).
func ops() []op {
	return []op{
		{8, func(s *sim, d *simDevice) bool { // a new trip
			if !fieldWorker(d.user) {
				return false
			}
			f := map[string]any{"purpose": d.oneOf(purposes...), "starts_on": d.date(), "title": d.text("title"),
				"unit_ids": []string{s.w.units[d.rng.IntN(4)]}, "status": "planned"}
			if d.rng.IntN(2) == 0 {
				f["campaign_id"] = s.w.campaign
			}
			return s.upsert(d, "trips", d.newID(), f)
		}},
		{10, func(s *sim, d *simDevice) bool { // edit an own trip
			r, ok := d.pick(s.t, "trips", d.owns("user_id"))
			return ok && s.upsert(d, "trips", r.ID, d.subset(map[string]func() any{
				"title": func() any { return d.text("title") }, "notes": func() any { return d.text("notes") },
				"status":  func() any { return d.oneOf("planned", "ongoing", "done", "cancelled") },
				"ends_on": func() any { return d.date() },
				"unit_ids": func() any { // two units, each named once
					i := d.rng.IntN(4)
					return []string{s.w.units[i], s.w.units[(i+1+d.rng.IntN(3))%4]}
				},
			}))
		}},
		{1, func(s *sim, d *simDevice) bool { // delete an own trip
			r, ok := d.pick(s.t, "trips", d.owns("user_id"))
			return ok && s.delete(d, "trips", r.ID)
		}},
		{6, func(s *sim, d *simDevice) bool { // a day of an own trip
			r, ok := d.pick(s.t, "trips", d.owns("user_id"))
			return ok && s.upsert(d, "trip_days", d.newID(), map[string]any{"trip_id": r.ID, "day": d.date(),
				"unit_id": s.w.units[d.rng.IntN(4)], "activity": d.text("activity")})
		}},
		{5, func(s *sim, d *simDevice) bool { // edit an own trip day
			r, ok := d.pick(s.t, "trip_days", d.owns("user_id"))
			return ok && s.upsert(d, "trip_days", r.ID, d.subset(map[string]func() any{
				"activity": func() any { return d.text("activity") }, "day": func() any { return d.date() },
			}))
		}},
		{1, func(s *sim, d *simDevice) bool { // delete an own trip day
			r, ok := d.pick(s.t, "trip_days", d.owns("user_id"))
			return ok && s.delete(d, "trip_days", r.ID)
		}},
		{6, func(s *sim, d *simDevice) bool { // a new visit note
			if !fieldWorker(d.user) {
				return false
			}
			f := map[string]any{"unit_id": s.w.units[d.rng.IntN(2)], "campaign_id": s.w.campaign, "kind": d.oneOf(purposes...),
				"title": d.text("title"), "results": d.text("results"), "status": "draft"}
			if r, ok := d.pick(s.t, "trips", d.owns("user_id")); ok {
				f["trip_id"] = r.ID
			}
			return s.upsert(d, "visit_notes", d.newID(), f)
		}},
		{14, func(s *sim, d *simDevice) bool { // edit an own note
			r, ok := d.pick(s.t, "visit_notes", d.owns("author_id"))
			gen := map[string]func() any{"status": func() any { return d.oneOf("draft", "submitted") }}
			for _, f := range []string{"title", "results", "models", "shortcomings", "aspirations", "recommendations", "conclusions"} {
				gen[f] = func() any { return d.text(f) }
			}
			return ok && s.upsert(d, "visit_notes", r.ID, d.subset(gen))
		}},
		{1, func(s *sim, d *simDevice) bool { // delete an own note (only a draft may go)
			r, ok := d.pick(s.t, "visit_notes", d.owns("author_id"))
			return ok && s.delete(d, "visit_notes", r.ID)
		}},
		{10, func(s *sim, d *simDevice) bool { // review a note
			if d.user.username != "tuan" && d.user.username != "kiem" {
				return false
			}
			r, ok := d.pick(s.t, "visit_notes", func(r client.Row) bool { return r.Fields["author_id"] != d.user.id })
			return ok && s.upsert(d, "visit_notes", r.ID, map[string]any{"status": d.oneOf("reviewed", "needs_revision"),
				"review_comment": d.text("comment"), "reviewed_by": d.user.id})
		}},
		{5, func(s *sim, d *simDevice) bool { // a finding on an own note
			r, ok := d.pick(s.t, "visit_notes", d.owns("author_id"))
			if !ok {
				return false
			}
			f := map[string]any{"note_id": r.ID, "unit_id": r.Fields["unit_id"], "campaign_id": s.w.campaign,
				"category": d.oneOf("shortcoming", "recommendation", "model", "aspiration"), "text": d.text("text"), "status": "open"}
			if d.rng.IntN(2) == 0 {
				f["department_id"] = s.w.dept1
			}
			return s.upsert(d, "findings", d.newID(), f)
		}},
		{4, func(s *sim, d *simDevice) bool { // edit an own finding
			r, ok := d.pick(s.t, "findings", d.owns("author_id"))
			return ok && s.upsert(d, "findings", r.ID, d.subset(map[string]func() any{
				"text": func() any { return d.text("text") }, "due_on": func() any { return d.date() },
			}))
		}},
		{8, func(s *sim, d *simDevice) bool { // the Inspection Committee triages
			if d.user.username != "kiem" {
				return false
			}
			r, ok := d.pick(s.t, "findings", nil)
			return ok && s.upsert(d, "findings", r.ID, d.subset(map[string]func() any{
				"department_id": func() any { return d.oneOf(s.w.dept1, s.w.dept2) },
				"status":        func() any { return d.oneOf("open", "in_progress", "resolved", "dismissed") },
				"due_on":        func() any { return d.date() }, "answer": func() any { return d.text("answer") },
			}))
		}},
		{10, func(s *sim, d *simDevice) bool { // the department works its findings
			if d.user.dept == "" {
				return false
			}
			r, ok := d.pick(s.t, "findings", func(r client.Row) bool { return r.Fields["department_id"] == d.user.dept })
			return ok && s.upsert(d, "findings", r.ID, d.subset(map[string]func() any{
				"status": func() any { return d.oneOf("in_progress", "resolved") }, "answer": func() any { return d.text("answer") },
			}))
		}},
		{4, func(s *sim, d *simDevice) bool { // a follow-up (append-only)
			r, ok := d.pick(s.t, "findings", nil)
			return ok && s.upsert(d, "follow_ups", d.newID(), map[string]any{"finding_id": r.ID,
				"at": time.Now().UTC().Format(time.RFC3339), "text": d.text("text"), "status_to": d.oneOf("in_progress", "resolved")})
		}},
		{5, func(s *sim, d *simDevice) bool { // a check-in (append-only)
			if !fieldWorker(d.user) {
				return false
			}
			u := d.rng.IntN(4)
			return s.upsert(d, "checkins", d.newID(), map[string]any{"unit_id": s.w.units[u], "at": time.Now().UTC().Format(time.RFC3339),
				"lat": s.w.unitLat[u] + d.rng.Float64()/10, "lng": s.w.unitLng[u], "accuracy_m": float64(d.rng.IntN(300)), "note": d.text("note")})
		}},
		{2, func(s *sim, d *simDevice) bool { // void an own check-in
			r, ok := d.pick(s.t, "checkins", d.owns("user_id"))
			return ok && s.upsert(d, "checkins", r.ID, map[string]any{"voided": true, "void_reason": d.text("reason")})
		}},
		{1, func(s *sim, d *simDevice) bool { // edit a check-in: refused, immutable
			r, ok := d.pick(s.t, "checkins", d.owns("user_id"))
			return ok && s.upsert(d, "checkins", r.ID, map[string]any{"note": d.text("note")})
		}},
		{1, func(s *sim, d *simDevice) bool { // edit someone else's trip: refused, forbidden
			r, ok := d.pick(s.t, "trips", func(r client.Row) bool { return r.Fields["user_id"] != d.user.id })
			return ok && s.upsert(d, "trips", r.ID, map[string]any{"title": d.text("title")})
		}},
	}
}

// write makes one random local write the device's user would make.
func (s *sim) write(d *simDevice) {
	all := ops()
	total := 0
	for _, o := range all {
		total += o.weight
	}
	for range 20 {
		n := d.rng.IntN(total)
		for _, o := range all {
			if n -= o.weight; n < 0 {
				if o.run(s, d) {
					return
				}
				break
			}
		}
	}
}

func (s *sim) upsert(d *simDevice, table, id string, fields map[string]any) bool {
	cid, err := d.dev.Upsert(context.Background(), table, id, fields)
	if err != nil {
		s.t.Fatalf("%s: upsert %s %s %v: %v", d.name, table, id, fields, err)
	}
	s.wrote(d, table, cid)
	return true
}

func (s *sim) delete(d *simDevice, table, id string) bool {
	cid, err := d.dev.Delete(context.Background(), table, id)
	if err != nil {
		s.t.Fatalf("%s: delete %s %s: %v", d.name, table, id, err)
	}
	s.wrote(d, table, cid)
	return true
}

func (s *sim) wrote(d *simDevice, table, changeID string) {
	s.writes++
	d.changes = append(d.changes, changeID)
	s.made[changeID] = madeChange{device: d.name, seen: d.pulled, n: s.writes}
	if d.dirty != nil {
		d.dirty[table] = true
	}
}

// check asserts convergence, that nothing was lost or doubled, and that
// edits made over a pulled value replaced it.
func (s *sim) check() runStats {
	t, w := s.t, s.w
	ctx := context.Background()
	stale := 0
	for _, d := range s.devices {
		if n, err := d.dev.Pending(ctx); err != nil || n != 0 {
			t.Errorf("%s: %d changes still pending (%v)", d.name, n, err)
		}
		stale += w.compareDevice(t, d.name, d.dev, w.actor(d.user, d.name))
	}
	if stale > 0 {
		t.Errorf("%d rows are still on devices after leaving their user's scope", stale)
	}

	w.acksMu.Lock()
	applied := maps2slice(w.applied)
	w.acksMu.Unlock()
	for _, id := range applied {
		if n := w.changeLogCount(t, id); n != 1 {
			t.Errorf("change %s was answered applied but is in the change log %d times", id, n)
		}
	}
	var doubled int
	if err := w.st.Reader().QueryRow(`SELECT COUNT(*) FROM (SELECT change_id FROM change_log GROUP BY change_id HAVING COUNT(*) > 1) AS twice`).Scan(&doubled); err != nil {
		t.Fatal(err)
	}
	if doubled != 0 {
		t.Errorf("%d change ids appear more than once in the change log", doubled)
	}

	logged, rejected, both := 0, 0, 0
	for _, d := range s.devices {
		rej, err := d.dev.Rejected(ctx)
		if err != nil {
			t.Fatal(err)
		}
		refused := map[string]string{}
		for _, r := range rej {
			refused[r.ChangeID] = r.Code
		}
		for _, id := range d.changes {
			inLog := w.changeLogCount(t, id) == 1
			_, inRejected := refused[id]
			switch {
			case inLog && inRejected:
				// A late replay of a refused change found the server in a
				// state where it was allowed.
				both++
			case inLog:
				logged++
			case inRejected:
				rejected++
			default:
				t.Errorf("%s: change %s is neither in the change log nor in the rejected list: lost", d.name, id)
			}
		}
	}
	t.Logf("changes: %d applied, %d rejected, %d refused then applied by a late replay; %d applied answers seen", logged, rejected, both, len(applied))
	overrides := s.causality()
	return runStats{applied: logged, rejected: rejected, duplicate: s.total.Duplicate, resets: s.resets,
		restamped: s.total.Restamped, overrides: overrides}
}

// logLength is the server's change log position now: a pull that begins
// after this reads every change up to it.
func (s *sim) logLength() int64 {
	var n int64
	if err := s.w.st.Reader().QueryRow("SELECT COALESCE(MAX(seq), 0) FROM change_log").Scan(&n); err != nil {
		s.t.Fatalf("read the change log: %v", err)
	}
	return n
}

// rowOf is the table/row part of a table/row/field key.
func rowOf(key string) string { return key[:strings.LastIndexByte(key, '/')] }

// ownWrite is a device's logged edit of a row: where the log holds it,
// and when the device made it (madeChange.n).
type ownWrite struct {
	seq int64
	n   int
}

// fieldWrite is the change that last set a field, as the server merged it.
type fieldWrite struct {
	seq        int64
	id, device string
	hlc        string
	value      string // JSON
}

// causality replays the server's change log in order and checks the rule
// a reviewer relies on: an edit made after its device had pulled a field's
// current value replaces that value, whatever the two clocks say (the
// device's clock may be days behind the one that wrote what it saw). Only
// edits made without having seen the current value (truly concurrent) may
// lose, by clock. The device's knowledge comes from the test's own record
// of its complete pulls, not from what it told the server; a value it had
// pulled stayed current until the edit arrived, so its copy showed that
// value when the edit was made, unless it showed its own state of the row
// instead: an earlier edit of the row of the device's own that reached the
// server only after that pull began (it was still in the outbox when the
// pull kept the row over the server's, or it was made after the pull). Such
// an edit is concurrent with the value it never showed, and the server
// orders the two by clock, as the device's pull cursor stays before a row
// it kept.
//
// It returns how many edits won over a value whose clock was newer than
// theirs: the cases where clock order alone would have lost them.
func (s *sim) causality() (overrides int) {
	t := s.t
	rs, err := s.w.st.Reader().Query("SELECT seq, change_id, tbl, row_id, hlc, device_id, applied, lost FROM change_log ORDER BY seq")
	if err != nil {
		t.Fatalf("read the change log: %v", err)
	}
	defer rs.Close()
	current := map[string]fieldWrite{} // by table/row/field
	// own is each device's logged edits of a row, by device/table/row.
	own := map[string][]ownWrite{}
	// showed reports whether the device that made change e showed the value
	// prev of the field at key when it made e: pulled, and its row not held
	// by an own earlier edit that reached the server after that pull began
	// (a row with changes in the outbox shows the device's own state, all
	// of it, until they are answered; see sync/client keepServerRow).
	showed := func(made madeChange, key string, prev fieldWrite) bool {
		if prev.seq > made.seen {
			return false
		}
		for _, o := range own[made.device+"/"+rowOf(key)] {
			if o.n < made.n && o.seq > made.seen {
				return false
			}
		}
		return true
	}
	bad := 0
	for rs.Next() {
		var e fieldWrite
		var table, row, appliedJS, lostJS string
		if err := rs.Scan(&e.seq, &e.id, &table, &row, &e.hlc, &e.device, &appliedJS, &lostJS); err != nil {
			t.Fatalf("read the change log: %v", err)
		}
		var won, lost map[string]json.RawMessage
		if err := json.Unmarshal([]byte(appliedJS), &won); err != nil {
			t.Fatalf("change %s: applied %q: %v", e.id, appliedJS, err)
		}
		if err := json.Unmarshal([]byte(lostJS), &lost); err != nil {
			t.Fatalf("change %s: lost %q: %v", e.id, lostJS, err)
		}
		made, byDevice := s.made[e.id]
		for _, name := range slices.Sorted(maps.Keys(lost)) {
			key := table + "/" + row + "/" + name
			prev, had := current[key]
			if !byDevice || !had || !showed(made, key, prev) || prev.value == string(lost[name]) {
				continue
			}
			bad++
			if bad <= 10 {
				t.Errorf("%s %s .%s: %s's edit %s (clock %s, value %s) was made after it had pulled the value of %s's change %s (clock %s, value %s), yet lost to it",
					table, row, name, made.device, e.id, e.hlc, lost[name], prev.device, prev.id, prev.hlc, prev.value)
			}
		}
		for name, v := range won {
			key := table + "/" + row + "/" + name
			if prev, had := current[key]; had && byDevice && showed(made, key, prev) && prev.device != e.device && prev.hlc > e.hlc {
				overrides++
			}
			current[key] = fieldWrite{seq: e.seq, id: e.id, device: e.device, hlc: e.hlc, value: string(v)}
		}
		if byDevice {
			k := made.device + "/" + table + "/" + row
			own[k] = append(own[k], ownWrite{seq: e.seq, n: made.n})
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("read the change log: %v", err)
	}
	if bad > 0 {
		t.Errorf("%d edits made over a pulled value lost to it", bad)
	}
	t.Logf("causality: %d edits kept over a value with a newer clock that their device had pulled", overrides)
	return overrides
}

func maps2slice(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
