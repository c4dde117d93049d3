package directoryimport

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// ChangeKind is a kind of change an import makes to the directory.
type ChangeKind string

// Kinds of change, in the order an import applies them: establishments and
// accounts exist before groups are filled and relatives linked.
const (
	RegisterEstablishment ChangeKind = "establishment.register"
	RecordFeedKey         ChangeKind = "establishment.feed_key"
	OpenAccount           ChangeKind = "account.open"
	UpdateAccount         ChangeKind = "account.update"
	MarkBackInFeed        ChangeKind = "account.back_in_feed"
	CreateGroup           ChangeKind = "group.create"
	LabelGroup            ChangeKind = "group.label"
	LeaveGroup            ChangeKind = "group.leave"
	JoinGroup             ChangeKind = "group.join"
	UnlinkRelative        ChangeKind = "relative.unlink"
	LinkRelative          ChangeKind = "relative.link"
	FlagMissing           ChangeKind = "account.flag_missing"
	CloseAccount          ChangeKind = "account.close"
)

// ChangeKinds lists the kinds in the order they are applied.
var ChangeKinds = []ChangeKind{
	RegisterEstablishment, RecordFeedKey, OpenAccount, UpdateAccount, MarkBackInFeed, CreateGroup, LabelGroup,
	LeaveGroup, JoinGroup, UnlinkRelative, LinkRelative, FlagMissing, CloseAccount,
}

// Change is one change to the directory: one command.
type Change struct {
	Kind ChangeKind `json:"kind"`
	// Establishment is the UAI the change concerns (the account's or the
	// group's).
	Establishment string `json:"establishment,omitempty"`
	// Establishment registration.
	EstablishmentName string                   `json:"establishment_name,omitempty"`
	EstablishmentKind domain.EstablishmentKind `json:"establishment_kind,omitempty"`
	Departement       string                   `json:"departement,omitempty"`
	// Account.
	Account     uuid.UUID       `json:"account,omitzero"`
	ExternalID  string          `json:"external_id,omitempty"`
	Profile     domain.Profile  `json:"profile,omitempty"`
	Function    domain.Function `json:"function,omitempty"`
	DisplayName string          `json:"display_name,omitempty"`
	// PreviousName is an updated account's name before, when the update
	// renames it.
	PreviousName string `json:"previous_name,omitempty"`
	// EstablishmentType is a registered establishment's national type.
	EstablishmentType string `json:"establishment_type,omitempty"`
	// FeedKey is the establishment's structure id (RecordFeedKey).
	FeedKey string `json:"feed_key,omitempty"`
	// Details of an opened or updated account, whole.
	Details domain.AccountDetails `json:"details,omitzero"`
	// Group.
	Group        uuid.UUID        `json:"group,omitzero"`
	GroupKind    domain.GroupKind `json:"group_kind,omitempty"`
	GroupName    string           `json:"group_name,omitempty"`
	GroupLabel   string           `json:"group_label,omitempty"`
	Role         domain.Role      `json:"role,omitempty"`
	Subject      string           `json:"subject,omitempty"`
	SubjectCodes []string         `json:"subject_codes,omitempty"`
	// Relative link (Account is the student).
	Relative           uuid.UUID       `json:"relative,omitzero"`
	RelativeExternalID string          `json:"relative_external_id,omitempty"`
	LegalGuardian      bool            `json:"legal_guardian,omitempty"`
	Relation           domain.Relation `json:"relation,omitempty"`
	LegalRank          int             `json:"legal_rank,omitempty"`
	Financial          bool            `json:"financial,omitempty"`
	Contact            bool            `json:"contact,omitempty"`
	// Reason says why an account is flagged or closed.
	Reason string `json:"reason,omitempty"`
}

func (c Change) String() string {
	var b strings.Builder
	b.WriteString(string(c.Kind))
	switch c.Kind {
	case RegisterEstablishment:
		kind := string(c.EstablishmentKind)
		if c.EstablishmentType != "" {
			kind += " " + c.EstablishmentType
		}
		fmt.Fprintf(&b, " %s %q (%s, département %s)", c.Establishment, c.EstablishmentName, kind, c.Departement)
	case RecordFeedKey:
		fmt.Fprintf(&b, " %s key %s", c.Establishment, c.FeedKey)
	case OpenAccount:
		fmt.Fprintf(&b, " %s %s %s %q", c.ExternalID, c.Establishment, c.Profile, c.DisplayName)
		if c.Function != "" {
			fmt.Fprintf(&b, " function=%s", c.Function)
		}
		writeDetails(&b, c.Details)
	case UpdateAccount:
		fmt.Fprintf(&b, " %s %s %q", c.ExternalID, c.Establishment, c.DisplayName)
		if c.PreviousName != "" {
			fmt.Fprintf(&b, " (was %q)", c.PreviousName)
		}
		if c.Function != "" {
			fmt.Fprintf(&b, " function=%s", c.Function)
		}
		writeDetails(&b, c.Details)
	case CreateGroup, LabelGroup:
		fmt.Fprintf(&b, " %s %s %q", c.Establishment, c.GroupKind, c.GroupName)
		if c.GroupLabel != "" {
			fmt.Fprintf(&b, " label %q", c.GroupLabel)
		}
	case JoinGroup, LeaveGroup:
		fmt.Fprintf(&b, " %s %s %s %q as %s", c.ExternalID, c.Establishment, c.GroupKind, c.GroupName, c.Role)
		if c.Subject != "" {
			fmt.Fprintf(&b, " (%s)", c.Subject)
		}
	case LinkRelative, UnlinkRelative:
		fmt.Fprintf(&b, " student %s relative %s", c.ExternalID, c.RelativeExternalID)
		if c.Kind == LinkRelative {
			if c.Relation != "" {
				fmt.Fprintf(&b, " (%s)", c.Relation)
			}
			if c.LegalGuardian {
				b.WriteString(" (legal guardian")
				if c.LegalRank > 0 {
					fmt.Fprintf(&b, " %d", c.LegalRank)
				}
				b.WriteString(")")
			}
			if c.Financial {
				b.WriteString(" (financial)")
			}
			if c.Contact {
				b.WriteString(" (contact)")
			}
		}
	default:
		fmt.Fprintf(&b, " %s %s", c.ExternalID, c.Establishment)
		if c.Reason != "" {
			fmt.Fprintf(&b, ": %s", c.Reason)
		}
	}
	return b.String()
}

// writeDetails says an account's details in a change's words.
func writeDetails(b *strings.Builder, d domain.AccountDetails) {
	if len(d.Establishments) > 0 {
		fmt.Fprintf(b, " also=%s", strings.Join(d.Establishments, ","))
	}
	for _, p := range d.Posts {
		fmt.Fprintf(b, " post=%s:%s", p.Establishment, p.Code)
		if p.Discipline != "" {
			fmt.Fprintf(b, ":%s", p.Discipline)
		}
	}
	if d.MEF != "" || d.MEFLabel != "" {
		fmt.Fprintf(b, " mef=%s", cmp.Or(d.MEF, d.MEFLabel))
	}
	if d.StudentID != "" {
		fmt.Fprintf(b, " student_id=%s", d.StudentID)
	}
}

// idempotencyKey derives the change's command key from what it does and the
// directory state it was planned from (see Directory.AsOf).
func (c Change) idempotencyKey(asOf domain.Position) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%t|%s",
		c.Kind, c.Establishment, c.EstablishmentName, c.Account, c.ExternalID, c.Profile, c.Function,
		c.DisplayName, c.Group, c.GroupKind, c.GroupName, c.Role, c.Subject, c.Relative, c.LegalGuardian, asOf)
	// What later feeds added: written only when set, so that the keys of
	// the changes that have none are the same as before.
	if c.FeedKey != "" || !c.Details.IsZero() || c.GroupLabel != "" || len(c.SubjectCodes) > 0 ||
		c.Relation != "" || c.LegalRank != 0 || c.Financial || c.Contact {
		fmt.Fprintf(h, "|%s|%v|%s|%v|%s|%d|%t|%t", c.FeedKey, c.Details, c.GroupLabel, c.SubjectCodes,
			c.Relation, c.LegalRank, c.Financial, c.Contact)
	}
	return "directory-import:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// AccountID is the id of the account of an external join id: the same
// person always gets the same account, whatever the import that opens it.
func AccountID(joinID string) uuid.UUID { return domain.DeterministicID("aaf", joinID) }

// GroupID is the id of the group an import creates for a class or group
// name in an establishment.
func GroupID(uai string, kind domain.GroupKind, name string) uuid.UUID {
	return domain.DeterministicID("aaf-group", uai, string(kind), name)
}

// planned is an account as it will be once the plan is applied.
type planned struct {
	id      uuid.UUID
	profile domain.Profile
	uai     string
	// others are its other establishments.
	others []string
	open   bool
	// cur is the account in the directory before the import, if any.
	cur *Account
	// frozen accounts are left alone: the feed contradicts the directory.
	frozen bool
}

// planner computes the changes that bring the directory to what the feed
// says.
type planner struct {
	feed  *Feed
	dir   Directory
	now   time.Time
	grace time.Duration

	changes        map[ChangeKind][]Change
	skipped        []Issue
	establishments map[string]bool
	accounts       map[string]*planned
	groups         map[groupKey]uuid.UUID
	named          map[groupKey]bool
	// labels are the groups' labels the feed gives.
	labels  map[groupKey]string
	present map[string]bool
	deleted map[string]bool
	flagged map[string]bool
	// learnt maps AAF structure ids the import's files do not list to the
	// establishment of the known persons whose records use them.
	learnt map[string]string
	// left are the join ids of persons left out whole; opened, of those
	// whose account is opened; stated, of those whose establishment the
	// feed states (their own record, or their children's in the feed).
	left, opened, stated map[string]bool
	// updates and opens index the account updates and openings by join id.
	updates, opens map[string]int
	// renamed and closedNow: the accounts the import renames, and closes
	// after flagging them itself (grace 0).
	renamed, closedNow map[string]bool
	// followers are the relatives moved with their children.
	followers []string
}

// Plan is the changes an import makes, kind by kind, and the parts of the
// feed it could not apply.
type Plan struct {
	// Phases holds the changes of each kind, in ChangeKinds order.
	Phases  [][]Change
	Skipped []Issue
	// What became of each person of the feed, by join id.
	outcome map[string]outcome
	// The mass changes: accounts (by join id) the plan renames, flags
	// missing, and closes having flagged them itself.
	renamed, flagged, closedNow map[string]bool
}

// outcome is what an import does to one person of its feed.
type outcome uint8

const (
	outUnchanged outcome = iota
	outCreated
	outChanged
	outRemoved // flagged missing by a deleteRequest
	outSkipped // left out whole
)

// Len is the number of changes.
func (p *Plan) Len() int {
	n := 0
	for _, ph := range p.Phases {
		n += len(ph)
	}
	return n
}

// Changes lists every change in order (for a dry run's report).
func (p *Plan) Changes() []Change {
	out := make([]Change, 0, p.Len())
	for _, ph := range p.Phases {
		out = append(out, ph...)
	}
	return out
}

// diff plans the changes from dir to feed at now.
func diff(feed *Feed, dir Directory, now time.Time, grace time.Duration) *Plan {
	p := &planner{
		feed: feed, dir: dir, now: now, grace: grace,
		changes:        make(map[ChangeKind][]Change),
		establishments: make(map[string]bool),
		accounts:       make(map[string]*planned, len(feed.Persons)),
		groups:         make(map[groupKey]uuid.UUID),
		named:          make(map[groupKey]bool),
		labels:         make(map[groupKey]string),
		present:        make(map[string]bool, len(feed.Persons)),
		deleted:        make(map[string]bool),
		flagged:        make(map[string]bool),
		learnt:         make(map[string]string),
		left:           make(map[string]bool),
		opened:         make(map[string]bool),
		stated:         make(map[string]bool),
		updates:        make(map[string]int),
		opens:          make(map[string]int),
		renamed:        make(map[string]bool),
		closedNow:      make(map[string]bool),
	}
	p.learnStructures()
	p.planEstablishments()
	for i := range feed.Persons {
		p.planAccount(&feed.Persons[i])
	}
	p.planFollowers()
	p.planRelativeSchools()
	for i := range feed.Persons {
		pe := &feed.Persons[i]
		if a := p.accounts[pe.JoinID]; a != nil && a.open && !a.frozen && !pe.Deleted {
			p.planMemberships(pe, a)
			p.planRelatives(pe, a)
		}
	}
	if feed.Mode == ModeFull {
		p.planMissing()
	}
	p.planClosings()
	plan := &Plan{Skipped: p.skipped, renamed: p.renamed, flagged: p.flagged, closedNow: p.closedNow}
	for _, k := range ChangeKinds {
		if len(p.changes[k]) > 0 {
			plan.Phases = append(plan.Phases, p.changes[k])
		}
	}
	plan.outcome = p.outcomes()
	return plan
}

func (p *planner) add(c Change) {
	switch c.Kind {
	case UpdateAccount:
		p.updates[c.ExternalID] = len(p.changes[c.Kind])
	case OpenAccount:
		p.opens[c.ExternalID] = len(p.changes[c.Kind])
	}
	p.changes[c.Kind] = append(p.changes[c.Kind], c)
}

// structUAI returns the establishment a structure id stands for, when the
// feed does not list it: learnt from the feed's persons, or recorded by an
// earlier import (establishment.feed_key_recorded.v1).
func (p *planner) structUAI(s string) string {
	if s == "" {
		return ""
	}
	if uai := p.learnt[s]; uai != "" {
		return uai
	}
	uai, _ := p.dir.Structure(s)
	return uai
}

// skip leaves a part of a person's record aside.
func (p *planner) skip(pe *Person, code ReasonCode, args ...string) {
	p.skipped = append(p.skipped, newIssue(pe.Place, pe.JoinID, code, args...))
}

// leave leaves a person out whole: nothing changes for them. Their open
// account, if any, is frozen: relatives still find it, the feed changes
// nothing of it.
func (p *planner) leave(pe *Person, cur Account, exists bool, code ReasonCode, args ...string) {
	p.skip(pe, code, args...)
	p.left[pe.JoinID] = true
	if exists {
		p.accounts[pe.JoinID] = &planned{id: cur.ID, profile: cur.Profile, uai: cur.Establishment, open: !cur.Closed, frozen: true}
	}
}

// leaveForStructure leaves out a person whose attachment structures do
// not resolve, saying why: a structure whose record was rejected, or one
// the import does not list.
func (p *planner) leaveForStructure(pe *Person, cur Account, exists bool) {
	for _, s := range pe.structs {
		if is, ok := p.feed.rejectedStructs[s]; ok {
			p.leave(pe, cur, exists, ReasonRejectedStructure, s, is.Place.String())
			return
		}
	}
	p.leave(pe, cur, exists, ReasonUnknownStructure, strings.Join(pe.structs, ", "))
}

// outcomes says what became of each person of the feed.
func (p *planner) outcomes() map[string]outcome {
	touched := make(map[string]bool)
	for _, k := range ChangeKinds {
		if k == OpenAccount || k == RegisterEstablishment || k == CreateGroup {
			continue
		}
		for _, c := range p.changes[k] {
			touched[c.ExternalID] = true
		}
	}
	out := make(map[string]outcome, len(p.feed.Persons))
	for _, pe := range p.feed.Persons {
		id := pe.JoinID
		switch {
		case p.left[id]:
			out[id] = outSkipped
		case p.opened[id]:
			out[id] = outCreated
		case pe.Deleted && p.flagged[id]:
			out[id] = outRemoved
		case !pe.Deleted && touched[id]:
			out[id] = outChanged
		default:
			out[id] = outUnchanged
		}
	}
	return out
}

func (p *planner) planEstablishments() {
	for _, e := range p.feed.Establishments {
		if !p.dir.Establishment(e.UAI) {
			p.add(Change{Kind: RegisterEstablishment, Establishment: e.UAI, EstablishmentName: e.Name,
				EstablishmentKind: e.Kind, EstablishmentType: e.Type, Departement: e.Departement})
		}
		p.establishments[e.UAI] = true
		// The structure id is recorded: later feeds without this record
		// (deltas, people only) still place its people.
		if e.JoinID != "" && e.JoinID != e.UAI && p.dir.FeedKey(e.UAI) != e.JoinID {
			p.add(Change{Kind: RecordFeedKey, Establishment: e.UAI, FeedKey: e.JoinID})
		}
	}
	for _, pe := range p.feed.Persons {
		for _, m := range pe.Memberships {
			uai := m.UAI
			if uai == "" {
				uai = p.structUAI(m.Struct)
			}
			k := groupKey{uai, m.Name, m.Kind}
			p.named[k] = true
			if m.Label != "" {
				p.labels[k] = m.Label
			}
		}
	}
	// The establishment's own lists of classes and groups: created even
	// while nobody is in them; their labels win.
	lists := func(uai string, kind domain.GroupKind, gs []GroupLabel) {
		for _, g := range gs {
			k := groupKey{uai, g.Name, kind}
			p.named[k] = true
			if g.Label != "" {
				p.labels[k] = g.Label
			}
		}
	}
	for _, e := range p.feed.Establishments {
		lists(e.UAI, domain.GroupClass, e.Classes)
		lists(e.UAI, domain.GroupTeaching, e.Groups)
	}
	for _, e := range p.feed.Establishments {
		for _, g := range e.Classes {
			p.groupID(e.UAI, domain.GroupClass, g.Name)
		}
		for _, g := range e.Groups {
			p.groupID(e.UAI, domain.GroupTeaching, g.Name)
		}
	}
}

// learnStructures learns the structure ids the import's files do not list
// (a delta rarely comes with its EtabEducNat file): a record that modifies
// the classes of a person the directory knows, without moving them, names
// that person's establishment. An id learnt as two establishments is not
// learnt.
func (p *planner) learnStructures() {
	seen := make(map[string]string)
	for i := range p.feed.Persons {
		pe := &p.feed.Persons[i]
		if pe.Deleted || pe.knows(aspEstablishment) {
			continue
		}
		var cur Account
		var known bool
		for _, m := range pe.Memberships {
			if m.UAI != "" || m.Struct == "" {
				continue
			}
			if _, ok := p.dir.Structure(m.Struct); ok {
				continue // recorded by an earlier import
			}
			if !known {
				if cur, known = p.dir.Account(pe.JoinID); !known || cur.Closed || cur.Establishment == "" {
					break
				}
			}
			if prev, ok := seen[m.Struct]; ok && prev != cur.Establishment {
				seen[m.Struct] = "" // ambiguous
				continue
			}
			if _, ok := seen[m.Struct]; !ok {
				seen[m.Struct] = cur.Establishment
			}
		}
	}
	for s, uai := range seen {
		if uai != "" {
			p.learnt[s] = uai
		}
	}
}

// registered reports whether uai is or will be registered.
func (p *planner) registered(uai string) bool {
	if !p.establishments[uai] && p.dir.Establishment(uai) {
		p.establishments[uai] = true
	}
	return p.establishments[uai]
}

// groupID returns the group of an establishment with kind and name,
// planning its creation when it does not exist, and its new label when the
// feed gives another.
func (p *planner) groupID(uai string, kind domain.GroupKind, name string) uuid.UUID {
	k := groupKey{uai, name, kind}
	if id, ok := p.groups[k]; ok {
		return id
	}
	label := p.labels[k]
	g, ok := p.dir.Group(uai, kind, name)
	switch {
	case !ok:
		g = Group{ID: GroupID(uai, kind, name), Establishment: uai, Kind: kind, Name: name}
		p.add(Change{Kind: CreateGroup, Establishment: uai, Group: g.ID, GroupKind: kind, GroupName: name, GroupLabel: label})
	case label != "" && label != g.Label:
		p.add(Change{Kind: LabelGroup, Establishment: uai, Group: g.ID, GroupKind: kind, GroupName: name, GroupLabel: label})
	}
	p.groups[k] = g.ID
	return g.ID
}

// managed reports whether the feed owns the memberships of a group: a group
// an import created, or one the feed names. Groups made by hand that the
// feed never names keep their members.
func (p *planner) managed(g Group) bool {
	return g.ID == GroupID(g.Establishment, g.Kind, g.Name) || p.named[groupKey{g.Establishment, g.Name, g.Kind}]
}

// planAccount plans opening, updating, unflagging or flagging (deleted) a
// person's account.
func (p *planner) planAccount(pe *Person) {
	cur, exists := p.dir.Account(pe.JoinID)
	if pe.Deleted {
		p.deleted[pe.JoinID] = true
		if exists && !cur.Closed {
			p.accounts[pe.JoinID] = &planned{id: cur.ID, profile: cur.Profile, uai: cur.Establishment, open: true, frozen: true}
			if !cur.Missing {
				p.flag(cur, fmt.Sprintf("deleted by the feed (%s)", pe.Place))
			}
		}
		return
	}
	p.present[pe.JoinID] = true
	if exists && cur.Closed {
		p.leave(pe, cur, exists, ReasonClosed)
		return
	}
	profile := pe.Profile
	if exists && profile != "" && profile != cur.Profile {
		p.leave(pe, cur, exists, ReasonProfileChange, string(profile), string(cur.Profile))
		return
	}
	if !exists && !pe.Complete {
		p.leave(pe, cur, exists, ReasonUnknownPerson)
		return
	}
	if profile == "" {
		profile = cur.Profile
	}
	uai := pe.UAI
	if uai == "" && len(pe.structs) > 0 {
		for _, s := range pe.structs {
			if uai = p.structUAI(s); uai != "" {
				break
			}
		}
		if uai == "" {
			p.leaveForStructure(pe, cur, exists)
			return
		}
	}
	switch {
	case uai != "":
		p.stated[pe.JoinID] = true
	case len(pe.UAICandidates) > 0:
		p.stated[pe.JoinID] = true
		uai = pe.UAICandidates[0]
		if exists && slices.Contains(pe.UAICandidates, cur.Establishment) {
			uai = cur.Establishment
		}
	case exists:
		uai = cur.Establishment
	}
	if !exists {
		switch {
		case uai == "":
			p.leave(pe, cur, exists, ReasonNoEstablishment)
			return
		case !p.registered(uai):
			p.leave(pe, cur, exists, ReasonUnregistered, uai)
			return
		}
		fn := pe.Function
		if profile != domain.ProfilePersonnel {
			fn = domain.FunctionNone
		}
		id := AccountID(pe.JoinID)
		details := p.details(pe, profile, uai, nil)
		p.add(Change{Kind: OpenAccount, Account: id, ExternalID: pe.JoinID, Establishment: uai,
			Profile: profile, Function: fn, DisplayName: pe.DisplayName, Details: details})
		p.accounts[pe.JoinID] = &planned{id: id, profile: profile, uai: uai, others: details.Establishments, open: true}
		p.opened[pe.JoinID] = true
		return
	}
	if uai != cur.Establishment && !p.registered(uai) {
		p.skip(pe, ReasonMoveUnregistered, uai, cur.Establishment)
		uai = cur.Establishment
	}
	details := p.details(pe, cur.Profile, uai, &cur)
	name := cur.DisplayName
	if pe.knows(aspName) && pe.DisplayName != "" {
		name = pe.DisplayName
	}
	fn := cur.Function
	if pe.knows(aspFunction) && cur.Profile == domain.ProfilePersonnel {
		fn = pe.Function
	}
	if uai != cur.Establishment || name != cur.DisplayName || fn != cur.Function || !details.Equal(cur.Details) {
		c := Change{Kind: UpdateAccount, Account: cur.ID, ExternalID: pe.JoinID, Establishment: uai,
			Profile: cur.Profile, Function: fn, DisplayName: name, Details: details}
		if name != cur.DisplayName {
			c.PreviousName = cur.DisplayName
			p.renamed[pe.JoinID] = true
		}
		p.add(c)
	}
	if cur.Missing {
		p.add(Change{Kind: MarkBackInFeed, Account: cur.ID, ExternalID: pe.JoinID, Establishment: uai,
			Reason: fmt.Sprintf("back in the feed (%s)", pe.Place)})
	}
	p.accounts[pe.JoinID] = &planned{id: cur.ID, profile: cur.Profile, uai: uai, others: details.Establishments, open: true, cur: &cur}
}

// details returns the details the feed gives a person's account whose main
// establishment is uai; what the record does not state is kept from cur.
// A relative's other establishments are their children's, planned later
// (planRelativeSchools).
func (p *planner) details(pe *Person, profile domain.Profile, uai string, cur *Account) domain.AccountDetails {
	var d domain.AccountDetails
	if cur != nil {
		d = cur.Details.Clone()
	}
	others := d.Establishments
	switch profile {
	case domain.ProfileStudent:
		d.Posts, others = nil, nil
		if pe.knows(aspMEF) {
			_, named := p.feed.mefs[pe.MEF]
			// Without the MefEducNat file, a MEF already known keeps the
			// label the nomenclature gave it.
			if pe.MEF == "" || pe.MEF != d.MEF || named {
				d.MEF, d.MEFLabel = pe.MEF, pe.MEFLabel
			}
		}
		if pe.knows(aspStudentID) {
			d.StudentID = pe.StudentID
		}
	case domain.ProfileTeacher, domain.ProfilePersonnel:
		d.MEF, d.MEFLabel, d.StudentID = "", "", ""
		if pe.knows(aspFunction) {
			d.Posts = p.posts(pe)
		}
		if pe.knows(aspEstablishment) || pe.knows(aspFunction) {
			// A record of the functions alone adds establishments and
			// removes none: which of the account's others its attachment
			// gave is not known. A record of the attachment says them all.
			if pe.knows(aspEstablishment) {
				others = nil
			}
			others = append(slices.Clone(others), pe.Others...)
			for _, s := range pe.otherStructs {
				others = append(others, p.structUAI(s))
			}
			for _, post := range d.Posts {
				others = append(others, post.Establishment)
			}
		}
	default:
		d.Posts, d.MEF, d.MEFLabel, d.StudentID = nil, "", "", ""
	}
	d.Establishments = p.otherEstablishments(others, uai)
	return d
}

// otherEstablishments returns the registered establishments of list but
// main, each once and sorted (nil when none).
func (p *planner) otherEstablishments(list []string, main string) []string {
	var out []string
	for _, uai := range list {
		if uai != "" && uai != main && p.registered(uai) && !slices.Contains(out, uai) {
			out = append(out, uai)
		}
	}
	slices.Sort(out)
	return out
}

// posts returns the functions a person's record gives, in the
// establishments they resolve to, sorted; those in a structure nobody
// lists are skipped, said so.
func (p *planner) posts(pe *Person) []domain.Post {
	var out []domain.Post
	for _, ref := range pe.Posts {
		uai := ref.UAI
		if uai == "" {
			if uai = p.structUAI(ref.Struct); uai == "" {
				p.skip(pe, ReasonPostUnknownStruct, ref.Code, ref.Struct)
				continue
			}
		}
		post := domain.Post{Establishment: uai, Code: ref.Code, Label: ref.Label, Discipline: ref.Discipline, DisciplineLabel: ref.DisciplineLabel}
		if !slices.Contains(out, post) {
			out = append(out, post)
		}
	}
	slices.SortFunc(out, func(a, b domain.Post) int {
		return cmp.Or(strings.Compare(a.Establishment, b.Establishment), strings.Compare(a.Code, b.Code),
			strings.Compare(a.Discipline, b.Discipline), strings.Compare(a.Label, b.Label))
	})
	return out
}

// planRelativeSchools gives relatives their children's establishments: the
// main one stays (or follows a child, planFollowers), the others are the
// relative's other establishments. The relatives concerned are those of
// the feed, and those its students link, unlink or keep.
func (p *planner) planRelativeSchools() {
	// children: relative join id -> the students it will be linked to, as
	// far as the plan changes them.
	children := make(map[string]map[string]bool)
	concern := func(rel string) map[string]bool {
		if children[rel] == nil {
			children[rel] = make(map[string]bool)
			if cur, ok := p.dir.Account(rel); ok {
				for _, child := range p.dir.ChildrenOf(cur.ID) {
					children[rel][child] = true
				}
			}
		}
		return children[rel]
	}
	for _, rel := range p.followers {
		concern(rel)
	}
	for _, pe := range p.feed.Persons {
		switch {
		case pe.Deleted:
		case pe.Category == CategoryRelative:
			concern(pe.JoinID)
		case pe.Category == CategoryStudent && pe.knows(aspRelatives):
			a := p.accounts[pe.JoinID]
			if a == nil || !a.open || a.frozen {
				continue
			}
			listed := make(map[string]bool)
			for _, ref := range pe.Relatives {
				listed[ref.JoinID] = true
				concern(ref.JoinID)[pe.JoinID] = true
			}
			if a.cur != nil {
				for _, r := range a.cur.Relatives {
					if r.ExternalID != "" && !listed[r.ExternalID] {
						delete(concern(r.ExternalID), pe.JoinID)
					}
				}
			}
		}
	}
	schoolOf := func(student string) string {
		if a, ok := p.accounts[student]; ok {
			if !a.open {
				return ""
			}
			return a.uai
		}
		if cur, ok := p.dir.Account(student); ok && !cur.Closed {
			return cur.Establishment
		}
		return ""
	}
	for _, rel := range slices.Sorted(maps.Keys(children)) {
		a := p.accounts[rel]
		cur, exists := p.dir.Account(rel)
		switch {
		case a != nil && (!a.open || a.frozen || a.profile != domain.ProfileRelative):
			continue
		case a == nil && (!exists || cur.Closed || cur.Profile != domain.ProfileRelative):
			continue
		}
		main := cur.Establishment
		if i, ok := p.updates[rel]; ok {
			main = p.changes[UpdateAccount][i].Establishment
		}
		if a != nil {
			main = a.uai
		}
		var schools []string
		for child := range children[rel] {
			schools = append(schools, schoolOf(child))
		}
		others := p.otherEstablishments(schools, main)
		if a != nil {
			a.others = others
		}
		if i, ok := p.opens[rel]; ok {
			p.changes[OpenAccount][i].Details.Establishments = others
			continue
		}
		if i, ok := p.updates[rel]; ok {
			p.changes[UpdateAccount][i].Details.Establishments = others
			continue
		}
		if exists && !slices.Equal(others, cur.Details.Establishments) {
			d := cur.Details.Clone()
			d.Establishments = others
			p.add(Change{Kind: UpdateAccount, Account: cur.ID, ExternalID: rel, Establishment: main,
				Profile: cur.Profile, Function: cur.Function, DisplayName: cur.DisplayName, Details: d})
		}
	}
}

// planFollowers moves relatives with their children. A relative whose
// establishment the feed does not state (a delta moves a child, and the
// relative is not in it) stays in their establishment while one of their
// children is there, and otherwise follows their first child.
func (p *planner) planFollowers() {
	var movers []string // students the plan moves
	for id, a := range p.accounts {
		if a.cur != nil && a.open && !a.frozen && a.profile == domain.ProfileStudent && a.uai != a.cur.Establishment {
			movers = append(movers, id)
		}
	}
	if len(movers) == 0 {
		return
	}
	// The children of each relative: as the directory links them, and as
	// the feed's students name them.
	children := make(map[uuid.UUID][]string)
	addChild := func(rel uuid.UUID, student string) {
		if !slices.Contains(children[rel], student) {
			children[rel] = append(children[rel], student)
		}
	}
	for acc := range p.dir.Accounts() {
		if acc.Profile == domain.ProfileStudent && !acc.Closed {
			for _, r := range acc.Relatives {
				addChild(r.Account, acc.ExternalID)
			}
		}
	}
	for _, pe := range p.feed.Persons {
		if pe.Category == CategoryStudent && pe.knows(aspRelatives) && !pe.Deleted {
			for _, ref := range pe.Relatives {
				addChild(AccountID(ref.JoinID), pe.JoinID)
			}
		}
	}
	schoolOf := func(student string) string {
		if a, ok := p.accounts[student]; ok {
			return a.uai
		}
		if cur, ok := p.dir.Account(student); ok && !cur.Closed {
			return cur.Establishment
		}
		return ""
	}
	seen := make(map[string]bool)
	slices.Sort(movers)
	for _, student := range movers {
		cur, _ := p.dir.Account(student)
		for _, r := range cur.Relatives {
			rel, ok := p.dir.Account(r.ExternalID)
			if !ok || r.ExternalID == "" || seen[r.ExternalID] || p.stated[r.ExternalID] || p.left[r.ExternalID] ||
				rel.Closed || rel.Profile != domain.ProfileRelative {
				continue
			}
			seen[r.ExternalID] = true
			var schools []string
			for _, child := range children[rel.ID] {
				if uai := schoolOf(child); uai != "" && !slices.Contains(schools, uai) {
					schools = append(schools, uai)
				}
			}
			if len(schools) == 0 || slices.Contains(schools, rel.Establishment) {
				continue
			}
			slices.Sort(schools)
			target := schools[0]
			if i, ok := p.updates[r.ExternalID]; ok {
				p.changes[UpdateAccount][i].Establishment = target
			} else {
				p.add(Change{Kind: UpdateAccount, Account: rel.ID, ExternalID: rel.ExternalID, Establishment: target,
					Profile: rel.Profile, Function: rel.Function, DisplayName: rel.DisplayName, Details: rel.Details.Clone()})
			}
			if a, ok := p.accounts[r.ExternalID]; ok {
				a.uai = target
			}
			p.followers = append(p.followers, r.ExternalID)
		}
	}
}

// memberAspects are the membership aspects of each profile.
var memberAspects = map[domain.Profile][]aspect{
	domain.ProfileStudent:   {aspStudentClasses, aspStudentGroups},
	domain.ProfileTeacher:   {aspTeachClasses, aspTeachGroups, aspHeadOf},
	domain.ProfilePersonnel: {aspTeachClasses, aspTeachGroups, aspHeadOf},
}

type roleKey struct {
	group uuid.UUID
	role  domain.Role
}

// planMemberships plans the joins and leaves that make the person's
// memberships, in each aspect the record states, what the feed says.
func (p *planner) planMemberships(pe *Person, a *planned) {
	var stated aspect
	for _, asp := range memberAspects[a.profile] {
		if pe.knows(asp) {
			stated |= asp
		}
	}
	if stated == 0 {
		return
	}
	current := make(map[roleKey]AccountMembership)
	var had []AccountMembership
	if a.cur != nil {
		for _, m := range a.cur.Memberships {
			if stated&membershipAspect(m.Group.Kind, m.Role) != 0 {
				current[roleKey{m.Group.ID, m.Role}] = m
				had = append(had, m)
			}
		}
	}
	var unresolved aspect
	for _, m := range pe.Memberships {
		asp := membershipAspect(m.Kind, m.Role)
		if stated&asp == 0 {
			continue
		}
		switch {
		case m.UAI != "":
		case m.Struct == "":
			m.UAI = a.uai
		default:
			m.UAI = p.structUAI(m.Struct)
		}
		if m.UAI == "" {
			// Not knowing the group, the import cannot tell which of the
			// current memberships to leave either.
			unresolved |= asp
			if is, ok := p.feed.rejectedStructs[m.Struct]; ok {
				p.skip(pe, ReasonGroupRejectedStruct, m.Name, m.Struct, is.Place.String())
			} else {
				p.skip(pe, ReasonGroupUnknownStruct, m.Name, m.Struct)
			}
			continue
		}
		if m.UAI != a.uai && !slices.Contains(a.others, m.UAI) {
			p.skip(pe, ReasonGroupOtherSchool, m.Name, m.UAI, a.uai, m.UAI)
			continue
		}
		if !p.registered(m.UAI) {
			continue // skipped with the account
		}
		gid := p.groupID(m.UAI, m.Kind, m.Name)
		k := roleKey{gid, m.Role}
		cm, had := current[k]
		delete(current, k) // kept: no leave
		subject := p.subjectWords(m)
		switch {
		case had && cm.Subject == subject && slices.Equal(cm.SubjectCodes, m.SubjectCodes):
			continue
		case had && len(m.SubjectCodes) > 0 && slices.Equal(cm.SubjectCodes, m.SubjectCodes) && subject == strings.Join(m.SubjectCodes, ", "):
			// The same codes, whose labels nobody gives now: the words
			// an earlier import found stay.
			continue
		}
		p.add(Change{Kind: JoinGroup, Account: a.id, ExternalID: pe.JoinID, Establishment: m.UAI,
			Group: gid, GroupKind: m.Kind, GroupName: m.Name, Role: m.Role, Subject: subject, SubjectCodes: m.SubjectCodes})
	}
	// What is left of current the feed no longer says.
	for _, m := range had {
		if unresolved&membershipAspect(m.Group.Kind, m.Role) != 0 {
			continue
		}
		if _, gone := current[roleKey{m.Group.ID, m.Role}]; gone && p.managed(m.Group) {
			p.add(Change{Kind: LeaveGroup, Account: a.id, ExternalID: pe.JoinID, Establishment: m.Group.Establishment,
				Group: m.Group.ID, GroupKind: m.Group.Kind, GroupName: m.Group.Name, Role: m.Role})
		}
	}
}

// subjectWords says a membership's subject in words: the labels of its
// codes (the import's MatiereEducNat files, else those earlier imports
// gave), a code itself when no label is known; or the words a CSV gave.
func (p *planner) subjectWords(m Membership) string {
	if len(m.SubjectCodes) == 0 {
		return m.Subject
	}
	words := make([]string, 0, len(m.SubjectCodes))
	labelled := false
	for _, c := range m.SubjectCodes {
		w, ok := p.feed.subjects[c]
		if !ok {
			w, ok = p.dir.SubjectLabel(c)
		}
		if !ok {
			w = c
		}
		labelled = labelled || ok
		if !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	if labelled {
		slices.Sort(words)
	}
	return strings.Join(words, ", ")
}

// planRelatives plans the links and unlinks that make a student's relatives
// what the feed says.
func (p *planner) planRelatives(pe *Person, a *planned) {
	if a.profile != domain.ProfileStudent || !pe.knows(aspRelatives) {
		return
	}
	current := make(map[uuid.UUID]AccountRelative)
	if a.cur != nil {
		for _, r := range a.cur.Relatives {
			current[r.Account] = r
		}
	}
	desired := make(map[uuid.UUID]domain.RelativeLink)
	var order []uuid.UUID
	ext := make(map[uuid.UUID]string)
	for _, ref := range pe.Relatives {
		rel := p.resolve(ref.JoinID)
		switch {
		case rel == nil && p.present[ref.JoinID]:
			p.skip(pe, ReasonRelativeNotApplied, ref.JoinID)
			continue
		case rel == nil:
			p.skip(pe, ReasonRelativeUnknown, ref.JoinID)
			continue
		case !rel.open:
			p.skip(pe, ReasonRelativeClosed, ref.JoinID)
			continue
		case rel.profile != domain.ProfileRelative:
			p.skip(pe, ReasonRelativeNotARelative, ref.JoinID)
			continue
		}
		link, seen := desired[rel.id]
		if !seen {
			order = append(order, rel.id)
			link = domain.RelativeLink{Relation: ref.Relation, LegalRank: ref.LegalRank, Financial: ref.Financial, Contact: ref.Contact}
		}
		link.LegalGuardian = link.LegalGuardian || ref.LegalGuardian
		desired[rel.id] = link
		ext[rel.id] = ref.JoinID
	}
	for _, id := range order {
		l := desired[id]
		if r, ok := current[id]; ok && r.RelativeLink == l {
			continue
		}
		p.add(Change{Kind: LinkRelative, Account: a.id, ExternalID: pe.JoinID, Establishment: a.uai,
			Relative: id, RelativeExternalID: ext[id], LegalGuardian: l.LegalGuardian, Relation: l.Relation,
			LegalRank: l.LegalRank, Financial: l.Financial, Contact: l.Contact})
	}
	var gone []AccountRelative
	for id, r := range current {
		if _, keep := desired[id]; !keep {
			gone = append(gone, r)
		}
	}
	slices.SortFunc(gone, func(x, y AccountRelative) int {
		return strings.Compare(x.ExternalID+x.Account.String(), y.ExternalID+y.Account.String())
	})
	for _, r := range gone {
		p.add(Change{Kind: UnlinkRelative, Account: a.id, ExternalID: pe.JoinID, Establishment: a.uai,
			Relative: r.Account, RelativeExternalID: r.ExternalID})
	}
}

// resolve returns the planned account of a join id: from the feed, or the
// directory for persons the feed does not list.
func (p *planner) resolve(joinID string) *planned {
	if a, ok := p.accounts[joinID]; ok {
		if p.deleted[joinID] {
			return &planned{id: a.id, profile: a.profile, uai: a.uai}
		}
		return a
	}
	cur, ok := p.dir.Account(joinID)
	if !ok {
		return nil
	}
	a := &planned{id: cur.ID, profile: cur.Profile, uai: cur.Establishment, open: !cur.Closed && !cur.Missing}
	p.accounts[joinID] = a
	return a
}

func (p *planner) flag(a Account, reason string) {
	p.flagged[a.ExternalID] = true
	p.add(Change{Kind: FlagMissing, Account: a.ID, ExternalID: a.ExternalID, Establishment: a.Establishment,
		Profile: a.Profile, DisplayName: a.DisplayName, Reason: reason})
}

// planMissing flags the accounts a full feed no longer lists: accounts of
// the profiles its files cover, in the establishments it covers.
func (p *planner) planMissing() {
	profiles := p.feed.profiles
	uais := make(map[string]bool)
	for _, e := range p.feed.Establishments {
		uais[e.UAI] = true
	}
	for id, a := range p.accounts {
		if p.present[id] && a.uai != "" {
			uais[a.uai] = true
		}
	}
	reason := "absent from the full feed"
	for a := range p.dir.Accounts() {
		if a.Closed || a.Missing || p.present[a.ExternalID] || p.deleted[a.ExternalID] || p.feed.rejectedIDs[a.ExternalID] {
			continue
		}
		if profiles[a.Profile] && uais[a.Establishment] {
			p.flag(a, reason)
		}
	}
}

// planClosings closes the accounts flagged missing for longer than the
// grace period, and takes them out of their groups.
func (p *planner) planClosings() {
	for a := range p.dir.Accounts() {
		if a.Closed || p.present[a.ExternalID] || p.feed.rejectedIDs[a.ExternalID] {
			continue
		}
		since := a.MissingSince
		switch {
		case a.Missing:
		case p.flagged[a.ExternalID]:
			since = p.now
		default:
			continue
		}
		if p.now.Sub(since) < p.grace {
			continue
		}
		if p.flagged[a.ExternalID] {
			p.closedNow[a.ExternalID] = true
		}
		for _, m := range a.Memberships {
			p.add(Change{Kind: LeaveGroup, Account: a.ID, ExternalID: a.ExternalID, Establishment: m.Group.Establishment,
				Group: m.Group.ID, GroupKind: m.Group.Kind, GroupName: m.Group.Name, Role: m.Role})
		}
		p.add(Change{Kind: CloseAccount, Account: a.ID, ExternalID: a.ExternalID, Establishment: a.Establishment,
			Profile: a.Profile, DisplayName: a.DisplayName,
			Reason: fmt.Sprintf("missing from the feed since %s, grace %s over", since.UTC().Format(time.DateOnly), p.grace)})
	}
}
