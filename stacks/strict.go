package stacks

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/tars-platform/infra/internal/check"
)

// checkFields reports every object key in v that the Go type t has no json
// field for, matching case-sensitively: encoding/json would silently map
// "nodegroups" onto NodeGroups, and a typo in stack config must not pass.
func checkFields(p *check.Problems, path string, v any, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return // a type mismatch; json decoding reports it
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				p.Addf(path, "has unknown field %q%s", k, suggest(k, fields))
				continue
			}
			checkFields(p, path+"."+k, obj[k], ft)
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return
		}
		for i, x := range list {
			checkFields(p, fmt.Sprintf("%s[%d]", path, i), x, t.Elem())
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, x := range obj {
			checkFields(p, path+"."+k, x, t.Elem())
		}
	}
}

// jsonFields maps the json names of t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// suggest names the field a misspelt key probably meant.
func suggest(key string, fields map[string]reflect.Type) string {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return fmt.Sprintf(" (did you mean %q?)", name)
		}
	}
	return ""
}
