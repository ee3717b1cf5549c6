package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"dicoso/server/config"
	"dicoso/server/store"
)

// opsServer is the real API on a real store file, served over HTTP.
// extra registers test-only routes before serving (nil for none).
func opsServer(t *testing.T, extra func(s *Server)) (*Server, *httptest.Server) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.MaxBodyBytes = 2048
	st, err := store.Open(context.Background(), cfg.DBPath())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	s := New(Deps{Config: cfg, Store: st, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if extra != nil {
		extra(s)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

// probeRequest exercises bind: a required enum and a bounded string.
type probeRequest struct {
	Name string `json:"name" validate:"required,max=20"`
	Kind string `json:"kind" validate:"required,oneof=periodic thematic"`
}

// withProbes adds routes that go through the same middleware, binding and
// error handler as every real route: one that binds a body and one that
// panics.
func withProbes(s *Server) {
	s.echo.POST("/test/probe", func(c echo.Context) error {
		var req probeRequest
		if err := s.bind(c, &req); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, req)
	})
	s.echo.GET("/test/panic", func(c echo.Context) error {
		panic("secret internal detail")
	})
}

func doRequest(t *testing.T, method, url, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return res, b
}

// wireEnvelope mirrors the design §4 envelope; decoding refuses any other key.
type wireEnvelope struct {
	Error struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func decodeEnvelope(t *testing.T, res *http.Response, body []byte) wireEnvelope {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error answer has Content-Type %q, want application/json; body %s", ct, body)
	}
	var env wireEnvelope
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("error answer is not the envelope: %v; body %s", err, body)
	}
	if !codePattern.MatchString(env.Error.Code) || env.Error.Message == "" {
		t.Fatalf("envelope lacks a snake_case code or a message: %s", body)
	}
	return env
}

// assertSecurityHeaders checks what every answer, error or not, must carry.
func assertSecurityHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
	if res.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on the answer")
	}
}

func TestSecurityHeadersOnSuccess(t *testing.T) {
	t.Parallel()
	_, hs := opsServer(t, nil)
	for _, path := range []string{"/", "/healthz", "/readyz", "/api/openapi.json"} {
		res, body := doRequest(t, http.MethodGet, hs.URL+path, "", nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d: %s", path, res.StatusCode, body)
		}
		assertSecurityHeaders(t, res)
	}
}

func TestErrorsAreAnsweredInTheEnvelope(t *testing.T) {
	t.Parallel()
	_, hs := opsServer(t, withProbes)
	big := []byte(`{"name":"` + strings.Repeat("x", 4096) + `","kind":"periodic"}`)
	cases := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        []byte
		status      int
		code        string
		detail      string // substring expected in details, if any
	}{
		{"unknown API path", http.MethodGet, "/api/v1/no-such-thing", "", nil, 404, "not_found", ""},
		{"unknown API id path", http.MethodGet, "/api/v1/no/such/thing/at/all", "", nil, 404, "not_found", ""},
		{"method not allowed", http.MethodDelete, "/healthz", "", nil, 405, "method_not_allowed", ""},
		{"method not allowed on the document", http.MethodPost, "/api/openapi.json", "application/json", []byte(`{}`), 405, "method_not_allowed", ""},
		{"body too large", http.MethodPost, "/test/probe", "application/json", big, 413, "body_too_large", ""},
		{"unknown field", http.MethodPost, "/test/probe", "application/json", []byte(`{"name":"a","kind":"periodic","admin":true}`), 400, "unknown_field", `"admin"`},
		{"not JSON", http.MethodPost, "/test/probe", "application/json", []byte(`{"name":`), 400, "invalid_json", ""},
		{"wrong JSON type", http.MethodPost, "/test/probe", "application/json", []byte(`{"name":7,"kind":"periodic"}`), 400, "invalid_json", ""},
		{"two JSON values", http.MethodPost, "/test/probe", "application/json", []byte(`{"name":"a","kind":"periodic"} {}`), 400, "invalid_json", ""},
		{"empty body", http.MethodPost, "/test/probe", "application/json", nil, 400, "invalid_json", ""},
		{"not a JSON content type", http.MethodPost, "/test/probe", "text/plain", []byte(`{"name":"a","kind":"periodic"}`), 415, "unsupported_media_type", ""},
		{"validation", http.MethodPost, "/test/probe", "application/json", []byte(`{"name":"a","kind":"weekly"}`), 400, "validation_failed", `"field":"kind"`},
		{"missing required", http.MethodPost, "/test/probe", "application/json", []byte(`{"kind":"thematic"}`), 400, "validation_failed", `"field":"name"`},
		{"handler panic", http.MethodGet, "/test/panic", "", nil, 500, "internal", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, body := doRequest(t, tc.method, hs.URL+tc.path, tc.contentType, tc.body)
			if res.StatusCode != tc.status {
				t.Fatalf("%s %s = %d, want %d: %s", tc.method, tc.path, res.StatusCode, tc.status, body)
			}
			env := decodeEnvelope(t, res, body)
			if env.Error.Code != tc.code {
				t.Errorf("code = %q, want %q", env.Error.Code, tc.code)
			}
			if tc.detail != "" && !strings.Contains(string(env.Error.Details), tc.detail) {
				t.Errorf("details %s lack %s", env.Error.Details, tc.detail)
			}
			if strings.Contains(string(body), "secret internal detail") {
				t.Errorf("the internal cause leaked to the client: %s", body)
			}
			assertSecurityHeaders(t, res)
		})
	}

	// The probe itself works, so the failures above are the input's fault.
	res, body := doRequest(t, http.MethodPost, hs.URL+"/test/probe", "application/json", []byte(`{"name":"a","kind":"periodic"}`))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("valid probe = %d: %s", res.StatusCode, body)
	}
}

// scrape reads /metrics and parses the text exposition format.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	res, body := doRequest(t, http.MethodGet, base+"/metrics", "", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", res.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

// counterValue is the value of the family's series with exactly these
// labels, or -1 when there is none.
func counterValue(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	fam := fams[name]
	if fam == nil {
		return -1
	}
	for _, m := range fam.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, lp := range m.GetLabel() {
			if labels[lp.GetName()] != lp.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		}
		if m.GetHistogram() != nil {
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

func TestMetricsCountRequestsByRoutePattern(t *testing.T) {
	t.Parallel()
	s, hs := opsServer(t, nil)

	for range 3 {
		doRequest(t, http.MethodGet, hs.URL+"/healthz", "", nil)
	}
	doRequest(t, http.MethodGet, hs.URL+"/api/v0/secret-raw-url-part", "", nil)
	doRequest(t, http.MethodDelete, hs.URL+"/healthz", "", nil)
	doRequest(t, "BREW", hs.URL+"/healthz", "", nil)
	s.Metrics().SyncChange("rejected", "clock_skew")
	s.Metrics().SyncPush(12)

	res, body := doRequest(t, http.MethodGet, hs.URL+"/metrics", "", nil)
	if strings.Contains(string(body), "secret-raw-url-part") {
		t.Fatalf("a raw URL reached a metric label:\n%s", body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("/metrics Content-Type = %q, want the text format", ct)
	}
	fams := scrape(t, hs.URL)

	cases := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"dicoso_http_requests_total", map[string]string{"method": "GET", "route": "/healthz", "status": "200"}, 3},
		{"dicoso_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/healthz", "status": "200"}, 3},
		{"dicoso_http_requests_total", map[string]string{"method": "DELETE", "route": "/healthz", "status": "405"}, 1},
		{"dicoso_http_requests_total", map[string]string{"method": "OTHER", "route": "/healthz", "status": "405"}, 1},
		{"dicoso_sync_changes_total", map[string]string{"result": "rejected", "code": "clock_skew"}, 1},
		{"dicoso_sync_push_batch_size", map[string]string{}, 1},
	}
	for _, tc := range cases {
		if got := counterValue(fams, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	// The unknown path is counted under a pattern (or the fixed "unmatched"
	// label when no route matched), never under its own URL.
	var notFound []string
	for _, m := range fams["dicoso_http_requests_total"].GetMetric() {
		l := map[string]string{}
		for _, lp := range m.GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		if l["status"] == "404" {
			notFound = append(notFound, l["route"])
		}
	}
	if len(notFound) != 1 || (notFound[0] != routeUnmatched && !strings.ContainsAny(notFound[0], ":*")) {
		t.Errorf("404 series routes = %q, want one pattern or %q", notFound, routeUnmatched)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("/metrics lacks %s (Go and process collectors)", name)
		}
	}
}

func TestMetricsRegistryBelongsToItsServer(t *testing.T) {
	t.Parallel()
	_, a := opsServer(t, nil)
	_, b := opsServer(t, nil)
	for range 5 {
		doRequest(t, http.MethodGet, a.URL+"/healthz", "", nil)
	}
	got := counterValue(scrape(t, b.URL), "dicoso_http_requests_total",
		map[string]string{"method": "GET", "route": "/healthz", "status": "200"})
	if got != -1 {
		t.Fatalf("server b counts server a's requests (%v): the registry is shared", got)
	}
}
