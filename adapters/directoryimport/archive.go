package directoryimport

// Archives: académies deliver their feeds as .zip or .tar.gz archives,
// the files often in a dated folder. A source that is an archive stands
// for the feed's files inside it, each known by its base name. Archives
// are hostile input: no entry name is ever used as a path (zip entries are
// read in place; tar entries, which can only be read in order, are copied
// to numbered files of a private temporary directory, removed once the
// import ends); the total uncompressed size and the count of entries are
// bounded; links, nested archives, encrypted entries, unsafe names and
// names given twice refuse the import whole, before anything is read.

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxArchiveBytes bounds what the archives of one import may hold
// uncompressed, unless Options.MaxArchiveBytes says otherwise: the largest
// upload the server takes by default.
const DefaultMaxArchiveBytes = 256 << 20

// MaxArchiveEntries bounds the entries of one archive, directories and
// ignored files included.
const MaxArchiveEntries = 10_000

// IsArchive reports whether a file's name says it is an archive the import
// opens: .zip, .tar.gz or .tgz, in any case.
func IsArchive(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".zip") || strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".tgz")
}

// looksArchived reports whether an entry's name says it is an archive or a
// compressed file: an archive inside an archive is refused.
func looksArchived(name string) bool {
	n := strings.ToLower(name)
	for _, ext := range []string{".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar", ".zst"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// Why an archive refuses the import (ArchiveIssue.Code).
const (
	ArchiveCorrupt     ReasonCode = "archive-corrupt"
	ArchiveEncrypted   ReasonCode = "archive-encrypted"
	ArchiveTooLarge    ReasonCode = "archive-too-large"
	ArchiveTooMany     ReasonCode = "archive-too-many-entries"
	ArchiveNested      ReasonCode = "archive-nested"
	ArchiveDuplicate   ReasonCode = "archive-duplicate"
	ArchiveLink        ReasonCode = "archive-link"
	ArchiveUnsafeName  ReasonCode = "archive-unsafe-name"
	ArchiveNoFeedFiles ReasonCode = "archive-no-feed-file"
)

// archiveTexts are the words of the archive codes; the arguments are the
// archive's name and then those of each code.
var archiveTexts = map[ReasonCode]string{
	ArchiveCorrupt:     "archive %s is corrupt or not an archive",
	ArchiveEncrypted:   "archive %s: entry %s is encrypted; deliver the files unencrypted",
	ArchiveTooLarge:    "archive %s would hold more than %s bytes uncompressed (the largest import): refused as a possible zip bomb",
	ArchiveTooMany:     "archive %s has more than %s entries",
	ArchiveNested:      "archive %s holds another archive, %s: deliver its files instead",
	ArchiveDuplicate:   "archive %s holds two files named %s: one delivery holds each file once",
	ArchiveLink:        "archive %s: entry %s is a link, not a file",
	ArchiveUnsafeName:  "archive %s: entry %s has an unsafe name (an absolute path or ..)",
	ArchiveNoFeedFiles: "archive %s holds no directory file the import knows (no %s file)",
}

// ArchiveCodes lists the archive codes (the portal checks it has their
// words).
func ArchiveCodes() []ReasonCode {
	out := make([]ReasonCode, 0, len(archiveTexts))
	for c := range archiveTexts {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// ArchiveIssue says why an archive of the feed refused the import: a
// stable code, its arguments (the archive's name first) and its words,
// with the cause when there is one (a reader's error).
type ArchiveIssue struct {
	Archive string     `json:"archive"`
	Code    ReasonCode `json:"code"`
	Args    []string   `json:"args"`
	Reason  string     `json:"reason"`
}

// archiveError is an archive refusing the import.
type archiveError struct {
	issue ArchiveIssue
	cause error
}

func (e *archiveError) Error() string { return e.issue.Reason }
func (e *archiveError) Unwrap() error { return e.cause }

// archiveFault returns the error of code about archive, its words made of
// args and, when given, the cause.
func archiveFault(archive string, code ReasonCode, cause error, args ...string) *archiveError {
	all := append([]string{printable(archive)}, args...)
	vs := make([]any, len(all))
	for i, a := range all {
		vs[i] = a
	}
	reason := fmt.Sprintf(archiveTexts[code], vs...)
	if cause != nil {
		reason += ": " + printable(cause.Error())
	}
	return &archiveError{issue: ArchiveIssue{Archive: all[0], Code: code, Args: all, Reason: reason}, cause: cause}
}

// printable returns a name from an archive as a report may show it:
// invalid UTF-8 and control characters replaced, at most 200 characters.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:200]) + "…"
	}
	return s
}

// archives opens the archives among sources: each stands for the feed's
// files inside it (of the format's extension, in name order), after the
// sources before it. close releases what they hold (open files, the
// temporary directory of tar entries); it is set whatever the error.
type archives struct {
	max     int64 // bytes all archives may hold uncompressed
	total   int64
	closers []io.Closer
	dir     string
}

func (a *archives) close() {
	for _, c := range slices.Backward(a.closers) {
		_ = c.Close()
	}
	if a.dir != "" {
		_ = os.RemoveAll(a.dir)
	}
}

// expand returns sources with every archive replaced by its files.
func (a *archives) expand(ctx context.Context, sources []Source) ([]Source, error) {
	if !slices.ContainsFunc(sources, func(s Source) bool { return IsArchive(s.Name) }) {
		return sources, nil
	}
	out := make([]Source, 0, len(sources))
	for _, src := range sources {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !IsArchive(src.Name) {
			out = append(out, src)
			continue
		}
		files, err := a.open(ctx, src)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, archiveFault(src.Name, ArchiveNoFeedFiles, nil, "*"+src.Format.extension())
		}
		out = append(out, files...)
	}
	return out, nil
}

// extension is the extension of the format's files.
func (f Format) extension() string {
	if f == FormatCSV || f == FormatONDE {
		return ".csv"
	}
	return ".xml"
}

// archiveEntry is an archive's entry as its header says.
type archiveEntry struct {
	name string // as in the archive
	dir  bool
	link bool
	size int64
	// encrypted: a zip entry's encryption flag.
	encrypted bool
}

// entryFilter keeps the entries that are feed files and refuses the
// archive for a bad one. It is fed every entry in the archive's order.
type entryFilter struct {
	archive string
	ext     string
	a       *archives
	n       int
	names   map[string]bool
}

// take returns the base name of a feed file (empty: the entry is left
// aside), or the refusal it calls for.
func (f *entryFilter) take(e archiveEntry) (string, error) {
	f.n++
	if f.n > MaxArchiveEntries {
		return "", archiveFault(f.archive, ArchiveTooMany, nil, strconv.Itoa(MaxArchiveEntries))
	}
	name := strings.ReplaceAll(e.name, "\\", "/")
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsRune(name, 0) || (len(name) > 1 && name[1] == ':') ||
		slices.Contains(strings.Split(name, "/"), "..") {
		return "", archiveFault(f.archive, ArchiveUnsafeName, nil, strconv.Quote(printable(e.name)))
	}
	if e.dir || strings.HasSuffix(name, "/") {
		return "", nil
	}
	base := path.Base(name)
	if strings.HasPrefix(base, ".") || slices.Contains(strings.Split(name, "/"), "__MACOSX") {
		return "", nil // resource forks, hidden files
	}
	switch {
	case e.link:
		return "", archiveFault(f.archive, ArchiveLink, nil, printable(name))
	case looksArchived(base):
		return "", archiveFault(f.archive, ArchiveNested, nil, printable(name))
	case e.encrypted:
		return "", archiveFault(f.archive, ArchiveEncrypted, nil, printable(name))
	case !strings.EqualFold(path.Ext(base), f.ext):
		return "", nil // not a feed file: a note, a checksum
	case f.names[base]:
		return "", archiveFault(f.archive, ArchiveDuplicate, nil, printable(base))
	}
	if e.size < 0 || e.size > f.a.max-f.a.total {
		return "", archiveFault(f.archive, ArchiveTooLarge, nil, strconv.FormatInt(f.a.max, 10))
	}
	f.a.total += e.size
	f.names[base] = true
	return base, nil
}

// open returns the feed files of one archive.
func (a *archives) open(ctx context.Context, src Source) ([]Source, error) {
	if src.Open == nil {
		return nil, fmt.Errorf("%s: nothing to open", src.Name)
	}
	rc, err := src.Open()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", src.Name, err)
	}
	a.closers = append(a.closers, rc)
	filter := &entryFilter{archive: src.Name, ext: src.Format.extension(), a: a, names: make(map[string]bool)}
	var files []Source
	if strings.HasSuffix(strings.ToLower(src.Name), ".zip") {
		files, err = a.openZip(ctx, src, rc, filter)
	} else {
		files, err = a.openTar(ctx, src, rc, filter)
	}
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(files, func(x, y Source) int { return strings.Compare(x.Name, y.Name) })
	return files, nil
}

// sizedReaderAt is an open file: a zip is read in place.
type sizedReaderAt interface {
	io.ReaderAt
	Stat() (fs.FileInfo, error)
}

// openZip reads a zip's directory and returns its feed files, each read in
// place from the archive when opened.
func (a *archives) openZip(ctx context.Context, src Source, rc io.ReadCloser, filter *entryFilter) ([]Source, error) {
	ra, ok := rc.(sizedReaderAt)
	if !ok {
		// Not a file (a test's reader): spooled to the private directory.
		f, err := a.spool(src.Name, rc)
		if err != nil {
			return nil, err
		}
		ra = f
	}
	st, err := ra.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Name, err)
	}
	zr, err := zip.NewReader(ra, st.Size())
	if errors.Is(err, zip.ErrInsecurePath) {
		err = nil // the filter refuses the entry by name
	}
	if err != nil {
		return nil, archiveFault(src.Name, ArchiveCorrupt, err)
	}
	if len(zr.File) > MaxArchiveEntries {
		return nil, archiveFault(src.Name, ArchiveTooMany, nil, strconv.Itoa(MaxArchiveEntries))
	}
	var out []Source
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mode := zf.Mode()
		size := int64(zf.UncompressedSize64)
		if zf.UncompressedSize64 > 1<<62 {
			size = -1
		}
		name, err := filter.take(archiveEntry{name: zf.Name, dir: mode.IsDir(), link: mode&fs.ModeSymlink != 0, size: size,
			encrypted: zf.Flags&0x1 != 0})
		if err != nil {
			return nil, err
		}
		if name == "" {
			continue
		}
		// The zip reader refuses to read past the size the entry
		// declares, which the filter counted.
		out = append(out, Source{Name: name, Format: src.Format, Profile: src.Profile, Encoding: src.Encoding, UAI: src.UAI,
			Size: size, archive: src.Name, Open: func() (io.ReadCloser, error) {
				r, err := zf.Open()
				if err != nil {
					return nil, archiveFault(src.Name, ArchiveCorrupt, err)
				}
				return &zipEntry{ReadCloser: r, archive: src.Name}, nil
			}})
	}
	return out, nil
}

// zipEntry says a read error of a zip entry (a bad checksum, more bytes
// than declared) is the archive's.
type zipEntry struct {
	io.ReadCloser
	archive string
}

func (z *zipEntry) Read(p []byte) (int, error) {
	n, err := z.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = archiveFault(z.archive, ArchiveCorrupt, err)
	}
	return n, err
}

// openTar reads a .tar.gz to its end, copying its feed files to numbered
// files of the private directory (a tar is read in order; the import
// reads its files in name order).
func (a *archives) openTar(ctx context.Context, src Source, rc io.Reader, filter *entryFilter) ([]Source, error) {
	zr, err := gzip.NewReader(rc)
	if err != nil {
		return nil, archiveFault(src.Name, ArchiveCorrupt, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var out []Source
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if errors.Is(err, tar.ErrInsecurePath) {
			err = nil // the filter refuses the entry by name
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, archiveFault(src.Name, ArchiveCorrupt, err)
		}
		e := archiveEntry{name: h.Name, size: h.Size}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeChar, tar.TypeBlock, tar.TypeFifo, tar.TypeGNUSparse:
			if h.Typeflag != tar.TypeReg {
				e.link = true // a device or a sparse file is no feed file either
			}
		case tar.TypeDir:
			e.dir = true
		case tar.TypeSymlink, tar.TypeLink:
			e.link = true
		default:
			e.dir = true // extended headers the reader did not fold: nothing to read
		}
		name, err := filter.take(e)
		if err != nil {
			return nil, err
		}
		if name == "" {
			continue
		}
		f, err := a.create()
		if err != nil {
			return nil, err
		}
		n, err := io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, archiveFault(src.Name, ArchiveCorrupt, err)
		}
		p := f.Name()
		out = append(out, Source{Name: name, Format: src.Format, Profile: src.Profile, Encoding: src.Encoding, UAI: src.UAI,
			Size: n, archive: src.Name, Open: func() (io.ReadCloser, error) { return os.Open(p) }})
	}
}

// create makes a numbered file in the private directory.
func (a *archives) create() (*os.File, error) {
	if a.dir == "" {
		dir, err := os.MkdirTemp("", "ledger-archive-")
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		a.dir = dir
	}
	return os.CreateTemp(a.dir, "entry-")
}

// spool copies an archive that is not a file to the private directory, at
// most as many bytes as the archives may hold.
func (a *archives) spool(name string, r io.Reader) (*os.File, error) {
	f, err := a.create()
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, f)
	n, err := io.Copy(f, io.LimitReader(r, a.max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if n > a.max {
		return nil, archiveFault(name, ArchiveTooLarge, nil, strconv.FormatInt(a.max, 10))
	}
	return f, nil
}
