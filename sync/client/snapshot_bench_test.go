package client_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/api"
	"dicoso/server/auth"
	"dicoso/server/config"
	"dicoso/server/store"
	"dicoso/server/syncdb"
	"dicoso/sync/client"
)

// BenchmarkSnapshot measures a fresh device's first Sync against the real
// HTTP server over a real store file holding `rows` grassroots units (the
// reference data every user pulls; a province has thousands of them): rows
// per second of the whole snapshot, pages fetched, staged and swapped in.
// The server runs in this process, so cpu-µs/row (user and system time of
// the process, a steadier figure than rows/s on a shared machine) and the
// memory figures (peak Go heap sampled during the sync, peak RSS since just
// before it) include the server serving one page at a time; what matters
// is that memory does not grow with the number of rows.
//
//	go test ./sync/client -run '^$' -bench Snapshot -benchtime 3x
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{20_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			url := snapshotServer(b, n)
			dir := b.TempDir()
			var heapPeak, rssPeak, cpu float64
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				ctx := context.Background()
				d, err := client.Open(ctx, filepath.Join(dir, fmt.Sprintf("dev-%d.db", i)), client.Options{BaseURL: url, DeviceName: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.Login(ctx, "admin", adminPassword); err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				resetPeakRSS()
				stop := sampleHeap()
				cpu0 := cpuTime()
				b.StartTimer()
				rep, err := d.Sync(ctx)
				b.StopTimer()
				cpu += cpuTime() - cpu0
				heapPeak = max(heapPeak, stop())
				rssPeak = max(rssPeak, peakRSS())
				if err != nil {
					b.Fatal(err)
				}
				if !rep.Snapshot || rep.Pulled < n {
					b.Fatalf("first sync pulled %d rows (snapshot %v), want at least %d", rep.Pulled, rep.Snapshot, n)
				}
				b.ReportMetric(float64(rep.Pages), "pages")
				d.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(cpu/float64(b.N*n)*1e6, "cpu-µs/row")
			b.ReportMetric(heapPeak/(1<<20), "peak-heap-MB")
			if rssPeak > 0 {
				b.ReportMetric(rssPeak/(1<<20), "peak-RSS-MB")
			}
		})
	}
}

// snapshotStores caches one seeded store file per row count for the run.
var snapshotStores struct {
	sync.Mutex
	paths map[int]string
}

// snapshotServer starts the real API over a copy of a store holding n units
// (and the admin, who reads them all) and returns its URL.
func snapshotServer(b *testing.B, n int) string {
	b.Helper()
	snapshotStores.Lock()
	defer snapshotStores.Unlock()
	if snapshotStores.paths == nil {
		snapshotStores.paths = map[int]string{}
	}
	if _, ok := snapshotStores.paths[n]; !ok {
		path := filepath.Join(template.dir, fmt.Sprintf("snapshot-%d.db", n))
		seedUnits(b, path, n)
		snapshotStores.paths[n] = path
	}
	dataDir := b.TempDir()
	src, err := os.ReadFile(snapshotStores.paths[n])
	if err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = dataDir
	if err := os.WriteFile(cfg.DBPath(), src, 0o600); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DBPath())
	if err != nil {
		b.Fatal(err)
	}
	sdb := syncdb.New(st, syncdb.Options{ClockSkew: cfg.ClockSkew})
	authSvc := auth.Ephemeral(st, auth.Options{Sync: sdb})
	srv := api.New(api.Deps{Config: cfg, Store: st, Log: slog.New(slog.DiscardHandler), Auth: authSvc, Sync: sdb})
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(func() {
		hs.Close()
		sdb.Close()
		st.Close()
	})
	return hs.URL
}

// seedUnits writes n units through the sync engine, as a seed load does:
// provinces, then grassroots units under them, 2,000 to a transaction.
func seedUnits(b *testing.B, path string, n int) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sdb := syncdb.New(st, syncdb.Options{})
	defer sdb.Close()
	if _, _, err := auth.Ephemeral(st, auth.Options{Sync: sdb}).BootstrapAdmin(ctx, adminPassword); err != nil {
		b.Fatal(err)
	}
	const provinces = 63
	parents := make([]string, provinces)
	var batch []syncdb.ServerChange
	flush := func() {
		if err := st.InTx(ctx, func(tx *sql.Tx) error { return sdb.ApplyServerTx(ctx, tx, "", batch) }); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range provinces {
		parents[i] = uuid.NewString()
		batch = append(batch, syncdb.ServerChange{Table: "units", RowID: parents[i], Fields: map[string]any{
			"name": "Tỉnh đoàn " + strconv.Itoa(i+1), "kind": "province", "code": fmt.Sprintf("T%02d", i+1),
			"lat": 10 + float64(i)/7, "lng": 103 + float64(i)/13}})
	}
	flush()
	for i := provinces; i < n; i++ {
		p := i % provinces
		batch = append(batch, syncdb.ServerChange{Table: "units", RowID: uuid.NewString(), Fields: map[string]any{
			"name": "Chi đoàn thôn " + strconv.Itoa(i) + ", xã " + strings.Repeat("Phú", 1+i%3), "kind": "grassroots",
			"code": fmt.Sprintf("T%02d-%06d", p+1, i), "parent_id": parents[p],
			"lat": 10 + float64(i%1000)/97, "lng": 103 + float64(i%1000)/83, "valid_from": "2019-01-01",
			"source": "Danh sách cơ sở đoàn 2021"}})
		if len(batch) == 2000 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}

// sampleHeap samples the live Go heap every 5 ms until the returned stop
// is called, which returns the highest sample.
func sampleHeap() (stop func() float64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	peak := make(chan float64)
	go func() {
		var hi float64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			hi = max(hi, float64(s[0].Value.Uint64()))
			select {
			case <-done:
				peak <- hi
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 { close(done); return <-peak }
}

// cpuTime is the user and system time this process has used, in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// resetPeakRSS restarts the kernel's peak-RSS count of this process (Linux).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak resident set since the last reset (Linux;
// 0 elsewhere).
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
