package directoryimport

import "fmt"

// ReasonCode names why a record was rejected or a part of the feed left
// aside. Codes are stable (reports are kept, the portal translates them);
// each has its words here, the one place of the English texts.
type ReasonCode string

// Why records are rejected (malformed: they count against MaxRejected).
const (
	ReasonNotARequest     ReasonCode = "not-a-request"
	ReasonNoCategory      ReasonCode = "no-category"
	ReasonWrongCategory   ReasonCode = "wrong-category"
	ReasonUnknownCategory ReasonCode = "unknown-category"
	ReasonBadUAI          ReasonCode = "bad-uai"
	ReasonNoUAI           ReasonCode = "no-uai"
	ReasonNoStructureName ReasonCode = "no-structure-name"
	ReasonNoID            ReasonCode = "no-id"
	ReasonNoName          ReasonCode = "no-name"
	ReasonBadValue        ReasonCode = "bad-value"
	ReasonCSVFields       ReasonCode = "csv-fields"
	ReasonCSVSyntax       ReasonCode = "csv-syntax"
	ReasonBadFunction     ReasonCode = "bad-function"
	ReasonBadText         ReasonCode = "bad-text"
	ReasonNoLabel         ReasonCode = "no-label"
	ReasonBadDate         ReasonCode = "bad-date"
)

// Why parts of the feed are left aside (skipped: well-formed, but the
// directory cannot take them). The person's other changes are applied.
const (
	ReasonEstablishmentTwice   ReasonCode = "establishment-twice"
	ReasonPersonTwice          ReasonCode = "person-twice"
	ReasonUAITwice             ReasonCode = "uai-twice"
	ReasonEstablishmentChange  ReasonCode = "establishment-change"
	ReasonOneName              ReasonCode = "one-name"
	ReasonMoveUnregistered     ReasonCode = "move-unregistered"
	ReasonGroupUnknownStruct   ReasonCode = "group-unknown-structure"
	ReasonGroupRejectedStruct  ReasonCode = "group-rejected-structure"
	ReasonGroupOtherSchool     ReasonCode = "group-other-establishment"
	ReasonRelativeNotApplied   ReasonCode = "relative-not-applied"
	ReasonRelativeUnknown      ReasonCode = "relative-unknown"
	ReasonRelativeClosed       ReasonCode = "relative-closed"
	ReasonRelativeNotARelative ReasonCode = "relative-not-a-relative"
	ReasonPostUnknownStruct    ReasonCode = "post-unknown-structure"
	ReasonChildUnknown         ReasonCode = "child-unknown"
	ReasonChildAmbiguous       ReasonCode = "child-ambiguous"
)

// Why a person is left out whole: nothing changes for them.
const (
	ReasonClosed            ReasonCode = "closed"
	ReasonProfileChange     ReasonCode = "profile-change"
	ReasonUnknownPerson     ReasonCode = "unknown-person"
	ReasonUnknownStructure  ReasonCode = "unknown-structure"
	ReasonRejectedStructure ReasonCode = "rejected-structure"
	ReasonNoEstablishment   ReasonCode = "no-establishment"
	ReasonUnregistered      ReasonCode = "unregistered"
)

// reasonText is a reason's words: Detail, a fmt format of the issue's
// arguments (all strings); Summary, what the issues of the reason share,
// for counts.
type reasonText struct {
	Detail, Summary string
	// Whole: the person is left out whole.
	Whole bool
}

var reasonTexts = map[ReasonCode]reasonText{
	ReasonNotARequest: {"%s is not addRequest, modifyRequest or deleteRequest",
		"records that are not addRequest, modifyRequest or deleteRequest", false},
	ReasonNoCategory: {"no category: neither operationalAttributes nor the file name say what the record is",
		"records without a category", false},
	ReasonWrongCategory: {"a %s record in a %s file", "records of another category than their file's", false},
	ReasonUnknownCategory: {"category %q is not EtabEducNat, Eleve, PersRelEleve, PersEducNat, MatiereEducNat or MefEducNat",
		"records of an unknown category", false},
	ReasonBadUAI:          {"UAI %q is not seven digits and a letter", "malformed UAIs", false},
	ReasonNoUAI:           {"no UAI: the establishment is not named", "records without a UAI", false},
	ReasonNoStructureName: {"the establishment has no name (ENTStructureNomCourant is empty)", "establishments without a name", false},
	ReasonNoID:            {"no join id (ENTPersonJointure, identifier, or the CSV's id)", "records without a join id", false},
	ReasonNoName:          {"no name: the last and first names are empty", "people without a name", false},
	ReasonBadValue:        {"%s value %q is not %s", "malformed values (classes, groups, relatives, functions)", false},
	ReasonCSVFields:       {"%s fields, the header has %s", "lines with the wrong number of fields", false},
	ReasonCSVSyntax:       {"not readable as CSV: %s", "lines not readable as CSV (quotes)", false},
	ReasonBadFunction: {"function %q is not head, deputy, cpe, secretary, education_assistant, other or an AAF code",
		"unknown functions", false},
	ReasonNoLabel: {"no label: %s is empty", "subjects or MEFs without a label", false},
	ReasonBadDate: {"birth date %q is not a date (DD/MM/YYYY or YYYY-MM-DD)", "birth dates that are not dates", false},

	ReasonBadText: {"%s", "texts the ledger refuses (control characters, invalid UTF-8, too long)", false},

	ReasonEstablishmentTwice: {"establishment listed twice (first at %s): the later record is used",
		"establishments listed twice (the later record is used)", false},
	ReasonPersonTwice: {"person listed twice (first at %s): the later record is used",
		"people listed twice (the later record is used)", false},
	ReasonUAITwice: {"UAI %s listed twice (first at %s): the later record is used",
		"UAIs listed twice (the later record is used)", false},
	ReasonEstablishmentChange: {"establishment %s: establishments are registered once and never changed; only its structure id is used",
		"changes to establishments (never applied; their structure ids are used)", false},
	ReasonOneName: {"the modifyRequest changes only one of givenName and sn: the display name is kept",
		"name changes giving only the first or the last name (the name is kept)", false},
	ReasonMoveUnregistered: {"establishment %s is not registered: the account stays in %s, its other changes are applied",
		"moves to an establishment that is not registered (the account stays where it is)", false},
	ReasonGroupUnknownStruct: {"class or group %s: its structure %s is in none of the import's EtabEducNat files, and no earlier import recorded it",
		"classes and groups of structures neither the import nor an earlier one lists", false},
	ReasonGroupRejectedStruct: {"class or group %s: its structure %s was rejected (%s)",
		"classes and groups of structures whose record was rejected", false},
	ReasonGroupOtherSchool: {"class or group %s of %s: the account belongs to %s, and the feed does not give it %s as another establishment",
		"classes and groups of an establishment that is not the person's", false},
	ReasonRelativeNotApplied: {"relative %s: their own record could not be applied",
		"relatives whose own record could not be applied", false},
	ReasonRelativeUnknown: {"relative %s is neither in the feed nor in the directory",
		"relatives neither in the feed nor in the directory", false},
	ReasonRelativeClosed: {"relative %s is closed or missing from the feed",
		"relatives closed or missing from the feed", false},
	ReasonRelativeNotARelative: {"relative %s: their account is not a relative's",
		"relatives whose account is not a relative's", false},
	ReasonPostUnknownStruct: {"function %s: its structure %s is in none of the import's EtabEducNat files, and no earlier import recorded it",
		"functions in structures neither the import nor an earlier one lists", false},
	ReasonChildUnknown: {"child %s (class %s) is not in the students' file of the import: the link is not made",
		"children not found in the students' file (links not made)", false},
	ReasonChildAmbiguous: {"child %s (class %s) matches %s students of the import: the link is not made",
		"children matching several students (links not made)", false},

	ReasonClosed: {"the account is closed and the ledger does not reopen accounts: nothing changed for this person",
		"people whose account is closed (never reopened)", true},
	ReasonProfileChange: {"the feed makes a %s of a %s account, and an account's profile never changes: nothing changed for this person",
		"people whose profile would change (never changed)", true},
	ReasonUnknownPerson: {"a modifyRequest for a person the directory does not know: nothing to modify",
		"changes to people the directory does not know", true},
	ReasonUnknownStructure: {"their attachment structure %s is in none of the import's EtabEducNat files, and no earlier import " +
		"recorded it (give the feed's EtabEducNat file): nothing changed for this person",
		"people whose establishment neither the import's EtabEducNat files nor an earlier import gives", true},
	ReasonRejectedStructure: {"their attachment structure %s was rejected (%s): nothing changed for this person",
		"people whose establishment's record was rejected", true},
	ReasonNoEstablishment: {"no establishment: the record names none, and no child's is known: nothing changed for this person",
		"people without an establishment", true},
	ReasonUnregistered: {"establishment %s is not registered and the import does not list it: nothing changed for this person",
		"people of an establishment that is not registered", true},
}

// ReasonCodes lists every code (the portal checks it has their words).
func ReasonCodes() []ReasonCode {
	out := make([]ReasonCode, 0, len(reasonTexts))
	for c := range reasonTexts {
		out = append(out, c)
	}
	return out
}

// Summary says in words what the issues of a code share.
func (c ReasonCode) Summary() string {
	if t, ok := reasonTexts[c]; ok {
		return t.Summary
	}
	return string(c)
}

// newIssue makes the issue of code at place, its words formatted from args.
func newIssue(place Place, id string, code ReasonCode, args ...string) Issue {
	t, ok := reasonTexts[code]
	if !ok {
		panic("directoryimport: no words for reason " + string(code))
	}
	vs := make([]any, len(args))
	for i, a := range args {
		vs[i] = a
	}
	return Issue{Place: place, ID: id, Code: code, Args: args, Whole: t.Whole, Reason: fmt.Sprintf(t.Detail, vs...)}
}
