package client_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"dicoso/sync/client"
	"dicoso/sync/loadgen"
)

// BenchmarkPush measures the CPU a device spends per change it pushes, as
// the devices of `dicoso loadgen` do (README, "Performance"; issue 10's
// throughput target counts the devices' CPU beside the server's): each
// iteration writes `rounds` batches of 100
// changes of loadgen's mix (a trip, a visit note, 33 trip days and 65
// autosaved edits of the note), each batch one Device.Write, then pushes
// them with one Device.Push (ten requests, no_echo) to the real HTTP
// server and store of the client tests, then pulls (not measured), which
// clears the acknowledged changes as the load generator's pull does.
//
// The server runs in this process, so the device's part is measured on
// its own: the benchmark's goroutine is locked to its OS thread, and the
// thread's CPU time (user and system, Linux RUSAGE_THREAD) is what Write
// and Push ran on it:
//
//   - cpu-µs/change: the push, per change pushed (reading the outbox,
//     encoding and compressing the request, reading the answer, settling
//     it into the outbox and the rows);
//   - write-cpu-µs/change: the local writes before it, per change;
//   - request-B/change: the push requests' bodies as sent (gzipped).
//
// That leaves out what the device's HTTP transport does on goroutines of
// its own (writing the request to the socket, filling the answer's read
// buffer) and the garbage collector's background work, which the device's
// allocations cause but other threads run (its assists are counted).
// process-cpu-µs/change is the whole process's CPU during the pushes:
// the device, its transport, the server's merge and the collector. The
// allocation figures (B/op, allocs/op) are the whole process's during the
// pushes too. On a shared machine compare builds by cpu-µs, run
// alternately.
//
//	go test ./sync/client -run '^$' -bench Push -benchtime 20x
func BenchmarkPush(b *testing.B) {
	const rounds, batch = 10, 100
	ctx := context.Background()
	w := newWorld(b, worldOptions{})
	w.admin = w.rawLogin(b, "admin", adminPassword, "bench-admin")
	w.user(b, "bench", []string{"secretary"}, "") // a plain secretary, as loadgen's
	sent := &pushBytes{next: http.DefaultTransport}
	d := w.device(b, "bench-device", "bench", nil, func(o *client.Options) {
		o.RelaxedDurability = true // as loadgen's devices: one disk for all
		o.PushBatch = batch
		// Straight to the server: the tests' simulated network reads and
		// decodes every push answer on the device's goroutine.
		o.HTTP = &http.Client{Transport: sent, Timeout: time.Minute}
	})
	mustSync(b, d)
	user := d.UserID()

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var writeCPU, pushCPU, procCPU float64
	var pushed, body int
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for r := range rounds {
			edits := loadgen.Batch(user, w.units[(i+r)%len(w.units)], batch)
			t0 := threadCPU()
			if _, err := d.Write(ctx, edits); err != nil {
				b.Fatal(err)
			}
			writeCPU += threadCPU() - t0
		}
		t0, p0, s0 := threadCPU(), cpuTime(), sent.n
		b.StartTimer()
		rep, err := d.Push(ctx)
		b.StopTimer()
		pushCPU += threadCPU() - t0
		procCPU += cpuTime() - p0
		if err != nil {
			b.Fatal(err)
		}
		if rep.Applied != rounds*batch || rep.Rejected != 0 {
			b.Fatalf("push: %+v, want %d applied", rep, rounds*batch)
		}
		pushed += rep.Pushed
		body += sent.n - s0
		if _, err := d.Pull(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(pushCPU/float64(pushed)*1e6, "cpu-µs/change")
	b.ReportMetric(writeCPU/float64(pushed)*1e6, "write-cpu-µs/change")
	b.ReportMetric(procCPU/float64(pushed)*1e6, "process-cpu-µs/change")
	b.ReportMetric(float64(pushed)/b.Elapsed().Seconds(), "changes/s")
	b.ReportMetric(float64(body)/float64(pushed), "request-B/change")
}

// pushBytes counts the bytes of push request bodies as sent (compressed),
// what loadgen's "bodies alone" counts of the requests. One device sends
// one request at a time.
type pushBytes struct {
	next http.RoundTripper
	n    int
}

func (p *pushBytes) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/sync/push") && req.ContentLength > 0 {
		p.n += int(req.ContentLength)
	}
	return p.next.RoundTrip(req)
}

// rusageThread is Linux's RUSAGE_THREAD: the calling thread's usage.
const rusageThread = 1

// threadCPU is the user and system time of the calling OS thread, in
// seconds (Linux; 0 elsewhere). The caller locks its goroutine to the
// thread, so the thread ran nothing else.
func threadCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
