package web

import (
	"net/http"
	"net/url"

	"github.com/schoollife/ledger/projections"
)

// Lists that grow with the ledger are read a page at a time: a page holds
// at most its limit, and a page that is not the last names the next one in
// a Link header (RFC 8288), the same request with `after` set to the next
// page's cursor.

// Page sizes of the lists that are not mailboxes or histories (decode.go).
const (
	// MaxListLimit is the default and largest page of directory lists
	// (establishments, groups, resources), calendars, agendas and the
	// absences awaiting a decision.
	MaxListLimit = 500
)

// Cursor reads the cursor of a page ("" when absent): one a previous page
// named.
func (q *Query) Cursor(name string) string {
	v := q.v.Get(name)
	if v != "" && !projections.ValidCursor(v) {
		q.Fail(name, "%q is not a cursor a previous page gave", v)
	}
	return v
}

// NextURL is the URL of the page after the one r asked for: r's own path
// and parameters with after set to next.
func NextURL(r *http.Request, next string) string {
	q := r.URL.Query()
	q.Set("after", next)
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}

// SetNext names the next page in the Link header, when there is one (next
// is not empty).
func SetNext(w http.ResponseWriter, r *http.Request, next string) {
	if next != "" {
		w.Header().Set("Link", "<"+NextURL(r, next)+`>; rel="next"`)
	}
}

// SetNextFrom names the next period of a dated object cut short (a file, a
// cahier de textes): the same request from the day next.
func SetNextFrom(w http.ResponseWriter, r *http.Request, next string) {
	if next == "" {
		return
	}
	q := r.URL.Query()
	q.Set("from", next)
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	w.Header().Set("Link", "<"+u.String()+`>; rel="next"`)
}
