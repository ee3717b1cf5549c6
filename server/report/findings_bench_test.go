package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/seed"
	"dicoso/server/store/storetest"
	"dicoso/server/syncdb"
)

// cpuTime is the CPU this process has used (user and system).
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A register of 5,000 findings (a hundred notes of fifty), read as the
// console reads it: the first page of 50 with the counts, a search over
// every finding, and, for comparison, the whole register sorted as the
// unpaged list answered it before. Reports CPU per read (cpu-µs/op, all
// goroutines: the store's included) and the JSON answer's size.
//
//	go test ./server/report -run '^$' -bench FindingsRegister -benchtime 50x
func BenchmarkFindingsRegister(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b)
	log := slog.New(slog.DiscardHandler)
	sdb := syncdb.New(st, syncdb.Options{Log: log})
	b.Cleanup(sdb.Close)
	if _, err := seed.Load(ctx, st, sdb, log); err != nil {
		b.Fatal(err)
	}
	var unit, campaign string
	if err := st.Reader().QueryRowContext(ctx, "SELECT id FROM units ORDER BY name LIMIT 1").Scan(&unit); err != nil {
		b.Fatal(err)
	}
	if err := st.Reader().QueryRowContext(ctx, "SELECT id FROM campaigns ORDER BY name LIMIT 1").Scan(&campaign); err != nil {
		b.Fatal(err)
	}
	author := uuid.NewString()
	changes := []syncdb.ServerChange{{Table: "users", RowID: author, Fields: map[string]any{
		"username": "kt.dung", "full_name": "Phạm Văn Dũng", "roles": []string{"inspector"}}}}
	note := ""
	for i := range 5000 {
		if i%50 == 0 {
			note = uuid.NewString()
			changes = append(changes, syncdb.ServerChange{Table: "visit_notes", RowID: note, Fields: map[string]any{
				"author_id": author, "unit_id": unit, "campaign_id": campaign, "title": fmt.Sprintf("Ghi chép %d", i/50), "status": "submitted"}})
		}
		changes = append(changes, syncdb.ServerChange{Table: "findings", RowID: uuid.NewString(), Fields: map[string]any{
			"note_id": note, "author_id": author, "category": []string{"shortcoming", "recommendation", "model", "aspiration"}[i%4],
			"text": fmt.Sprintf("Vấn đề số %04d: sinh hoạt chi đoàn chưa đều", i)}})
	}
	if err := st.InTx(ctx, func(tx *sql.Tx) error { return sdb.ApplyServerTx(ctx, tx, "", changes) }); err != nil {
		b.Fatal(err)
	}
	r := New(st)
	base := syncdb.RowBase
	for _, c := range []struct {
		name string
		read func() (any, int)
	}{
		{"first page of 50", func() (any, int) {
			p, err := r.FindingsPage(ctx, FindingsQuery{Sort: "-recorded", Limit: 50, AsOf: "2021-12-31"}, base)
			if err != nil {
				b.Fatal(err)
			}
			return p, len(p.Items)
		}},
		{"search over all", func() (any, int) {
			p, err := r.FindingsPage(ctx, FindingsQuery{Sort: "-recorded", Limit: 50, Search: "van de so 0123", AsOf: "2021-12-31"}, base)
			if err != nil {
				b.Fatal(err)
			}
			return p, len(p.Items)
		}},
		{"whole register (the unpaged list)", func() (any, int) {
			var items []Finding
			if err := r.read(ctx, "findings", func(tx *sql.Tx) error {
				var err error
				items, err = findings(ctx, st.Dialect(), tx, FindingsQuery{})
				return err
			}); err != nil {
				b.Fatal(err)
			}
			sortFindings(items)
			WithBase(items, base)
			return map[string]any{"items": items}, len(items)
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var size, rows int
			cpu := cpuTime(b)
			for b.Loop() {
				v, n := c.read()
				js, err := json.Marshal(v)
				if err != nil {
					b.Fatal(err)
				}
				size, rows = len(js), n
			}
			b.ReportMetric(float64((cpuTime(b)-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(size)/1024, "json-KB")
			b.ReportMetric(float64(rows), "rows")
		})
	}
}
