package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// lowerPriority gives every thread of this process the niceness nice
// (Linux applies setpriority to one thread at a time). New threads inherit
// it from the thread that starts them; a second pass catches any started
// from a thread not yet lowered during the first. A process already at a
// lower priority keeps it (raising priority back needs privileges).
func lowerPriority(nice int) error {
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("lower priority: %w", err)
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			err = syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice)
			if errors.Is(err, syscall.ESRCH) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
				continue // the thread ended, or it is already lower
			}
			if err != nil {
				return fmt.Errorf("lower priority of thread %d: %w", tid, err)
			}
		}
	}
	return nil
}
