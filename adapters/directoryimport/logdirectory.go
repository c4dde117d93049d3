package directoryimport

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Log is what LoadDirectory needs of the event store: the global log.
type Log interface {
	// ReadAll returns up to limit events after `after`, in global order.
	ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error)
}

// directoryTypes are the event types LoadDirectory folds, those of the
// registry's directory areas (retired names included); it skips the
// others without decoding them.
func directoryTypes(reg *domain.Registry) map[string]bool {
	folds := make(map[string]bool)
	for _, typ := range reg.Names(domain.AreaDirectory, domain.AreaDirectoryImport) {
		folds[typ] = true
	}
	return folds
}

// LogDirectory is the directory folded from the log's directory events. It
// does not depend on any read model being up to date, and works on any
// store.
type LogDirectory struct {
	asOf           domain.Position
	establishments map[string]bool
	accounts       map[uuid.UUID]*logAccount
	external       map[string]uuid.UUID
	groups         map[uuid.UUID]*Group
	groupNames     map[groupKey]uuid.UUID
	// feedKeys: establishment -> key, and key -> establishment.
	feedKeys, structures map[string]string
	// subjects: subject code -> label, learnt from memberships.
	subjects map[string]string
	// children: relative -> students linked.
	children map[uuid.UUID]map[uuid.UUID]bool
}

var _ Directory = (*LogDirectory)(nil)

type logAccount struct {
	Account
	relatives map[uuid.UUID]domain.RelativeLink
	groups    map[uuid.UUID]map[domain.Role]logRole
}

type logRole struct {
	subject string
	codes   []string
}

type groupKey struct {
	uai, name string
	kind      domain.GroupKind
}

// readBatch is how many records LoadDirectory reads at a time.
const readBatch = 5000

// LoadDirectory reads the whole log once and folds its directory events.
func LoadDirectory(ctx context.Context, log Log, reg *domain.Registry) (*LogDirectory, error) {
	d := newLogDirectory()
	folds := directoryTypes(reg)
	for {
		recs, err := log.ReadAll(ctx, d.asOf, readBatch)
		if err != nil {
			return nil, fmt.Errorf("load directory: %w", err)
		}
		if len(recs) == 0 {
			return d, nil
		}
		for _, r := range recs {
			if folds[r.Type] {
				e, err := reg.DecodeRecord(r)
				if err != nil {
					return nil, fmt.Errorf("load directory: %w", err)
				}
				d.apply(e)
			}
		}
		d.asOf = recs[len(recs)-1].Position
	}
}

func newLogDirectory() *LogDirectory {
	return &LogDirectory{
		establishments: make(map[string]bool),
		accounts:       make(map[uuid.UUID]*logAccount),
		external:       make(map[string]uuid.UUID),
		groups:         make(map[uuid.UUID]*Group),
		groupNames:     make(map[groupKey]uuid.UUID),
		feedKeys:       make(map[string]string),
		structures:     make(map[string]string),
		subjects:       make(map[string]string),
		children:       make(map[uuid.UUID]map[uuid.UUID]bool),
	}
}

func (d *LogDirectory) account(id uuid.UUID) *logAccount {
	a := d.accounts[id]
	if a == nil {
		a = &logAccount{Account: Account{ID: id}}
		d.accounts[id] = a
	}
	return a
}

func (d *LogDirectory) apply(e domain.Event) {
	switch e := e.(type) {
	case domain.EstablishmentRegistered:
		d.establishments[e.UAI] = true
	case domain.EstablishmentFeedKeyRecorded:
		if old, ok := d.feedKeys[e.UAI]; ok && d.structures[old] == e.UAI {
			delete(d.structures, old)
		}
		d.feedKeys[e.UAI], d.structures[e.FeedKey] = e.FeedKey, e.UAI
	case domain.AccountOpened:
		a := d.account(e.Account)
		a.Establishment, a.Profile, a.Function = e.Establishment, e.Profile, e.Function
		a.ExternalID, a.DisplayName, a.Details = e.ExternalID, e.DisplayName, e.Details.Clone()
		if _, taken := d.external[e.ExternalID]; e.ExternalID != "" && !taken {
			d.external[e.ExternalID] = e.Account
		}
	case domain.AccountUpdated:
		a := d.account(e.Account)
		a.Establishment, a.Function, a.DisplayName = e.Establishment, e.Function, e.DisplayName
		a.Details = e.Details.Clone()
	case domain.AccountClosed:
		d.account(e.Account).Closed = true
	case domain.AccountMissingFromFeed:
		if a := d.account(e.Account); !a.Missing {
			a.Missing, a.MissingSince = true, e.Since
		}
	case domain.AccountBackInFeed:
		a := d.account(e.Account)
		a.Missing, a.MissingSince = false, time.Time{}
	case domain.RelativeLinked:
		a := d.account(e.Student)
		if a.relatives == nil {
			a.relatives = make(map[uuid.UUID]domain.RelativeLink)
		}
		a.relatives[e.Relative] = domain.RelativeLink{LegalGuardian: e.LegalGuardian, Relation: e.Relation,
			LegalRank: e.LegalRank, Financial: e.Financial, Contact: e.Contact}
		if d.children[e.Relative] == nil {
			d.children[e.Relative] = make(map[uuid.UUID]bool)
		}
		d.children[e.Relative][e.Student] = true
	case domain.RelativeUnlinked:
		delete(d.account(e.Student).relatives, e.Relative)
		delete(d.children[e.Relative], e.Student)
	case domain.GroupCreated:
		d.groups[e.Group] = &Group{ID: e.Group, Establishment: e.Establishment, Kind: e.Kind, Name: e.Name, Label: e.Label}
		k := groupKey{e.Establishment, e.Name, e.Kind}
		if _, taken := d.groupNames[k]; !taken {
			d.groupNames[k] = e.Group
		}
	case domain.GroupLabelled:
		if g, ok := d.groups[e.Group]; ok {
			g.Label = e.Label
		}
	case domain.MemberJoined:
		a := d.account(e.Account)
		if a.groups == nil {
			a.groups = make(map[uuid.UUID]map[domain.Role]logRole)
		}
		if a.groups[e.Group] == nil {
			a.groups[e.Group] = make(map[domain.Role]logRole)
		}
		a.groups[e.Group][e.Role] = logRole{subject: e.Subject, codes: slices.Clone(e.SubjectCodes)}
		if len(e.SubjectCodes) == 1 && e.Subject != "" && e.Subject != e.SubjectCodes[0] {
			d.subjects[e.SubjectCodes[0]] = e.Subject
		}
	case domain.MemberLeft:
		a := d.account(e.Account)
		delete(a.groups[e.Group], e.Role)
		if len(a.groups[e.Group]) == 0 {
			delete(a.groups, e.Group)
		}
	}
}

// AsOf implements Directory.
func (d *LogDirectory) AsOf() domain.Position { return d.asOf }

// Establishment implements Directory.
func (d *LogDirectory) Establishment(uai string) bool { return d.establishments[uai] }

// Account implements Directory.
func (d *LogDirectory) Account(externalID string) (Account, bool) {
	id, ok := d.external[externalID]
	if !ok {
		return Account{}, false
	}
	return d.view(d.accounts[id]), true
}

// Accounts implements Directory, in external id order.
func (d *LogDirectory) Accounts() iter.Seq[Account] {
	return func(yield func(Account) bool) {
		ids := make([]string, 0, len(d.external))
		for ext := range d.external {
			ids = append(ids, ext)
		}
		slices.Sort(ids)
		for _, ext := range ids {
			if !yield(d.view(d.accounts[d.external[ext]])) {
				return
			}
		}
	}
}

// Structure implements Directory.
func (d *LogDirectory) Structure(feedKey string) (string, bool) {
	uai, ok := d.structures[feedKey]
	return uai, ok
}

// FeedKey implements Directory.
func (d *LogDirectory) FeedKey(uai string) string { return d.feedKeys[uai] }

// SubjectLabel implements Directory.
func (d *LogDirectory) SubjectLabel(code string) (string, bool) {
	l, ok := d.subjects[code]
	return l, ok
}

// ChildrenOf implements Directory, sorted.
func (d *LogDirectory) ChildrenOf(relative uuid.UUID) []string {
	var out []string
	for s := range d.children[relative] {
		if a, ok := d.accounts[s]; ok && a.ExternalID != "" {
			out = append(out, a.ExternalID)
		}
	}
	slices.Sort(out)
	return out
}

// Group implements Directory.
func (d *LogDirectory) Group(uai string, kind domain.GroupKind, name string) (Group, bool) {
	id, ok := d.groupNames[groupKey{uai, name, kind}]
	if !ok {
		return Group{}, false
	}
	return *d.groups[id], true
}

// view copies an account with its memberships and links resolved.
func (d *LogDirectory) view(a *logAccount) Account {
	v := a.Account
	v.Memberships, v.Relatives = nil, nil
	for gid, roles := range a.groups {
		g, ok := d.groups[gid]
		if !ok {
			g = &Group{ID: gid}
		}
		for role, r := range roles {
			v.Memberships = append(v.Memberships, AccountMembership{Group: *g, Role: role, Subject: r.subject, SubjectCodes: r.codes})
		}
	}
	slices.SortFunc(v.Memberships, func(x, y AccountMembership) int {
		return cmp.Or(strings.Compare(x.Group.Name, y.Group.Name), strings.Compare(x.Group.ID.String(), y.Group.ID.String()),
			strings.Compare(string(x.Role), string(y.Role)))
	})
	for rid, link := range a.relatives {
		ext := ""
		if r, ok := d.accounts[rid]; ok {
			ext = r.ExternalID
		}
		v.Relatives = append(v.Relatives, AccountRelative{Account: rid, ExternalID: ext, RelativeLink: link})
	}
	slices.SortFunc(v.Relatives, func(x, y AccountRelative) int { return strings.Compare(x.Account.String(), y.Account.String()) })
	return v
}

var _ ActorDirectory = (*LogDirectory)(nil)

// Actor implements ActorDirectory: any account of the log, imported or not.
func (d *LogDirectory) Actor(id uuid.UUID) (domain.Actor, bool) {
	a, ok := d.accounts[id]
	if !ok || a.Profile == "" || a.Closed {
		return domain.Actor{}, false
	}
	return domain.Actor{Account: id, Profile: a.Profile, Function: a.Function, Establishment: a.Establishment,
		Establishments: a.Details.Establishments}, true
}
