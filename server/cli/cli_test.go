package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"dicoso/server/store"
)

// These tests run the real binary, built from the module root, as an
// operator would: start, health-check, back up, stop with SIGTERM, start
// again on the same data.

// processDeadline bounds how long a step may hang before the test gives up;
// it is a guard against a stuck process, not a performance assertion.
const processDeadline = 20 * time.Second

const testAdminPassword = "correct-horse-battery-staple-2021"

func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "dicoso")
	cmd := exec.Command(goBin, "build", "-o", bin, "dicoso")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer collects a process's output from its copying goroutine
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testEnv is the whole environment the binary sees: nothing of the
// developer's DICOSO_* settings leaks in.
func testEnv(dataDir string) []string {
	return []string{
		"DICOSO_DATA=" + dataDir,
		"DICOSO_ADMIN_PASSWORD=" + testAdminPassword,
		"DICOSO_LOG_LEVEL=warn",
	}
}

type serverProcess struct {
	cmd    *exec.Cmd
	url    string // http://127.0.0.1:PORT
	stdout *lockedBuffer
	stderr *lockedBuffer
	exited chan error // receives cmd.Wait's result once
}

var listeningLine = regexp.MustCompile(`dicoso is listening on (http://\S+)`)

// startServer runs `dicoso serve` on a free loopback port and waits for the
// line announcing its address.
func startServer(t *testing.T, bin, dataDir string, env ...string) *serverProcess {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0")
	cmd.Env = append(testEnv(dataDir), env...)
	p := &serverProcess{cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(p.stdout, line)
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case p.url = <-urls:
	case err := <-p.exited:
		t.Fatalf("serve exited before listening: %v\nstdout:\n%s\nstderr:\n%s", err, p.stdout, p.stderr)
	case <-time.After(processDeadline):
		t.Fatalf("serve did not announce its address\nstdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
	}
	return p
}

// stop sends SIGTERM and returns the process's exit error (nil: status 0).
func (p *serverProcess) stop(t *testing.T) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-p.exited:
		return err
	case <-time.After(processDeadline):
		_ = p.cmd.Process.Kill()
		t.Fatalf("serve did not exit after SIGTERM\nstderr:\n%s", p.stderr)
		return nil
	}
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), processDeadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// runCommand runs a one-shot subcommand and returns its stdout, stderr and
// exit error.
func runCommand(t *testing.T, bin, dataDir string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), processDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = testEnv(dataDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// tableCounts is the row count of every table of the store at path.
func tableCounts(t *testing.T, path string) (int, map[string]int) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatalf("open %s as a store: %v", path, err)
	}
	defer st.Close()
	version, err := st.SchemaVersion(ctx)
	if err != nil {
		t.Fatalf("schema version of %s: %v", path, err)
	}
	rows, err := st.Reader().QueryContext(ctx,
		`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	counts := map[string]int{}
	for _, n := range names {
		var c int
		// n comes from sqlite_master of our own file, not from input.
		if err := st.Reader().QueryRowContext(ctx, `SELECT count(*) FROM "`+n+`"`).Scan(&c); err != nil {
			t.Fatalf("count %s: %v", n, err)
		}
		counts[n] = c
	}
	return version, counts
}

func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	bin := buildBinary(t)

	t.Run("serve stops on SIGTERM with status 0 and restarts on the same data", func(t *testing.T) {
		t.Parallel()
		data := t.TempDir()
		srv := startServer(t, bin, data)
		for _, path := range []string{"/healthz", "/readyz"} {
			if got := getStatus(t, srv.url+path); got != http.StatusOK {
				t.Fatalf("GET %s = %d", path, got)
			}
		}
		if out, errOut, err := runCommand(t, bin, data, "healthcheck", "-url", srv.url+"/healthz"); err != nil {
			t.Fatalf("healthcheck of a running server: %v\n%s%s", err, out, errOut)
		}

		// An online backup while the server runs.
		backupPath := filepath.Join(t.TempDir(), "copy.db")
		out, errOut, err := runCommand(t, bin, data, "backup", backupPath)
		if err != nil {
			t.Fatalf("backup: %v\n%s%s", err, out, errOut)
		}
		if !strings.Contains(out, backupPath) {
			t.Errorf("backup output %q does not name %s", out, backupPath)
		}

		if err := srv.stop(t); err != nil {
			t.Fatalf("first serve exited with %v, want status 0\nstderr:\n%s", err, srv.stderr)
		}
		if _, _, err := runCommand(t, bin, data, "healthcheck", "-url", srv.url+"/healthz", "-timeout", "2s"); err == nil {
			t.Error("healthcheck of a stopped server succeeded")
		}

		// The backup is a store holding what the live store holds.
		liveVersion, liveCounts := tableCounts(t, filepath.Join(data, "dicoso.db"))
		copyVersion, copyCounts := tableCounts(t, backupPath)
		if copyVersion != liveVersion {
			t.Errorf("backup schema version %d, live %d", copyVersion, liveVersion)
		}
		for name, n := range liveCounts {
			if copyCounts[name] != n {
				t.Errorf("table %s: backup has %d rows, live store %d", name, copyCounts[name], n)
			}
		}

		again := startServer(t, bin, data)
		if got := getStatus(t, again.url+"/readyz"); got != http.StatusOK {
			t.Fatalf("GET /readyz after restart = %d\nstderr:\n%s", got, again.stderr)
		}
		if err := again.stop(t); err != nil {
			t.Fatalf("second serve exited with %v, want status 0\nstderr:\n%s", err, again.stderr)
		}
		// A second start duplicates nothing.
		_, restartCounts := tableCounts(t, filepath.Join(data, "dicoso.db"))
		for name, n := range liveCounts {
			if restartCounts[name] != n {
				t.Errorf("table %s: %d rows after the first start, %d after the second", name, n, restartCounts[name])
			}
		}
	})

	t.Run("migrate prints the schema version", func(t *testing.T) {
		t.Parallel()
		data := t.TempDir()
		want, _ := tableCounts(t, filepath.Join(t.TempDir(), "fresh.db"))
		for range 2 { // the second run finds nothing to do and says the same
			out, errOut, err := runCommand(t, bin, data, "migrate")
			if err != nil {
				t.Fatalf("migrate: %v\n%s%s", err, out, errOut)
			}
			m := regexp.MustCompile(`schema version (\d+)`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("migrate printed %q, want the schema version", out)
			}
			if got, _ := strconv.Atoi(m[1]); got != want {
				t.Errorf("migrate printed version %d, want %d", got, want)
			}
		}
	})

	t.Run("backup without a path is a usage error", func(t *testing.T) {
		t.Parallel()
		_, errOut, err := runCommand(t, bin, t.TempDir(), "backup")
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Fatalf("backup without PATH: err %v, want a non-zero exit", err)
		}
		if !strings.Contains(errOut, "usage") {
			t.Errorf("stderr %q does not show the usage", errOut)
		}
	})
}

func TestHealthcheckURL(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":               "http://127.0.0.1:8080/healthz",
		":8080":          "http://127.0.0.1:8080/healthz",
		":9000":          "http://127.0.0.1:9000/healthz",
		"0.0.0.0:8081":   "http://127.0.0.1:8081/healthz",
		"[::]:8082":      "http://127.0.0.1:8082/healthz",
		"10.1.2.3:8083":  "http://10.1.2.3:8083/healthz",
		"[::1]:8084":     "http://[::1]:8084/healthz",
		"localhost:8085": "http://localhost:8085/healthz",
	}
	for addr, want := range cases {
		if got := healthcheckURL(addr); got != want {
			t.Errorf("healthcheckURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestHealthcheckRefusesNon200 checks the command against a server that is
// up but unhealthy: only a 200 counts.
func TestHealthcheckRefusesNon200(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	ts := hs.URL
	getenv := func(string) string { return "" }
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"healthcheck", "-url", ts + "/healthz"}, getenv, &out, &errOut); err == nil {
		t.Error("healthcheck accepted a 503")
	}
	if err := Run(context.Background(), []string{"healthcheck", "-url", ts + "/ok"}, getenv, &out, &errOut); err != nil {
		t.Errorf("healthcheck refused a 200: %v", err)
	}
}
