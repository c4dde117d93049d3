package api

// The OpenAPI 3.1 document is generated from the route table, the one that
// registers the routes, with JSON schemas derived by reflection from the
// Go types of bodies and responses (their json tags): what is served is
// what is described.

import (
	"encoding"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// OpenAPIPath is where the document is served.
const OpenAPIPath = "/api/openapi.json"

func (s *Server) openAPIRoutes() []route {
	return []route{{
		method: "GET", path: OpenAPIPath, tag: "meta", public: true, status: http.StatusOK,
		summary: "This document", profiles: "anyone",
		response: typeOf[map[string]any](),
		handle: func(w http.ResponseWriter, r *http.Request) error {
			doc, err := s.OpenAPI()
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "public, max-age=300")
			_, _ = w.Write(doc)
			return nil
		},
	}}
}

// OpenAPI returns the OpenAPI document of the server's routes. It is
// rendered once, on first use: a server that nobody asks for it (most
// test servers) does not pay for it.
func (s *Server) OpenAPI() ([]byte, error) {
	s.openapi.once.Do(func() {
		s.openapi.doc, s.openapi.err = s.renderOpenAPI()
		if s.openapi.err != nil {
			s.openapi.err = fmt.Errorf("openapi document: %w", s.openapi.err)
		}
	})
	return s.openapi.doc, s.openapi.err
}

// obj is a JSON object of the document.
type obj = map[string]any

// renderOpenAPI renders the document of the route table.
func (s *Server) renderOpenAPI() ([]byte, error) {
	sc := newSchemas()
	paths := obj{}
	for _, rt := range s.routes {
		item, _ := paths[rt.path].(obj)
		if item == nil {
			item = obj{}
			paths[rt.path] = item
		}
		method := strings.ToLower(rt.method)
		if _, dup := item[method]; dup {
			return nil, fmt.Errorf("%s %s described twice", rt.method, rt.path)
		}
		item[method] = operation(rt, sc)
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "School-life ledger API",
			"version": "1",
			"description": "Every act of school life is an immutable event; this API records them (commands) and reads the " +
				"read models derived from them (queries). Sign in with POST /api/v1/session (cookie) or POST /api/v1/tokens " +
				"(bearer token). Errors are application/problem+json (RFC 9457) whose type is " + web.ProblemBase + "SLUG. " +
				"Commands take an Idempotency-Key header: a retry with the same key records nothing twice and returns " +
				"the original response (with Idempotent-Replayed: true). See docs/api.md.",
		},
		"servers": []obj{{"url": "/"}},
		"paths":   paths,
		"components": obj{
			"schemas": sc.defs,
			"securitySchemes": obj{
				"bearer":  obj{"type": "http", "scheme": "bearer", "description": "a token from POST /api/v1/tokens"},
				"session": obj{"type": "apiKey", "in": "cookie", "name": web.SessionCookie, "description": "the cookie set by POST /api/v1/session"},
			},
			"responses": obj{
				"Problem": obj{
					"description": "a problem (RFC 9457): type " + web.ProblemBase + "SLUG, see docs/api.md",
					"content":     obj{web.ProblemMediaType: obj{"schema": sc.of(typeOf[web.Problem]())}},
				},
			},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// operation describes one route.
func operation(rt route, sc *schemas) obj {
	isCommand := rt.response == typeOf[CommandResponse]() || rt.response == typeOf[ServiceRegistration]()
	op := obj{
		"operationId": operationID(rt),
		"summary":     rt.summary,
		"description": "Who may call it: " + rt.profiles + ". " + deadlineDoc[rt.timeout],
		"tags":        []string{rt.tag},
		"x-profiles":  rt.profiles,
	}
	var params []obj
	for _, name := range pathParams(rt.path) {
		params = append(params, obj{"name": name, "in": "path", "required": true, "schema": pathParamSchema(name)})
	}
	for _, q := range rt.query {
		p := obj{"name": q.name, "in": "query", "schema": paramSchema(q.format), "description": q.doc}
		if q.required {
			p["required"] = true
		}
		params = append(params, p)
	}
	if isCommand {
		params = append(params,
			obj{"name": headerIdempotencyKey, "in": "header", "description": "makes a retry record nothing twice and return the original response",
				"schema": obj{"type": "string", "minLength": 1, "maxLength": web.MaxIdempotencyKey, "pattern": "^[!-~]+$"}},
			obj{"name": headerCorrelationID, "in": "header", "description": "links the events of one user action (when absent or not a uuid: the request id's, see X-Request-ID)",
				"schema": obj{"type": "string", "format": "uuid"}},
		)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.request != nil {
		op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": sc.of(rt.request)}}}
	}
	if rt.form != nil {
		props, required := obj{}, []string{}
		for _, f := range rt.form {
			schema := paramSchema(f.format)
			if f.name == "file" {
				schema = obj{"type": "array", "items": schema}
			}
			schema["description"] = f.doc
			props[f.name] = schema
			if f.required {
				required = append(required, f.name)
			}
		}
		op["requestBody"] = obj{"required": true, "content": obj{"multipart/form-data": obj{"schema": obj{
			"type": "object", "properties": props, "required": required,
		}}}}
	}

	ok := obj{"description": http.StatusText(rt.status)}
	if rt.response != nil {
		mt := rt.mediaType
		if mt == "" {
			mt = "application/json"
		}
		ok["content"] = obj{mt: obj{"schema": sc.of(rt.response)}}
	}
	if isCommand {
		ok["headers"] = obj{headerReplayed: obj{"description": "true when the Idempotency-Key matched an earlier request",
			"schema": obj{"type": "string", "enum": []string{"true"}}}}
	}
	if rt.paged {
		ok["headers"] = obj{"Link": obj{"description": `<URL>; rel="next": the next page, when this one is not the last (RFC 8288)`,
			"schema": obj{"type": "string"}}}
	}
	problem := obj{"$ref": "#/components/responses/Problem"}
	responses := obj{strconv.Itoa(rt.status): ok, "default": problem}
	for _, code := range rt.others {
		other := obj{"description": http.StatusText(code)}
		if content, has := ok["content"]; has {
			other["content"] = content
		}
		responses[strconv.Itoa(code)] = other
	}
	errs := []int{http.StatusBadRequest}
	if !rt.public {
		errs = append(errs, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound)
	}
	if rt.request != nil || rt.form != nil {
		errs = append(errs, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	}
	if isCommand {
		errs = append(errs, http.StatusConflict, http.StatusUnprocessableEntity)
	}
	if rt.public && rt.request != nil {
		errs = append(errs, http.StatusUnauthorized, http.StatusTooManyRequests)
	}
	if rt.timeout != web.TimeoutNone {
		errs = append(errs, http.StatusServiceUnavailable) // request-timeout
	}
	for _, code := range errs {
		if _, taken := responses[strconv.Itoa(code)]; !taken {
			responses[strconv.Itoa(code)] = problem
		}
	}
	op["responses"] = responses
	if rt.public {
		op["security"] = []obj{}
	} else {
		op["security"] = []obj{{"bearer": []string{}}, {"session": []string{}}}
	}
	return op
}

// deadlineDoc says which deadline a route runs under (docs/api.md, Limits).
var deadlineDoc = map[web.Timeout]string{
	web.TimeoutDefault: "Runs under the request deadline (503 request-timeout past it).",
	web.TimeoutLong:    "Runs under the long deadline of uploads and exports.",
	web.TimeoutNone:    "Has no request deadline: the socket keeps its own.",
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// operationID derives a unique id from the method and path.
func operationID(rt route) string {
	path := strings.Trim(nonWord.ReplaceAllString(strings.TrimPrefix(rt.path, "/api/"), "_"), "_")
	return strings.ToLower(rt.method) + "_" + path
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// pathParams lists the wildcards of a path pattern, in order.
func pathParams(path string) []string {
	var out []string
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	return out
}

// pathParamSchema: every path wildcard is a uuid but a UAI and a role.
func pathParamSchema(name string) obj {
	switch name {
	case "uai":
		return paramSchema("uai")
	case "role":
		return obj{"type": "string", "enum": enums[typeOf[domain.Role]()]}
	}
	return paramSchema("uuid")
}

// paramSchema is the schema of a parameter format (see param.format).
func paramSchema(format string) obj {
	switch format {
	case "date":
		return obj{"type": "string", "format": "date"}
	case "instant":
		return obj{"type": "string", "description": "an RFC 3339 time or a date (2006-01-02, its midnight in Europe/Paris)"}
	case "uuid":
		return obj{"type": "string", "format": "uuid"}
	case "uai":
		return obj{"type": "string", "pattern": "^[0-9]{7}[A-Z]$"}
	case "position":
		return positionSchema()
	case "integer":
		return obj{"type": "integer", "minimum": 1}
	case "boolean":
		return obj{"type": "boolean"}
	case "binary":
		return obj{"type": "string", "contentMediaType": "application/octet-stream"}
	case "cursor":
		return obj{"type": "string", "pattern": "^[A-Za-z0-9_-]*$", "description": "an opaque cursor, from the Link header of the previous page"}
	case "string", "list":
		return obj{"type": "string"}
	}
	if strings.Contains(format, ",") {
		return obj{"type": "string", "enum": strings.Split(format, ",")}
	}
	panic("openapi: unknown parameter format " + format)
}

func positionSchema() obj {
	return obj{"type": "string", "pattern": `^[0-9]+(\.[0-9]+)?$`, "description": "a global log position, SEQ or TX.SEQ"}
}

// enums lists the values of the domain's string types that have a closed
// set of constants.
var enums = map[reflect.Type][]string{
	typeOf[domain.Profile](): vals(domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel,
		domain.ProfileGuest, domain.ProfileInspector, domain.ProfileEvaluator, domain.ProfileAdmin, domain.ProfileSystem),
	typeOf[domain.Function](): vals(domain.FunctionNone, domain.FunctionHead, domain.FunctionDeputy, domain.FunctionCPE,
		domain.FunctionSecretary, domain.FunctionEducationAssistant, domain.FunctionOther),
	typeOf[domain.Role]():              vals(domain.RoleStudent, domain.RoleTeacher, domain.RoleHeadTeacher),
	typeOf[domain.GroupKind]():         vals(domain.GroupClass, domain.GroupTeaching),
	typeOf[domain.EstablishmentKind](): vals(domain.EstablishmentKinds()...),
	typeOf[domain.AbsenceState](): vals(domain.AbsenceUnjustified, domain.AbsenceDeclared, domain.AbsenceJustified,
		domain.AbsenceRefused, domain.AbsenceCancelledState),
	typeOf[domain.PunishmentKind]():    vals(domain.PunishmentExtraWork, domain.PunishmentDetention, domain.PunishmentLessonExclusion),
	typeOf[domain.SanctionKind]():      vals(domain.SanctionKinds()...),
	typeOf[domain.SanctionAuthority](): vals(domain.AuthorityHead, domain.AuthorityCouncil),
	typeOf[domain.EffacementBasis]():   vals(domain.EffacementChangeOfEstablishment, domain.EffacementEndOfSchooling, domain.EffacementDue),
	typeOf[domain.Seriousness]():       vals(domain.SeriousnessMinor, domain.SeriousnessSerious, domain.SeriousnessGrave),
	typeOf[domain.ProtagonistRole]():   vals(domain.ProtagonistAuthor, domain.ProtagonistVictim, domain.ProtagonistWitness),
	typeOf[domain.ResourceKind]():      vals(domain.ResourceRoom, domain.ResourceEquipment),
	typeOf[domain.BookingState](): vals(domain.BookingStatePending, domain.BookingStateApproved, domain.BookingStateRefused,
		domain.BookingStateCancelled),
	typeOf[domain.SignInMethod](): vals(domain.SignInPassword, domain.SignInSSO, domain.SignInToken),
	typeOf[projections.Granularity](): vals(projections.GranularityDay, projections.GranularityWeek, projections.GranularityMonth,
		projections.GranularitySchoolYear, projections.GranularityTotal),
	typeOf[projections.Level](): vals(projections.LevelAll, projections.LevelDepartement, projections.LevelEstablishment),
	typeOf[directoryimport.JobState](): vals(directoryimport.JobQueued, directoryimport.JobRunning, directoryimport.JobDone,
		directoryimport.JobRefused, directoryimport.JobFailed),
	typeOf[directoryimport.Phase](): vals(directoryimport.PhaseParse, directoryimport.PhaseLoad, directoryimport.PhaseApply),
}

// vals returns constants as strings.
func vals[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// schemas derives JSON schemas from Go types; structs become components.
type schemas struct {
	defs  obj
	names map[reflect.Type]string
	taken map[string]reflect.Type
}

func newSchemas() *schemas {
	return &schemas{defs: obj{}, names: map[reflect.Type]string{}, taken: map[string]reflect.Type{}}
}

var (
	textMarshaler = typeOf[encoding.TextMarshaler]()
	jsonMarshaler = typeOf[json.Marshaler]()
)

// of returns the schema of t as encoding/json writes it.
func (sc *schemas) of(t reflect.Type) obj {
	switch t {
	case typeOf[uuid.UUID]():
		return obj{"type": "string", "format": "uuid"}
	case typeOf[domain.Date]():
		return obj{"type": "string", "format": "date"}
	case typeOf[time.Time]():
		return obj{"type": "string", "format": "date-time"}
	case typeOf[domain.Position]():
		return positionSchema()
	case typeOf[json.RawMessage]():
		return obj{"description": "any JSON value (an event's payload as stored)"}
	case typeOf[time.Weekday]():
		return obj{"type": "integer", "minimum": 0, "maximum": 6, "description": "0 Sunday .. 6 Saturday"}
	}
	if vals := enums[t]; vals != nil {
		return obj{"type": "string", "enum": vals}
	}
	if t.Kind() == reflect.Pointer {
		return sc.of(t.Elem())
	}
	if t == typeOf[projections.IndicatorRow]() {
		return sc.indicatorRow(t)
	}
	if t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) {
		return obj{}
	}
	if t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
		return obj{"type": "string"}
	}
	switch t.Kind() {
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return obj{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return obj{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return obj{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return obj{"type": "string", "contentEncoding": "base64"}
		}
		return obj{"type": "array", "items": sc.of(t.Elem())}
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": sc.of(t.Elem())}
	case reflect.Interface:
		return obj{}
	case reflect.Struct:
		return obj{"$ref": "#/components/schemas/" + sc.component(t)}
	}
	panic(fmt.Sprintf("openapi: no schema for %s", t))
}

// indicatorRow is the schema of an indicator row: its fields, each
// counter small counts may hide being null when hidden (its MarshalJSON).
func (sc *schemas) indicatorRow(t reflect.Type) obj {
	ref := obj{"$ref": "#/components/schemas/" + sc.component(t)}
	props := sc.defs[sc.names[t]].(obj)["properties"].(obj)
	for _, name := range projections.SmallCountNames() {
		props[name] = obj{"type": []string{"integer", "null"}, "description": "null when hidden as a small count (named in suppressed)"}
	}
	return ref
}

// component defines the schema of struct t once, under its type name (with
// its package's when two packages use the name), and returns the name.
func (sc *schemas) component(t reflect.Type) string {
	if name, ok := sc.names[t]; ok {
		return name
	}
	name := t.Name()
	if name == "" {
		name = "Anonymous"
	}
	if other, clash := sc.taken[name]; clash && other != t {
		pkg := t.PkgPath()
		name = pkg[strings.LastIndex(pkg, "/")+1:] + "." + name
	}
	sc.names[t], sc.taken[name] = name, t
	props := obj{}
	sc.defs[name] = obj{"type": "object", "properties": props}
	sc.fields(t, props)
	return name
}

// fields adds the JSON fields of struct t to props, promoting those of
// embedded structs as encoding/json does.
func (sc *schemas) fields(t reflect.Type, props obj) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				sc.fields(ft, props)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = sc.of(f.Type)
	}
}
