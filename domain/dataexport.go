package domain

import "github.com/google/uuid"

// ExportFormat is the form a person's data is exported in.
type ExportFormat string

// Export formats.
const (
	// ExportJSON is the archive: one JSON document (portability, GDPR
	// art. 20).
	ExportJSON ExportFormat = "json"
	// ExportHTML is the readable summary, in French (access, art. 15).
	ExportHTML ExportFormat = "html"
)

// Valid reports whether f is a known export format.
func (f ExportFormat) Valid() bool { return f == ExportJSON || f == ExportHTML }

// DataExported records that everything the ledger holds about a person
// was exported (GDPR art. 15 and 20), so that each access is traceable:
// whose data (Subject), by whom (Exporter, also the metadata's actor;
// unset when the ledger itself exported on an operator's request) and in
// which format. It is stored on the subject's privacy stream.
type DataExported struct {
	Subject  uuid.UUID    `json:"subject"`
	Exporter uuid.UUID    `json:"exporter,omitzero"`
	Format   ExportFormat `json:"format"`
}

func (DataExported) EventType() string { return "privacy.data_exported.v1" }

// RecordDataExport is the command that records the export of a person's
// data.
type RecordDataExport struct {
	Subject uuid.UUID    `json:"subject"`
	Format  ExportFormat `json:"format"`
}

// MayExportData reports whether actor may export everything the ledger
// holds about the person whose account is a: the person themself, a legal
// guardian of theirs (a student's représentant légal), an administrator
// of their establishment, or the ledger on an operator's request.
func (a *Account) MayExportData(actor Actor) bool {
	if !a.Exists {
		return false
	}
	if actor.Account == a.ID && actor.Account != uuid.Nil {
		return true
	}
	if actor.Profile == ProfileRelative {
		if l, ok := a.Relatives[actor.Account]; ok && l.LegalGuardian {
			return true
		}
	}
	return actor.IsAdmin(a.Establishment)
}

// RecordDataExport decides the record of an export of the data of the
// person whose account is a.
func (a *Account) RecordDataExport(actor Actor, cmd RecordDataExport) ([]Event, error) {
	if !cmd.Format.Valid() {
		return nil, Errorf(ErrInvalid, "format %q is not json or html", cmd.Format)
	}
	if !a.Exists {
		return nil, Errorf(ErrUnknownAccount, "%s", cmd.Subject)
	}
	if !a.MayExportData(actor) {
		return nil, Errorf(ErrForbidden, "only the person, a legal guardian or an administrator of their establishment exports their data")
	}
	return []Event{DataExported{Subject: a.ID, Exporter: actor.Account, Format: cmd.Format}}, nil
}
