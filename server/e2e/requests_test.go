package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"sync"
	"time"
)

// requests keeps, for every test server, the API requests in flight and
// the last ones answered, so that a browser stuck waiting (a sync that
// never goes idle) can say whether the server is still working on its
// request, answered it with an error, or was never asked.
var requests = &requestLog{inflight: map[*http.Request]flight{}, done: map[string][]flight{}}

type flight struct {
	method, path string
	start        time.Time
	took         time.Duration
	status       int
}

type requestLog struct {
	mu       sync.Mutex
	inflight map[*http.Request]flight
	done     map[string][]flight // by server host, the last doneKept
}

const doneKept = 30

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (l *requestLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := flight{method: r.Method, path: r.URL.Path, start: time.Now()}
		l.mu.Lock()
		l.inflight[r] = f
		l.mu.Unlock()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			f.took, f.status = time.Since(f.start), sw.status
			l.mu.Lock()
			delete(l.inflight, r)
			d := append(l.done[r.Host], f)
			if len(d) > doneKept {
				d = d[len(d)-doneKept:]
			}
			l.done[r.Host] = d
			l.mu.Unlock()
		}()
		next.ServeHTTP(sw, r)
	})
}

// report describes the server at host: its requests in flight, oldest
// first, and the last ones it answered. When one has been in flight for
// more than stuck, every goroutine's stack goes to a file beside the
// screenshots, whose name it returns.
func (l *requestLog) report(host, name string, stuck time.Duration) []string {
	l.mu.Lock()
	var out, open []string
	var oldest time.Duration
	var live []flight
	for r, f := range l.inflight {
		if r.Host == host {
			live = append(live, f)
		}
	}
	sort.Slice(live, func(i, j int) bool { return live[i].start.Before(live[j].start) })
	for _, f := range live {
		age := time.Since(f.start)
		oldest = max(oldest, age)
		open = append(open, fmt.Sprintf("in flight %s %s for %s", f.method, f.path, age.Round(time.Millisecond)))
	}
	for _, f := range l.done[host] {
		out = append(out, fmt.Sprintf("answered %s %s %d in %s, %s ago", f.method, f.path, f.status,
			f.took.Round(time.Millisecond), time.Since(f.start.Add(f.took)).Round(time.Millisecond)))
	}
	l.mu.Unlock()
	out = append(out, open...)
	if oldest > stuck {
		dir := filepath.Join("..", "..", "artifacts")
		if err := os.MkdirAll(dir, 0o755); err == nil {
			file := filepath.Join(dir, "goroutines-"+name+".txt")
			if fh, err := os.Create(file); err == nil {
				_ = pprof.Lookup("goroutine").WriteTo(fh, 2)
				_ = fh.Close()
				out = append(out, "every goroutine's stack: "+file)
			}
		}
	}
	return out
}
