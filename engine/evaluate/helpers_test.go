package evaluate

import (
	"math"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireFinite fails when any float64 reachable from v (struct fields,
// slices, arrays) is NaN or infinite.
func requireFinite(tb testing.TB, v any) {
	tb.Helper()
	var walk func(path string, rv reflect.Value)
	walk = func(path string, rv reflect.Value) {
		switch rv.Kind() {
		case reflect.Float32, reflect.Float64:
			f := rv.Float()
			require.False(tb, math.IsNaN(f) || math.IsInf(f, 0), "%s = %v is not finite", path, f)
		case reflect.Struct:
			for i := range rv.NumField() {
				if rv.Type().Field(i).IsExported() {
					walk(path+"."+rv.Type().Field(i).Name, rv.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := range rv.Len() {
				walk(path, rv.Index(i))
			}
		case reflect.Pointer, reflect.Interface:
			if !rv.IsNil() {
				walk(path, rv.Elem())
			}
		}
	}
	walk("", reflect.ValueOf(v))
}
