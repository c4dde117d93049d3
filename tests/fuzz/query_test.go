package fuzz

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/web/webtest"
)

// hostileParams are query parameter values a careless or malicious client
// sends.
var hostileParams = []string{
	"", "\x00", "%00", "%ff", "\uffff", "0001-01-01", "9999-12-31", "2026-02-30", "0000-01-01", "2006-3-14",
	"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "2006-03-14T10:00:00+23:59", "18446744073709551615",
	"18446744073709551615.18446744073709551615", "9223372036854775808", "-1", "0", "1e3", "x", "day,week",
}

// FuzzAPIQuery sends a raw query string to a read route of the API picked
// by index from its route table (through the OpenAPI document), as a
// profile picked by index, with path parameters picked among the school's
// entities, on SQLite and on Postgres: the answer is a success or a 4xx
// problem, never a 500, and both stores answer alike.
func FuzzAPIQuery(f *testing.F) {
	worlds := MustWorlds(f)
	routes := worlds[0].MustRoutes(f, false)
	index := map[string]uint8{}
	for i, rt := range routes {
		index[rt.path] = uint8(i)
	}
	profiles := webtest.Profiles
	profileIndex := func(p string) uint8 { return uint8(slices.Index(profiles, p)) }
	seeds := []struct{ path, profile, query string }{
		{"/api/v1/indicators", webtest.AsEvaluator, "from=2005-09-01&to=2006-07-01&granularity=month"},
		{"/api/v1/indicators", webtest.AsEvaluator, "from=2006-03-01&to=2006-03-31&granularity=day&establishment=0130001A&by=establishment"},
		{"/api/v1/indicators", webtest.AsAdmin, "from=2006-03-13&to=2006-03-19&granularity=week&departement=13"},
		{"/api/v1/indicators", webtest.AsEvaluator, "from=0001-01-01&to=9999-12-31&granularity=day"},
		{"/api/v1/indicators", webtest.AsEvaluator, "from=2006-03-31&to=2006-03-01&granularity=schoolyear"},
		{"/api/v1/indicators", webtest.AsEvaluator, "from=2006-03-01&to=2006-03-31&granularity=total&by=departement&by=all"},
		{"/api/v1/mailbox", webtest.AsTeacher, "limit=10"},
		{"/api/v1/mailbox/sent", webtest.AsTeacher, "limit=500"},
		{"/api/v1/notifications", webtest.AsRelative, "limit=1&limit=2"},
		{"/api/v1/history/{subject}", webtest.AsInspector, "types=absence.recorded.v1,message.sent.v1&from=2006-03-01&to=2006-03-31T23:00:00%2B01:00&after=3&limit=100"},
		{"/api/v1/history/{subject}", webtest.AsInspector, "after=18446744073709551615.18446744073709551615"},
		{"/api/v1/history/{subject}", webtest.AsInspector, "actor=" + worlds[0].school.Accounts[webtest.AsTeacher].String()},
		{"/api/v1/students/{student}/homework", webtest.AsStudent, "from=2006-03-13&to=2006-03-19"},
		{"/api/v1/students/{student}/homework", webtest.AsRelative, "from=2006-03-01&to=9999-12-31"},
		{"/api/v1/students/{student}/file", webtest.AsCPE, "from=2006-03-01&to=2006-03-31"},
		{"/api/v1/students/{student}/file/as-of", webtest.AsInspector, "at=2006-03-14"},
		{"/api/v1/students/{student}/file/as-of", webtest.AsInspector, "at=0001-01-01T00:00:00Z"},
		{"/api/v1/establishments/{uai}/export", webtest.AsInspector, "from=2006-03-01&to=2006-03-31"},
		{"/api/v1/resources/{resource}/bookings", webtest.AsTeacher, "from=2006-03-20&to=2006-03-26"},
		{"/api/v1/groups/{group}/textbook", webtest.AsTeacher, "from=2006-03-13&to=2006-03-19"},
		{"/api/v1/office", webtest.AsCPE, "uai=0130001A"},
		{"/api/v1/establishments/{uai}/news", webtest.AsTeacher, "limit=5"},
	}
	for _, sd := range seeds {
		i, ok := index[sd.path]
		if !ok {
			f.Fatalf("seed for %s: no such read route", sd.path)
		}
		f.Add(i, profileIndex(sd.profile), uint8(0), sd.query)
	}
	hostile := map[string]string{
		"/api/v1/indicators": webtest.AsEvaluator, "/api/v1/history/{subject}": webtest.AsInspector,
		"/api/v1/students/{student}/homework": webtest.AsRelative, "/api/v1/establishments/{uai}/export": webtest.AsInspector,
		"/api/v1/mailbox": webtest.AsTeacher,
	}
	for _, rt := range routes {
		profile, ok := hostile[rt.path]
		if !ok {
			continue
		}
		for _, v := range hostileParams {
			var q []string
			for _, name := range rt.query {
				q = append(q, name+"="+url.QueryEscape(v))
			}
			f.Add(index[rt.path], profileIndex(profile), uint8(0), strings.Join(q, "&"))
		}
	}
	f.Fuzz(func(t *testing.T, ri, pi, pick uint8, query string) {
		rt := routes[int(ri)%len(routes)]
		profile := profiles[int(pi)%len(profiles)]
		account := profile
		if profile == webtest.AsAnonymous {
			account = ""
		}
		outcomes := make([]outcome, len(worlds))
		for i, w := range worlds {
			path, _ := w.fill(t, rt, pick)
			r := w.do(t, "GET", path+"?"+query, account, "", nil)
			outcomes[i] = w.mustProblem(t, fmt.Sprintf("GET %s?%s as %s", path, query, profile), r)
		}
		mustAgree(t, rt.String(), worlds, outcomes)
	})
}

// page is a portal page that reads query parameters, and who opens it.
type page struct {
	path    func(s *webtest.School) string
	profile string
}

// pages are the portal's pages that read query parameters.
var pages = []page{
	{func(*webtest.School) string { return "/" }, webtest.AsTeacher},
	{func(*webtest.School) string { return "/" }, webtest.AsRelative},
	{func(*webtest.School) string { return "/audit" }, webtest.AsInspector},
	{func(*webtest.School) string { return "/audit/timeline.csv" }, webtest.AsInspector},
	{func(s *webtest.School) string { return "/bookings/" + s.Resource.String() }, webtest.AsTeacher},
	{func(*webtest.School) string { return "/indicators" }, webtest.AsEvaluator},
	{func(*webtest.School) string { return "/indicators.csv" }, webtest.AsEvaluator},
	{func(*webtest.School) string { return "/indicators/charts/connections.svg" }, webtest.AsEvaluator},
	{func(*webtest.School) string { return "/indicators/charts/activity.svg" }, webtest.AsEvaluator},
	{func(*webtest.School) string { return "/indicators/charts/establishments.svg" }, webtest.AsEvaluator},
	{func(s *webtest.School) string { return "/groups/" + s.Class.String() + "/textbook" }, webtest.AsTeacher},
	{func(s *webtest.School) string { return "/students/" + s.Accounts[webtest.AsStudent].String() }, webtest.AsRelative},
	{func(*webtest.School) string { return "/messages/new" }, webtest.AsTeacher},
	{func(*webtest.School) string { return "/login" }, ""},
}

// FuzzPortalQuery opens a portal page that reads query parameters, picked
// by index, with a raw query string, on SQLite and on Postgres: the answer
// is a page (or a redirect, a CSV file, a chart) or a page of a client
// error, never a 500, and both stores answer alike.
func FuzzPortalQuery(f *testing.F) {
	worlds := MustWorlds(f)
	s := worlds[0].school
	for i, q := range []string{
		"date=2006-03-14", "date=2006-03-13&ok=rollcall", "uai=0130001A&types=absence.recorded.v1&from=2006-03-01&to=2006-03-31&subject=" + s.Accounts[webtest.AsStudent].String(),
		"uai=0130001A&at=2006-03-14&actor=" + s.Accounts[webtest.AsTeacher].String(), "week=2006-03-20",
		"from=2005-09-01&to=2006-07-01&granularity=month", "from=2006-03-01&to=2006-03-31&granularity=week&establishment=0130001A",
		"from=2005-09-01&to=2006-07-01", "from=2005-09-01&to=2006-07-01", "from=2005-09-01&to=2006-07-01",
		"from=2006-03-13&to=2006-03-19", "ok=reason", "to=" + s.Accounts[webtest.AsRelative].String() + "&subject=R%C3%A9ponse", "next=/messages",
	} {
		f.Add(uint8(i), q)
	}
	for _, v := range hostileParams {
		e := url.QueryEscape(v)
		f.Add(uint8(5), "from="+e+"&to="+e+"&granularity="+e+"&establishment="+e)
		f.Add(uint8(2), "uai=0130001A&types="+e+"&from="+e+"&to="+e+"&at="+e+"&actor="+e+"&subject="+e)
		f.Add(uint8(4), "week="+e)
		f.Add(uint8(0), "date="+e)
	}
	f.Add(uint8(13), "next=//evil.example")
	f.Add(uint8(13), "next=/%0d%0aSet-Cookie:x=y")
	f.Fuzz(func(t *testing.T, pi uint8, query string) {
		pg := pages[int(pi)%len(pages)]
		outcomes := make([]outcome, len(worlds))
		for i, w := range worlds {
			target := pg.path(w.school) + "?" + query
			r := w.do(t, "GET", target, pg.profile, "", nil)
			outcomes[i] = w.mustPage(t, fmt.Sprintf("GET %s as %s", target, pg.profile), r)
			if loc := r.header.Get("Location"); r.status == 303 && (!strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//")) {
				t.Fatalf("%s: GET %s redirects to %q, off the site", w.name, target, loc)
			}
		}
		mustAgree(t, "GET page", worlds, outcomes)
	})
}
