package cli

import (
	"runtime/debug"
	"testing"
)

// An operator's GOGC or GOMEMLIMIT wins over the defaults serve and loadgen
// set; without them, the defaults apply.
func TestTuneGCLeavesTheOperatorsSettings(t *testing.T) {
	before := debug.SetGCPercent(100)
	beforeLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(before)
		debug.SetMemoryLimit(beforeLimit)
	})

	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	tuneGC(getenv)
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GC percent with no GOGC: %d, want %d", got, gcPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != gcMemoryLimit {
		t.Errorf("memory limit with no GOMEMLIMIT: %d, want %d", got, gcMemoryLimit)
	}

	debug.SetGCPercent(150)
	debug.SetMemoryLimit(64 << 20)
	env["GOGC"], env["GOMEMLIMIT"] = "150", "64MiB"
	tuneGC(getenv)
	if got := debug.SetGCPercent(100); got != 150 {
		t.Errorf("GC percent with GOGC=150: %d, want it left at 150", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Errorf("memory limit with GOMEMLIMIT=64MiB: %d, want it left at %d", got, 64<<20)
	}
}
