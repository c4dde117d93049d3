// Package directoryimport turns directory feeds (the académies' AAF XML
// files, schools' CSV exports) into directory events. It is an adapter: it
// parses files and drives the command handlers, as the system or as the
// administrator who runs the import (Options.Actor), under one correlation
// id per import.
//
// An import runs in four steps, and writes only in the last:
//
//  1. parse every file as a stream into a normalized Feed (one small record
//     per person: memory grows with the number of persons, not the size of
//     the files); malformed records are rejected with their file, line and
//     reason; a file that cannot be read to its end stops the import;
//  2. load the current directory (by default by folding the log's directory
//     events) and diff: only changes become commands;
//  3. evaluate the guards on the whole plan (guards.go: rejected records,
//     people left out, mass renames and closings, missing part files,
//     encodings) and refuse the whole import, nothing written, when one
//     trips, unless Options.Force;
//  4. apply the changes in order (establishments, accounts, groups,
//     memberships, relative links, missing flags, closings), each with an
//     idempotency key derived from the change and the directory state it was
//     planned from; a forced import first records import.forced.v1.
//
// Re-importing the same feed plans nothing and appends nothing.
package directoryimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// Format is a file format.
type Format string

// Formats.
const (
	FormatAAF Format = "aaf"
	FormatCSV Format = "csv"
	// FormatONDE is an école's extraction from ONDE (onde.go).
	FormatONDE Format = "onde"
)

// Source is one file of an import.
type Source struct {
	// Name is the file's name; an AAF file's mode and category are read
	// from it (ENT_Complet_20200101_Eleve_0000.xml).
	Name   string
	Format Format
	// Profile of a CSV file's persons: student, relative, teacher or
	// personnel.
	Profile domain.Profile
	// Encoding of a CSV file (UTF-8 when empty; a BOM says UTF-8 too), or
	// of an ONDE extraction (ISO-8859-1 when empty, UTF-8 with a BOM).
	// AAF files declare theirs.
	Encoding string
	// UAI of the école an ONDE extraction is from (the files do not say).
	UAI string
	// Size in bytes, for progress (0 when unknown).
	Size int64
	// Open opens the file; the import closes it.
	Open func() (io.ReadCloser, error)
	// archive is the archive the file was read from, if any.
	archive string
}

// FileSources returns the sources of paths: files, or directories whose
// files of the format (*.xml, *.csv) are taken in name order. A file may be
// an archive (.zip, .tar.gz, .tgz): the import reads the feed's files in it
// (archive.go).
func FileSources(format Format, profile domain.Profile, encoding string, paths ...string) ([]Source, error) {
	ext := ".xml"
	if format == FormatCSV || format == FormatONDE {
		ext = ".csv"
	}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		var in []string
		for _, e := range entries {
			if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ext) {
				in = append(in, filepath.Join(p, e.Name()))
			}
		}
		if len(in) == 0 {
			return nil, fmt.Errorf("%s: no %s file", p, ext)
		}
		slices.Sort(in)
		files = append(files, in...)
	}
	out := make([]Source, 0, len(files))
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		out = append(out, Source{
			Name: filepath.Base(f), Format: format, Profile: profile, Encoding: encoding, Size: st.Size(),
			Open: func() (io.ReadCloser, error) { return os.Open(f) },
		})
	}
	return out, nil
}

// Defaults of the options.
const (
	// DefaultGrace is how long an account missing from the full feeds stays
	// open: the start of a school year sees people vanish from the feeds and
	// come back.
	DefaultGrace = 30 * 24 * time.Hour
	// DefaultMaxRejected is the share of rejected records above which a feed
	// is refused whole.
	DefaultMaxRejected = 0.05
)

// The guards' defaults are in guards.go.

// Options are one import's settings. Zero values mean zero (no grace, no
// rejected record tolerated): start from DefaultOptions.
type Options struct {
	// Mode: full, delta, or auto (from the AAF file names; CSV exports are
	// full).
	Mode Mode
	// DryRun computes and reports the changes and writes nothing.
	DryRun bool
	// Grace is how long an account flagged missing stays open.
	Grace time.Duration
	// MaxRejected is the share (0..1) of rejected records above which the
	// feed is refused and nothing is written: of the whole import, and of
	// each file (from GuardMin records rejected, or all of them).
	MaxRejected float64
	// MaxSkipped is the share of people left out whole (nothing changed
	// for them) above which the import is refused: of each file and of the
	// whole import.
	MaxSkipped float64
	// MaxChanges is the share of existing accounts renamed, flagged
	// missing or closed above which the import is refused: of each
	// category of person and of the whole import.
	MaxChanges float64
	// GuardMin is the count below which the skip and mass-change guards
	// do not trip (a small school's or delta's few changes go through);
	// a file or import that leaves out everyone always trips.
	GuardMin int
	// Force imports a feed the guards refuse (the import's events then
	// start with import.forced.v1, saying which guards and why); an
	// unreadable file is refused all the same.
	Force bool
	// CorrelationID links the import's events (a new one when unset).
	CorrelationID uuid.UUID
	// Actor, when set, is the account the import's commands run as (an
	// administrator uploading a feed): the audit shows who imported. Unset,
	// they run as the system (the command line). An actor who may not
	// administer every establishment the feed changes gets the whole import
	// refused, nothing written.
	Actor uuid.UUID
	// MaxArchiveBytes bounds what the archives among the sources may hold
	// uncompressed, all together (DefaultMaxArchiveBytes when 0): an
	// archive beyond it refuses the import.
	MaxArchiveBytes int64
	// Progress, when set, is called as the import goes.
	Progress func(Progress)
}

// DefaultOptions returns the options of a plain import.
func DefaultOptions() Options {
	return Options{Mode: ModeAuto, Grace: DefaultGrace, MaxRejected: DefaultMaxRejected,
		MaxSkipped: DefaultMaxSkipped, MaxChanges: DefaultMaxChanges, GuardMin: DefaultGuardMin,
		MaxArchiveBytes: DefaultMaxArchiveBytes}
}

// Validate checks the options.
func (o *Options) Validate() error {
	var errs []error
	switch o.Mode {
	case ModeAuto, ModeFull, ModeDelta:
	case "":
		o.Mode = ModeAuto
	default:
		errs = append(errs, fmt.Errorf("mode %q is not auto, full or delta", o.Mode))
	}
	if o.Grace < 0 {
		errs = append(errs, fmt.Errorf("grace %s is negative", o.Grace))
	}
	for _, s := range []struct {
		name  string
		share float64
	}{{"max rejected", o.MaxRejected}, {"max skipped", o.MaxSkipped}, {"max changes", o.MaxChanges}} {
		if s.share < 0 || s.share > 1 {
			errs = append(errs, fmt.Errorf("%s share %g is not between 0 and 1", s.name, s.share))
		}
	}
	if o.GuardMin < 0 {
		errs = append(errs, fmt.Errorf("guard minimum %d is negative", o.GuardMin))
	}
	switch {
	case o.MaxArchiveBytes < 0:
		errs = append(errs, fmt.Errorf("largest archive %d is negative", o.MaxArchiveBytes))
	case o.MaxArchiveBytes == 0:
		o.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	if len(errs) > 0 {
		return domain.Errorf(domain.ErrInvalid, "directory import: %v", errors.Join(errs...))
	}
	return nil
}

// Config configures an Importer.
type Config struct {
	Handlers *commands.Handlers
	Registry *domain.Registry
	// Log is the event store's global log, folded into the current
	// directory.
	Log Log
	// Directory, when set, loads the current directory instead (the
	// directory.v1 read model, for instance).
	Directory func(ctx context.Context) (Directory, error)
	// Now is the clock of the grace period (time.Now by default). It should
	// be the handlers' clock.
	Now func() time.Time
	// Workers is how many commands run at once (default 4): the changes of
	// one stream always run in order.
	Workers int
	Logger  *slog.Logger
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Handlers == nil {
		return errors.New("directoryimport: Handlers is required")
	}
	if c.Directory == nil && (c.Log == nil || c.Registry == nil) {
		return errors.New("directoryimport: Log and Registry, or Directory, are required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.Workers < 0 {
		return fmt.Errorf("directoryimport: Workers %d is negative", c.Workers)
	}
	return nil
}

// Importer runs directory imports.
type Importer struct{ cfg Config }

// New returns an importer.
func New(cfg Config) (*Importer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Importer{cfg: cfg}, nil
}

// ErrRefused matches the error of an import refused whole: an unreadable
// or truncated file, a guard that tripped (too many rejected records,
// people left out, mass changes, missing part files, a wrong encoding).
// Nothing was written. The error also matches domain.ErrInvalid.
var ErrRefused = errors.New("directory import refused")

type refusal struct {
	msg   string
	cause error
	// guards are the guards that refused the import, when they were not
	// evaluated with the plan (a file unreadable in its encoding).
	guards []Guard
	// code is the domain error the refusal also matches (ErrInvalid when
	// nil).
	code *domain.Error
	// archive is the archive that refused the import, when one did.
	archive *ArchiveIssue
}

func (r *refusal) Error() string { return "directory import refused, nothing written: " + r.msg }

func (r *refusal) Unwrap() []error {
	code := r.code
	if code == nil {
		code = domain.ErrInvalid
	}
	errs := []error{ErrRefused, domain.Errorf(code, "%s", r.msg)}
	if r.cause != nil {
		errs = append(errs, r.cause)
	}
	return errs
}

// Import reads sources, diffs them against the directory and, unless
// opts.DryRun, applies the changes. It always returns a report (nil only
// for invalid options); the error says why the import was refused or
// stopped.
func (im *Importer) Import(ctx context.Context, sources []Source, opts Options) (*Report, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{
		CorrelationID: opts.CorrelationID, Actor: opts.Actor, DryRun: opts.DryRun, MaxRejected: opts.MaxRejected,
		MaxSkipped: opts.MaxSkipped, MaxChanges: opts.MaxChanges, GuardMin: opts.GuardMin, Force: opts.Force,
		Planned: make(map[ChangeKind]int), Applied: make(map[ChangeKind]int), Started: time.Now(),
	}
	if rep.CorrelationID == uuid.Nil {
		rep.CorrelationID = uuid.New()
	}
	log := im.cfg.Logger.With("correlation_id", rep.CorrelationID)
	err := im.run(ctx, sources, opts, rep)
	rep.Finished = time.Now()
	var r *refusal
	if errors.As(err, &r) {
		rep.Refused = r.msg
		rep.Guards = append(rep.Guards, r.guards...)
		rep.Archive = r.archive
	}
	log.InfoContext(ctx, "directory import", "mode", rep.Mode, "dry_run", rep.DryRun, "files", len(rep.Files),
		"records", rep.Records, "rejected", len(rep.Rejected), "skipped", len(rep.Skipped), "events", rep.Events,
		"failed", len(rep.Failed), "refused", rep.Refused, "error", err)
	return rep, err
}

func (im *Importer) run(ctx context.Context, sources []Source, opts Options, rep *Report) error {
	if len(sources) == 0 {
		return &refusal{msg: "no file to import"}
	}
	t := time.Now()
	arch := &archives{max: opts.MaxArchiveBytes}
	defer arch.close()
	sources, err := arch.expand(ctx, sources)
	if err != nil {
		rep.Timings.Parse = time.Since(t)
		return archiveRefusal(err)
	}
	if arch.total > 0 && opts.Progress != nil {
		var total int64
		for _, src := range sources {
			total += src.Size
		}
		opts.Progress(Progress{Phase: PhaseParse, Total: total})
	}
	feed, err := im.read(ctx, sources, opts)
	rep.Timings.Parse = time.Since(t)
	if feed != nil {
		rep.Mode, rep.Feed, rep.Files, rep.Records = feed.Mode, feed.description(), feed.Files, feed.Records
		rep.Persons, rep.Rejected, rep.Skipped = len(feed.Persons), feed.Rejected, feed.Skipped
		rep.Establishments = feed.establishments()
	}
	if err != nil {
		return err
	}

	t = time.Now()
	dir, err := im.directory(ctx, opts.Progress)
	rep.Timings.Load = time.Since(t)
	if err != nil {
		return err
	}
	actor, err := resolveActor(dir, opts.Actor)
	if err != nil {
		return err
	}
	t = time.Now()
	plan := diff(feed, dir, im.cfg.Now(), opts.Grace)
	rep.Timings.Diff = time.Since(t)
	rep.Skipped = append(rep.Skipped, plan.Skipped...)
	slices.SortStableFunc(rep.Skipped, issueOrder)
	for _, ph := range plan.Phases {
		rep.Planned[ph[0].Kind] += len(ph)
	}
	rep.tally(feed, plan)
	if err := authorize(actor, plan); err != nil {
		return err
	}
	if opts.DryRun {
		rep.Changes = plan.Changes()
	}
	rep.Guards = guards(feed, plan, dir, opts)
	if len(rep.Guards) > 0 {
		if !opts.Force {
			return &refusal{msg: refusedBy(rep.Guards)}
		}
		for i := range rep.Guards {
			rep.Guards[i].Forced = true
		}
	}
	if opts.DryRun {
		return nil
	}
	t = time.Now()
	ap := &applier{h: im.cfg.Handlers, actor: opts.Actor, asOf: dir.AsOf(), corr: rep.CorrelationID, grace: opts.Grace,
		feed: rep.Feed, workers: im.cfg.Workers, progress: opts.Progress}
	if len(rep.Guards) > 0 {
		if err := ap.recordForced(ctx, rep); err != nil {
			return err
		}
	}
	err = ap.apply(ctx, plan, rep)
	rep.Timings.Apply = time.Since(t)
	return err
}

// ActorDirectory is a Directory that also knows every account by id, as
// LogDirectory does: the import then checks before writing anything that
// its actor may administer every establishment the feed changes. With a
// Directory that does not, the command layer still refuses each change the
// actor may not make, one by one.
type ActorDirectory interface {
	Directory
	// Actor returns the actor an account acts as, and whether it is an
	// open account.
	Actor(id uuid.UUID) (domain.Actor, bool)
}

// resolveActor returns the actor of an import run by an account (nil for
// the system, or when dir cannot tell): only an open administrator account
// runs imports.
func resolveActor(dir Directory, id uuid.UUID) (*domain.Actor, error) {
	if id == uuid.Nil {
		return nil, nil
	}
	ad, ok := dir.(ActorDirectory)
	if !ok {
		return nil, nil
	}
	a, ok := ad.Actor(id)
	switch {
	case !ok:
		return nil, &refusal{msg: fmt.Sprintf("account %s is unknown or closed", id), code: domain.ErrForbidden}
	case a.Profile != domain.ProfileAdmin:
		return nil, &refusal{msg: fmt.Sprintf("only an administrator runs directory imports, not %s", a.Profile), code: domain.ErrForbidden}
	}
	return &a, nil
}

// authorize refuses a plan with a change in an establishment the actor
// does not administer.
func authorize(actor *domain.Actor, plan *Plan) error {
	if actor == nil {
		return nil
	}
	var denied []string
	for _, ph := range plan.Phases {
		for _, c := range ph {
			if !actor.IsAdmin(c.Establishment) && !slices.Contains(denied, c.Establishment) {
				denied = append(denied, c.Establishment)
			}
		}
	}
	if len(denied) == 0 {
		return nil
	}
	slices.Sort(denied)
	scope := "administrator of " + actor.Establishment
	if actor.Establishment == "" {
		scope = "administrator"
	}
	return &refusal{msg: fmt.Sprintf("the %s %s may not change the directory of %s", scope, actor.Account, strings.Join(denied, ", ")),
		code: domain.ErrForbidden}
}

// establishments lists the UAIs a feed concerns, sorted.
func (f *Feed) establishments() []string {
	var out []string
	add := func(uai string) {
		if uai != "" && !slices.Contains(out, uai) {
			out = append(out, uai)
		}
	}
	for _, e := range f.Establishments {
		add(e.UAI)
	}
	for _, p := range f.Persons {
		add(p.UAI)
	}
	slices.Sort(out)
	return out
}

// directory loads the current directory.
func (im *Importer) directory(ctx context.Context, progress func(Progress)) (Directory, error) {
	if im.cfg.Directory != nil {
		return im.cfg.Directory(ctx)
	}
	log := im.cfg.Log
	if progress != nil {
		log = &progressLog{Log: log, progress: progress}
	}
	return LoadDirectory(ctx, log, im.cfg.Registry)
}

// progressLog reports how many records LoadDirectory has read.
type progressLog struct {
	Log
	progress func(Progress)
	n        int64
}

func (l *progressLog) ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	recs, err := l.Log.ReadAll(ctx, after, limit)
	l.n += int64(len(recs))
	l.progress(Progress{Phase: PhaseLoad, Done: l.n})
	return recs, err
}

// read parses every source into a feed. A file that cannot be read to its
// end refuses the import; so does a file that cannot be read because its
// bytes are not UTF-8 as it says (an encoding guard no force passes).
func (im *Importer) read(ctx context.Context, sources []Source, opts Options) (*Feed, error) {
	b := newBuilder()
	for _, src := range sources {
		fr := FileReport{Name: src.Name, Format: src.Format}
		err := im.readOne(ctx, b, src, &fr, opts.Progress)
		b.files = append(b.files, fr)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			feed := b.build(bestMode(opts.Mode, b.files))
			if m := fr.encodingMismatch(); m != nil {
				g := encodingGuard(fr.Name, m)
				g.Unforceable = true
				g.Message += "; the file cannot be read"
				return feed, &refusal{msg: g.Message, cause: err, guards: []Guard{g}}
			}
			var ae *archiveError
			if errors.As(err, &ae) {
				return feed, archiveRefusal(ae)
			}
			return feed, &refusal{msg: err.Error(), cause: err}
		}
	}
	mode, err := feedMode(opts.Mode, b.files)
	if err != nil {
		return b.build(""), &refusal{msg: err.Error()}
	}
	return b.build(mode), nil
}

// archiveRefusal is the refusal of an archive's error; other errors (a
// cancelled context, an archive that cannot be opened) stay as they are.
func archiveRefusal(err error) error {
	var ae *archiveError
	if !errors.As(err, &ae) {
		return err
	}
	issue := ae.issue
	return &refusal{msg: issue.Reason, cause: err, archive: &issue}
}

// bestMode is the mode of the files read so far, for the report of a feed
// refused while reading: empty when they disagree.
func bestMode(mode Mode, files []FileReport) Mode {
	m, err := feedMode(mode, files)
	if err != nil {
		return ""
	}
	return m
}

func (im *Importer) readOne(ctx context.Context, b *builder, src Source, fr *FileReport, progress func(Progress)) error {
	if src.Open == nil {
		return fmt.Errorf("%s: nothing to open", src.Name)
	}
	rc, err := src.Open()
	if err != nil {
		return fmt.Errorf("open %s: %w", src.Name, err)
	}
	defer rc.Close()
	fr.Archive = src.archive
	cr := &countingReader{r: rc, name: src.Name, total: src.Size, progress: progress}
	switch src.Format {
	case FormatAAF:
		err = b.parseAAF(ctx, src.Name, cr, fr)
	case FormatCSV:
		err = b.parseCSV(ctx, src.Name, cr, src.Profile, src.Encoding, fr)
	case FormatONDE:
		err = b.parseONDE(ctx, src.Name, cr, src.UAI, src.Encoding, fr)
	default:
		err = fmt.Errorf("%s: format %q is not aaf, csv or onde", src.Name, src.Format)
	}
	fr.Bytes = cr.n
	cr.report()
	return err
}

// feedMode decides whether the files make a full or a delta feed.
func feedMode(mode Mode, files []FileReport) (Mode, error) {
	if mode != ModeAuto {
		return mode, nil
	}
	var full, delta []string
	for _, f := range files {
		if f.Ignored || f.Category == CategoryStructure {
			continue // establishments are never flagged: their mode does not matter
		}
		if f.Mode == ModeFull {
			full = append(full, f.Name)
		} else {
			delta = append(delta, f.Name)
		}
	}
	switch {
	case len(full) > 0 && len(delta) > 0:
		return "", fmt.Errorf("full files (%s) and delta files (%s) mixed: import them apart, or set the mode",
			strings.Join(full, ", "), strings.Join(delta, ", "))
	case len(full) > 0:
		return ModeFull, nil
	}
	return ModeDelta, nil
}

// description names a feed in flag events and logs.
func (f *Feed) description() string {
	names := make([]string, 0, len(f.Files))
	for _, fr := range f.Files {
		names = append(names, fr.Name)
	}
	s := strings.Join(names, ", ")
	if len(names) > 4 {
		s = strings.Join(names[:4], ", ") + fmt.Sprintf(" and %d more", len(names)-4)
	}
	mode := string(f.Mode)
	if mode == "" {
		mode = "full and delta"
	}
	return fmt.Sprintf("%s feed: %s", mode, s)
}

// countingReader counts the bytes read and reports progress every MiB.
type countingReader struct {
	r        io.Reader
	name     string
	n, last  int64
	total    int64
	progress func(Progress)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && c.n-c.last >= 1<<20 {
		c.report()
	}
	return n, err
}

func (c *countingReader) report() {
	if c.progress != nil {
		c.last = c.n
		c.progress(Progress{Phase: PhaseParse, File: c.name, Done: c.n, Total: c.total})
	}
}
