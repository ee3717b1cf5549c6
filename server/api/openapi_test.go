package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"dicoso/sync/schema"
)

// openAPIDoc is the part of the document the tests read.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components map[string]map[string]json.RawMessage `json:"components"`
}

type openAPIOperation struct {
	OperationID string `json:"operationId"`
	Parameters  []struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	Responses map[string]json.RawMessage `json:"responses"`
}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func parseOpenAPI(t *testing.T, raw []byte) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// echoParam matches echo's ":name" path parameters.
var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// isDocumentedRoute says which registered routes the document must hold:
// every route under /api/ and the operations endpoints. Catch-all routes
// ("*": the PWA, JSON 404s under /api/) are not operations and are skipped,
// as are echo's internal RouteNotFound entries.
func isDocumentedRoute(r *echo.Route) bool {
	if r.Method == echo.RouteNotFound || strings.Contains(r.Path, "*") {
		return false
	}
	switch r.Path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return strings.HasPrefix(r.Path, "/api/")
}

// TestOpenAPIMatchesRoutes keeps the document in step with routes.go: every
// registered route is documented and every documented route is registered.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)

	registered := map[string]bool{}
	for _, r := range ts.srv.Handler().Routes() {
		if !isDocumentedRoute(r) {
			continue
		}
		path := echoParam.ReplaceAllString(r.Path, "{$1}")
		registered[r.Method+" "+path] = true
	}
	documented := map[string]bool{}
	for path, item := range parseOpenAPI(t, openAPIDocument).Paths {
		for method := range item {
			if slices.Contains(openAPIMethods, method) {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}

	var undocumented, unregistered []string
	for k := range registered {
		if !documented[k] {
			undocumented = append(undocumented, k)
		}
	}
	for k := range documented {
		if !registered[k] {
			unregistered = append(unregistered, k)
		}
	}
	if len(undocumented) == 0 && len(unregistered) == 0 {
		return
	}
	sort.Strings(undocumented)
	sort.Strings(unregistered)
	var b strings.Builder
	b.WriteString("server/api/openapi.json and the route table (routes.go) differ.\n")
	if len(undocumented) > 0 {
		b.WriteString("registered but not documented (describe them in openapi.json):\n")
		for _, k := range undocumented {
			fmt.Fprintf(&b, "  + %s\n", k)
		}
	}
	if len(unregistered) > 0 {
		b.WriteString("documented but not registered (register them in routes.go, or remove them from openapi.json):\n")
		for _, k := range unregistered {
			fmt.Fprintf(&b, "  - %s\n", k)
		}
	}
	t.Error(b.String())
}

// TestOpenAPIDocumentIsWellFormed checks what a client generator relies on:
// version 3, unique operation ids, every $ref resolving, every path
// parameter declared, and every failure answered with the Error envelope.
func TestOpenAPIDocumentIsWellFormed(t *testing.T) {
	t.Parallel()
	doc := parseOpenAPI(t, openAPIDocument)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	if _, ok := doc.Components["schemas"]["Error"]; !ok {
		t.Fatal("components.schemas.Error (the envelope) is missing")
	}
	if _, ok := doc.Components["securitySchemes"]["bearerAuth"]; !ok {
		t.Fatal("components.securitySchemes.bearerAuth is missing")
	}

	// Every $ref points at a component that exists.
	var tree any
	if err := json.Unmarshal(openAPIDocument, &tree); err != nil {
		t.Fatal(err)
	}
	walkRefs(tree, func(ref string) {
		parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
		if !strings.HasPrefix(ref, "#/components/") || len(parts) != 2 {
			t.Errorf("$ref %q is not a local component reference", ref)
			return
		}
		if _, ok := doc.Components[parts[0]][parts[1]]; !ok {
			t.Errorf("$ref %q does not resolve", ref)
		}
	})

	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	ids := map[string]string{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if !slices.Contains(openAPIMethods, method) {
				continue
			}
			where := strings.ToUpper(method) + " " + path
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %q is used by %s and %s", op.OperationID, prev, where)
			}
			ids[op.OperationID] = where
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				declared := slices.ContainsFunc(op.Parameters, func(p struct {
					Ref  string `json:"$ref"`
					Name string `json:"name"`
					In   string `json:"in"`
				}) bool {
					return p.In == "path" && p.Name == m[1]
				})
				if !declared {
					t.Errorf("%s does not declare its path parameter %q", where, m[1])
				}
			}
			var ok2xx bool
			for status, resp := range op.Responses {
				if strings.HasPrefix(status, "2") {
					ok2xx = true
				}
				if (strings.HasPrefix(status, "4") || strings.HasPrefix(status, "5")) &&
					!bytes.Contains(resp, []byte(`#/components/schemas/Error`)) &&
					!bytes.Contains(resp, []byte(`#/components/responses/`)) {
					t.Errorf("%s answers %s without the Error envelope", where, status)
				}
			}
			if !ok2xx {
				t.Errorf("%s documents no success answer", where)
			}
		}
	}
}

func walkRefs(v any, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if ref, ok := c.(string); ok && k == "$ref" {
				fn(ref)
				continue
			}
			walkRefs(c, fn)
		}
	case []any:
		for _, c := range x {
			walkRefs(c, fn)
		}
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.call(t, http.MethodGet, "/api/openapi.json", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/openapi.json = %d", r.status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if !bytes.Equal(r.body, openAPIDocument) {
		t.Error("the served document differs from the embedded openapi.json")
	}
	if doc := parseOpenAPI(t, r.body); len(doc.Paths) == 0 {
		t.Error("the served document has no paths")
	}
}

// componentFields is what a component schema says about an object: its
// property names and its required ones, each sorted.
type componentFields struct {
	properties []string
	required   []string
}

// schemaFields follows an operation's JSON schema ($ref) to its component.
func schemaFields(t *testing.T, doc openAPIDoc, raw json.RawMessage, where string) componentFields {
	t.Helper()
	var ref struct {
		Ref string `json:"$ref"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil || !strings.HasPrefix(ref.Ref, "#/components/schemas/") {
		t.Fatalf("%s: want a $ref to a component schema, got %s", where, raw)
	}
	var comp struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	name := strings.TrimPrefix(ref.Ref, "#/components/schemas/")
	if err := json.Unmarshal(doc.Components["schemas"][name], &comp); err != nil {
		t.Fatalf("%s: schema %s: %v", where, name, err)
	}
	out := componentFields{required: slices.Sorted(slices.Values(comp.Required))}
	for k := range comp.Properties {
		out.properties = append(out.properties, k)
	}
	sort.Strings(out.properties)
	return out
}

// TestOpenAPIReferenceSchemasMatchRegistry keeps the documented rows of the
// reference tables in step with sync/schema, which the handlers are driven
// by: the same fields, and the same fields required on create.
func TestOpenAPIReferenceSchemasMatchRegistry(t *testing.T) {
	t.Parallel()
	doc := parseOpenAPI(t, openAPIDocument)
	type op struct {
		RequestBody struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
		Responses map[string]struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	}
	decodeOp := func(path, method string) op {
		var o op
		raw, ok := doc.Paths[path][method]
		if !ok {
			t.Fatalf("%s %s is not documented", strings.ToUpper(method), path)
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return o
	}
	for _, tbl := range schema.Tables() {
		// users' public row adds "disabled", a private column, to the registry's fields.
		if !tbl.Reference || tbl.Name == "users" {
			continue
		}
		t.Run(tbl.Name, func(t *testing.T) {
			fields := []string{}
			for _, f := range tbl.Fields {
				fields = append(fields, f.Name)
			}
			withID := append([]string{"id"}, fields...)
			sort.Strings(fields)
			sort.Strings(withID)
			required := slices.Sorted(slices.Values(tbl.Required))

			base, item := "/api/v1/"+tbl.Name, "/api/v1/"+tbl.Name+"/{id}"
			row := schemaFields(t, doc, decodeOp(item, "get").Responses["200"].Content["application/json"].Schema, "GET "+item)
			if !slices.Equal(row.properties, withID) {
				t.Errorf("documented row fields %v, registry %v", row.properties, withID)
			}
			create := schemaFields(t, doc, decodeOp(base, "post").RequestBody.Content["application/json"].Schema, "POST "+base)
			if !slices.Equal(create.properties, withID) {
				t.Errorf("documented create fields %v, registry %v", create.properties, withID)
			}
			if !slices.Equal(create.required, required) {
				t.Errorf("documented required on create %v, registry %v", create.required, required)
			}
			patch := schemaFields(t, doc, decodeOp(item, "patch").RequestBody.Content["application/json"].Schema, "PATCH "+item)
			if !slices.Equal(patch.properties, fields) {
				t.Errorf("documented patch fields %v, registry %v", patch.properties, fields)
			}
		})
	}
}
