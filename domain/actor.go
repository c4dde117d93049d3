package domain

import (
	"slices"

	"github.com/google/uuid"
)

// Profile is what an account is in the school community.
type Profile string

// Profiles. Student, relative, teacher, personnel and guest come from the
// directory; inspector, evaluator and admin are ledger roles.
const (
	ProfileStudent   Profile = "student"
	ProfileRelative  Profile = "relative"
	ProfileTeacher   Profile = "teacher"
	ProfilePersonnel Profile = "personnel"
	ProfileGuest     Profile = "guest"
	ProfileInspector Profile = "inspector"
	ProfileEvaluator Profile = "evaluator"
	ProfileAdmin     Profile = "admin"
	// ProfileSystem is the ledger itself (imports, bootstrap); never an account.
	ProfileSystem Profile = "system"
)

// Valid reports whether p is a known profile an account may hold.
func (p Profile) Valid() bool {
	switch p {
	case ProfileStudent, ProfileRelative, ProfileTeacher, ProfilePersonnel, ProfileGuest,
		ProfileInspector, ProfileEvaluator, ProfileAdmin:
		return true
	}
	return false
}

// Function is a personnel member's function in their establishment.
type Function string

// Functions, after the AAF codes (DIR, EDU, ...).
const (
	FunctionNone      Function = ""
	FunctionHead      Function = "head"      // chef d'établissement (DIR)
	FunctionDeputy    Function = "deputy"    // adjoint (DIR too in AAF)
	FunctionCPE       Function = "cpe"       // conseiller principal d'éducation (EDU)
	FunctionSecretary Function = "secretary" // secrétariat, administration (ADF)
	// FunctionEducationAssistant is an assistant d'éducation or surveillant
	// of the vie scolaire (AED, SUR).
	FunctionEducationAssistant Function = "education_assistant"
	FunctionOther              Function = "other"
)

// Valid reports whether f is a known function.
func (f Function) Valid() bool {
	switch f {
	case FunctionNone, FunctionHead, FunctionDeputy, FunctionCPE, FunctionSecretary, FunctionEducationAssistant, FunctionOther:
		return true
	}
	return false
}

// Actor is who issues a command, as the directory knows them at that moment.
type Actor struct {
	Account       uuid.UUID
	Profile       Profile
	Function      Function
	Establishment string
	// Establishments are the account's other establishments: staff working
	// in several, a relative whose children go to several (see
	// AccountDetails). Their function is the one of their main
	// establishment.
	Establishments []string
	// Habilitations lists the establishments an inspector may audit.
	Habilitations []string
}

// SystemActor is the ledger acting on its own behalf (imports, bootstrap).
func SystemActor() Actor { return Actor{Profile: ProfileSystem} }

// IsSystem reports whether a is the ledger itself.
func (a Actor) IsSystem() bool { return a.Profile == ProfileSystem }

// In reports whether a belongs to establishment uai: their main one or
// one of their others.
func (a Actor) In(uai string) bool {
	return uai != "" && (a.Establishment == uai || slices.Contains(a.Establishments, uai))
}

// IsStaff reports whether a is personnel of establishment uai (or the system).
func (a Actor) IsStaff(uai string) bool {
	return a.IsSystem() || (a.Profile == ProfilePersonnel && a.In(uai))
}

// IsHead reports whether a is the head of establishment uai (or a deputy):
// of their main establishment only, where their function is.
func (a Actor) IsHead(uai string) bool {
	return a.IsSystem() || (a.Profile == ProfilePersonnel && a.Establishment == uai &&
		(a.Function == FunctionHead || a.Function == FunctionDeputy))
}

// IsAdmin reports whether a administers establishment uai: the system, an
// admin of that establishment or of all (empty establishment).
func (a Actor) IsAdmin(uai string) bool {
	return a.IsSystem() || (a.Profile == ProfileAdmin && (a.Establishment == "" || a.Establishment == uai))
}

// Habilitated reports whether an inspector may audit establishment uai.
func (a Actor) Habilitated(uai string) bool {
	return a.Profile == ProfileInspector && slices.Contains(a.Habilitations, uai)
}

// ReadOnly reports whether a never writes school-life data.
func (a Actor) ReadOnly() bool {
	return a.Profile == ProfileInspector || a.Profile == ProfileEvaluator
}

// MetadataFor fills the actor part of event metadata.
func (a Actor) MetadataFor(establishment string) Metadata {
	return Metadata{Actor: a.Account, Profile: a.Profile, Establishment: establishment}
}
