package syncdb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
)

// BenchmarkPush measures merged changes per second with many devices
// pushing batches of 100 new trips at once, through the group committer
// and onto a real file with synchronous=FULL; with no_echo, the answers
// also say what the server made of each change (docs/protocol.md, "Own
// writes").
func BenchmarkPush(b *testing.B) {
	for _, devices := range []int{1, 100} {
		for _, noEcho := range []bool{false, true} {
			b.Run(fmt.Sprintf("devices=%d/no_echo=%v", devices, noEcho), func(b *testing.B) {
				f := newFixture(b)
				f.now = time.Now()
				clocks := make([]*hlc.Clock, devices)
				for i := range clocks {
					clocks[i] = hlc.NewClock(fmt.Sprintf("bench-%d", i), nil, 0)
				}
				b.ResetTimer()
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
							for j := 0; j < 100; j++ {
								req.Changes = append(req.Changes, protocol.Change{ID: uuid.NewString(), Table: "trips", RowID: uuid.NewString(),
									Op: protocol.OpUpsert, HLC: clocks[d].Now().String(), Fields: map[string]any{
										"purpose": "meeting", "starts_on": "2021-06-02", "title": "Làm việc với Tỉnh đoàn", "unit_ids": []any{f.unit}}})
							}
							if _, err := f.db.Push(context.Background(), a, req); err != nil {
								b.Error(err)
								return
							}
						}
					}(d)
				}
				wg.Wait()
				b.ReportMetric(float64(per*devices*100)/b.Elapsed().Seconds(), "changes/s")
			})
		}
	}
}
