package commands_test

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

var update = flag.Bool("update", false, "rewrite docs/events.md")

// emitters names the commands that emit each event type. The test fails
// when an event type has none, so docs/events.md covers every type.
var emitters = map[string][]string{
	"establishment.registered.v1":        {commands.CmdRegisterEstablishment},
	"establishment.feed_key_recorded.v1": {commands.CmdRecordFeedKey},
	"account.opened.v1":                  {commands.CmdOpenAccount},
	"account.updated.v1":                 {commands.CmdUpdateAccount},
	"account.activated.v1":               {commands.CmdActivateAccount},
	"account.closed.v1":                  {commands.CmdCloseAccount, commands.CmdCloseMissingFromFeed},
	"account.habilitated.v1":             {commands.CmdHabilitateInspector},
	"relative.linked.v1":                 {commands.CmdLinkRelative},
	"relative.unlinked.v1":               {commands.CmdUnlinkRelative},
	"group.created.v1":                   {commands.CmdCreateGroup},
	"group.labelled.v1":                  {commands.CmdLabelGroup},
	"group.member_joined.v1":             {commands.CmdJoinGroup},
	"group.member_left.v1":               {commands.CmdLeaveGroup},
	"timetable.lesson_scheduled.v1":      {commands.CmdScheduleLesson},
	"timetable.lesson_unscheduled.v1":    {commands.CmdUnscheduleLesson},
	"user.connected.v1":                  {commands.CmdRecordConnection},
	"account.identity_linked.v1":         {commands.CmdLinkIdentity},
	"account.identity_unlinked.v1":       {commands.CmdUnlinkIdentity},
	"consultations.recorded.v1":          {commands.CmdRecordConsultations},
	"account.missing_from_feed.v1":       {commands.CmdFlagMissingFromFeed},
	"account.back_in_feed.v1":            {commands.CmdMarkBackInFeed},
	"import.forced.v1":                   {commands.CmdRecordForcedImport},
	"rollcall.completed.v1":              {commands.CmdRecordRollCall},
	"absence.recorded.v1":                {commands.CmdRecordRollCall},
	"lateness.recorded.v1":               {commands.CmdRecordRollCall},
	"absence.cancelled.v1":               {commands.CmdCancelAbsence},
	"absence.reason_declared.v1":         {commands.CmdDeclareAbsenceReason},
	"absence.justification_accepted.v1":  {commands.CmdDecideJustification},
	"absence.justification_refused.v1":   {commands.CmdDecideJustification},
	"incident.reported.v1":               {commands.CmdReportIncident},
	"punishment.given.v1":                {commands.CmdGivePunishment},
	"sanction.pronounced.v1":             {commands.CmdPronounceSanction},
	"sanction.annulled.v1":               {commands.CmdAnnulSanction},
	"sanction.sursis_revoked.v1":         {commands.CmdRevokeSursis},
	"sanction.effaced.v1":                {commands.CmdEffaceSanction},
	"alert.raised.v1":                    {commands.CmdRaiseAlert},
	"alert.handled.v1":                   {commands.CmdHandleAlert},
	"alert.settings_set.v1":              {commands.CmdSetAlertSettings},
	"letter.sent.v1":                     {commands.CmdRecordLetter},
	"lesson.content_recorded.v1":         {commands.CmdRecordLessonContent},
	"homework.assigned.v1":               {commands.CmdAssignHomework},
	"homework.amended.v1":                {commands.CmdAmendHomework},
	"homework.withdrawn.v1":              {commands.CmdWithdrawHomework},
	"homework.done.v1":                   {commands.CmdMarkHomeworkDone},
	"message.sent.v1":                    {commands.CmdSendMessage},
	"message.read.v1":                    {commands.CmdReadMessage, commands.CmdAcknowledgeMessage},
	"message.acknowledged.v1":            {commands.CmdAcknowledgeMessage},
	"resource.registered.v1":             {commands.CmdRegisterResource},
	"booking.requested.v1":               {commands.CmdRequestBooking},
	"booking.approved.v1":                {commands.CmdApproveBooking, commands.CmdRequestBooking},
	"booking.refused.v1":                 {commands.CmdRefuseBooking},
	"booking.cancelled.v1":               {commands.CmdCancelBooking},
	"news.published.v1":                  {commands.CmdPublishArticle},
	"news.amended.v1":                    {commands.CmdAmendArticle},
	"news.withdrawn.v1":                  {commands.CmdWithdrawArticle},
	"privacy.data_exported.v1":           {commands.CmdRecordDataExport},
	"privacy.subject_erased.v1":          {commands.CmdEraseSubject},
	"privacy.store_resealed.v1":          {commands.CmdResealStore},
	"privacy.retention_set.v1":           {commands.CmdSetRetention},
	"privacy.retention_applied.v1":       {commands.CmdRecordRetentionApplied},
	"service.registered.v1":              {commands.CmdRegisterService},
	"service.unregistered.v1":            {commands.CmdUnregisterService},
	"service.accessed.v1":                {commands.CmdRecordServiceAccess},
	"privacy.subject_scrubbed.v1":        {commands.CmdRecordScrub},
	"notification.preferences_set.v1":    {commands.CmdSetNotificationPreferences},
	"notification.sent.v1":               {commands.CmdRecordNotificationOutcomes},
	"notification.failed.v1":             {commands.CmdRecordNotificationOutcomes},
	"notification.opened.v1":             {commands.CmdRecordNotificationOutcomes},
}

// streams says which stream each event family is stored in.
var streams = map[string]string{
	"establishment": "establishment-UAI", "account": "account-ID (relative links: the student's)", "relative": "account-STUDENT",
	"group": "group-ID", "timetable": "group-ID", "user": "connections-ACCOUNT", "consultations": "consultations-UAI", "rollcall": "lesson-ID",
	"absence": "lesson-ID", "lateness": "lesson-ID", "lesson": "lesson-ID", "incident": "incident-ID",
	"punishment": "discipline-STUDENT", "sanction": "discipline-STUDENT", "homework": "homework-ID",
	"message": "message-ID", "resource": "resource-ID", "booking": "resource-ID", "news": "article-ID",
	"import": "import-ID", "privacy": "privacy-ACCOUNT (a re-sealed copy: privacy-COPY; retention: retention-UAI)",
	"service":      "service-ID (accesses: connections-ACCOUNT)",
	"notification": "notifications-ACCOUNT (outcomes: deliveries-UAI)",
	"alert":        "alert-ID (settings: alertsettings-UAI)", "letter": "letters-STUDENT",
}

func TestEventsDoc(t *testing.T) {
	reg := domain.NewRegistry()
	comments := typeComments(t)
	var b bytes.Buffer
	b.WriteString(`# Events

Every act is one of these events. The wire name (` + "`type`" + `) is stable and versioned: a Go type
may be renamed, the wire name never changes; a new shape gets a new version. The old name is then
retired: events stored under it stay as they are (their bytes are in the hash chain) and are read
through an upcaster (` + "`domain.Upcast`" + ` in ` + "`domain/registry.go`" + `), which converts each into the current
type, so that only current types reach the code; only current names are written. Retired names are
listed at the end. Stream names are ` + "`ledger.CATEGORY-ID`" + ` (see ` + "`domain/streams.go`" + `).

Every stored event carries metadata: ` + "`actor`" + ` (account id), ` + "`profile`" + `, ` + "`establishment`" + ` (UAI),
` + "`correlation_id`" + `, ` + "`causation_id`" + `, ` + "`command`" + ` (the command name below) and ` + "`time`" + ` (server
time). Fields marked **personal** hold personal data (names, free text about a person): their
values are stored encrypted with a key of the person named after them (the subject), and read
as erased once that person is erased (see ` + "`docs/privacy.md`" + `). The key is the person's own
(names), or one of theirs for a category of data of one establishment and school year (destroyed
when the category's retention expires), or for one record (a sanction: destroyed by its
effacement), as each field says.

This file is generated by ` + "`go test ./commands -run TestEventsDoc -update`" + `; the test fails when it is
out of date or when an event type has no emitting command.

`)
	types := reg.Types()
	for _, typ := range types {
		cmds, ok := emitters[typ]
		if !ok {
			t.Errorf("event type %s has no emitting command in emitters", typ)
		}
		e, err := reg.Decode(typ, []byte("{}"))
		if err != nil {
			t.Fatal(err)
		}
		rt := reflect.TypeOf(e)
		family, _, _ := strings.Cut(typ, ".")
		fmt.Fprintf(&b, "## `%s`\n\n", typ)
		if c := comments[rt.Name()]; c != "" {
			fmt.Fprintf(&b, "%s\n\n", c)
		}
		stream, ok := streams[family]
		if !ok {
			t.Errorf("event type %s: no stream for family %q in streams", typ, family)
		}
		area, _ := reg.Area(typ)
		fmt.Fprintf(&b, "Go type `domain.%s`; area %s; stream `%s`; emitted by %s.\n\n", rt.Name(), area, stream, codeList(cmds))
		b.WriteString("| field | type | |\n|---|---|---|\n")
		for i := range rt.NumField() {
			f := rt.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			mark := ""
			if tag, ok := f.Tag.Lookup("personal"); ok {
				subject, scope, _ := strings.Cut(tag, ",")
				mark = "**personal**, key of " + subjectName(t, rt, subject) + scopeName(t, rt, scope)
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", name, typeName(f.Type), mark)
		}
		b.WriteString("\n")
	}
	b.WriteString("## Retired wire names\n\n")
	if retired := reg.Retired(); len(retired) == 0 {
		b.WriteString("None: every event type is at its first version.\n")
	} else {
		b.WriteString("| retired name | read as |\n|---|---|\n")
		for _, typ := range retired {
			cur, _ := reg.Current(typ)
			fmt.Fprintf(&b, "| `%s` | `%s` |\n", typ, cur)
		}
	}
	for typ := range emitters {
		if !slices.Contains(types, typ) {
			t.Errorf("emitters names %s, which is not a registered event type", typ)
		}
	}
	const path = "../docs/events.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run with -update to write it): %v", path, err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("%s is out of date: run go test ./commands -run TestEventsDoc -update", path)
	}
}

func codeList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, ", ")
}

func typeName(t reflect.Type) string {
	switch {
	case t.PkgPath() == "github.com/google/uuid":
		return "uuid"
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.PkgPath() == "time" && t.Name() == "Time":
		return "RFC 3339 time"
	case t.PkgPath() == "time" && t.Name() == "Weekday":
		return "weekday (0 = Sunday)"
	case t.Name() == "Date":
		return "date (YYYY-MM-DD)"
	case t.Kind() == reflect.Struct:
		var fs []string
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			fs = append(fs, name)
		}
		return t.Name() + " {" + strings.Join(fs, ", ") + "}"
	case t.PkgPath() != "":
		return t.Name() + " (" + t.Kind().String() + ")"
	}
	return t.Kind().String()
}

// typeComments returns the doc comment of each type declared in domain/.
func typeComments(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, "../domain", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.TYPE {
					continue
				}
				for _, s := range g.Specs {
					ts := s.(*ast.TypeSpec)
					doc := ts.Doc
					if doc == nil && len(g.Specs) == 1 {
						doc = g.Doc
					}
					if doc != nil {
						out[ts.Name.Name] = strings.Join(strings.Fields(doc.Text()), " ")
					}
				}
			}
		}
	}
	return out
}

// scopeName says what the key of a personal field covers: the person's
// own key (no scope), a category of data by establishment and school
// year, or one record.
func scopeName(t *testing.T, rt reflect.Type, scope string) string {
	key, value, _ := strings.Cut(scope, "=")
	switch key {
	case "":
		return " (their own key: erased with them)"
	case "category":
		return fmt.Sprintf(" for category `%s`, by establishment and school year (expires by retention)", value)
	case "record":
		f, ok := rt.FieldByName(value)
		if !ok {
			t.Errorf("%s: personal tag record %q names no field", rt.Name(), value)
			return ""
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		return fmt.Sprintf(" for the record in `%s` (destroyed by its effacement)", name)
	}
	t.Errorf("%s: personal tag scope %q", rt.Name(), scope)
	return ""
}

// subjectName says whose key encrypts a personal field: the tag names a
// field of the event, the incident's protagonists or the actor.
func subjectName(t *testing.T, rt reflect.Type, subject string) string {
	switch subject {
	case "actor":
		return "the actor"
	case "Protagonists":
		return "the first author in `protagonists` (else the first protagonist)"
	}
	f, ok := rt.FieldByName(subject)
	if !ok {
		t.Errorf("%s: personal tag %q names no field", rt.Name(), subject)
		return subject
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return "`" + name + "`"
}
