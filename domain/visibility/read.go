package visibility

import (
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Who may read what: one method per kind of resource. Writes are not
// here: the command layer authorizes them with domain errors.

// teaches reports whether the viewer teaches a group student is a student
// of.
func (v *Viewer) teaches(student *Person) bool {
	return slices.ContainsFunc(student.Groups, func(m Membership) bool {
		return m.Role == domain.RoleStudent && v.InGroup(m.Group, domain.RoleTeacher, domain.RoleHeadTeacher)
	})
}

// MayReadStudent: a student's file, page and agenda (their file as of a
// past date is audit: MayAudit).
func (v *Viewer) MayReadStudent(student *Person) bool {
	p := v.Profile
	return v.Account == student.ID ||
		p == domain.ProfileRelative && v.HasChild(student.ID) ||
		(p == domain.ProfileTeacher || p == domain.ProfilePersonnel) && v.teaches(student) ||
		v.IsStaff(student.Establishment) ||
		v.Habilitated(student.Establishment)
}

// MayReadTeacher: a teacher's page.
func (v *Viewer) MayReadTeacher(teacher *Person) bool {
	return v.Account == teacher.ID || v.IsStaff(teacher.Establishment) || v.Habilitated(teacher.Establishment)
}

// MayReadRelative: a relative's page holds their mailbox and
// notifications: theirs alone.
func (v *Viewer) MayReadRelative(relative *Person) bool { return v.Account == relative.ID }

// MayReadAccount: an account's directory entry (links and memberships).
func (v *Viewer) MayReadAccount(acc *Person) bool {
	return v.Account == acc.ID ||
		v.IsAdmin(acc.Establishment) ||
		v.IsStaff(acc.Establishment) ||
		v.Habilitated(acc.Establishment) ||
		v.Profile == domain.ProfileRelative && v.HasChild(acc.ID) ||
		v.Profile == domain.ProfileTeacher && v.teaches(acc)
}

// MayReadGroup: a group's members and timetable.
func (v *Viewer) MayReadGroup(g *Group) bool {
	return g.Has(v.Account) || v.IsStaff(g.Establishment) || v.IsAdmin(g.Establishment) || v.Habilitated(g.Establishment)
}

// TextbookAccess: a group's cahier de textes, for its teachers, its
// students, their relatives, the establishment's staff and inspectors.
// Teachers, staff and inspectors see which students did each homework
// (All); students and relatives see their own or their children's (Own,
// see VisibleStudents).
func (v *Viewer) TextbookAccess(g *Group) Access {
	switch {
	case g.Teaches(v.Account), v.IsStaff(g.Establishment), v.Habilitated(g.Establishment):
		return All
	case g.Has(v.Account, domain.RoleStudent):
		return Own
	case v.Profile == domain.ProfileRelative && slices.ContainsFunc(v.Children, func(c uuid.UUID) bool {
		return g.Has(c, domain.RoleStudent)
	}):
		return Own
	}
	return Refused
}

// VisibleStudents are the students whose part a reader with Own access
// sees: themselves, or their children.
func (v *Viewer) VisibleStudents() []uuid.UUID {
	return append([]uuid.UUID{v.Account}, v.Children...)
}

// MayListGroups: the groups of an establishment.
func (v *Viewer) MayListGroups(uai string) bool {
	return (v.Profile == domain.ProfileTeacher && v.In(uai)) || v.IsStaff(uai) || v.IsAdmin(uai) || v.Habilitated(uai)
}

// MayReadOffice: the school-life office of an establishment, for its
// personnel (head, CPE, vie scolaire) and inspectors.
func (v *Viewer) MayReadOffice(uai string) bool { return v.IsStaff(uai) || v.Habilitated(uai) }

// MayReadNews: an establishment's news, for its community and inspectors.
func (v *Viewer) MayReadNews(uai string) bool {
	return (v.In(uai) && v.Profile.InAudience()) || v.Habilitated(uai)
}

// HasMailbox: one's own mailbox, sent box and notifications. The ledger's
// read-only roles have none.
func (v *Viewer) HasMailbox() bool {
	switch v.Profile {
	case domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel,
		domain.ProfileGuest, domain.ProfileAdmin:
		return true
	}
	return false
}

// MessageAccess: a message, for its sender (All: every recipient's state)
// and its recipients (Own: their own state).
func (v *Viewer) MessageAccess(m *Message) Access {
	switch {
	case m.From == v.Account:
		return All
	case slices.Contains(m.Recipients, v.Account):
		return Own
	}
	return Refused
}

// DealsWithBookings tells who deals with resources at all: teachers and
// personnel book, administrators register resources, inspectors audit.
func (v *Viewer) DealsWithBookings() bool {
	switch v.Profile {
	case domain.ProfileTeacher, domain.ProfilePersonnel, domain.ProfileAdmin, domain.ProfileInspector:
		return true
	}
	return false
}

// MayReadResources: the resources and calendars of an establishment, for
// its teachers and personnel, its administrators and inspectors.
func (v *Viewer) MayReadResources(uai string) bool {
	if !v.DealsWithBookings() {
		return false
	}
	return ((v.Profile == domain.ProfileTeacher || v.Profile == domain.ProfilePersonnel) && v.In(uai)) ||
		v.IsAdmin(uai) || v.Habilitated(uai)
}

// MayReadConsultations: the consultation trail of an establishment's
// children's files, for its head and deputies. Inspectors, whose own
// reads are in it, do not read it; nor do other personnel.
func (v *Viewer) MayReadConsultations(uai string) bool { return !v.IsSystem() && v.IsHead(uai) }

// MayAudit: history, past files and exports of an establishment, for the
// inspectors habilitated for it.
func (v *Viewer) MayAudit(uai string) bool { return v.Habilitated(uai) }

// MayReadIndicators: aggregates only, for evaluators and global
// administrators.
func (v *Viewer) MayReadIndicators() bool {
	return v.Profile == domain.ProfileEvaluator || (v.Profile == domain.ProfileAdmin && v.IsAdmin(""))
}
