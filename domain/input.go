package domain

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// ValidateInput checks what a command carries before anything is decided:
// every string field by the TextKind its `text` tag names, every date by the
// calendar window its `date` tag names ("act" or "plan"), in nested structs
// and slices too. The tags are the one list of a command's texts and dates:
// the handlers call this for every command, whoever sends it (API, portal,
// imports, CLI). The error is ErrInvalid naming the field by its JSON name.
func ValidateInput(cmd any, cal Calendar) error {
	return validateValue(reflect.ValueOf(cmd), "", cal)
}

var (
	dateType = reflect.TypeFor[Date]()
	timeType = reflect.TypeFor[time.Time]()
)

func validateValue(v reflect.Value, path string, cal Calendar) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return validateValue(v.Elem(), path, cal)
	case reflect.Slice:
		for i := range v.Len() {
			if err := validateValue(v.Index(i), fmt.Sprintf("%s[%d]", path, i), cal); err != nil {
				return err
			}
		}
		return nil
	case reflect.Struct:
		if v.Type() == dateType || v.Type() == timeType {
			return nil
		}
	default:
		return nil
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := fieldPath(path, f)
		fv := v.Field(i)
		if tag, ok := f.Tag.Lookup("text"); ok {
			if err := checkTextField(name, tag, fv); err != nil {
				return err
			}
			continue
		}
		if tag, ok := f.Tag.Lookup("date"); ok {
			if err := checkDateField(name, tag, fv, cal); err != nil {
				return err
			}
			continue
		}
		if err := validateValue(fv, name, cal); err != nil {
			return err
		}
	}
	return nil
}

// fieldPath names a field as clients spell it: "reasons[1].label".
func fieldPath(path string, f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		name = f.Name
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

func checkTextField(name, tag string, v reflect.Value) error {
	kind, ok := textKind(tag)
	if !ok {
		panic(fmt.Sprintf("domain: field %s: unknown text kind %q", name, tag))
	}
	switch {
	case v.Kind() == reflect.String:
		return kind.Check(name, v.String())
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		for i := range v.Len() {
			if err := kind.Check(fmt.Sprintf("%s[%d]", name, i), v.Index(i).String()); err != nil {
				return err
			}
		}
		return nil
	}
	panic(fmt.Sprintf("domain: field %s: a text tag on %s", name, v.Type()))
}

func checkDateField(name, tag string, v reflect.Value, cal Calendar) error {
	w, ok := cal.window(tag)
	if !ok {
		panic(fmt.Sprintf("domain: field %s: unknown date window %q", name, tag))
	}
	switch d := v.Interface().(type) {
	case Date:
		return cal.check(name, w, d)
	case time.Time:
		if d.IsZero() {
			return nil
		}
		return cal.check(name, w, DateOf(d))
	}
	panic(fmt.Sprintf("domain: field %s: a date tag on %s", name, v.Type()))
}
