package upstream_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/sso"
	"github.com/schoollife/ledger/adapters/sso/upstream"
)

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                              "/",
		"/":                             "/",
		"/famille?eleve=2#notes":        "/famille?eleve=2#notes",
		"/cahier/2026-12-07":            "/cahier/2026-12-07",
		"https://evil.example/":         "/",
		"//evil.example/":               "/",
		`/\evil.example`:                "/",
		"javascript:alert(1)":           "/",
		"famille":                       "/",
		"/a\r\nSet-Cookie: x=1":         "/",
		"/a b":                          "/",
		"/a\x00":                        "/",
		"/" + strings.Repeat("a", 3000): "/",
	} {
		if got := upstream.LocalPath(in); got != want {
			t.Errorf("LocalPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckIdentity(t *testing.T) {
	t.Parallel()
	ok := sso.Identity{Provider: "p", Protocol: sso.ProtocolCAS, Subject: "jdupont", Attributes: map[string][]string{"mail": {"a@b.fr"}}}
	if err := upstream.CheckIdentity(ok); err != nil {
		t.Fatal(err)
	}
	many := map[string][]string{}
	for i := range upstream.MaxAttributes + 1 {
		many[strings.Repeat("a", i+1)] = []string{"v"}
	}
	for name, id := range map[string]sso.Identity{
		"empty subject":        {Provider: "p", Protocol: "cas"},
		"no provider":          {Protocol: "cas", Subject: "x"},
		"NUL in subject":       {Provider: "p", Protocol: "cas", Subject: "a\x00b"},
		"invalid UTF-8":        {Provider: "p", Protocol: "cas", Subject: "a\xffb"},
		"long subject":         {Provider: "p", Protocol: "cas", Subject: strings.Repeat("s", 256)},
		"newline in value":     {Provider: "p", Protocol: "cas", Subject: "x", Attributes: map[string][]string{"a": {"1\n2"}}},
		"control in name":      {Provider: "p", Protocol: "cas", Subject: "x", Attributes: map[string][]string{"a\x1b": {"1"}}},
		"empty name":           {Provider: "p", Protocol: "cas", Subject: "x", Attributes: map[string][]string{"": {"1"}}},
		"too many attributes":  {Provider: "p", Protocol: "cas", Subject: "x", Attributes: many},
		"too many values":      {Provider: "p", Protocol: "cas", Subject: "x", Attributes: map[string][]string{"a": make([]string, upstream.MaxValues+1)}},
		"session index broken": {Provider: "p", Protocol: "cas", Subject: "x", SessionIndex: "a\x07"},
	} {
		if err := upstream.CheckIdentity(id); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestStateCookies(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	key := bytes.Repeat([]byte("k"), 32)
	c, err := upstream.NewStateCookies(key, "ledger_test", true, 10*time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	type data struct{ ReturnTo string }
	set := func(provider, state string) *http.Cookie {
		rec := httptest.NewRecorder()
		if err := c.Set(rec, "/cb", provider, state, data{"/x"}); err != nil {
			t.Fatal(err)
		}
		cs := rec.Result().Cookies()
		if len(cs) != 1 || !cs[0].HttpOnly || !cs[0].Secure || cs[0].SameSite != http.SameSiteLaxMode || cs[0].Path != "/cb" {
			t.Fatalf("cookie %+v", cs)
		}
		if strings.Contains(cs[0].Value, "/x") {
			t.Fatal("the cookie shows what it holds")
		}
		return cs[0]
	}
	take := func(ck *http.Cookie, provider, state string, with *upstream.StateCookies) error {
		r := httptest.NewRequest("GET", "/cb", nil)
		if ck != nil {
			r.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		var d data
		err := with.Take(rec, r, "/cb", provider, state, &d)
		if err == nil && d.ReturnTo != "/x" {
			t.Fatalf("data %+v", d)
		}
		if ck != nil {
			if cs := rec.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
				t.Errorf("the cookie is not deleted: %+v", cs)
			}
		}
		return err
	}
	ck := set("p", "state-1")
	if err := take(ck, "p", "state-1", c); err != nil {
		t.Fatalf("own cookie: %v", err)
	}
	if err := take(ck, "q", "state-1", c); err == nil {
		t.Error("accepted for another provider")
	}
	if err := take(nil, "p", "state-1", c); err == nil {
		t.Error("accepted without a cookie")
	}
	changed := *ck
	changed.Value = changed.Value[:len(changed.Value)-2] + "AA"
	if err := take(&changed, "p", "state-1", c); err == nil {
		t.Error("accepted a changed cookie")
	}
	other, _ := upstream.NewStateCookies(bytes.Repeat([]byte("o"), 32), "ledger_test", true, 10*time.Minute, clock)
	if err := take(ck, "p", "state-1", other); err == nil {
		t.Error("accepted under another key")
	}
	now = now.Add(10 * time.Minute)
	if err := take(ck, "p", "state-1", c); err == nil {
		t.Error("accepted once expired")
	}
	if _, err := upstream.NewStateCookies([]byte("short"), "x", true, time.Minute, clock); err == nil {
		t.Error("short key accepted")
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"https://ent.example.fr", "https://cas.ac-exemple.fr/cas", "http://127.0.0.1:8080", "http://localhost", "http://[::1]:9"} {
		if _, err := upstream.CheckURL("u", ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "ent.example.fr", "http://ent.example.fr", "ftp://x", "https://u:p@x", "https://x/?a=1", "https://x/#f", "/relative"} {
		if _, err := upstream.CheckURL("u", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPageIsFrench(t *testing.T) {
	t.Parallel()
	for _, reason := range []upstream.Reason{upstream.ReasonDenied, upstream.ReasonExpired, upstream.ReasonUnknownProvider, upstream.ReasonUnavailable, upstream.ReasonInvalid} {
		rec := httptest.NewRecorder()
		upstream.Page(rec, httptest.NewRequest("GET", "/", nil), upstream.Failure{Provider: "p", Reason: reason, Err: http.ErrNoCookie})
		body := rec.Body.String()
		title, _ := upstream.FailureText(reason)
		if rec.Code != reason.Status() || !strings.Contains(body, `lang="fr"`) || !strings.Contains(body, strings.ReplaceAll(title, "'", "&#39;")) {
			t.Errorf("%s: %d %s", reason, rec.Code, body)
		}
		if strings.Contains(body, "cookie") || strings.Contains(body, "(s)") || strings.Contains(body, http.StatusText(rec.Code)) {
			t.Errorf("%s: the page shows an error's text, a code or an (s):\n%s", reason, body)
		}
	}
}
