package server

import (
	"reflect"
	"strings"

	"entgo.io/ent/dialect/sql"
)

// emptyInMeansNone gives the where filters' list operators their set
// meaning: `idIn: []` (any `…In: []`) matches nothing, where entgql's
// generated filter would ignore the empty list and match everything, and
// `not: {idIn: []}` matches everything. It walks a where input (and its
// not/and/or and edge filters) and adds a false predicate for every empty,
// non-nil `…In` list. Values of other types are left alone.
func emptyInMeansNone(v any) {
	walkWhere(reflect.ValueOf(v), 0)
}

const maxWhereDepth = 32

func walkWhere(v reflect.Value, depth int) {
	if depth > maxWhereDepth || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Slice:
		for i := range v.Len() {
			walkWhere(v.Index(i), depth+1)
		}
		return
	case reflect.Pointer:
		if v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return
		}
	default:
		return
	}
	add := v.MethodByName("AddPredicates")
	if !add.IsValid() || add.Type().NumIn() != 1 || !add.Type().IsVariadic() {
		return
	}
	s := v.Elem()
	t := s.Type()
	empty := false
	for i := range t.NumField() {
		f := t.Field(i)
		fv := s.Field(i)
		if !f.IsExported() {
			continue
		}
		switch {
		case f.Type.Kind() == reflect.Slice && strings.HasSuffix(f.Name, "In") && !strings.HasSuffix(f.Name, "NotIn"):
			if !fv.IsNil() && fv.Len() == 0 {
				empty = true
			}
		case f.Name == "Predicates":
		case f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Slice:
			walkWhere(fv, depth+1)
		}
	}
	if !empty {
		return
	}
	// predicate.X is func(*sql.Selector): build one that matches no row.
	predType := add.Type().In(0).Elem()
	if predType.Kind() != reflect.Func || predType.NumIn() != 1 || predType.In(0) != reflect.TypeOf(&sql.Selector{}) {
		return
	}
	pred := reflect.MakeFunc(predType, func(args []reflect.Value) []reflect.Value {
		args[0].Interface().(*sql.Selector).Where(sql.False())
		return nil
	})
	add.Call([]reflect.Value{pred})
}
