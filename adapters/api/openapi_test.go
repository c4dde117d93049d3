package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
)

// openAPIDoc is the part of the document the tests read.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]map[string]any `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

func mustOpenAPI(t *testing.T, s *Server) (openAPIDoc, []byte) {
	t.Helper()
	r := do(t, s, request{method: "GET", path: OpenAPIPath})
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", r.status, r.header.Get("Content-Type"))
	}
	return mustDecode[openAPIDoc](t, r), r.body
}

// TestOpenAPIDescribesEveryRoute walks the mux's registered patterns and
// the document's operations: each is in the other, and the mux routes
// each documented operation to its pattern.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	w := newWorld(t)
	doc, _ := mustOpenAPI(t, w.srv)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			pattern := strings.ToUpper(method) + " " + path
			documented[pattern] = true
			// A request to the documented operation, wildcards filled,
			// is routed to that very pattern.
			concrete := pathParam.ReplaceAllStringFunc(path, func(m string) string {
				switch m {
				case "{uai}":
					return "0130001A"
				case "{role}":
					return "student"
				}
				return "8a5c3e1e-2f55-4d0b-9d8e-0b7e6c2b8f10"
			})
			_, got := w.srv.mux.Handler(httptest.NewRequest(strings.ToUpper(method), concrete, nil))
			if got != pattern {
				t.Errorf("%s %s is routed to %q, documented as %q", strings.ToUpper(method), concrete, got, pattern)
			}
		}
	}
	registered := map[string]bool{}
	for _, p := range w.srv.patterns {
		registered[p] = true
		if !documented[p] {
			t.Errorf("route %s is not in the document", p)
		}
	}
	for p := range documented {
		if !registered[p] {
			t.Errorf("operation %s is documented but not registered", p)
		}
	}
	if len(registered) != len(w.srv.patterns) {
		t.Errorf("%d patterns registered, %d distinct", len(w.srv.patterns), len(registered))
	}
}

// TestOpenAPISchemas checks a few derived schemas and that every $ref
// resolves.
func TestOpenAPISchemas(t *testing.T) {
	w := newWorld(t)
	doc, raw := mustOpenAPI(t, w.srv)
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var all any
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	walk(all)
	for _, ref := range refs {
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok {
			if ref != "#/components/responses/Problem" {
				t.Errorf("ref %s", ref)
			}
			continue
		}
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("ref %s does not resolve", ref)
		}
	}

	schema := func(name, prop string) map[string]any {
		t.Helper()
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Fatalf("no schema %s", name)
		}
		p, ok := s.Properties[prop]
		if !ok {
			t.Fatalf("schema %s has no property %s: %v", name, prop, s.Properties)
		}
		return p
	}
	for _, c := range []struct {
		schema, prop, key, want string
	}{
		{"RecordRollCall", "group", "format", "uuid"},
		{"RecordRollCall", "date", "format", "date"},
		{"RecordRollCall", "absent", "type", "array"},
		{"RequestBooking", "start", "format", "date-time"},
		{"CommandResponse", "position", "type", "string"},
		{"PronounceSanction", "kind", "type", "string"},
		{"IndicatorRow", "messages", "type", "integer"}, // promoted from the embedded IndicatorCounts
		{"IndicatorRow", "absences", "description", "null when hidden as a small count (named in suppressed)"},
		{"IndicatorRow", "connection_shares", "$ref", "#/components/schemas/ConnectionShares"},
		{"ChildView", "legal_guardian", "type", "boolean"},
		{"ChildView", "file", "$ref", "#/components/schemas/StudentFile"}, // promoted from StudentView
		{"AuditEntry", "data", "description", "any JSON value (an event's payload as stored)"},
		{"ScheduleLesson", "weekday", "type", "integer"},
	} {
		if got := schema(c.schema, c.prop)[c.key]; got != c.want {
			t.Errorf("%s.%s %s = %v, want %s", c.schema, c.prop, c.key, got, c.want)
		}
	}
	if typ := fmt.Sprint(schema("IndicatorRow", "sanctions")["type"]); typ != "[integer null]" {
		t.Errorf("IndicatorRow.sanctions type = %s, want [integer null]", typ)
	}
	if enum, _ := schema("PronounceSanction", "kind")["enum"].([]any); len(enum) != 6 || !slices.Contains(enum, any("exclusion_temporaire_classe")) {
		t.Errorf("sanction kinds %v", enum)
	}
	if _, ok := doc.Components.Schemas["CommandResponse"].Properties["replayed"]; ok {
		t.Error("CommandResponse tells replays")
	}
	for _, hidden := range []string{"CloseAccountRequest", "HabilitationsRequest"} {
		if _, ok := doc.Components.Schemas[hidden].Properties["Account"]; ok {
			t.Errorf("%s shows its path field", hidden)
		}
	}
	// Commands document the Idempotency-Key header.
	var op struct {
		Parameters []struct{ Name, In string } `json:"parameters"`
		Security   []map[string]any            `json:"security"`
	}
	if err := json.Unmarshal(doc.Paths["/api/v1/rollcalls"]["post"], &op); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(op.Parameters, func(p struct{ Name, In string }) bool { return p.Name == headerIdempotencyKey && p.In == "header" }) {
		t.Errorf("roll call parameters %+v", op.Parameters)
	}
	if len(op.Security) != 2 {
		t.Errorf("roll call security %v", op.Security)
	}

	// Lists document their page parameters and the Link of the next page;
	// every route but the live socket its deadline's 503.
	var list struct {
		Parameters []struct{ Name, In string } `json:"parameters"`
		Responses  map[string]struct {
			Headers map[string]any `json:"headers"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(doc.Paths["/api/v1/establishments/{uai}/groups"]["get"], &list); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"limit", "after"} {
		if !slices.ContainsFunc(list.Parameters, func(p struct{ Name, In string }) bool { return p.Name == name && p.In == "query" }) {
			t.Errorf("groups parameters %+v lack %s", list.Parameters, name)
		}
	}
	if _, ok := list.Responses["200"].Headers["Link"]; !ok {
		t.Errorf("groups 200 has no Link header: %+v", list.Responses["200"])
	}
	if _, ok := list.Responses["503"]; !ok {
		t.Errorf("groups responses %v lack the deadline's 503", slices.Collect(maps.Keys(list.Responses)))
	}
}

// TestDocsPointToOpenAPI: docs/api.md points to the document and the headers.
func TestDocsPointToOpenAPI(t *testing.T) {
	doc := webtest.MustReadFile(t, "../../docs/api.md")
	for _, want := range []string{OpenAPIPath, headerIdempotencyKey, headerReplayed, web.ProblemBase, "application/problem+json"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/api.md does not mention %s", want)
		}
	}
}

// TestDocsListEveryRoute: docs/api.md's route table has every route.
func TestDocsListEveryRoute(t *testing.T) {
	w := newWorld(t)
	doc := webtest.MustReadFile(t, "../../docs/api.md")
	for _, p := range w.srv.patterns {
		if !strings.Contains(doc, "`"+p+"`") {
			t.Errorf("docs/api.md does not list %s", p)
		}
	}
}
