package cli

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The load generator's lowered priority holds for every thread of the
// process, those running when it is set and those started after, so none
// of the devices' work competes with the measured server at full priority.
// It runs in a child process: the test process keeps its own priority.
func TestLowerPriorityCoversEveryThread(t *testing.T) {
	if os.Getenv("DICOSO_TEST_LOWER_PRIORITY") == "1" {
		if err := lowerPriority(7); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		// Start more threads: goroutines locked to threads, blocked at once.
		var started, release sync.WaitGroup
		release.Add(1)
		for range 6 {
			started.Add(1)
			go func() {
				runtime.LockOSThread()
				started.Done()
				release.Wait()
			}()
		}
		started.Wait()
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		for _, task := range tasks {
			tid, _ := strconv.Atoi(task.Name())
			prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
			if err != nil {
				continue // ended meanwhile
			}
			fmt.Printf("thread %d nice %d\n", tid, 20-prio) // the raw syscall answers 20 - nice
		}
		release.Done()
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLowerPriorityCoversEveryThread$")
	cmd.Env = append(os.Environ(), "DICOSO_TEST_LOWER_PRIORITY=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	threads := 0
	for _, line := range strings.Split(string(out), "\n") {
		var tid, nice int
		if _, err := fmt.Sscanf(line, "thread %d nice %d", &tid, &nice); err != nil {
			continue
		}
		threads++
		if nice != 7 {
			t.Errorf("thread %d runs at nice %d, want 7", tid, nice)
		}
	}
	if threads < 7 {
		t.Fatalf("the child reported %d threads, want at least 7 (6 locked ones and the main thread):\n%s", threads, out)
	}
}
