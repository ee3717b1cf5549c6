package loadgen

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is a process's resident memory as Linux reports it in
// /proc/PID/status: RSS now (VmRSS) and its peak (VmHWM), in bytes.
type Memory struct{ RSS, Peak int64 }

// resetPeak restarts the kernel's count of pid's peak resident memory, so
// that the peak read later is the run's (Linux; the same user may). Best
// effort: without it the peak covers the process's whole life.
func resetPeak(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// readMemory reads pid's resident memory.
func readMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, fmt.Errorf("server memory: %w", err)
	}
	var m Memory
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("server memory: %s: %w", name, err)
		}
		if name == "VmRSS" {
			m.RSS = kb << 10
		} else {
			m.Peak = kb << 10
		}
	}
	return m, nil
}

// readCPU is the CPU time (user and system) pid has used so far, from
// /proc/PID/stat (Linux), in seconds.
func readCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("server CPU time: %w", err)
	}
	// The command name may hold spaces: fields count from after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("server CPU time: short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("server CPU time: unreadable /proc/%d/stat", pid)
	}
	const ticks = 100 // USER_HZ, 100 on every Linux the project runs on
	return float64(utime+stime) / ticks, nil
}
