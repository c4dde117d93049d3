package api

// Erasures of persons' data (docs/privacy.md, "Erasing"): POST
// /api/v1/accounts/{account}/erasure records the erasure (the person's key
// is destroyed at once) and queues its scrub, the rebuild of every
// projection and the compaction of the database that make it effective in
// the database files; it answers 202 with the erasure and its status URL,
// which GET /api/v1/erasures/{account} reads. web.ErasureJobs
// (adapters/erasure) records and scrubs.

import (
	"cmp"
	"net/http"
	"strconv"

	"github.com/schoollife/ledger/adapters/erasure"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// ErasureRequest asks for the erasure of a person's data.
type ErasureRequest struct {
	// Reason is why: the request and its date, never the person's data.
	Reason string `json:"reason"`
	// Basis is the legal basis (default "RGPD art. 17"; "délai de
	// conservation échu"...).
	Basis string `json:"basis,omitempty"`
}

// erasurePollSeconds is the Retry-After of an erasure whose scrub has not
// ended: how often a client had better ask again.
const erasurePollSeconds = "2"

// maxErasures bounds the list of recent erasures.
const maxErasures = 100

func (s *Server) erasureRoutes() []route {
	if s.cfg.Erasures == nil {
		return nil
	}
	return []route{
		{
			method: "POST", path: "/api/v1/accounts/{account}/erasure", tag: "privacy", status: http.StatusAccepted,
			summary: "Erase a person's personal data (crypto-shredding, GDPR art. 17): records the erasure (privacy.subject_erased.v1, " +
				"with the reason and legal basis) and destroys the person's key at once, then scrubs in the background (every projection " +
				"rebuilt, the database compacted; privacy.subject_scrubbed.v1 records its end). Answers 202 with the erasure and its " +
				"status URL in Location. A person erased already gets 409 (erasure-exists), unless the scrub of their erasure failed " +
				"or never ran: it is then resumed (202)",
			profiles: "an administrator of the person's establishment",
			request:  typeOf[ErasureRequest](), response: typeOf[erasure.Erasure](),
			handle: s.postErasure,
		},
		{
			method: "GET", path: "/api/v1/erasures", tag: "privacy", status: http.StatusOK,
			summary: "The most recent erasures of the establishments the caller administers, newest first: the person's account, " +
				"when, by whom, the legal basis and reason, and the state of the scrub (pending, running with its progress, done, " +
				"failed with why: erase the person again to retry)",
			profiles: "administrators",
			query:    []param{{name: "limit", format: "integer", doc: "at most this many (default and most " + strconv.Itoa(maxErasures) + ")"}},
			response: typeOf[[]erasure.Erasure](),
			handle:   s.listErasures,
		},
		{
			method: "GET", path: "/api/v1/erasures/{account}", tag: "privacy", status: http.StatusOK,
			summary: "A person's erasure, by their account id, and the state of its scrub; while it has not ended, Retry-After says " +
				"when to ask again",
			profiles: "an administrator of the person's establishment",
			response: typeOf[erasure.Erasure](),
			handle:   s.getErasure,
		},
	}
}

func (s *Server) postErasure(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalOf(r)
	if err := web.MayErase(p); err != nil {
		return err
	}
	subject, err := web.PathID(r, "account")
	if err != nil {
		return err
	}
	var body ErasureRequest
	if err := s.dec.JSON(w, r, &body); err != nil {
		return err
	}
	req, err := commandRequest(r)
	if err != nil {
		return err
	}
	cmd := domain.EraseSubject{Subject: subject, Reason: body.Reason, Basis: cmp.Or(body.Basis, web.DefaultErasureBasis)}
	e, err := s.cfg.Erasures.Erase(r.Context(), req, p.Actor(), cmd)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/erasures/"+subject.String())
	w.Header().Set("Retry-After", erasurePollSeconds)
	return reply(w, http.StatusAccepted, e)
}

func (s *Server) listErasures(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalOf(r)
	if err := web.MayErase(p); err != nil {
		return err
	}
	q := s.dec.Query(r)
	limit := q.LimitIn(maxErasures, maxErasures)
	if q.Err() != nil {
		return q.Err()
	}
	list, err := s.cfg.Erasures.List(r.Context(), p.Actor(), limit)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, list)
}

func (s *Server) getErasure(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalOf(r)
	if err := web.MayErase(p); err != nil {
		return err
	}
	subject, err := web.PathID(r, "account")
	if err != nil {
		return err
	}
	e, err := s.cfg.Erasures.Status(r.Context(), p.Actor(), subject)
	if err != nil {
		return err
	}
	if e.State == erasure.StatePending || e.State == erasure.StateRunning {
		w.Header().Set("Retry-After", erasurePollSeconds)
	}
	return reply(w, http.StatusOK, e)
}
