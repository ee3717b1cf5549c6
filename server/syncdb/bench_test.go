package syncdb

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
)

// BenchmarkPush measures merged changes per second with many devices
// pushing batches of 100 changes at once, through the group committer and
// onto a real file with synchronous=FULL. mix=trips is 100 new trips a
// push; mix=field is the load generator's batch (sync/loadgen): a trip,
// a visit note, the trip's days and autosaved edits of the note. With
// no_echo, the answers also say what the server made of each change
// (docs/protocol.md, "Own writes").
func BenchmarkPush(b *testing.B) {
	for _, mix := range []string{"trips", "field"} {
		for _, devices := range []int{1, 100} {
			for _, noEcho := range []bool{false, true} {
				b.Run(fmt.Sprintf("mix=%s/devices=%d/no_echo=%v", mix, devices, noEcho), func(b *testing.B) {
					benchPush(b, mix, devices, noEcho)
				})
			}
		}
	}
}

func benchPush(b *testing.B, mix string, devices int, noEcho bool) {
	f := newFixture(b)
	f.now = time.Now()
	clocks := make([]*hlc.Clock, devices)
	for i := range clocks {
		clocks[i] = hlc.NewClock(fmt.Sprintf("bench-%d", i), nil, 0)
	}
	b.ResetTimer()
	cpu0 := cpuSeconds(b)
	var wg sync.WaitGroup
	per := (b.N + devices - 1) / devices
	for d := 0; d < devices; d++ {
		wg.Add(1)
		go func(d int) {
			defer wg.Done()
			a := f.alice
			a.DeviceID = clocks[d].Node()
			for i := 0; i < per; i++ {
				req := protocol.PushRequest{Protocol: 1, DeviceID: a.DeviceID, NoEcho: noEcho}
				change := func(table, row string, fields map[string]any) {
					req.Changes = append(req.Changes, protocol.Change{ID: uuid.Must(uuid.NewV7()).String(), Table: table, RowID: row,
						Op: protocol.OpUpsert, HLC: clocks[d].Now().String(), Fields: fields})
				}
				if mix == "trips" {
					for j := 0; j < 100; j++ {
						change("trips", uuid.Must(uuid.NewV7()).String(), map[string]any{
							"purpose": "meeting", "starts_on": "2021-06-02", "title": "Làm việc với Tỉnh đoàn", "unit_ids": []any{f.unit}})
					}
				} else {
					trip, note := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
					change("trips", trip, map[string]any{"title": "Đi cơ sở", "purpose": "working_session",
						"starts_on": "2021-06-01", "ends_on": "2021-06-03", "unit_ids": []any{f.unit}, "status": "ongoing"})
					change("visit_notes", note, map[string]any{"unit_id": f.unit, "trip_id": trip, "kind": "working_session",
						"title": "Làm việc với Tỉnh đoàn", "status": "draft"})
					for j := 0; len(req.Changes) < 100; j++ {
						if j%3 == 0 {
							change("trip_days", uuid.Must(uuid.NewV7()).String(), map[string]any{"trip_id": trip,
								"day": fmt.Sprintf("2021-06-%02d", 1+j%28), "unit_id": f.unit, "activity": "Làm việc với cơ sở đoàn"})
						} else {
							change("visit_notes", note, map[string]any{"results": fmt.Sprintf("Kết quả thực hiện, bản %d", j)})
						}
					}
				}
				resp, err := f.db.Push(context.Background(), a, req)
				if err != nil {
					b.Error(err)
					return
				}
				for _, r := range resp.Results {
					if r.Status != protocol.StatusApplied {
						b.Errorf("%s: %s %s", r.ID, r.Code, r.Message)
						return
					}
				}
			}
		}(d)
	}
	wg.Wait()
	b.ReportMetric(float64(per*devices*100)/b.Elapsed().Seconds(), "changes/s")
	// CPU per change is steadier than changes/s on a shared machine.
	b.ReportMetric((cpuSeconds(b)-cpu0)/float64(per*devices*100)*1e6, "cpu-µs/change")
}

// cpuSeconds is the user and system time of this process so far.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
