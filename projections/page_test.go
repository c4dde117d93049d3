package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// mustPut writes documents into namespace ns of m.
func mustPut(t *testing.T, m *MemoryDocs, ns string, docs map[[2]string]any) {
	t.Helper()
	err := m.Update(context.Background(), ns, func(tx DocTx) error {
		var batch []Doc
		for k, v := range docs {
			raw, err := json.Marshal(v)
			if err != nil {
				return err
			}
			batch = append(batch, Doc{Coll: k[0], Key: k[1], Value: raw})
		}
		return tx.Put(context.Background(), batch)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestScanPage: pages follow one another by their cursors, each at most
// its limit, together the whole range in key order; a cursor that is not
// one is refused.
func TestScanPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewMemoryDocs()
	docs := map[[2]string]any{{"c", "other|0"}: 0}
	var want []int
	for i := range 7 {
		docs[[2]string{"c", fmt.Sprintf("acc|%02d", i)}] = i
		want = append(want, i)
	}
	mustPut(t, m, "p@1", docs)
	r := m.Reader("p@1")

	var got []int
	var sizes []int
	p := Page{Limit: 3}
	for {
		l, err := scanPage[int](ctx, r, "c", "acc|", "acc|", PrefixEnd("acc|"), p, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, sizes = append(got, l.Items...), append(sizes, len(l.Items))
		if l.Next == "" {
			break
		}
		p.After = l.Next
	}
	if !slices.Equal(got, want) || !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Fatalf("pages %v of sizes %v, want %v in 3, 3, 1", got, sizes, want)
	}
	// A page that ends the list exactly names no next one.
	l, err := scanPage[int](ctx, r, "c", "acc|", "acc|", PrefixEnd("acc|"), Page{Limit: 7}, nil)
	if err != nil || len(l.Items) != 7 || l.Next != "" {
		t.Fatalf("a whole page: %v next %q (%v)", l.Items, l.Next, err)
	}
	if _, err := scanPage[int](ctx, r, "c", "acc|", "acc|", PrefixEnd("acc|"), Page{Limit: 3, After: "not base64!"}, nil); domain.CodeOf(err) != domain.CodeInvalid {
		t.Fatalf("a bad cursor: %v", err)
	}
	if ValidCursor("???") || !ValidCursor(l.Next) || ValidCursor(strings.Repeat("A", maxCursor+1)) {
		t.Fatal("ValidCursor")
	}
}

// TestSortedPage: a list read out of its order pages in its order, and
// holds no more than a page and one whatever its length.
func TestSortedPage(t *testing.T) {
	t.Parallel()
	var keys []string
	for i := range 1000 {
		keys = append(keys, fmt.Sprintf("name %04d", i))
	}
	want := slices.Clone(keys)
	rand.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })

	var got []string
	p := Page{Limit: 64}
	pages := 0
	for {
		s, err := newSorted[string](p)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			s.add(k, k)
			if len(s.items) > p.Limit+1 {
				t.Fatalf("holds %d items for a page of %d", len(s.items), p.Limit)
			}
		}
		l := s.list()
		got = append(got, l.Items...)
		pages++
		if l.Next == "" {
			break
		}
		p.After = l.Next
	}
	if !slices.Equal(got, want) || pages != 16 {
		t.Fatalf("%d pages, in order: %v", pages, slices.Equal(got, want))
	}
}

// TestStudentFileCutAtWholeDays: a period holding more than MaxDatedItems
// of a kind is answered up to the last whole day that fits, every list
// alike; the next period holds the rest, nothing twice, nothing lost; a
// day is never split.
func TestStudentFileCutAtWholeDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewMemoryDocs()
	student := uuid.New()
	day0 := domain.MustDate("2005-09-05")
	docs := map[[2]string]any{}
	// Ten punishments a day, and on the first day more than a page.
	total := 0
	for d := range MaxDatedItems/10 + 30 {
		date := day0.AddDays(d)
		n := 10
		if d == 0 {
			n = MaxDatedItems + 5
		}
		for i := range n {
			p := uuid.New()
			docs[[2]string{sfPunishments, student.String() + "|" + date.String() + "|" + fmt.Sprintf("%05d", i) + p.String()}] = FilePunishment{Punishment: p, Date: date}
			total++
		}
		// An absence a day: cut with the punishments.
		docs[[2]string{sfAbsences, student.String() + "|" + date.String() + "|08:00|" + pageID(d).String()}] = FileAbsence{Absence: pageID(d), Date: date}
	}
	mustPut(t, m, Namespace(ProjectionStudentFile, 1), docs)
	q := NewQueries(m, m, nil, nil, time.UTC)

	seen := map[uuid.UUID]bool{}
	absences := 0
	from := domain.Date{}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("no end")
		}
		f, err := q.StudentFile(ctx, student, from, domain.Date{})
		if err != nil {
			t.Fatal(err)
		}
		if pages == 0 && len(f.Punishments) != MaxDatedItems+5 {
			t.Fatalf("the first day holds %d punishments, the page %d: a day was split", MaxDatedItems+5, len(f.Punishments))
		}
		if pages > 0 && len(f.Punishments) > MaxDatedItems {
			t.Fatalf("page %d holds %d punishments", pages, len(f.Punishments))
		}
		for _, p := range f.Punishments {
			if seen[p.Punishment] {
				t.Fatalf("punishment %s twice", p.Punishment)
			}
			seen[p.Punishment] = true
			if !f.To.IsZero() && p.Date.After(f.To) {
				t.Fatalf("punishment of %s in a file to %s", p.Date, f.To)
			}
		}
		for _, a := range f.Absences {
			if !f.To.IsZero() && a.Date.After(f.To) {
				t.Fatalf("absence of %s in a file to %s", a.Date, f.To)
			}
		}
		absences += len(f.Absences)
		if f.Next().IsZero() {
			if !f.To.IsZero() {
				t.Fatalf("the last page stops at %s", f.To)
			}
			break
		}
		if f.Next() != f.To.AddDays(1) {
			t.Fatalf("next %s after a file to %s", f.Next(), f.To)
		}
		from = f.Next()
	}
	if len(seen) != total || absences != MaxDatedItems/10+30 {
		t.Fatalf("%d punishments of %d, %d absences of %d", len(seen), total, absences, MaxDatedItems/10+30)
	}
}

func pageID(i int) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "page-test|%d", i))
}

// TestIndicatorPages: broken down by many scopes, a page holds every
// period of as many as MaxIndicatorRows rows allow; the pages together are
// the whole table, in the order of one, by establishment (key order) and
// by département (not).
func TestIndicatorPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewMemoryDocs()
	docs := map[[2]string]any{}
	from, to := domain.MustDate("2005-09-01"), domain.MustDate("2007-08-31")
	const ests = 40
	for i := range ests {
		uai := fmt.Sprintf("%07dA", 1300000+i)
		docs[[2]string{indEstablishments, uai}] = IndicatorEstablishment{UAI: uai, Name: "E" + uai, Departement: fmt.Sprintf("%02d", 40-i)}
		for d := range 3 {
			docs[[2]string{indDays, uai + "|" + from.AddDays(100*d+i).String()}] = Counts{cntActs: int64(i + d)}
		}
	}
	mustPut(t, m, Namespace(ProjectionIndicators, 1), docs)
	q := NewQueries(m, m, nil, nil, time.UTC)
	perPage := MaxIndicatorRows / periodCount(IndicatorQuery{From: from, To: to, Granularity: GranularityDay})

	for _, by := range []Level{LevelEstablishment, LevelDepartement} {
		iq := IndicatorQuery{From: from, To: to, Granularity: GranularityDay, By: by}
		var got []IndicatorRow
		pages := 0
		for after := ""; ; pages++ {
			page, err := q.Indicators(ctx, iq, after)
			if err != nil {
				t.Fatal(err)
			}
			scopes := map[string]bool{}
			for _, r := range page.Items {
				scopes[r.Scope] = true
			}
			if len(scopes) > perPage || len(page.Items) > MaxIndicatorRows {
				t.Fatalf("by %s: a page of %d rows of %d scopes, at most %d", by, len(page.Items), len(scopes), perPage)
			}
			got = append(got, page.Items...)
			if after = page.Next; after == "" {
				break
			}
		}
		if pages != (ests+perPage-1)/perPage-1 {
			t.Errorf("by %s: %d pages after the first for %d scopes of %d a page", by, pages, ests, perPage)
		}
		if len(got) != 3*ests {
			t.Fatalf("by %s: %d rows, want %d", by, len(got), 3*ests)
		}
		var acts int64
		seen := map[string]bool{}
		for _, r := range got {
			k := r.Scope + "|" + r.Period.String()
			if seen[k] {
				t.Fatalf("by %s: row %s twice", by, k)
			}
			seen[k] = true
			acts += r.Acts
		}
		if want := int64(3*ests*(ests-1)/2 + ests*3); acts != want {
			t.Errorf("by %s: %d acts, want %d", by, acts, want)
		}
	}
	if _, err := q.Indicators(ctx, IndicatorQuery{From: from, To: to}, encodeCursor("x")); domain.CodeOf(err) != domain.CodeInvalid {
		t.Errorf("another list's cursor: %v", err)
	}
}

// flushCounter records the flushes of an export.
type flushCounter struct {
	bytes.Buffer
	flushes []int
}

func (f *flushCounter) Flush() error {
	f.flushes = append(f.flushes, f.Len())
	return nil
}

// TestExportStreams: an export larger than its buffers goes out as it is
// read, flushed batch after batch, every event once, in log order.
func TestExportStreams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := &sliceLog{}
	const events = 3*exportBatch + 17
	for i := range events {
		data, _ := json.Marshal(map[string]string{"padding": strings.Repeat("x", 100)})
		log.recs = append(log.recs, domain.Record{
			ID: uuid.New(), Stream: "s", Version: uint64(i + 1), Position: domain.Position{Seq: uint64(i + 1)}, Type: "t",
			Data: data, Metadata: domain.Metadata{Establishment: "0130001A", Time: time.Unix(int64(i), 0)},
		})
	}
	q := NewQueries(NewMemoryDocs(), NewMemoryDocs(), log, nil, time.UTC)
	var out flushCounter
	if err := q.ExportEstablishment(ctx, &out, "0130001A", time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if len(out.flushes) < 4 || out.flushes[0] == 0 || out.flushes[0] >= out.Len() {
		t.Fatalf("flushed at %v of %d bytes: not streamed", out.flushes, out.Len())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != events {
		t.Fatalf("%d lines, want %d", len(lines), events)
	}
	for i, line := range lines {
		var e ExportedEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Position.Seq != uint64(i+1) {
			t.Fatalf("line %d: %s (%v)", i, line, err)
		}
	}
}

// sliceLog is a Log over records in memory.
type sliceLog struct{ recs []domain.Record }

func (l *sliceLog) ReadAll(_ context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	i, _ := slices.BinarySearchFunc(l.recs, after, func(r domain.Record, p domain.Position) int {
		switch {
		case r.Position.Less(p):
			return -1
		case p.Less(r.Position):
			return 1
		}
		return 0
	})
	if i < len(l.recs) && l.recs[i].Position == after {
		i++
	}
	return l.recs[i:min(len(l.recs), i+limit)], nil
}

func (l *sliceLog) Wait(ctx context.Context, _ domain.Position) error { return ctx.Err() }
