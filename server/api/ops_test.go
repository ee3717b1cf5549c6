package api

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

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

// assertSecurityHeaders checks what every answer, error or not, must carry.
func assertSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if got := h.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
	if h.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on the answer")
	}
}

func TestSecurityHeadersOnSuccess(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for _, path := range []string{"/", "/healthz", "/readyz", "/api/openapi.json"} {
		r := ts.call(t, http.MethodGet, path, "", nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s = %d: %s", path, r.status, r.body)
		}
		assertSecurityHeaders(t, r.header)
	}
}

func TestErrorsAreAnsweredInTheEnvelope(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withMaxBodyBytes(2048), withRoutes(withProbes))
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
		{"a content type that only starts like JSON's", http.MethodPost, "/test/probe", "application/jsonfoo", []byte(`{"name":"a","kind":"periodic"}`), 415, "unsupported_media_type", ""},
		{"a query that is not UTF-8", http.MethodGet, "/api/v1/no-such-thing?q=%FF%FE", "", nil, 400, "validation_failed", `"field":"q"`},
		{"a NUL in a query", http.MethodGet, "/healthz?q=a%00b", "", nil, 400, "validation_failed", `"field":"q"`},
		{"null", http.MethodPost, "/test/probe", "application/json", []byte(` null`), 400, "invalid_json", ""},
		{"a NUL", http.MethodPost, "/test/probe", "application/json", []byte(`{"name":"a\u0000","kind":"periodic"}`), 400, "validation_failed", ""},
		{"validation", http.MethodPost, "/test/probe", "application/json", []byte(`{"name":"a","kind":"weekly"}`), 400, "validation_failed", `"field":"kind"`},
		{"missing required", http.MethodPost, "/test/probe", "application/json", []byte(`{"kind":"thematic"}`), 400, "validation_failed", `"field":"name"`},
		{"handler panic", http.MethodGet, "/test/panic", "", nil, 500, "internal", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var headers []string
			if tc.contentType != "" {
				headers = []string{"Content-Type", tc.contentType}
			}
			r := ts.call(t, tc.method, tc.path, "", tc.body, headers...)
			if r.status != tc.status {
				t.Fatalf("%s %s = %d, want %d: %s", tc.method, tc.path, r.status, tc.status, r.body)
			}
			env := r.envelope(t)
			if env.Error.Code != tc.code {
				t.Errorf("code = %q, want %q", env.Error.Code, tc.code)
			}
			if tc.detail != "" && !strings.Contains(string(env.Error.Details), tc.detail) {
				t.Errorf("details %s lack %s", env.Error.Details, tc.detail)
			}
			if strings.Contains(string(r.body), "secret internal detail") {
				t.Errorf("the internal cause leaked to the client: %s", r.body)
			}
			assertSecurityHeaders(t, r.header)
		})
	}

	// The probe itself works, so the failures above are the input's fault.
	if r := ts.call(t, http.MethodPost, "/test/probe", "", `{"name":"a","kind":"periodic"}`); r.status != http.StatusOK {
		t.Fatalf("valid probe = %d: %s", r.status, r.body)
	}
	if r := ts.call(t, http.MethodPost, "/test/probe", "", `{"name":"a","kind":"periodic"}`, "Content-Type", "application/json; charset=utf-8"); r.status != http.StatusOK {
		t.Fatalf("valid probe with a charset = %d: %s", r.status, r.body)
	}
}

// scrape reads /metrics and parses the text exposition format.
func scrape(t *testing.T, ts *testServer) map[string]*dto.MetricFamily {
	t.Helper()
	r := ts.call(t, http.MethodGet, "/metrics", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", r.status, r.body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, r.body)
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
	ts := newTestServer(t)

	for range 3 {
		ts.call(t, http.MethodGet, "/healthz", "", nil)
	}
	ts.call(t, http.MethodGet, "/api/v0/secret-raw-url-part", "", nil)
	ts.call(t, http.MethodDelete, "/healthz", "", nil)
	ts.call(t, "BREW", "/healthz", "", nil)
	ts.srv.Metrics().SyncChange("rejected", "clock_skew")
	ts.srv.Metrics().SyncPush(12)

	r := ts.call(t, http.MethodGet, "/metrics", "", nil)
	if strings.Contains(string(r.body), "secret-raw-url-part") {
		t.Fatalf("a raw URL reached a metric label:\n%s", r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("/metrics Content-Type = %q, want the text format", ct)
	}
	fams := scrape(t, ts)

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
	a := newTestServer(t)
	b := newTestServer(t)
	for range 5 {
		a.call(t, http.MethodGet, "/healthz", "", nil)
	}
	got := counterValue(scrape(t, b), "dicoso_http_requests_total",
		map[string]string{"method": "GET", "route": "/healthz", "status": "200"})
	if got != -1 {
		t.Fatalf("server b counts server a's requests (%v): the registry is shared", got)
	}
}
