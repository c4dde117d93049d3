package web

// Who may read what: the visibility rules (domain/visibility) applied to
// queries, one function per kind of resource, each turning a refusal into
// the API's error. Writes are not here: the command layer authorizes them
// and returns domain errors.

import (
	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/visibility"
	"github.com/schoollife/ledger/projections"
)

// forbidden is the error of every refusal below.
func forbidden(format string, args ...any) error {
	return domain.Errorf(domain.ErrForbidden, format, args...)
}

// viewer is the signed-in account as the visibility rules see it: the
// request's actor with the directory's links.
func (p *Principal) viewer() *visibility.Viewer {
	v := p.account.Viewer()
	v.Actor = p.actor
	return &v
}

// person is an account as what is read.
func person(acc *projections.AccountEntry) *visibility.Person {
	r := acc.Person()
	return &r
}

// group is a group as what is read.
func group(g *projections.GroupEntry) *visibility.Group {
	r := g.Resource()
	return &r
}

// MayReadStudent: a student's file, page and agenda. (Their file as of a
// past date is audit: MayAudit.)
func MayReadStudent(p *Principal, student *projections.AccountEntry) error {
	if p.viewer().MayReadStudent(person(student)) {
		return nil
	}
	return forbidden("%s may not read the file of student %s", p.actor.Profile, student.ID)
}

// MayReadTeacher: a teacher's page.
func MayReadTeacher(p *Principal, teacher *projections.AccountEntry) error {
	if p.viewer().MayReadTeacher(person(teacher)) {
		return nil
	}
	return forbidden("%s may not read the page of teacher %s", p.actor.Profile, teacher.ID)
}

// MayReadRelative: a relative's page holds their mailbox and
// notifications: theirs alone.
func MayReadRelative(p *Principal, relative *projections.AccountEntry) error {
	if p.viewer().MayReadRelative(person(relative)) {
		return nil
	}
	return forbidden("only the relative reads their own page")
}

// MayReadAccount: an account's directory entry (links and memberships).
func MayReadAccount(p *Principal, acc *projections.AccountEntry) error {
	if p.viewer().MayReadAccount(person(acc)) {
		return nil
	}
	return forbidden("%s may not read account %s", p.actor.Profile, acc.ID)
}

// MayReadGroup: a group's members and timetable.
func MayReadGroup(p *Principal, g *projections.GroupEntry) error {
	if p.viewer().MayReadGroup(group(g)) {
		return nil
	}
	return forbidden("%s may not read group %s", p.actor.Profile, g.ID)
}

// MayReadTextbook: a group's cahier de textes. seeAll tells whether the
// reader sees which students did each homework (teachers, staff,
// inspectors); the others see their own (or their children's) only.
func MayReadTextbook(p *Principal, g *projections.GroupEntry) (seeAll bool, err error) {
	switch p.viewer().TextbookAccess(group(g)) {
	case visibility.All:
		return true, nil
	case visibility.Own:
		return false, nil
	}
	return false, forbidden("%s may not read the cahier de textes of group %s", p.actor.Profile, g.ID)
}

// VisibleStudents are the students whose homework state a reader who does
// not see all sees: themselves, or their children.
func VisibleStudents(p *Principal) []uuid.UUID {
	return p.viewer().VisibleStudents()
}

// MayListGroups: the groups of an establishment.
func MayListGroups(p *Principal, uai string) error {
	if p.viewer().MayListGroups(uai) {
		return nil
	}
	return forbidden("%s may not list the groups of %s", p.actor.Profile, uai)
}

// MayReadOffice: the school-life office of an establishment.
func MayReadOffice(p *Principal, uai string) error {
	if p.viewer().MayReadOffice(uai) {
		return nil
	}
	return forbidden("%s may not read the school-life office of %s", p.actor.Profile, uai)
}

// MayReadNews: an establishment's news.
func MayReadNews(p *Principal, uai string) error {
	if p.viewer().MayReadNews(uai) {
		return nil
	}
	return forbidden("%s may not read the news of %s", p.actor.Profile, uai)
}

// MayUseMailbox: one's own mailbox, sent box and notifications.
func MayUseMailbox(p *Principal) error {
	if p.viewer().HasMailbox() {
		return nil
	}
	return forbidden("%s has no mailbox", p.actor.Profile)
}

// MayReadMessage: a message, for its sender and its recipients. It
// returns whether the reader sees every recipient's state (the sender) or
// their own only.
func MayReadMessage(p *Principal, m *projections.MessageDetail) (sender bool, err error) {
	msg := &visibility.Message{From: m.From, Recipients: append([]uuid.UUID(nil), m.ToAccounts...)}
	for _, r := range m.Recipients {
		msg.Recipients = append(msg.Recipients, r.Account)
	}
	switch p.viewer().MessageAccess(msg) {
	case visibility.All:
		return true, nil
	case visibility.Own:
		return false, nil
	}
	return false, forbidden("only the sender and the recipients read message %s", m.Message)
}

// MayBook tells who deals with resources at all.
func MayBook(p *Principal) error {
	if p.viewer().DealsWithBookings() {
		return nil
	}
	return forbidden("%s deals with no bookings", p.actor.Profile)
}

// MayReadResources: the resources and calendars of an establishment.
func MayReadResources(p *Principal, uai string) error {
	if err := MayBook(p); err != nil {
		return err
	}
	if p.viewer().MayReadResources(uai) {
		return nil
	}
	return forbidden("%s may not read the resources of %s", p.actor.Profile, uai)
}

// MayReadConsultations: the consultation trail of an establishment, for
// its head and deputies.
func MayReadConsultations(p *Principal, uai string) error {
	if p.viewer().MayReadConsultations(uai) {
		return nil
	}
	return forbidden("only the head of %s reads who consulted its files", uai)
}

// MayManageServices: the services an establishment registered for single
// sign-on, for its administrators (the rule the commands apply to their
// registration).
func MayManageServices(p *Principal, uai string) error {
	if p.actor.Profile == domain.ProfileAdmin && p.actor.IsAdmin(uai) {
		return nil
	}
	return forbidden("only an administrator of %s manages its services", uai)
}

// MayAudit: history, past files and exports of an establishment, for the
// inspectors habilitated for it.
func MayAudit(p *Principal, uai string) error {
	if p.viewer().MayAudit(uai) {
		return nil
	}
	return forbidden("only an inspector habilitated for %q audits it", uai)
}

// MayReadIndicators: aggregates only, for evaluators and global
// administrators.
func MayReadIndicators(p *Principal) error {
	if p.viewer().MayReadIndicators() {
		return nil
	}
	return forbidden("only evaluators read the indicators")
}
