package directoryimport

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// member is a file of a test archive.
type member struct {
	name string
	body []byte
	dir  bool
	link bool
	// stored: not compressed (a zip byte flipped then fails its checksum);
	// encrypted: the zip entry says it is.
	stored, encrypted bool
}

func writeZip(t testing.TB, path string, members ...member) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		h := &zip.FileHeader{Name: m.name, Method: zip.Deflate}
		switch {
		case m.dir:
			h.Name = strings.TrimSuffix(m.name, "/") + "/"
		case m.stored:
			h.Method = zip.Store
		}
		if m.encrypted {
			h.Flags |= 0x1
		}
		if m.link {
			h.SetMode(os.ModeSymlink | 0o777)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeTarGz(t testing.TB, path string, members ...member) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg}
		switch {
		case m.dir:
			h.Typeflag, h.Size, h.Name = tar.TypeDir, 0, strings.TrimSuffix(m.name, "/")+"/"
		case m.link:
			h.Typeflag, h.Size, h.Linkname = tar.TypeSymlink, 0, "/etc/passwd"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if !m.dir && !m.link {
			if _, err := tw.Write(m.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// delivery returns the members of the full fixture feed as an académie
// delivers it: in a dated folder, the students in two part files, with a
// note, a Finder's resource forks and a hidden file beside them.
func delivery(t *testing.T, folder string) []member {
	t.Helper()
	ms := []member{{name: folder, dir: true}}
	for _, name := range []string{"EtabEducNat", "PersEducNat", "PersRelEleve"} {
		file := "ENT_Complet_20240902_" + name + "_0000.xml"
		ms = append(ms, member{name: folder + "/" + file, body: []byte(readFile(t, filepath.Join("testdata/aaf/full", file)))})
	}
	for i, part := range splitParts(t, readFile(t, "testdata/aaf/full/ENT_Complet_20240902_Eleve_0000.xml"), 3) {
		ms = append(ms, member{name: folder + "/ENT_Complet_20240902_Eleve_000" + string(rune('0'+i)) + ".xml", body: []byte(part)})
	}
	return append(ms,
		member{name: folder + "/LISEZMOI.txt", body: []byte("Livraison du 2 septembre 2024")},
		member{name: "__MACOSX/" + folder + "/._ENT_Complet_20240902_Eleve_0000.xml", body: []byte("\x00\x05\x16\x07 not xml")},
		member{name: folder + "/.DS_Store", body: []byte("\x00\x00\x00\x01Bud1")},
	)
}

// splitParts splits an AAF file into two: its first n records, and the
// others.
func splitParts(t *testing.T, xml string, n int) []string {
	t.Helper()
	const rec = "    <addRequest>"
	parts := strings.Split(xml, rec)
	if len(parts) <= n+1 {
		t.Fatalf("%d records, cannot split after %d", len(parts)-1, n)
	}
	head, foot := parts[0], "</ficAlimMENESR>\n"
	first := head + rec + strings.Join(parts[1:n+1], rec)
	if !strings.Contains(first, foot) {
		first += foot
	}
	return []string{first, head + rec + strings.Join(parts[n+1:], rec)}
}

// archiveSource is the source of one archive file.
func archiveSource(t *testing.T, path string) []Source {
	t.Helper()
	srcs, err := FileSources(FormatAAF, "", "", path)
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

// A delivery as a zip (dated folder, split parts, a note, resource forks)
// or a tar.gz imports as its files would from a directory: the same 41
// events, each file reported with its archive; again, nothing.
func TestArchiveDeliveries(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"ENT_2024-09-02.zip", "ENT_20240902.tar.gz", "ENT_20240902.TGZ"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			x := newHarness(t, nil)
			path := filepath.Join(t.TempDir(), kind)
			if strings.HasSuffix(kind, ".zip") {
				writeZip(t, path, delivery(t, "ENT_2024-09-02")...)
			} else {
				writeTarGz(t, path, delivery(t, "ENT_2024-09-02")...)
			}
			rep, recs := x.MustImport(archiveSource(t, path), DefaultOptions())
			if len(recs) != 41 || rep.Mode != ModeFull || rep.Persons != 15 {
				t.Fatalf("%d events, mode %s, %d persons", len(recs), rep.Mode, rep.Persons)
			}
			var names []string
			for _, f := range rep.Files {
				names = append(names, f.Name)
				if f.Archive != kind {
					t.Errorf("%s: archive %q", f.Name, f.Archive)
				}
			}
			checkStrings(t, "files", names, "ENT_Complet_20240902_Eleve_0000.xml", "ENT_Complet_20240902_Eleve_0001.xml",
				"ENT_Complet_20240902_EtabEducNat_0000.xml", "ENT_Complet_20240902_PersEducNat_0000.xml",
				"ENT_Complet_20240902_PersRelEleve_0000.xml")
			if rep.Files[0].Persons != 3 || rep.Files[1].Persons != 2 {
				t.Errorf("parts: %d and %d persons", rep.Files[0].Persons, rep.Files[1].Persons)
			}
			var text bytes.Buffer
			if err := rep.WriteText(&text, false); err != nil {
				t.Fatal(err)
			}
			if want := "  ENT_Complet_20240902_Eleve_0001.xml (in " + kind + "): aaf Eleve full, UTF-8,"; !strings.Contains(text.String(), want) {
				t.Errorf("the report lacks %q:\n%s", want, text.String())
			}
			x.MustNotChange(archiveSource(t, path), DefaultOptions())
		})
	}
}

// Archives that refuse the import: each says why (code, words, archive),
// and nothing is written.
func TestArchiveRefusals(t *testing.T) {
	t.Parallel()
	eleve := []byte(readFile(t, "testdata/aaf/full/ENT_Complet_20240902_Eleve_0000.xml"))
	etab := []byte(readFile(t, "testdata/aaf/full/ENT_Complet_20240902_EtabEducNat_0000.xml"))
	zeros := make([]byte, 8<<20) // 8 MiB of zeros: a few kilobytes compressed
	small := DefaultOptions()
	small.MaxArchiveBytes = 1 << 20
	corruptZip := func(t *testing.T, path string) {
		writeZip(t, path, member{name: "ENT_Complet_20240902_EtabEducNat_0000.xml", body: etab, stored: true})
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(b, []byte("ENTStructureUAI"))
		b[i] = 'X' // the entry's bytes no longer match its checksum
		writeFile(t, path, string(b))
	}
	for _, tc := range []struct {
		name  string
		file  string
		write func(t *testing.T, path string)
		opts  Options
		code  ReasonCode
		words string
	}{
		{"traversal", "ENT_2024-09-02.zip", func(t *testing.T, path string) {
			writeZip(t, path, member{name: "ENT_Complet_20240902_EtabEducNat_0000.xml", body: etab}, member{name: "../../x.xml", body: eleve})
		}, DefaultOptions(), ArchiveUnsafeName, `archive ENT_2024-09-02.zip: entry "../../x.xml" has an unsafe name (an absolute path or ..)`},
		{"absolute", "ENT_2024-09-02.tar.gz", func(t *testing.T, path string) {
			writeTarGz(t, path, member{name: "/tmp/ENT_Complet_20240902_Eleve_0000.xml", body: eleve})
		}, DefaultOptions(), ArchiveUnsafeName, `archive ENT_2024-09-02.tar.gz: entry "/tmp/ENT_Complet_20240902_Eleve_0000.xml" has an unsafe name (an absolute path or ..)`},
		{"zip bomb", "ENT_2024-09-02.zip", func(t *testing.T, path string) {
			writeZip(t, path, member{name: "ENT_2024-09-02/ENT_Complet_20240902_Eleve_0000.xml", body: zeros})
		}, small, ArchiveTooLarge, "archive ENT_2024-09-02.zip would hold more than 1048576 bytes uncompressed (the largest import): refused as a possible zip bomb"},
		{"tar bomb", "ENT_2024-09-02.tgz", func(t *testing.T, path string) {
			writeTarGz(t, path, member{name: "ENT_Complet_20240902_EtabEducNat_0000.xml", body: etab}, member{name: "ENT_Complet_20240902_Eleve_0000.xml", body: zeros})
		}, small, ArchiveTooLarge, "archive ENT_2024-09-02.tgz would hold more than 1048576 bytes uncompressed (the largest import): refused as a possible zip bomb"},
		{"nested", "ENT_2024-09-02.zip", func(t *testing.T, path string) {
			writeZip(t, path, member{name: "ENT_Complet_20240902_EtabEducNat_0000.xml", body: etab}, member{name: "ENT_2024-09-02/eleves.zip", body: []byte("PK\x03\x04")})
		}, DefaultOptions(), ArchiveNested, "archive ENT_2024-09-02.zip holds another archive, ENT_2024-09-02/eleves.zip: deliver its files instead"},
		{"duplicate", "ENT_2024-09-02.zip", func(t *testing.T, path string) {
			writeZip(t, path, member{name: "a/ENT_Complet_20240902_Eleve_0000.xml", body: eleve}, member{name: "b/ENT_Complet_20240902_Eleve_0000.xml", body: eleve})
		}, DefaultOptions(), ArchiveDuplicate, "archive ENT_2024-09-02.zip holds two files named ENT_Complet_20240902_Eleve_0000.xml: one delivery holds each file once"},
		{"truncated", "ENT_2024-09-02.zip", func(t *testing.T, path string) {
			writeZip(t, path, delivery(t, "ENT_2024-09-02")...)
			b, _ := os.ReadFile(path)
			writeFile(t, path, string(b[:len(b)/2]))
		}, DefaultOptions(), ArchiveCorrupt, "archive ENT_2024-09-02.zip is corrupt or not an archive: zip: not a valid zip file"},
		{"checksum", "ENT_2024-09-02.zip", corruptZip, DefaultOptions(), ArchiveCorrupt, "archive ENT_2024-09-02.zip is corrupt or not an archive: zip: checksum error"},
		{"not gzip", "ENT_2024-09-02.tar.gz", func(t *testing.T, path string) {
			writeFile(t, path, "this is not an archive")
		}, DefaultOptions(), ArchiveCorrupt, "archive ENT_2024-09-02.tar.gz is corrupt or not an archive: gzip: invalid header"},
		{"encrypted", "ENT_2024-09-02.zip", func(t *testing.T, path string) {
			writeZip(t, path, member{name: "ENT_Complet_20240902_Eleve_0000.xml", body: eleve, encrypted: true})
		}, DefaultOptions(), ArchiveEncrypted, "archive ENT_2024-09-02.zip: entry ENT_Complet_20240902_Eleve_0000.xml is encrypted; deliver the files unencrypted"},
		{"link", "ENT_2024-09-02.tar.gz", func(t *testing.T, path string) {
			writeTarGz(t, path, member{name: "ENT_Complet_20240902_EtabEducNat_0000.xml", body: etab}, member{name: "ENT_Complet_20240902_Eleve_0000.xml", link: true})
		}, DefaultOptions(), ArchiveLink, "archive ENT_2024-09-02.tar.gz: entry ENT_Complet_20240902_Eleve_0000.xml is a link, not a file"},
		{"no feed file", "ENT_2024-09-02.zip", func(t *testing.T, path string) {
			writeZip(t, path, member{name: "ENT_2024-09-02/", dir: true}, member{name: "ENT_2024-09-02/LISEZMOI.txt", body: []byte("vide")},
				member{name: "__MACOSX/ENT_2024-09-02/._x.xml", body: []byte("fork")})
		}, DefaultOptions(), ArchiveNoFeedFiles, "archive ENT_2024-09-02.zip holds no directory file the import knows (no *.xml file)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x := newHarness(t, nil)
			dir := filepath.Join(t.TempDir(), "in", "deep")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.file)
			tc.write(t, path)
			rep, recs, err := x.run(archiveSource(t, path), tc.opts)
			if !errors.Is(err, ErrRefused) || !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("err %v", err)
			}
			if len(recs) != 0 {
				t.Fatalf("a refused archive wrote %d events", len(recs))
			}
			if rep.Archive == nil || rep.Archive.Code != tc.code || rep.Archive.Archive != tc.file || rep.Archive.Args[0] != tc.file {
				t.Fatalf("archive issue %+v", rep.Archive)
			}
			if rep.Refused != tc.words || rep.Archive.Reason != tc.words {
				t.Fatalf("refused %q\nwant    %q", rep.Refused, tc.words)
			}
			if _, err := os.Stat(filepath.Join(dir, "..", "..", "x.xml")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("an entry was written by its name: %v", err)
			}
		})
	}
}

// A zip bomb is refused from its directory: its few compressed kilobytes
// are never inflated.
func TestArchiveBombIsSmall(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bomb.zip")
	writeZip(t, path, member{name: "ENT_Complet_20240902_Eleve_0000.xml", body: make([]byte, 8<<20)})
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 64<<10 {
		t.Fatalf("the bomb weighs %d bytes compressed", st.Size())
	}
	a := &archives{max: 1 << 20}
	defer a.close()
	_, err = a.expand(t.Context(), archiveSource(t, path))
	var ae *archiveError
	if !errors.As(err, &ae) || ae.issue.Code != ArchiveTooLarge || a.dir != "" {
		t.Fatalf("err %v, private directory %q", err, a.dir)
	}
}

// More entries than MaxArchiveEntries refuse the archive, even empty ones.
func TestArchiveTooManyEntries(t *testing.T) {
	t.Parallel()
	ms := make([]member, MaxArchiveEntries+1)
	for i := range ms {
		ms[i] = member{name: "d/" + strings.Repeat("x", 1+i%7) + string(rune('a'+i%26)) + "/", dir: true}
	}
	path := filepath.Join(t.TempDir(), "many.zip")
	writeZip(t, path, ms...)
	x := newHarness(t, nil)
	rep, recs, err := x.run(archiveSource(t, path), DefaultOptions())
	if !errors.Is(err, ErrRefused) || len(recs) != 0 || rep.Archive == nil || rep.Archive.Code != ArchiveTooMany ||
		rep.Refused != "archive many.zip has more than 10000 entries" {
		t.Fatalf("err %v, report %+v", err, rep.Archive)
	}
}

// A tar's files are copied to a private directory, removed when the import
// ends, refused or not.
func TestArchiveTemporaryFilesRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	in := t.TempDir()
	good := filepath.Join(in, "ENT_20240902.tar.gz")
	writeTarGz(t, good, delivery(t, "ENT_20240902")...)
	bad := filepath.Join(in, "ENT_20240903.tar.gz")
	writeTarGz(t, bad, member{name: "ENT_Complet_20240902_EtabEducNat_0000.xml", body: []byte("<ficAlimMENESR>")},
		member{name: "x/ENT_Complet_20240902_EtabEducNat_0000.xml", body: []byte("<ficAlimMENESR>")})
	x := newHarness(t, nil)
	x.MustImport(archiveSource(t, good), DefaultOptions())
	if _, _, err := x.run(archiveSource(t, bad), DefaultOptions()); !errors.Is(err, ErrRefused) {
		t.Fatalf("err %v", err)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("left behind: %v", slices.Collect(func(yield func(string) bool) {
			for _, e := range left {
				if !yield(e.Name()) {
					return
				}
			}
		}))
	}
}
