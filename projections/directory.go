package projections

// directory.v1: who is who, and who is linked to whom. The HTTP layer
// authorizes with it (a parent reads only their children, a teacher only
// their groups), so every question it answers is one point lookup.
//
// Collections (key -> document):
//
//	establishments       UAI -> EstablishmentEntry (name, kind, département,
//	                     justification reasons, feed key)
//	accounts             account id -> AccountEntry: profile, function,
//	                     establishment, other establishments, posts (the
//	                     feed's functions and disciplines), MEF (students),
//	                     display name, external id, activated, closed,
//	                     habilitations; Relatives (of a student: relation,
//	                     legal rank, financial, contact), Children (of a
//	                     relative), Groups (memberships of any account: a
//	                     student's classes, a teacher's groups with the
//	                     subject taught, each with the group's label)
//	external_ids         external id -> {"account": id} (directory import)
//	identities           "provider|subject" -> {"account": id}: the external
//	                     identities linked to accounts (single sign-on)
//	student_ids          "UAI|student id|account id" -> {"account": id}: the
//	                     students by their id in the school's software
//	                     (ÉduConnect's FrEduVecteur names them by it)
//	groups               group id -> GroupEntry: establishment, kind, name,
//	                     members by role (with display names), timetable
//	                     entries sorted by weekday and slot
//	establishment_groups "UAI|group id" -> GroupSummary (groups of an
//	                     establishment: one range scan)
//	timetable            "UAI|weekday|HH:MM|entry id" -> TimetableEntry (the
//	                     lessons of an establishment on a weekday: one range
//	                     scan; the school-life office uses it)
//	teacher_timetable    "teacher id|weekday|HH:MM|entry id" -> TimetableEntry
//	                     (a teacher's lessons on a weekday)
//	services, establishment_services, service_hosts: the registered
//	                     services (services.go)
//
// Weekday is Go's time.Weekday as one digit (0 Sunday .. 6 Saturday). Display
// names are copied into links and group members and kept up to date on
// account.updated.v1, so that a group's roll-call sheet is one read; group
// labels are copied into memberships and timetable entries and kept up to
// date on group.labelled.v1.

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/visibility"
)

// ProjectionDirectory is the persisted name of the directory read model.
const ProjectionDirectory = "directory.v1"

// Collections of directory.v1.
const (
	dirEstablishments      = "establishments"
	dirAccounts            = "accounts"
	dirExternalIDs         = "external_ids"
	dirGroups              = "groups"
	dirEstablishmentGroups = "establishment_groups"
	dirTimetable           = "timetable"
	dirTeacherTimetable    = "teacher_timetable"
	dirIdentities          = "identities"
	dirStudentIDs          = "student_ids"
)

// directoryCollections lists the collections of directory.v1 (tests dump
// them).
var directoryCollections = []string{
	dirAccounts, dirEstablishmentGroups, dirEstablishments, dirExternalIDs,
	dirGroups, dirIdentities, dirStudentIDs, dirTeacherTimetable, dirTimetable,
	dirServices, dirEstablishmentServices, dirServiceHosts,
}

// EstablishmentEntry is an establishment of the directory.
type EstablishmentEntry struct {
	UAI         string                       `json:"uai"`
	Name        string                       `json:"name"`
	Kind        domain.EstablishmentKind     `json:"kind"`
	Departement string                       `json:"departement"`
	Reasons     []domain.JustificationReason `json:"reasons"`
	// FeedKey is the id the directory feeds give the establishment.
	FeedKey string `json:"feed_key,omitempty"`
}

// AccountEntry is an account of the directory.
type AccountEntry struct {
	ID            uuid.UUID       `json:"id"`
	Establishment string          `json:"establishment,omitempty"`
	Profile       domain.Profile  `json:"profile"`
	Function      domain.Function `json:"function,omitempty"`
	// Establishments are the account's other establishments.
	Establishments []string `json:"establishments,omitempty"`
	// Posts are the functions a feed gives (codes, labels, disciplines).
	Posts []domain.Post `json:"posts,omitempty"`
	// MEF and MEFLabel: a student's course of study and year (or level).
	MEF      string `json:"mef,omitempty"`
	MEFLabel string `json:"mef_label,omitempty"`
	// StudentID is a student's id in the school's software.
	StudentID     string   `json:"student_id,omitempty"`
	ExternalID    string   `json:"external_id,omitempty"`
	DisplayName   string   `json:"display_name"`
	Activated     bool     `json:"activated"`
	Closed        bool     `json:"closed"`
	Habilitations []string `json:"habilitations,omitempty"`
	// Relatives of a student, sorted by account id.
	Relatives []AccountLink `json:"relatives,omitempty"`
	// Children of a relative, sorted by account id.
	Children []AccountLink `json:"children,omitempty"`
	// Groups the account belongs to, in any role, sorted by group name.
	Groups []Membership `json:"groups,omitempty"`
	// Identities are the external identities linked to the account, sorted
	// by provider and subject.
	Identities []IdentityRef `json:"identities,omitempty"`
}

// IdentityRef is an external identity linked to an account.
type IdentityRef struct {
	Provider  string               `json:"provider"`
	Subject   string               `json:"subject"`
	How       domain.IdentityMatch `json:"how"`
	Attribute string               `json:"attribute,omitempty"`
}

// HasChild reports whether student is a child of this (relative's)
// account.
func (a *AccountEntry) HasChild(student uuid.UUID) bool {
	return slices.ContainsFunc(a.Children, func(l AccountLink) bool { return l.Account == student })
}

// InGroup reports whether the account holds one of roles in group (any role
// when none is given).
func (a *AccountEntry) InGroup(group uuid.UUID, roles ...domain.Role) bool {
	return slices.ContainsFunc(a.Groups, func(m Membership) bool {
		return m.Group == group && (len(roles) == 0 || slices.Contains(roles, m.Role))
	})
}

// Viewer returns the account as the visibility rules see a signed-in
// account.
func (a *AccountEntry) Viewer() visibility.Viewer {
	v := visibility.Viewer{
		Actor: domain.Actor{
			Account: a.ID, Profile: a.Profile, Function: a.Function,
			Establishment: a.Establishment, Establishments: a.Establishments, Habilitations: a.Habilitations,
		},
		Closed: a.Closed,
		Groups: a.memberships(),
	}
	if len(a.Children) > 0 {
		v.Children = make([]uuid.UUID, len(a.Children))
		for i, c := range a.Children {
			v.Children[i] = c.Account
		}
	}
	return v
}

// Person returns the account as what the visibility rules decide on
// (a student's file, a teacher's page, a directory entry).
func (a *AccountEntry) Person() visibility.Person {
	return visibility.Person{ID: a.ID, Establishment: a.Establishment, Groups: a.memberships()}
}

func (a *AccountEntry) memberships() []visibility.Membership {
	if len(a.Groups) == 0 {
		return nil
	}
	ms := make([]visibility.Membership, len(a.Groups))
	for i, m := range a.Groups {
		ms[i] = visibility.Membership{Group: m.Group, Role: m.Role}
	}
	return ms
}

// ShownMEF returns the label of the account's MEF, else its code.
func (a *AccountEntry) ShownMEF() string { return cmp.Or(a.MEFLabel, a.MEF) }

// AccountLink links a student and a relative.
type AccountLink struct {
	Account       uuid.UUID       `json:"account"`
	DisplayName   string          `json:"display_name"`
	LegalGuardian bool            `json:"legal_guardian"`
	Relation      domain.Relation `json:"relation,omitempty"`
	LegalRank     int             `json:"legal_rank,omitempty"`
	Financial     bool            `json:"financial,omitempty"`
	Contact       bool            `json:"contact,omitempty"`
}

// Membership is an account's role in a group. Name is the group's code,
// Label what pages show when it differs (see Shown).
type Membership struct {
	Group   uuid.UUID        `json:"group"`
	Name    string           `json:"name"`
	Label   string           `json:"label,omitempty"`
	Kind    domain.GroupKind `json:"kind"`
	Role    domain.Role      `json:"role"`
	Subject string           `json:"subject,omitempty"`
}

// Shown returns the group's label, else its name.
func (m Membership) Shown() string { return cmp.Or(m.Label, m.Name) }

// Teaching reports whether the membership is a teacher's.
func (m Membership) Teaching() bool {
	return m.Role == domain.RoleTeacher || m.Role == domain.RoleHeadTeacher
}

// GroupEntry is a class or teaching group of the directory.
type GroupEntry struct {
	ID            uuid.UUID        `json:"id"`
	Establishment string           `json:"establishment"`
	Kind          domain.GroupKind `json:"kind"`
	Name          string           `json:"name"`
	Label         string           `json:"label,omitempty"`
	// Members by role, each sorted by display name.
	Members map[domain.Role][]GroupMember `json:"members"`
	// Timetable entries sorted by weekday, slot start and entry id.
	Timetable []TimetableEntry `json:"timetable"`
}

// Shown returns the group's label, else its name.
func (g *GroupEntry) Shown() string { return cmp.Or(g.Label, g.Name) }

// Has reports whether account holds role in the group.
func (g *GroupEntry) Has(account uuid.UUID, role domain.Role) bool {
	return slices.ContainsFunc(g.Members[role], func(m GroupMember) bool { return m.Account == account })
}

// Teaches reports whether account teaches the group.
func (g *GroupEntry) Teaches(account uuid.UUID) bool {
	return g.Has(account, domain.RoleTeacher) || g.Has(account, domain.RoleHeadTeacher)
}

// Resource returns the group as what the visibility rules decide on.
func (g *GroupEntry) Resource() visibility.Group {
	r := visibility.Group{ID: g.ID, Establishment: g.Establishment}
	for role, ms := range g.Members {
		for _, m := range ms {
			r.Members = append(r.Members, visibility.Member{Account: m.Account, Role: role})
		}
	}
	return r
}

// GroupMember is an account in a group role.
type GroupMember struct {
	Account     uuid.UUID `json:"account"`
	DisplayName string    `json:"display_name"`
	Subject     string    `json:"subject,omitempty"`
}

// GroupSummary is a group in its establishment's list.
type GroupSummary struct {
	ID    uuid.UUID        `json:"id"`
	Kind  domain.GroupKind `json:"kind"`
	Name  string           `json:"name"`
	Label string           `json:"label,omitempty"`
}

// Shown returns the group's label, else its name.
func (g GroupSummary) Shown() string { return cmp.Or(g.Label, g.Name) }

// TimetableEntry is a weekly lesson of a group's timetable.
type TimetableEntry struct {
	Entry uuid.UUID `json:"entry"`
	Group uuid.UUID `json:"group"`
	// GroupName is what pages show of the group: its label, else its
	// name.
	GroupName     string       `json:"group_name"`
	Establishment string       `json:"establishment"`
	Weekday       time.Weekday `json:"weekday"`
	Slot          domain.Slot  `json:"slot"`
	Subject       string       `json:"subject"`
	Teacher       uuid.UUID    `json:"teacher"`
	From          domain.Date  `json:"from"`
	Until         domain.Date  `json:"until"`
}

// On reports whether the entry holds a lesson on day d.
func (e TimetableEntry) On(d domain.Date) bool {
	return d.Weekday() == e.Weekday && !d.Before(e.From) && !d.After(e.Until)
}

// Lesson returns the id of the entry's lesson on day d.
func (e TimetableEntry) Lesson(d domain.Date) uuid.UUID { return domain.LessonID(e.Group, d, e.Slot) }

// externalRef is a document of external_ids.
type externalRef struct {
	Account uuid.UUID `json:"account"`
}

type directory struct{}

// NewDirectory returns the reducer of directory.v1.
func NewDirectory() Reducer { return directory{} }

func (directory) Name() string { return ProjectionDirectory }

// Collections lists the collections the reducer writes.
func (directory) Collections() []string { return slices.Clone(directoryCollections) }

// Prefetch names the accounts and groups an event edits.
func (directory) Prefetch(_ context.Context, _ *Batch, _ domain.Record, e domain.Event, want func(coll, key string)) {
	switch e := e.(type) {
	case domain.EstablishmentFeedKeyRecorded:
		want(dirEstablishments, e.UAI)
	case domain.GroupLabelled:
		want(dirGroups, e.Group.String())
	case domain.AccountUpdated:
		want(dirAccounts, e.Account.String())
	case domain.AccountActivated:
		want(dirAccounts, e.Account.String())
	case domain.AccountClosed:
		want(dirAccounts, e.Account.String())
	case domain.InspectorHabilitated:
		want(dirAccounts, e.Account.String())
	case domain.IdentityLinked:
		want(dirAccounts, e.Account.String())
	case domain.IdentityUnlinked:
		want(dirAccounts, e.Account.String())
	case domain.RelativeLinked:
		want(dirAccounts, e.Student.String())
		want(dirAccounts, e.Relative.String())
	case domain.RelativeUnlinked:
		want(dirAccounts, e.Student.String())
		want(dirAccounts, e.Relative.String())
	case domain.MemberJoined:
		want(dirGroups, e.Group.String())
		want(dirAccounts, e.Account.String())
	case domain.MemberLeft:
		want(dirGroups, e.Group.String())
		want(dirAccounts, e.Account.String())
	case domain.LessonScheduled:
		want(dirGroups, e.Group.String())
	case domain.LessonUnscheduled:
		want(dirGroups, e.Group.String())
	default:
		dirPrefetchService(e, want)
	}
}

func (directory) Apply(ctx context.Context, b *Batch, _ domain.Record, e domain.Event) error {
	switch e := e.(type) {
	case domain.EstablishmentRegistered:
		b.Put(dirEstablishments, e.UAI, &EstablishmentEntry{
			UAI: e.UAI, Name: e.Name, Kind: e.Kind, Departement: e.Departement, Reasons: e.Reasons,
		})
	case domain.EstablishmentFeedKeyRecorded:
		est, ok, err := Get[EstablishmentEntry](ctx, b, dirEstablishments, e.UAI)
		if err != nil || !ok {
			return err
		}
		est.FeedKey = e.FeedKey
		b.Put(dirEstablishments, e.UAI, est)
	case domain.AccountOpened:
		a := &AccountEntry{
			ID: e.Account, Establishment: e.Establishment, Profile: e.Profile, Function: e.Function,
			ExternalID: e.ExternalID, DisplayName: e.DisplayName,
		}
		a.setDetails(e.Details)
		b.Put(dirAccounts, e.Account.String(), a)
		dirIndexStudentID(b, a, "", "")
		if e.ExternalID != "" {
			b.Put(dirExternalIDs, e.ExternalID, &externalRef{Account: e.Account})
		}
	case domain.AccountUpdated:
		return dirUpdateAccount(ctx, b, e)
	case domain.AccountActivated:
		return dirEditAccount(ctx, b, e.Account, func(a *AccountEntry) { a.Activated = true })
	case domain.AccountClosed:
		return dirEditAccount(ctx, b, e.Account, func(a *AccountEntry) { a.Closed = true })
	case domain.InspectorHabilitated:
		return dirEditAccount(ctx, b, e.Account, func(a *AccountEntry) { a.Habilitations = slices.Clone(e.Establishments) })
	case domain.RelativeLinked:
		return dirLink(ctx, b, e)
	case domain.IdentityLinked:
		return dirLinkIdentity(ctx, b, e)
	case domain.IdentityUnlinked:
		b.Delete(dirIdentities, e.Provider+"|"+e.Subject)
		return dirEditAccount(ctx, b, e.Account, func(a *AccountEntry) {
			a.Identities = slices.DeleteFunc(a.Identities, func(r IdentityRef) bool { return r.Provider == e.Provider && r.Subject == e.Subject })
		})
	case domain.RelativeUnlinked:
		if err := dirEditAccount(ctx, b, e.Student, func(a *AccountEntry) { a.Relatives = dirRemoveLink(a.Relatives, e.Relative) }); err != nil {
			return err
		}
		return dirEditAccount(ctx, b, e.Relative, func(a *AccountEntry) { a.Children = dirRemoveLink(a.Children, e.Student) })
	case domain.GroupCreated:
		b.Put(dirGroups, e.Group.String(), &GroupEntry{
			ID: e.Group, Establishment: e.Establishment, Kind: e.Kind, Name: e.Name, Label: e.Label,
			Members: map[domain.Role][]GroupMember{}, Timetable: []TimetableEntry{},
		})
		b.Put(dirEstablishmentGroups, e.Establishment+"|"+e.Group.String(), &GroupSummary{ID: e.Group, Kind: e.Kind, Name: e.Name, Label: e.Label})
	case domain.GroupLabelled:
		return dirLabelGroup(ctx, b, e)
	case domain.MemberJoined:
		return dirJoin(ctx, b, e)
	case domain.MemberLeft:
		return dirLeave(ctx, b, e)
	case domain.LessonScheduled:
		return dirSchedule(ctx, b, e)
	case domain.LessonUnscheduled:
		return dirUnschedule(ctx, b, e)
	case domain.ServiceRegistered, domain.ServiceUnregistered:
		return dirApplyService(ctx, b, e)
	}
	return nil
}

// setDetails copies an event's account details.
func (a *AccountEntry) setDetails(d domain.AccountDetails) {
	d = d.Clone()
	a.Establishments, a.Posts, a.MEF, a.MEFLabel = d.Establishments, d.Posts, d.MEF, d.MEFLabel
	a.StudentID = d.StudentID
}

// dirIndexStudentID moves a student's entry in student_ids from its old
// establishment and id to its current ones.
func dirIndexStudentID(b *Batch, a *AccountEntry, oldUAI, oldStudentID string) {
	if oldUAI == a.Establishment && oldStudentID == a.StudentID {
		return
	}
	if oldStudentID != "" {
		b.Delete(dirStudentIDs, oldUAI+"|"+oldStudentID+"|"+a.ID.String())
	}
	if a.StudentID != "" {
		b.Put(dirStudentIDs, a.Establishment+"|"+a.StudentID+"|"+a.ID.String(), &externalRef{Account: a.ID})
	}
}

// dirLinkIdentity records an external identity's link.
func dirLinkIdentity(ctx context.Context, b *Batch, e domain.IdentityLinked) error {
	b.Put(dirIdentities, e.Provider+"|"+e.Subject, &externalRef{Account: e.Account})
	return dirEditAccount(ctx, b, e.Account, func(a *AccountEntry) {
		a.Identities = slices.DeleteFunc(a.Identities, func(r IdentityRef) bool { return r.Provider == e.Provider && r.Subject == e.Subject })
		a.Identities = append(a.Identities, IdentityRef{Provider: e.Provider, Subject: e.Subject, How: e.How, Attribute: e.Attribute})
		slices.SortFunc(a.Identities, func(x, y IdentityRef) int {
			return cmp.Or(cmp.Compare(x.Provider, y.Provider), cmp.Compare(x.Subject, y.Subject))
		})
	})
}

// dirLabelGroup changes a group's label and its copies: its summary, its
// members' memberships, its timetable entries.
func dirLabelGroup(ctx context.Context, b *Batch, e domain.GroupLabelled) error {
	g, ok, err := Get[GroupEntry](ctx, b, dirGroups, e.Group.String())
	if err != nil || !ok {
		return err
	}
	g.Label = e.Label
	b.Put(dirEstablishmentGroups, g.Establishment+"|"+g.ID.String(), &GroupSummary{ID: g.ID, Kind: g.Kind, Name: g.Name, Label: g.Label})
	for i := range g.Timetable {
		g.Timetable[i].GroupName = g.Shown()
		entry := g.Timetable[i]
		est, teacher := dirTimetableKeys(entry)
		b.Put(dirTimetable, est, &entry)
		t := entry
		b.Put(dirTeacherTimetable, teacher, &t)
	}
	b.Put(dirGroups, g.ID.String(), g)
	var seen []uuid.UUID
	for _, role := range slices.Sorted(maps.Keys(g.Members)) {
		for _, m := range g.Members[role] {
			if slices.Contains(seen, m.Account) {
				continue
			}
			seen = append(seen, m.Account)
			err := dirEditAccount(ctx, b, m.Account, func(a *AccountEntry) {
				for i := range a.Groups {
					if a.Groups[i].Group == g.ID {
						a.Groups[i].Label = g.Label
					}
				}
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// dirEditAccount applies edit to an account's document if it exists.
func dirEditAccount(ctx context.Context, b *Batch, id uuid.UUID, edit func(*AccountEntry)) error {
	a, ok, err := Get[AccountEntry](ctx, b, dirAccounts, id.String())
	if err != nil || !ok {
		return err
	}
	edit(a)
	b.Put(dirAccounts, id.String(), a)
	return nil
}

// dirEditGroup applies edit to a group's document if it exists.
func dirEditGroup(ctx context.Context, b *Batch, id uuid.UUID, edit func(*GroupEntry)) error {
	g, ok, err := Get[GroupEntry](ctx, b, dirGroups, id.String())
	if err != nil || !ok {
		return err
	}
	if g.Members == nil {
		g.Members = map[domain.Role][]GroupMember{}
	}
	edit(g)
	b.Put(dirGroups, id.String(), g)
	return nil
}

// dirUpdateAccount changes an account and the copies of its display name.
func dirUpdateAccount(ctx context.Context, b *Batch, e domain.AccountUpdated) error {
	a, ok, err := Get[AccountEntry](ctx, b, dirAccounts, e.Account.String())
	if err != nil || !ok {
		return err
	}
	renamed := a.DisplayName != e.DisplayName
	oldUAI, oldStudentID := a.Establishment, a.StudentID
	a.Establishment, a.Function, a.DisplayName = e.Establishment, e.Function, e.DisplayName
	a.setDetails(e.Details)
	b.Put(dirAccounts, e.Account.String(), a)
	dirIndexStudentID(b, a, oldUAI, oldStudentID)
	if !renamed {
		return nil
	}
	rename := func(links []AccountLink) {
		for i := range links {
			if links[i].Account == e.Account {
				links[i].DisplayName = e.DisplayName
			}
		}
	}
	for _, r := range a.Relatives {
		if err := dirEditAccount(ctx, b, r.Account, func(rel *AccountEntry) { rename(rel.Children) }); err != nil {
			return err
		}
	}
	for _, c := range a.Children {
		if err := dirEditAccount(ctx, b, c.Account, func(child *AccountEntry) { rename(child.Relatives) }); err != nil {
			return err
		}
	}
	for _, m := range a.Groups {
		err := dirEditGroup(ctx, b, m.Group, func(g *GroupEntry) {
			members := g.Members[m.Role]
			for i := range members {
				if members[i].Account == e.Account {
					members[i].DisplayName = e.DisplayName
				}
			}
			dirSortMembers(members)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// dirLink records a relative link on both accounts.
func dirLink(ctx context.Context, b *Batch, e domain.RelativeLinked) error {
	student, _, err := Get[AccountEntry](ctx, b, dirAccounts, e.Student.String())
	if err != nil {
		return err
	}
	relative, _, err := Get[AccountEntry](ctx, b, dirAccounts, e.Relative.String())
	if err != nil {
		return err
	}
	link := AccountLink{LegalGuardian: e.LegalGuardian, Relation: e.Relation, LegalRank: e.LegalRank, Financial: e.Financial, Contact: e.Contact}
	if err := dirEditAccount(ctx, b, e.Student, func(a *AccountEntry) {
		l := link
		l.Account, l.DisplayName = e.Relative, relative.DisplayName
		a.Relatives = dirPutLink(a.Relatives, l)
	}); err != nil {
		return err
	}
	return dirEditAccount(ctx, b, e.Relative, func(a *AccountEntry) {
		l := link
		l.Account, l.DisplayName = e.Student, student.DisplayName
		a.Children = dirPutLink(a.Children, l)
	})
}

func dirPutLink(links []AccountLink, l AccountLink) []AccountLink {
	links = dirRemoveLink(links, l.Account)
	links = append(links, l)
	slices.SortFunc(links, func(a, b AccountLink) int { return uuidOrder(a.Account, b.Account) })
	return links
}

func dirRemoveLink(links []AccountLink, account uuid.UUID) []AccountLink {
	return slices.DeleteFunc(links, func(l AccountLink) bool { return l.Account == account })
}

// dirJoin records a membership on the group and on the account.
func dirJoin(ctx context.Context, b *Batch, e domain.MemberJoined) error {
	g, ok, err := Get[GroupEntry](ctx, b, dirGroups, e.Group.String())
	if err != nil {
		return err
	}
	acc, _, err := Get[AccountEntry](ctx, b, dirAccounts, e.Account.String())
	if err != nil {
		return err
	}
	if ok {
		if g.Members == nil {
			g.Members = map[domain.Role][]GroupMember{}
		}
		members := slices.DeleteFunc(g.Members[e.Role], func(m GroupMember) bool { return m.Account == e.Account })
		members = append(members, GroupMember{Account: e.Account, DisplayName: acc.DisplayName, Subject: e.Subject})
		dirSortMembers(members)
		g.Members[e.Role] = members
		b.Put(dirGroups, e.Group.String(), g)
	}
	return dirEditAccount(ctx, b, e.Account, func(a *AccountEntry) {
		a.Groups = dirRemoveMembership(a.Groups, e.Group, e.Role)
		a.Groups = append(a.Groups, Membership{Group: e.Group, Name: g.Name, Label: g.Label, Kind: g.Kind, Role: e.Role, Subject: e.Subject})
		slices.SortFunc(a.Groups, func(x, y Membership) int {
			return cmp.Or(strings.Compare(x.Name, y.Name), uuidOrder(x.Group, y.Group), strings.Compare(string(x.Role), string(y.Role)))
		})
	})
}

// dirLeave removes a membership from the group and from the account.
func dirLeave(ctx context.Context, b *Batch, e domain.MemberLeft) error {
	if err := dirEditGroup(ctx, b, e.Group, func(g *GroupEntry) {
		members := slices.DeleteFunc(g.Members[e.Role], func(m GroupMember) bool { return m.Account == e.Account })
		if len(members) == 0 {
			delete(g.Members, e.Role)
		} else {
			g.Members[e.Role] = members
		}
	}); err != nil {
		return err
	}
	return dirEditAccount(ctx, b, e.Account, func(a *AccountEntry) { a.Groups = dirRemoveMembership(a.Groups, e.Group, e.Role) })
}

func dirRemoveMembership(ms []Membership, group uuid.UUID, role domain.Role) []Membership {
	return slices.DeleteFunc(ms, func(m Membership) bool { return m.Group == group && m.Role == role })
}

func dirSortMembers(ms []GroupMember) {
	slices.SortFunc(ms, func(a, b GroupMember) int {
		return cmp.Or(strings.Compare(a.DisplayName, b.DisplayName), uuidOrder(a.Account, b.Account))
	})
}

// dirSchedule adds a timetable entry to its group and to the two timetable
// indexes.
func dirSchedule(ctx context.Context, b *Batch, e domain.LessonScheduled) error {
	g, ok, err := Get[GroupEntry](ctx, b, dirGroups, e.Group.String())
	if err != nil || !ok {
		return err
	}
	entry := TimetableEntry{
		Entry: e.Entry, Group: e.Group, GroupName: g.Shown(), Establishment: g.Establishment,
		Weekday: e.Weekday, Slot: e.Slot, Subject: e.Subject, Teacher: e.Teacher, From: e.From, Until: e.Until,
	}
	if i := slices.IndexFunc(g.Timetable, func(t TimetableEntry) bool { return t.Entry == e.Entry }); i >= 0 {
		dirDeleteTimetableIndexes(b, g.Timetable[i])
		g.Timetable = slices.Delete(g.Timetable, i, i+1)
	}
	g.Timetable = append(g.Timetable, entry)
	slices.SortFunc(g.Timetable, func(x, y TimetableEntry) int {
		return cmp.Or(cmp.Compare(x.Weekday, y.Weekday), strings.Compare(x.Slot.Start, y.Slot.Start), uuidOrder(x.Entry, y.Entry))
	})
	b.Put(dirGroups, e.Group.String(), g)
	est, teacher := dirTimetableKeys(entry)
	b.Put(dirTimetable, est, &entry)
	t := entry
	b.Put(dirTeacherTimetable, teacher, &t)
	return nil
}

func dirUnschedule(ctx context.Context, b *Batch, e domain.LessonUnscheduled) error {
	return dirEditGroup(ctx, b, e.Group, func(g *GroupEntry) {
		g.Timetable = slices.DeleteFunc(g.Timetable, func(t TimetableEntry) bool {
			if t.Entry != e.Entry {
				return false
			}
			dirDeleteTimetableIndexes(b, t)
			return true
		})
	})
}

func dirDeleteTimetableIndexes(b *Batch, t TimetableEntry) {
	est, teacher := dirTimetableKeys(t)
	b.Delete(dirTimetable, est)
	b.Delete(dirTeacherTimetable, teacher)
}

// dirTimetableKeys returns the keys of an entry in timetable and
// teacher_timetable.
func dirTimetableKeys(t TimetableEntry) (establishment, teacher string) {
	rest := "|" + dirWeekdayPrefix(t.Weekday) + t.Slot.Start + "|" + t.Entry.String()
	return t.Establishment + rest, t.Teacher.String() + rest
}

// dirWeekdayPrefix is the weekday part of a timetable key, separator
// included.
func dirWeekdayPrefix(d time.Weekday) string { return strconv.Itoa(int(d)) + "|" }

// uuidOrder orders ids as their string forms do.
func uuidOrder(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

// Queries of directory.v1.

func (q *Queries) directory(ctx context.Context) (DocReader, error) {
	return q.reader(ctx, ProjectionDirectory)
}

// Establishment returns an establishment (domain.ErrUnknownEstablishment if
// there is none).
func (q *Queries) Establishment(ctx context.Context, uai string) (*EstablishmentEntry, error) {
	return dirGet[EstablishmentEntry](ctx, q, dirEstablishments, uai, domain.ErrUnknownEstablishment)
}

// Establishments returns every establishment, sorted by UAI.
func (q *Queries) Establishments(ctx context.Context) ([]EstablishmentEntry, error) {
	l, err := q.EstablishmentsPage(ctx, Page{})
	return l.Items, err
}

// EstablishmentsPage returns a page of the establishments, sorted by UAI.
func (q *Queries) EstablishmentsPage(ctx context.Context, p Page) (List[EstablishmentEntry], error) {
	r, err := q.directory(ctx)
	if err != nil {
		return List[EstablishmentEntry]{}, err
	}
	return scanPage[EstablishmentEntry](ctx, r, dirEstablishments, "", "", "", p, nil)
}

// Account returns an account (domain.ErrUnknownAccount if there is none).
func (q *Queries) Account(ctx context.Context, id uuid.UUID) (*AccountEntry, error) {
	return dirGet[AccountEntry](ctx, q, dirAccounts, id.String(), domain.ErrUnknownAccount)
}

// AccountByExternalID returns the account imported with an external id
// (domain.ErrUnknownAccount if there is none).
func (q *Queries) AccountByExternalID(ctx context.Context, external string) (*AccountEntry, error) {
	ref, err := dirGet[externalRef](ctx, q, dirExternalIDs, external, domain.ErrUnknownAccount)
	if err != nil {
		return nil, err
	}
	return q.Account(ctx, ref.Account)
}

// AccountByIdentity returns the account an external identity is linked to
// (domain.ErrUnknownAccount if there is none).
func (q *Queries) AccountByIdentity(ctx context.Context, provider, subject string) (*AccountEntry, error) {
	ref, err := dirGet[externalRef](ctx, q, dirIdentities, provider+"|"+subject, domain.ErrUnknownAccount)
	if err != nil {
		return nil, err
	}
	return q.Account(ctx, ref.Account)
}

// StudentsByID returns the students of establishment uai whose id in the
// school's software is studentID (none, one, or several when a feed gave
// the same id twice).
func (q *Queries) StudentsByID(ctx context.Context, uai, studentID string) ([]AccountEntry, error) {
	r, err := q.directory(ctx)
	if err != nil {
		return nil, err
	}
	var refs []uuid.UUID
	prefix := uai + "|" + studentID + "|"
	err = ScanJSON(ctx, r, dirStudentIDs, prefix, PrefixEnd(prefix), func(_ string, ref externalRef) error {
		refs = append(refs, ref.Account)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []AccountEntry
	for _, id := range refs {
		a, err := q.Account(ctx, id)
		if errors.Is(err, domain.ErrUnknownAccount) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, nil
}

// Group returns a group (domain.ErrUnknownGroup if there is none).
func (q *Queries) Group(ctx context.Context, id uuid.UUID) (*GroupEntry, error) {
	return dirGet[GroupEntry](ctx, q, dirGroups, id.String(), domain.ErrUnknownGroup)
}

// ChildrenOf returns the students a relative is linked to (none for an
// unknown account).
func (q *Queries) ChildrenOf(ctx context.Context, relative uuid.UUID) ([]AccountLink, error) {
	a, err := q.Account(ctx, relative)
	if errors.Is(err, domain.ErrUnknownAccount) {
		return []AccountLink{}, nil
	}
	if err != nil {
		return nil, err
	}
	return append([]AccountLink{}, a.Children...), nil
}

// GroupsOf returns an account's memberships, as student or teacher (none
// for an unknown account).
func (q *Queries) GroupsOf(ctx context.Context, account uuid.UUID) ([]Membership, error) {
	a, err := q.Account(ctx, account)
	if errors.Is(err, domain.ErrUnknownAccount) {
		return []Membership{}, nil
	}
	if err != nil {
		return nil, err
	}
	return append([]Membership{}, a.Groups...), nil
}

// GroupsOfEstablishment lists an establishment's groups, sorted by name.
func (q *Queries) GroupsOfEstablishment(ctx context.Context, uai string) ([]GroupSummary, error) {
	l, err := q.GroupsOfEstablishmentPage(ctx, uai, Page{})
	return l.Items, err
}

// GroupsOfEstablishmentPage returns a page of an establishment's groups,
// sorted by name (and id).
func (q *Queries) GroupsOfEstablishmentPage(ctx context.Context, uai string, p Page) (List[GroupSummary], error) {
	r, err := q.directory(ctx)
	if err != nil {
		return List[GroupSummary]{}, err
	}
	page, err := newSorted[GroupSummary](p)
	if err != nil {
		return List[GroupSummary]{}, err
	}
	prefix := uai + "|"
	err = ScanJSON(ctx, r, dirEstablishmentGroups, prefix, PrefixEnd(prefix), func(_ string, g GroupSummary) error {
		page.add(g.Name+"\x00"+g.ID.String(), g)
		return nil
	})
	return page.list(), err
}

// lessonsOn returns the timetable entries of coll under owner (an
// establishment or a teacher) that hold a lesson on day d, by slot.
func (q *Queries) lessonsOn(ctx context.Context, coll, owner string, d domain.Date) ([]TimetableEntry, error) {
	r, err := q.directory(ctx)
	if err != nil {
		return nil, err
	}
	prefix := owner + "|" + dirWeekdayPrefix(d.Weekday())
	var out []TimetableEntry
	err = ScanJSON(ctx, r, coll, prefix, PrefixEnd(prefix), func(_ string, e TimetableEntry) error {
		if e.On(d) {
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// dirGet reads one directory document, or returns notFound.
func dirGet[T any](ctx context.Context, q *Queries, coll, key string, notFound *domain.Error) (*T, error) {
	r, err := q.directory(ctx)
	if err != nil {
		return nil, err
	}
	v := new(T)
	ok, err := GetJSON(ctx, r, coll, key, v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.Errorf(notFound, "%s", key)
	}
	return v, nil
}
