package web

// Who may read what: the domain's policy applied to queries, one function
// per kind of resource. Writes are not here: the command layer authorizes
// them and returns domain errors.
//
// In short: a student reads their own file; a relative their children's
// files and their own mailbox; a teacher the files of the students of the
// groups they teach and those groups' cahiers de textes; personnel
// (CPE, head, secretary...) everything of their establishment; an
// inspector, read-only, the read models, history, past files and exports
// of the establishments they are habilitated for, and nothing else; an
// evaluator the indicators only; an administrator the directory of the
// establishments they administer. Establishments themselves (UAI, name,
// justification reasons) are reference data any signed-in account reads.

import (
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// forbidden is the error of every refusal below.
func forbidden(format string, args ...any) error {
	return domain.Errorf(domain.ErrForbidden, format, args...)
}

// teachesStudent reports whether teacher teaches a group student is a
// student of.
func teachesStudent(teacher, student *projections.AccountEntry) bool {
	return slices.ContainsFunc(student.Groups, func(m projections.Membership) bool {
		return m.Role == domain.RoleStudent && teacher.InGroup(m.Group, domain.RoleTeacher, domain.RoleHeadTeacher)
	})
}

// MayReadStudent: a student's file, page and agenda. (Their file as of a
// past date is audit: MayAudit.)
func MayReadStudent(p *Principal, student *projections.AccountEntry) error {
	a := p.actor
	switch {
	case a.Account == student.ID,
		a.Profile == domain.ProfileRelative && p.account.HasChild(student.ID),
		(a.Profile == domain.ProfileTeacher || a.Profile == domain.ProfilePersonnel) && teachesStudent(p.account, student),
		a.IsStaff(student.Establishment),
		a.Habilitated(student.Establishment):
		return nil
	}
	return forbidden("%s may not read the file of student %s", a.Profile, student.ID)
}

// MayReadTeacher: a teacher's page.
func MayReadTeacher(p *Principal, teacher *projections.AccountEntry) error {
	a := p.actor
	if a.Account == teacher.ID || a.IsStaff(teacher.Establishment) || a.Habilitated(teacher.Establishment) {
		return nil
	}
	return forbidden("%s may not read the page of teacher %s", a.Profile, teacher.ID)
}

// MayReadRelative: a relative's page holds their mailbox and
// notifications: theirs alone.
func MayReadRelative(p *Principal, relative *projections.AccountEntry) error {
	if p.actor.Account == relative.ID {
		return nil
	}
	return forbidden("only the relative reads their own page")
}

// MayReadAccount: an account's directory entry (links and memberships).
func MayReadAccount(p *Principal, acc *projections.AccountEntry) error {
	a := p.actor
	switch {
	case a.Account == acc.ID,
		a.IsAdmin(acc.Establishment),
		a.IsStaff(acc.Establishment),
		a.Habilitated(acc.Establishment),
		a.Profile == domain.ProfileRelative && p.account.HasChild(acc.ID),
		a.Profile == domain.ProfileTeacher && teachesStudent(p.account, acc):
		return nil
	}
	return forbidden("%s may not read account %s", a.Profile, acc.ID)
}

// MayReadGroup: a group's members and timetable.
func MayReadGroup(p *Principal, g *projections.GroupEntry) error {
	a := p.actor
	member := false
	for _, ms := range g.Members {
		member = member || slices.ContainsFunc(ms, func(m projections.GroupMember) bool { return m.Account == a.Account })
	}
	if member || a.IsStaff(g.Establishment) || a.IsAdmin(g.Establishment) || a.Habilitated(g.Establishment) {
		return nil
	}
	return forbidden("%s may not read group %s", a.Profile, g.ID)
}

// MayReadTextbook: a group's cahier de textes, for its teachers, its
// students, their relatives, the establishment's staff and inspectors.
// seeAll tells whether the reader sees which students did each homework
// (teachers, staff, inspectors); the others see their own (or their
// children's) only.
func MayReadTextbook(p *Principal, g *projections.GroupEntry) (seeAll bool, err error) {
	a := p.actor
	switch {
	case g.Teaches(a.Account), a.IsStaff(g.Establishment), a.Habilitated(g.Establishment):
		return true, nil
	case g.Has(a.Account, domain.RoleStudent):
		return false, nil
	case a.Profile == domain.ProfileRelative && slices.ContainsFunc(p.account.Children, func(l projections.AccountLink) bool {
		return g.Has(l.Account, domain.RoleStudent)
	}):
		return false, nil
	}
	return false, forbidden("%s may not read the cahier de textes of group %s", a.Profile, g.ID)
}

// VisibleStudents are the students whose homework state a reader who does
// not see all sees: themselves, or their children.
func VisibleStudents(p *Principal) []uuid.UUID {
	ids := []uuid.UUID{p.actor.Account}
	for _, c := range p.account.Children {
		ids = append(ids, c.Account)
	}
	return ids
}

// MayListGroups: the groups of an establishment.
func MayListGroups(p *Principal, uai string) error {
	a := p.actor
	if (a.Profile == domain.ProfileTeacher && a.Establishment == uai) || a.IsStaff(uai) || a.IsAdmin(uai) || a.Habilitated(uai) {
		return nil
	}
	return forbidden("%s may not list the groups of %s", a.Profile, uai)
}

// MayReadOffice: the school-life office of an establishment, for its
// personnel (head, CPE, vie scolaire) and inspectors.
func MayReadOffice(p *Principal, uai string) error {
	if p.actor.IsStaff(uai) || p.actor.Habilitated(uai) {
		return nil
	}
	return forbidden("%s may not read the school-life office of %s", p.actor.Profile, uai)
}

// MayReadNews: an establishment's news, for its community and inspectors.
func MayReadNews(p *Principal, uai string) error {
	a := p.actor
	if (a.Establishment == uai && a.Profile.InAudience()) || a.Habilitated(uai) {
		return nil
	}
	return forbidden("%s may not read the news of %s", a.Profile, uai)
}

// MayUseMailbox: one's own mailbox, sent box and notifications. The
// ledger's read-only roles have none.
func MayUseMailbox(p *Principal) error {
	switch p.actor.Profile {
	case domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel,
		domain.ProfileGuest, domain.ProfileAdmin:
		return nil
	}
	return forbidden("%s has no mailbox", p.actor.Profile)
}

// MayReadMessage: a message, for its sender and its recipients. It
// returns whether the reader sees every recipient's state (the sender) or
// their own only.
func MayReadMessage(p *Principal, m *projections.MessageDetail) (sender bool, err error) {
	me := p.actor.Account
	if m.From == me {
		return true, nil
	}
	if slices.Contains(m.ToAccounts, me) || slices.ContainsFunc(m.Recipients, func(r projections.RecipientState) bool { return r.Account == me }) {
		return false, nil
	}
	return false, forbidden("only the sender and the recipients read message %s", m.Message)
}

// MayBook tells who deals with resources at all: teachers and personnel
// book, administrators register resources, inspectors audit.
func MayBook(p *Principal) error {
	switch p.actor.Profile {
	case domain.ProfileTeacher, domain.ProfilePersonnel, domain.ProfileAdmin, domain.ProfileInspector:
		return nil
	}
	return forbidden("%s deals with no bookings", p.actor.Profile)
}

// MayReadResources: the resources and calendars of an establishment, for
// its teachers and personnel, its administrators and inspectors.
func MayReadResources(p *Principal, uai string) error {
	a := p.actor
	if err := MayBook(p); err != nil {
		return err
	}
	if ((a.Profile == domain.ProfileTeacher || a.Profile == domain.ProfilePersonnel) && a.Establishment == uai) ||
		a.IsAdmin(uai) || a.Habilitated(uai) {
		return nil
	}
	return forbidden("%s may not read the resources of %s", a.Profile, uai)
}

// MayAudit: history, past files and exports of an establishment, for the
// inspectors habilitated for it.
func MayAudit(p *Principal, uai string) error {
	if p.actor.Habilitated(uai) {
		return nil
	}
	return forbidden("only an inspector habilitated for %q audits it", uai)
}

// MayReadIndicators: aggregates only, for evaluators and global
// administrators.
func MayReadIndicators(p *Principal) error {
	if p.actor.Profile == domain.ProfileEvaluator || (p.actor.Profile == domain.ProfileAdmin && p.actor.IsAdmin("")) {
		return nil
	}
	return forbidden("only evaluators read the indicators")
}
