package client_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/client"
)

// killChildEnv, when set, makes the test binary a device process for
// TestDeviceSurvivesSIGKILL instead of running tests (see TestMain).
const killChildEnv = "DICOSO_CLIENT_KILL_CHILD"

type killChildConfig struct {
	Path, URL, Device string
	Units             []string
	Campaign          string
	Seed              uint64
}

// TestDeviceSurvivesSIGKILL: a device process writes and syncs against the
// server and is killed with SIGKILL at random moments, mid-transaction or
// mid-request; each time it starts again on its file. Every edit it had
// reported written (Upsert returned) must reach the server exactly once
// or be in its rejected list, and its state must end equal to the server's.
func TestDeviceSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	const name = "hoa-killed"
	d := w.device(t, name, "hoa", nil, nil) // logs in: the tokens are in the file
	mustSync(t, d)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := killChildConfig{Path: filepath.Join(w.dir, name+".db"), URL: w.url, Device: name,
		Units: w.units, Campaign: w.campaign, Seed: uint64(time.Now().UnixNano())}
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	var written []string
	for run := range 8 {
		cfg.Seed++
		js, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), killChildEnv+"="+string(js))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var lines []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				mu.Lock()
				lines = append(lines, sc.Text())
				mu.Unlock()
			}
		}()
		// Let it work a while (it must have started writing), then kill it.
		deadline := time.Now().Add(10 * time.Second)
		want := 5 + rng.IntN(40)
		for {
			mu.Lock()
			n := len(lines)
			mu.Unlock()
			if n >= want || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatalf("kill: %v", err)
		}
		<-done
		_ = cmd.Wait()
		mu.Lock()
		for _, l := range lines {
			if id, ok := strings.CutPrefix(l, "W "); ok {
				written = append(written, id)
			}
		}
		n := len(lines)
		mu.Unlock()
		if n == 0 {
			t.Fatalf("run %d: the device process wrote nothing; stderr:\n%s", run, stderr.String())
		}
	}

	// Restarted for good: it syncs until nothing moves.
	d, err := client.Open(ctx, cfg.Path, w.options(name, newNet(w, 9), nil))
	if err != nil {
		t.Fatalf("reopen after the kills: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	mustSync(t, d)
	if rep := mustSync(t, d); rep.Pushed != 0 {
		t.Fatalf("still pushing after a full sync: %+v", rep)
	}
	rej, err := d.Rejected(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]bool{}
	for _, r := range rej {
		refused[r.ChangeID] = true
	}
	for _, id := range written {
		if n := w.changeLogCount(t, id); n+boolInt(refused[id]) != 1 {
			t.Errorf("change %s: %d times in the change log, rejected %v", id, n, refused[id])
		}
	}
	var doubled int
	if err := w.st.Reader().QueryRow(`SELECT COUNT(*) FROM (SELECT change_id FROM change_log GROUP BY change_id HAVING COUNT(*) > 1) AS twice`).Scan(&doubled); err != nil || doubled != 0 {
		t.Fatalf("%d change ids logged twice (%v)", doubled, err)
	}
	w.compareDevice(t, name, d, w.actor(w.users["hoa"], name))
	t.Logf("%d edits written across 8 kills, %d rejected", len(written), len(refused))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// killChild is the device process: it edits trips, their days and notes and
// syncs now and then, printing "W <change id>" once each edit is committed,
// until it is killed.
func killChild(raw string) int {
	var cfg killChildConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	d, err := client.Open(ctx, cfg.Path, client.Options{BaseURL: cfg.URL, DeviceID: cfg.Device,
		RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond, PushBatch: 7, PullLimit: 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 11))
	trips, err := d.All(ctx, "trips")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var own []string
	for _, r := range trips {
		if r.Fields["user_id"] == d.UserID() {
			own = append(own, r.ID)
		}
	}
	for i := 0; ; i++ {
		var table, id string
		var fields map[string]any
		switch {
		case len(own) == 0 || rng.IntN(5) == 0:
			table, id = "trips", uuid.NewString()
			fields = map[string]any{"purpose": "inspection", "starts_on": "2021-06-03", "title": fmt.Sprint("trip ", i), "campaign_id": cfg.Campaign}
			own = append(own, id)
		case rng.IntN(3) == 0:
			table, id = "trip_days", uuid.NewString()
			fields = map[string]any{"trip_id": own[rng.IntN(len(own))], "day": fmt.Sprintf("2021-06-%02d", 1+rng.IntN(28)),
				"unit_id": cfg.Units[rng.IntN(2)], "activity": fmt.Sprint("day ", i)}
		case rng.IntN(10) == 0:
			// Refused by the server: no such trip.
			table, id = "trip_days", uuid.NewString()
			fields = map[string]any{"trip_id": uuid.NewString(), "day": "2021-06-03"}
		default:
			table, id = "trips", own[rng.IntN(len(own))]
			fields = map[string]any{"title": fmt.Sprint("edit ", i), "notes": fmt.Sprint("notes ", rng.IntN(1000))}
		}
		cid, err := d.Upsert(ctx, table, id, fields)
		if err != nil {
			fmt.Fprintln(os.Stderr, "upsert:", err)
			return 1
		}
		fmt.Printf("W %s\n", cid)
		if rng.IntN(6) == 0 {
			if _, err := d.Sync(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "sync:", err)
			}
		}
	}
}
