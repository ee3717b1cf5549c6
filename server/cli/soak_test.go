package cli

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSoakKillsAndRecovers runs `dicoso soak` for two cycles, as an
// operator would: it kills its own server mid-push twice and must report
// acknowledged changes and none lost.
func TestSoakKillsAndRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it")
	}
	t.Parallel()
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "soak", "-cycles", "2", "-devices", "3", "-batch", "20", "-dir", t.TempDir())
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("soak: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	m := regexp.MustCompile(`(?m)^2 cycles, (\d+) acknowledged, 0 lost$`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no summary line in:\n%s", stdout.String())
	}
	if n, _ := strconv.Atoi(m[1]); n < 40 {
		t.Errorf("%d changes acknowledged over two cycles, want at least a push per cycle", n)
	}
	if got := strings.Count(stderr.String(), "SIGKILL with"); got != 2 {
		t.Errorf("%d cycle lines on stderr, want 2:\n%s", got, stderr.String())
	}
}
