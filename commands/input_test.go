package commands_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// handlerMethods returns every command handler: the methods of Handlers
// that take (ctx, Request, a domain command).
func handlerMethods(t *testing.T) []reflect.Method {
	t.Helper()
	ht := reflect.TypeFor[*commands.Handlers]()
	var out []reflect.Method
	for i := range ht.NumMethod() {
		m := ht.Method(i)
		mt := m.Type // receiver first
		if mt.NumIn() == 4 && mt.In(1) == reflect.TypeFor[context.Context]() && mt.In(2) == reflect.TypeFor[commands.Request]() &&
			mt.In(3).PkgPath() == reflect.TypeFor[domain.Date]().PkgPath() {
			out = append(out, m)
		}
	}
	if len(out) < 40 {
		t.Fatalf("found %d command handlers, want every one", len(out))
	}
	return out
}

// leaf is a tagged field of a command, reached by its index path.
type leaf struct {
	name  string // as the error names it
	index [][]int
	tag   string // text:"..." or date:"..."
	typ   reflect.Type
}

var (
	dateType = reflect.TypeFor[domain.Date]()
	timeType = reflect.TypeFor[time.Time]()
)

// leaves lists the string and date fields of t at any depth; untagged ones
// are reported through t.Errorf.
func leaves(t *testing.T, typ reflect.Type, prefix string, index [][]int, inSlice bool) []leaf {
	t.Helper()
	var out []leaf
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if prefix != "" {
			name = prefix + "." + name
		}
		idx := append(append([][]int{}, index...), []int{i})
		ft := f.Type
		switch {
		case ft == dateType || ft == timeType:
			tag, ok := f.Tag.Lookup("date")
			if !ok {
				t.Errorf("%s.%s: a date without a date tag", typ, f.Name)
				continue
			}
			out = append(out, leaf{name, idx, "date:" + tag, ft})
		case ft.Kind() == reflect.String && ft.PkgPath() == "", ft.Kind() == reflect.Slice && ft.Elem() == reflect.TypeFor[string]():
			tag, ok := f.Tag.Lookup("text")
			if !ok {
				t.Errorf("%s.%s: a string without a text tag", typ, f.Name)
				continue
			}
			if ft.Kind() == reflect.Slice {
				name += "[0]"
			}
			out = append(out, leaf{name, idx, "text:" + tag, ft})
		case ft.Kind() == reflect.Struct:
			out = append(out, leaves(t, ft, name, idx, inSlice)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, leaves(t, ft.Elem(), name+"[0]", append(idx, nil), true)...)
		}
	}
	return out
}

// set puts v at l in cmd, growing slices to one element on the way.
func set(cmd reflect.Value, l leaf, v any) {
	cur := cmd
	for _, step := range l.index {
		if step == nil { // into a slice's first element
			if cur.Len() == 0 {
				cur.Set(reflect.MakeSlice(cur.Type(), 1, 1))
			}
			cur = cur.Index(0)
			continue
		}
		cur = cur.FieldByIndex(step)
	}
	if cur.Kind() == reflect.Slice {
		cur.Set(reflect.ValueOf([]string{v.(string)}))
		return
	}
	cur.Set(reflect.ValueOf(v))
}

// TestCommandInputValidated: every command handler refuses, before it
// reads anything, a hostile text in any of its string fields and an absurd
// date in any of its dates, with ErrInvalid naming the field; and every
// string and date field of every command says what it holds (a `text` or
// `date` tag), so that no new field escapes.
func TestCommandInputValidated(t *testing.T) {
	w := newWorld(t) // today is 2006-03-14
	head := w.head()
	sys := commands.Request{System: true}
	hostile := map[string]string{
		"invalid UTF-8": "abc\xff",
		"NUL":           "a\x00b",
		"escape":        "\x1b[31mrouge",
		"DEL":           "a\x7f",
		"C1 control":    "a\u0085b",
		"too long":      strings.Repeat("x", 100_000),
	}
	dates := map[string]domain.Date{
		"0001-01-01": domain.MustDate("0001-01-01"),
		"1900-01-01": domain.MustDate("1900-01-01"),
		"9999-12-31": domain.MustDate("9999-12-31"),
		"2003-08-31": domain.MustDate("2003-08-31"), // before the previous school year
		"2008-09-01": domain.MustDate("2008-09-01"), // after the next one
	}
	for _, m := range handlerMethods(t) {
		ct := m.Type.In(3)
		for _, l := range leaves(t, ct, "", nil, false) {
			call := func(v any) error {
				cmd := reflect.New(ct).Elem()
				set(cmd, l, v)
				out := m.Func.Call([]reflect.Value{reflect.ValueOf(w.h), reflect.ValueOf(w.ctx), reflect.ValueOf(sys), cmd})
				err, _ := out[1].Interface().(error)
				return err
			}
			check := func(t *testing.T, err error) {
				t.Helper()
				if !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), l.name+":") {
					t.Errorf("%v, want %v naming %s", err, domain.ErrInvalid, l.name)
				}
			}
			switch {
			case strings.HasPrefix(l.tag, "text:"):
				for what, v := range hostile {
					t.Run(m.Name+"/"+l.name+"/"+what, func(t *testing.T) { check(t, call(v)) })
				}
			case l.typ == dateType:
				for what, d := range dates {
					if l.tag == "date:act" && what == "2008-09-01" {
						d = domain.MustDate("2006-09-01") // acts look no school year ahead
					}
					t.Run(m.Name+"/"+l.name+"/"+what, func(t *testing.T) { check(t, call(d)) })
				}
			default:
				for what, d := range dates {
					at := d.In(time.UTC).Add(9 * time.Hour)
					t.Run(m.Name+"/"+l.name+"/"+what, func(t *testing.T) { check(t, call(at)) })
				}
			}
		}
	}
	if after := w.head(); after != head {
		t.Errorf("refused commands appended events: head %v, was %v", after, head)
	}
}

// TestDateWindowsConfigured: the windows of commands.Config replace the
// defaults, for acts and plans apart: a wider act window takes a roll call
// three school years back, a plan window of the current year alone refuses
// homework due next school year.
func TestDateWindowsConfigured(t *testing.T) {
	store := memory.New()
	now := time.Date(2006, time.March, 14, 8, 5, 0, 0, time.UTC) // school year 2005-2006
	acts, plans := domain.DateWindow{Before: 3}, domain.DateWindow{}
	h, err := commands.New(commands.Config{Store: store, Registry: domain.NewRegistry(), Now: func() time.Time { return now },
		ActWindow: &acts, PlanWindow: &plans})
	if err != nil {
		t.Fatal(err)
	}
	ctx, sys := context.Background(), commands.Request{System: true}
	invalidDate := func(err error, field string) bool {
		return errors.Is(err, domain.ErrInvalid) && strings.Contains(err.Error(), field+":")
	}
	var act, plan reflect.Method
	var actLeaf, planLeaf leaf
	for _, m := range handlerMethods(t) {
		for _, l := range leaves(t, m.Type.In(3), "", nil, false) {
			switch {
			case l.typ != dateType:
			case l.tag == "date:act" && !act.Func.IsValid():
				act, actLeaf = m, l
			case l.tag == "date:plan" && !plan.Func.IsValid():
				plan, planLeaf = m, l
			}
		}
	}
	if !act.Func.IsValid() || !plan.Func.IsValid() {
		t.Fatal("no command with an act date and one with a plan date")
	}
	call := func(m reflect.Method, l leaf, d string) error {
		cmd := reflect.New(m.Type.In(3)).Elem()
		set(cmd, l, domain.MustDate(d))
		out := m.Func.Call([]reflect.Value{reflect.ValueOf(h), reflect.ValueOf(ctx), reflect.ValueOf(sys), cmd})
		err, _ := out[1].Interface().(error)
		return err
	}
	for _, tc := range []struct {
		m       reflect.Method
		l       leaf
		date    string
		refused bool
	}{
		{act, actLeaf, "2002-09-01", false}, // three school years back: in the configured window
		{act, actLeaf, "2002-08-31", true},
		{act, actLeaf, "2006-09-01", true},
		{plan, planLeaf, "2005-09-01", false},
		{plan, planLeaf, "2006-08-31", false},
		{plan, planLeaf, "2006-09-01", true}, // next school year: the default would take it
		{plan, planLeaf, "2005-08-31", true},
	} {
		err := call(tc.m, tc.l, tc.date)
		if got := invalidDate(err, tc.l.name); got != tc.refused {
			t.Errorf("%s %s=%s: %v, want refused=%v", tc.m.Name, tc.l.name, tc.date, err, tc.refused)
		}
	}
	for _, bad := range []domain.DateWindow{{Before: -1}, {After: -2}} {
		if _, err := commands.New(commands.Config{Store: store, Registry: domain.NewRegistry(), ActWindow: &bad}); err == nil {
			t.Errorf("window %+v accepted", bad)
		}
	}
}
