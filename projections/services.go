package projections

// The registered services of directory.v1 (see directory.go): the
// school's other services the ledger signs people in to.
//
// Collections (key -> document):
//
//	services                service id -> ServiceEntry
//	establishment_services  "UAI|service id" -> ServiceEntry (an
//	                        establishment's services: one range scan)
//	service_hosts           "host|service id" -> ServiceEntry, for each
//	                        host of the service's URL patterns (the CAS
//	                        server finds the services of a URL by its host)
//
// An unregistered service leaves the three.

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Collections of the registered services in directory.v1.
const (
	dirServices              = "services"
	dirEstablishmentServices = "establishment_services"
	dirServiceHosts          = "service_hosts"
)

// ServiceEntry is a registered service.
type ServiceEntry struct {
	ID            uuid.UUID          `json:"id"`
	Establishment string             `json:"establishment"`
	Name          string             `json:"name"`
	Kind          domain.ServiceKind `json:"kind"`
	URLs          []string           `json:"urls"`
	Attributes    []string           `json:"attributes"`
	SingleLogout  bool               `json:"single_logout,omitempty"`
	ClientID      string             `json:"client_id,omitempty"`
	SecretHash    string             `json:"secret_hash,omitempty"`
	// PostLogoutURIs: an OpenID Connect client's logout returns.
	PostLogoutURIs []string `json:"post_logout_uris,omitempty"`
}

// Match returns the pattern of the service that url matches, false if
// none does.
func (s ServiceEntry) Match(u string) (domain.ServicePattern, bool) {
	for _, raw := range s.URLs {
		p, err := domain.ParseServicePattern(raw)
		if err == nil && p.Match(u) {
			return p, true
		}
	}
	return domain.ServicePattern{}, false
}

// Releases reports whether the service is given attribute a.
func (s ServiceEntry) Releases(a string) bool { return slices.Contains(s.Attributes, a) }

// serviceHosts returns the hosts of a service's patterns, lower case,
// each once.
func serviceHosts(urls []string) []string {
	var hosts []string
	for _, raw := range urls {
		u, err := url.Parse(strings.TrimSuffix(raw, "*"))
		if err != nil || u.Host == "" {
			continue
		}
		if h := strings.ToLower(u.Host); !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// dirPrefetchService names what an event about a service reads.
func dirPrefetchService(e domain.Event, want func(coll, key string)) {
	if e, ok := e.(domain.ServiceUnregistered); ok {
		want(dirServices, e.Service.String())
	}
}

// dirApplyService folds an event about a service.
func dirApplyService(ctx context.Context, b *Batch, e domain.Event) error {
	switch e := e.(type) {
	case domain.ServiceRegistered:
		s := &ServiceEntry{
			ID: e.Service, Establishment: e.Establishment, Name: e.Name, Kind: e.Kind,
			URLs: slices.Clone(e.URLs), Attributes: slices.Clone(e.Attributes), SingleLogout: e.SingleLogout,
			ClientID: e.ClientID, SecretHash: e.SecretHash, PostLogoutURIs: slices.Clone(e.PostLogoutURIs),
		}
		if s.URLs == nil {
			s.URLs = []string{}
		}
		if s.Attributes == nil {
			s.Attributes = []string{}
		}
		id := e.Service.String()
		b.Put(dirServices, id, s)
		b.Put(dirEstablishmentServices, e.Establishment+"|"+id, s)
		for _, h := range serviceHosts(s.URLs) {
			b.Put(dirServiceHosts, h+"|"+id, s)
		}
	case domain.ServiceUnregistered:
		id := e.Service.String()
		s, ok, err := Get[ServiceEntry](ctx, b, dirServices, id)
		if err != nil || !ok {
			return err
		}
		b.Delete(dirServices, id)
		b.Delete(dirEstablishmentServices, s.Establishment+"|"+id)
		for _, h := range serviceHosts(s.URLs) {
			b.Delete(dirServiceHosts, h+"|"+id)
		}
	}
	return nil
}

// Queries of the registered services.

// Service returns a registered service (domain.ErrUnknownService if there
// is none).
func (q *Queries) Service(ctx context.Context, id uuid.UUID) (*ServiceEntry, error) {
	return dirGet[ServiceEntry](ctx, q, dirServices, id.String(), domain.ErrUnknownService)
}

// Services returns the services of an establishment, in id order.
func (q *Queries) Services(ctx context.Context, uai string) ([]ServiceEntry, error) {
	r, err := q.reader(ctx, ProjectionDirectory)
	if err != nil {
		return nil, err
	}
	out := []ServiceEntry{}
	prefix := uai + "|"
	err = ScanJSON(ctx, r, dirEstablishmentServices, prefix, PrefixEnd(prefix), func(_ string, s ServiceEntry) error {
		out = append(out, s)
		return nil
	})
	return out, err
}

// ServicesFor returns the services of kind one of whose patterns matches
// u (a URL a client sent), with the pattern each matched, the longest
// (most precise) first; none when u matches no registered service.
func (q *Queries) ServicesFor(ctx context.Context, kind domain.ServiceKind, u string) ([]ServiceEntry, error) {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" {
		return []ServiceEntry{}, nil
	}
	r, err := q.reader(ctx, ProjectionDirectory)
	if err != nil {
		return nil, err
	}
	type found struct {
		s   ServiceEntry
		len int
	}
	var all []found
	prefix := strings.ToLower(parsed.Host) + "|"
	err = ScanJSON(ctx, r, dirServiceHosts, prefix, PrefixEnd(prefix), func(_ string, s ServiceEntry) error {
		if p, ok := s.Match(u); ok && s.Kind == kind {
			all = append(all, found{s, len(p.Base)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(a, b found) int { return b.len - a.len })
	out := make([]ServiceEntry, len(all))
	for i, f := range all {
		out[i] = f.s
	}
	return out, nil
}
