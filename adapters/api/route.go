package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/projections"
)

// route is one entry of the route table: what the mux registers and what
// the OpenAPI document describes.
type route struct {
	method, path string
	summary      string
	tag          string
	// profiles says who may call the route, for the document; the command
	// layer (writes) and policy.go (reads) decide.
	profiles string
	// public routes need no sign-in.
	public bool
	// request is the type of the JSON body (nil: none); response the type
	// of the response body (nil: none).
	request, response reflect.Type
	// form lists the fields of a multipart/form-data body (an upload), for
	// the document.
	form []param
	// status is the success status; others are other statuses answered
	// with the response body.
	status int
	others []int
	// mediaType of the response, application/json by default.
	mediaType string
	// timeout is the route's deadline class: ordinary requests by default.
	timeout web.Timeout
	// paged routes answer one page of a list, naming the next in a Link
	// header.
	paged  bool
	query  []param
	handle func(w http.ResponseWriter, r *http.Request) error
}

// param is a query parameter, for the document.
type param struct {
	name string
	// format is one of the formats of paramSchema: date, instant, uuid,
	// uai, position, integer, string, or a comma-separated list.
	format   string
	doc      string
	required bool
}

// afterParam is the cursor of the next page, which a Link header gives.
var afterParam = param{name: "after", format: "cursor", doc: "the page after the one whose Link header named this cursor"}

// listParams are the page parameters of a list route: limit (default and
// largest most) and after.
func listParams(most int) []param {
	return []param{
		{name: "limit", format: "integer", doc: "at most this many (default and most " + strconv.Itoa(most) + ")"},
		afterParam,
	}
}

// listPage reads the page of a directory list, calendar or agenda:
// web.MaxListLimit items by default and at most.
func listPage(q *web.Query) projections.Page {
	return projections.Page{Limit: q.LimitIn(web.MaxListLimit, web.MaxListLimit), After: q.Cursor("after")}
}

// replyPage writes a page of a list as a JSON array, the next page named
// in a Link header.
func replyPage[T any](w http.ResponseWriter, r *http.Request, l projections.List[T]) error {
	web.SetNext(w, r, l.Next)
	return reply(w, http.StatusOK, l.Items)
}

// typeOf returns the reflect type of T, for route tables.
func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// reply writes v as JSON with status. It encodes first, so that an
// encoding error becomes a 500 problem rather than half a body.
func reply(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}
