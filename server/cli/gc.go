package cli

import "runtime/debug"

// The garbage collector's settings for the long-running commands (serve,
// loadgen), unless the standard GOGC or GOMEMLIMIT variables set them.
//
// The merge allocates several kilobytes a change and keeps almost none of
// it: the live Go heap of a loaded server is a few tens of megabytes (the
// SQLite page caches live outside it). With Go's default GOGC=100 the
// collector ran every few milliseconds under the load generator and took
// about a sixth of the writer's CPU; at 400 the in-process merge benchmark
// went from 54–58 to 45–47 cpu-µs a change (README, "Performance") for
// about 90 MB more resident memory. The soft limit keeps a spike of live
// data (a large export) from growing the heap five times over: near it,
// the collector runs as often as it must.
const (
	gcPercent     = 400
	gcMemoryLimit = 1 << 30 // bytes of Go-managed memory
)

// tuneGC applies those settings where the environment leaves them unset.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcMemoryLimit)
	}
}
