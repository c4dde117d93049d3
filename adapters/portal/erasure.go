package portal

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/erasure"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// The administrator's page to erase a person's data (docs/privacy.md,
// "Erasing"): find the person by name or national identifier, read what
// the erasure does, give its reason and legal basis and confirm it by
// typing the person's name or EFFACER; the erasure's page then follows
// its scrub, refreshing itself, and the page lists the past erasures. The
// erasure and its scrub run behind web.ErasureJobs, as for the API's POST
// /api/v1/accounts/{account}/erasure.

func (p *Portal) erasurePages() []page {
	if p.cfg.Erasures == nil {
		return nil
	}
	admins := []domain.Profile{domain.ProfileAdmin}
	return []page{
		{method: "GET", path: "/privacy/erase", profiles: admins, handle: p.erasePage},
		{method: "POST", path: "/privacy/erase", profiles: admins, handle: p.onForm(eraseForm, p.showErase, p.postErase)},
		{method: "GET", path: "/privacy/erasures/{account}", profiles: admins, handle: p.erasurePage},
	}
}

// eraseForm is the erasure's form.
var eraseForm = formSpec{name: "erase", fields: []string{"reason", "basis", "confirm"}}

// eraseConfirmWord confirms an erasure, as the person's name does.
const eraseConfirmWord = "EFFACER"

// erasureBases are the usual legal bases of an erasure, the first the
// default.
var erasureBases = []string{web.DefaultErasureBasis, "délai de conservation échu"}

// maxMatches bounds the persons a search shows.
const maxMatches = 30

// erasePerson is a person as the page shows them.
type erasePerson struct {
	ID      uuid.UUID
	Name    string
	Profile domain.Profile
	// Groups are the names of their groups (a student's class).
	Groups []string
}

// erasureRow is an erasure as the page lists it.
type erasureRow struct {
	erasure.Erasure
	// Name is the person's (erased: the placeholder), Profile theirs;
	// By is who erased (empty: the ledger, on an operator's command).
	Name    string
	Profile domain.Profile
	By      string
	// Percent is how far a running scrub is.
	Percent int
}

// eraseData is the erasure page's.
type eraseData struct {
	// Query is the search typed; Matches the persons found.
	Query    string
	Searched bool
	Matches  []erasePerson
	// Person is the person chosen, whose erasure the form asks for;
	// Erasure theirs when they were erased already.
	Person  *erasePerson
	Erasure *erasureRow
	Bases   []string
	Word    string
	// Erasures are the most recent ones.
	Erasures []erasureRow
}

// erasePage shows the search, the persons found or the form for the
// person chosen, and the past erasures.
func (p *Portal) erasePage(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showErase(w, r, v, http.StatusOK)
}

// showErase renders the erasure page with status (a refused form's).
func (p *Portal) showErase(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	if err := web.MayErase(v.principal); err != nil {
		return err
	}
	q := r.URL.Query()
	d := eraseData{Query: strings.TrimSpace(q.Get("q")), Bases: erasureBases, Word: eraseConfirmWord}
	n := p.names()
	account := q.Get("account")
	if r.Method == http.MethodPost {
		account = r.PostForm.Get("account")
	}
	actor := v.principal.Actor()
	switch {
	case account != "":
		id, err := uuid.Parse(account)
		if err != nil {
			return domain.Errorf(domain.ErrNotFound, "no account %q", account)
		}
		acc, err := p.cfg.Queries.Account(r.Context(), id)
		if err != nil {
			return err
		}
		if !actor.IsAdmin(acc.Establishment) {
			return domain.Errorf(domain.ErrForbidden, "only an administrator of %s erases its persons", acc.Establishment)
		}
		person := personOf(acc)
		d.Person = &person
		e, err := p.cfg.Erasures.Status(r.Context(), actor, id)
		switch {
		case err == nil:
			row := p.erasureRowOf(r, n, *e)
			d.Erasure = &row
		case !errors.Is(err, domain.ErrNotFound):
			return err
		}
	case d.Query != "":
		d.Searched = true
		accs, err := p.cfg.Queries.AccountsNamed(r.Context(), actor.Establishment, d.Query, maxMatches)
		if err != nil {
			return err
		}
		for i := range accs {
			d.Matches = append(d.Matches, personOf(&accs[i]))
		}
	}
	list, err := p.cfg.Erasures.List(r.Context(), actor, 50)
	if err != nil {
		return err
	}
	for _, e := range list {
		d.Erasures = append(d.Erasures, p.erasureRowOf(r, n, e))
	}
	p.render(w, r, status, v, "privacy_erase", "title.privacy_erase", d)
	return nil
}

// postErase erases the person of the form, once its confirmation names
// them, and sends the administrator to the erasure's page.
func (p *Portal) postErase(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := web.MayErase(v.principal); err != nil {
		return err
	}
	f := web.FormOf(r)
	id := f.ID("account")
	reason := f.Need("reason")
	basis := strings.TrimSpace(r.PostForm.Get("basis"))
	if basis == "" {
		basis = web.DefaultErasureBasis
	}
	if f.Err() != nil {
		return f.Err()
	}
	acc, err := p.cfg.Queries.Account(r.Context(), id)
	if err != nil {
		return err
	}
	if !confirms(r.PostForm.Get("confirm"), acc.DisplayName) {
		return atField(domain.Errorf(domain.ErrInvalid, "the confirmation names neither the person nor %s", eraseConfirmWord),
			"confirm", v.T("erase.confirm_mismatch", eraseConfirmWord))
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	if _, err := p.cfg.Erasures.Erase(r.Context(), req, v.principal.Actor(), domain.EraseSubject{Subject: id, Reason: reason, Basis: basis}); err != nil {
		return err
	}
	http.Redirect(w, r, "/privacy/erasures/"+id.String()+"?ok=erasure", http.StatusSeeOther)
	return nil
}

// confirms reports whether what was typed confirms the erasure of the
// person named name: their name (case and spaces aside) or the word.
func confirms(typed, name string) bool {
	typed = strings.Join(strings.Fields(typed), " ")
	if typed == "" {
		return false
	}
	return typed == eraseConfirmWord || strings.EqualFold(typed, strings.Join(strings.Fields(name), " "))
}

// erasurePage follows an erasure: its scrub's progress while it runs
// (the page refreshes itself), then its end.
func (p *Portal) erasurePage(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := web.MayErase(v.principal); err != nil {
		return err
	}
	id, err := web.PathID(r, "account")
	if err != nil {
		return err
	}
	e, err := p.cfg.Erasures.Status(r.Context(), v.principal.Actor(), id)
	if err != nil {
		return err
	}
	row := p.erasureRowOf(r, p.names(), *e)
	return p.ok(w, r, v, "privacy_erasure", "title.privacy_erasure", row)
}

// erasureRowOf is e as the page shows it.
func (p *Portal) erasureRowOf(r *http.Request, n *names, e erasure.Erasure) erasureRow {
	row := erasureRow{Erasure: e, Name: n.of(r, e.Subject), By: n.of(r, e.By)}
	if acc, err := p.cfg.Queries.Account(r.Context(), e.Subject); err == nil {
		row.Profile = acc.Profile
	}
	if pr := e.Progress; pr != nil {
		switch {
		case pr.Step == "compact":
			row.Percent = 99
		case pr.Projections > 0:
			done := float64(pr.Index - 1)
			if pr.Total > 0 {
				done += float64(min(pr.Events, pr.Total)) / float64(pr.Total)
			}
			row.Percent = min(98, int(100*done/float64(pr.Projections)))
		}
	}
	return row
}

// personOf is an account as the page shows it.
func personOf(acc *projections.AccountEntry) erasePerson {
	person := erasePerson{ID: acc.ID, Name: acc.DisplayName, Profile: acc.Profile}
	for _, g := range acc.Groups {
		person.Groups = append(person.Groups, g.Name)
	}
	return person
}

// SearchLink is the page of the person found by a search.
func (d eraseData) SearchLink(id uuid.UUID) string {
	return "/privacy/erase?" + url.Values{"account": {id.String()}}.Encode()
}
