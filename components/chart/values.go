package chart

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// inputType is the pulumi.Input interface: a field of this type (a
// pulumi.StringInput, a pulumi.StringOutput …) carries a value that another
// resource computes, such as a VPC id or an IAM role ARN.
var inputType = reflect.TypeFor[pulumi.Input]()

// ToValues turns a chart's typed values into the Helm release's values map.
// v is a struct (or a pointer to one) whose fields carry `json` tags with the
// chart's key names, exactly as encoding/json would write it: `json:"-"`
// skips a field and `omitempty` drops zero values. Unlike encoding/json, a
// nil pointer, map, slice or input is left out rather than written as
// null: Helm reads a null as "delete the chart's default". Fields may hold nested
// structs, maps with string keys, slices, scalars and pulumi.Input values;
// anything else (a func, a channel, a map with other keys) is an error that
// names the field path, never a silently dropped value.
func ToValues(v any) (pulumi.Map, error) {
	if v == nil {
		return pulumi.Map{}, nil
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return pulumi.Map{}, nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct && rv.Kind() != reflect.Map {
		return nil, fmt.Errorf("values must be a struct or a map, not %s", rv.Type())
	}
	in, _, err := convert(rv, "values")
	if err != nil {
		return nil, err
	}
	m, ok := in.(pulumi.Map)
	if !ok {
		return pulumi.Map{}, nil
	}
	return m, nil
}

// convert returns the Pulumi input for rv and whether it is present (a nil
// pointer, map, slice or input is absent).
func convert(rv reflect.Value, path string) (pulumi.Input, bool, error) {
	if rv.Type().Implements(inputType) || (rv.Kind() == reflect.Interface && rv.Type() == inputType) {
		if (rv.Kind() == reflect.Interface || rv.Kind() == reflect.Pointer) && rv.IsNil() {
			return nil, false, nil
		}
		return rv.Interface().(pulumi.Input), true, nil
	}
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, false, nil
		}
		return convert(rv.Elem(), path)
	case reflect.Struct:
		return convertStruct(rv, path)
	case reflect.Map:
		if rv.IsNil() {
			return nil, false, nil
		}
		if rv.Type().Key().Kind() != reflect.String {
			return nil, false, fmt.Errorf("%s: map keys must be strings, not %s", path, rv.Type().Key())
		}
		out := pulumi.Map{}
		for _, k := range rv.MapKeys() {
			e, ok, err := convert(rv.MapIndex(k), path+"."+k.String())
			if err != nil {
				return nil, false, err
			}
			if ok {
				out[k.String()] = e
			}
		}
		return out, true, nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, false, nil
		}
		out := make(pulumi.Array, 0, rv.Len())
		for i := range rv.Len() {
			e, ok, err := convert(rv.Index(i), fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, false, err
			}
			if !ok {
				return nil, false, fmt.Errorf("%s[%d]: a list item cannot be absent", path, i)
			}
			out = append(out, e)
		}
		return out, true, nil
	case reflect.String:
		return pulumi.String(rv.String()), true, nil
	case reflect.Bool:
		return pulumi.Bool(rv.Bool()), true, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return pulumi.Int(int(rv.Int())), true, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return pulumi.Int(int(rv.Uint())), true, nil
	case reflect.Float32, reflect.Float64:
		return pulumi.Float64(rv.Float()), true, nil
	}
	return nil, false, fmt.Errorf("%s: a %s cannot be a chart value", path, rv.Type())
}

func convertStruct(rv reflect.Value, path string) (pulumi.Input, bool, error) {
	out := pulumi.Map{}
	t := rv.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if !f.IsExported() && !(f.Anonymous && f.Type.Kind() == reflect.Struct) {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			// An embedded struct's keys sit at this level, as encoding/json
			// writes them.
			inner, _, err := convertStruct(rv.Field(i), path)
			if err != nil {
				return nil, false, err
			}
			for k, v := range inner.(pulumi.Map) {
				if _, dup := out[k]; dup {
					return nil, false, fmt.Errorf("%s.%s: set twice", path, k)
				}
				out[k] = v
			}
			continue
		}
		if name == "" {
			return nil, false, fmt.Errorf("%s.%s: field has no json tag naming its chart key", path, f.Name)
		}
		fv := rv.Field(i)
		if slices.Contains(strings.Split(opts, ","), "omitempty") && isEmpty(fv) {
			continue
		}
		e, ok, err := convert(fv, path+"."+name)
		if err != nil {
			return nil, false, err
		}
		if _, dup := out[name]; dup && ok {
			return nil, false, fmt.Errorf("%s.%s: set twice", path, name)
		}
		if ok {
			out[name] = e
		}
	}
	return out, true, nil
}

// isEmpty is encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return v.IsZero()
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// setPath sets m[path[0]][path[1]]… = v, creating the maps on the way. It
// refuses to replace a value that is not a map on the way, or a different
// value at the end, so a component cannot set a key the block also sets.
func setPath(m pulumi.Map, path []string, v pulumi.Input) error {
	cur := m
	for i, k := range path[:len(path)-1] {
		next, ok := cur[k]
		if !ok {
			n := pulumi.Map{}
			cur[k] = n
			cur = n
			continue
		}
		nm, ok := next.(pulumi.Map)
		if !ok {
			return fmt.Errorf("values.%s is set to a %T, want a map", strings.Join(path[:i+1], "."), next)
		}
		cur = nm
	}
	last := path[len(path)-1]
	if old, ok := cur[last]; ok && !reflect.DeepEqual(old, v) {
		return fmt.Errorf("values.%s is set by the component and by the chart block", strings.Join(path, "."))
	}
	cur[last] = v
	return nil
}
