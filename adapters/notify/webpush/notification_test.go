package webpush_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/notify/webpush"
)

func TestNotificationEncode(t *testing.T) {
	n := webpush.Notification{Title: "Léa absente", Body: "08:00 Mathématiques — salle <B12> & CDI", URL: "/absences?eleve=lea&jour=lundi"}
	got, err := n.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"title":"Léa absente","body":"08:00 Mathématiques — salle <B12> & CDI","url":"/absences?eleve=lea&jour=lundi"}`
	if string(got) != want {
		t.Errorf("encoded\n%s\nwant\n%s", got, want)
	}
}

func TestNotificationAtItsBoundsFitsThePayload(t *testing.T) {
	// Every field at its bound, in four-byte characters where it takes
	// them.
	n := webpush.Notification{
		Title: strings.Repeat("𝄞", webpush.MaxTitleRunes),
		Body:  strings.Repeat("𝄞", webpush.MaxBodyRunes),
		URL:   "/" + strings.Repeat("a", webpush.MaxURLBytes-1),
		Tag:   strings.Repeat("t", webpush.MaxTagBytes),
	}
	got, err := n.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > webpush.MaxPayloadSize {
		t.Errorf("%d bytes, more than %d", len(got), webpush.MaxPayloadSize)
	}
	var back webpush.Notification
	if err := json.Unmarshal(got, &back); err != nil || back != n {
		t.Errorf("decoded %+v, %v", back, err)
	}
	// Quotes and backslashes are escaped to two bytes each.
	quoted := webpush.Notification{Title: "t", Body: strings.Repeat(`"\`, webpush.MaxBodyRunes/2), URL: "/"}
	if _, err := quoted.Encode(); err != nil {
		t.Errorf("quotes at the bound: %v", err)
	}
}

func TestNotificationEncodeRefuses(t *testing.T) {
	ok := webpush.Notification{Title: "Léa absente", Body: "08:00 Mathématiques", URL: "/absences"}
	tests := []struct {
		name string
		edit func(n *webpush.Notification)
	}{
		{"empty title", func(n *webpush.Notification) { n.Title = "  " }},
		{"title too long", func(n *webpush.Notification) { n.Title = strings.Repeat("é", webpush.MaxTitleRunes+1) }},
		{"body too long", func(n *webpush.Notification) { n.Body = strings.Repeat("a", webpush.MaxBodyRunes+1) }},
		{"newline in the title", func(n *webpush.Notification) { n.Title = "Léa\nabsente" }},
		{"bidi override in the body", func(n *webpush.Notification) { n.Body = "08:00 \u202eseuqitaméhtaM" }},
		{"invalid UTF-8", func(n *webpush.Notification) { n.Body = "08:00 \xff" }},
		{"empty url", func(n *webpush.Notification) { n.URL = "" }},
		{"relative url", func(n *webpush.Notification) { n.URL = "absences" }},
		{"another site", func(n *webpush.Notification) { n.URL = "https://example.com/" }},
		{"scheme-relative url", func(n *webpush.Notification) { n.URL = "//example.com/absences" }},
		{"backslash url", func(n *webpush.Notification) { n.URL = "/\\example.com" }},
		{"javascript url", func(n *webpush.Notification) { n.URL = "javascript:alert(1)" }},
		{"space in url", func(n *webpush.Notification) { n.URL = "/absences du jour" }},
		{"url too long", func(n *webpush.Notification) { n.URL = "/" + strings.Repeat("a", webpush.MaxURLBytes) }},
		{"tag too long", func(n *webpush.Notification) { n.Tag = strings.Repeat("a", webpush.MaxTagBytes+1) }},
		{"tag with a space", func(n *webpush.Notification) { n.Tag = "absence lea" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := ok
			tt.edit(&n)
			if _, err := n.Encode(); !errors.Is(err, webpush.ErrInvalidNotification) {
				t.Errorf("error %v, want ErrInvalidNotification", err)
			}
		})
	}
	if _, err := ok.Encode(); err != nil {
		t.Errorf("the unedited notification: %v", err)
	}
}
