package alloycfg

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// This file is a small, typed writer for Alloy syntax (formerly River):
// files made of blocks, blocks made of attributes and nested blocks, and
// attribute values made of literals, lists, objects, references, function
// calls and string concatenations. It never panics: every problem found
// while rendering (a bad identifier, a duplicate attribute, a NaN, a nil
// value) is collected with its location and returned together by Render.

// Value is an Alloy expression. The set is closed: only this package's
// constructors (String, Number, Int, Bool, List, Strings, Numbers, Object,
// StringMap, Ref, Call, Concat) make Values.
type Value interface {
	render(r *renderer, indent int)
}

type (
	stringValue string
	numberValue float64
	intValue    int64
	boolValue   bool
	listValue   []Value
	objectValue []Field
	refValue    string
	callValue   struct {
		fn   string
		args []Value
	}
	concatValue []Value
)

// Field is one key = value pair of an Object. Keys that are valid Alloy
// identifiers are written bare; any other key is written between quotes,
// and must then need no escaping (no quote, backslash or control
// character): Alloy reads quoted keys verbatim.
type Field struct {
	Key   string
	Value Value
}

// String is a string literal. Any Go string is allowed: quotes,
// backslashes and control characters are escaped so that Alloy reads back
// exactly s.
func String(s string) Value { return stringValue(s) }

// Number is a number literal. NaN and infinities are rendering errors.
func Number(f float64) Value { return numberValue(f) }

// Int is an integer literal.
func Int(i int64) Value { return intValue(i) }

// Bool is a boolean literal.
func Bool(b bool) Value { return boolValue(b) }

// List is an array expression.
func List(vs ...Value) Value { return listValue(vs) }

// Strings is a list of string literals.
func Strings(ss ...string) Value {
	vs := make([]Value, len(ss))
	for i, s := range ss {
		vs[i] = String(s)
	}
	return listValue(vs)
}

// Numbers is a list of number literals.
func Numbers(fs ...float64) Value {
	vs := make([]Value, len(fs))
	for i, f := range fs {
		vs[i] = Number(f)
	}
	return listValue(vs)
}

// Object is an object expression whose fields keep the given order.
// Duplicate or empty keys are rendering errors.
func Object(fs ...Field) Value { return objectValue(fs) }

// StringMap is an object of string literals, keys sorted so the output
// does not depend on map iteration order.
func StringMap(m map[string]string) Value {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fs := make([]Field, 0, len(keys))
	for _, k := range keys {
		fs = append(fs, Field{Key: k, Value: String(m[k])})
	}
	return objectValue(fs)
}

// Ref is a reference to a value by its dotted path, such as
// "discovery.kubernetes.pods.targets" or "constants.hostname". Every part
// must be an identifier.
func Ref(path string) Value { return refValue(path) }

// Call is a call of a standard-library function, such as
// Call("sys.env", String("HOSTNAME")).
func Call(fn string, args ...Value) Value { return callValue{fn: fn, args: args} }

// Concat joins two or more string expressions with Alloy's + operator.
func Concat(vs ...Value) Value { return concatValue(vs) }

// Attr is one name = value attribute of a block.
type Attr struct {
	Name  string
	Value Value
}

// Block is an Alloy block: Name is its dotted name ("loki.process",
// "stage.regex", "rule"), Label its optional label (component blocks have
// one, which must be an identifier), then its attributes and its nested
// blocks, written in that order. Comment, when set, is written as "//" lines
// above the block.
type Block struct {
	Comment string
	Name    string
	Label   string
	Attrs   []Attr
	Blocks  []Block
}

// File is a whole Alloy configuration file: an optional leading comment
// and top-level blocks, separated by blank lines.
type File struct {
	Comment string
	Blocks  []Block
}

// Render writes the block as Alloy syntax, or returns every error found.
func (b Block) Render() (string, error) {
	r := &renderer{}
	r.block(b, 0)
	return r.result()
}

// Render writes the file as Alloy syntax, or returns every error found.
func (f File) Render() (string, error) {
	r := &renderer{}
	r.comment(f.Comment, 0)
	if f.Comment != "" && len(f.Blocks) > 0 {
		r.sb.WriteString("\n")
	}
	for i, b := range f.Blocks {
		if i > 0 {
			r.sb.WriteString("\n")
		}
		r.block(b, 0)
	}
	return r.result()
}

type renderer struct {
	sb   strings.Builder
	errs []error
	path []string
}

func (r *renderer) result() (string, error) {
	if len(r.errs) > 0 {
		return "", errors.Join(r.errs...)
	}
	return r.sb.String(), nil
}

func (r *renderer) errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(r.path) > 0 {
		msg = strings.Join(r.path, " > ") + ": " + msg
	}
	r.errs = append(r.errs, errors.New("alloycfg: "+msg))
}

func (r *renderer) push(s string) { r.path = append(r.path, s) }
func (r *renderer) pop()          { r.path = r.path[:len(r.path)-1] }

func (r *renderer) tabs(n int) { r.sb.WriteString(strings.Repeat("\t", n)) }

func (r *renderer) comment(c string, indent int) {
	if c == "" {
		return
	}
	for _, line := range strings.Split(c, "\n") {
		r.tabs(indent)
		r.sb.WriteString(strings.TrimRight("// "+strings.ReplaceAll(line, "\r", ""), " "))
		r.sb.WriteString("\n")
	}
}

func (r *renderer) block(b Block, indent int) {
	id := b.Name
	if b.Label != "" {
		id += " " + strconv.Quote(b.Label)
	}
	r.push(id)
	defer r.pop()

	if !isPath(b.Name) {
		r.errorf("invalid block name %q: want dot-separated identifiers", b.Name)
	}
	if b.Label != "" && !isIdent(b.Label) {
		r.errorf("invalid block label %q: want an identifier (letters, digits, underscores)", b.Label)
	}

	r.comment(b.Comment, indent)
	r.tabs(indent)
	r.sb.WriteString(b.Name)
	if b.Label != "" {
		r.sb.WriteString(" " + strconv.Quote(b.Label))
	}
	if len(b.Attrs) == 0 && len(b.Blocks) == 0 {
		r.sb.WriteString(" {}\n")
		return
	}
	r.sb.WriteString(" {\n")

	width := 0
	for _, a := range b.Attrs {
		width = max(width, len(a.Name))
	}
	seen := map[string]bool{}
	for _, a := range b.Attrs {
		if !isIdent(a.Name) {
			r.errorf("invalid attribute name %q: want an identifier", a.Name)
		}
		if seen[a.Name] {
			r.errorf("duplicate attribute %q", a.Name)
		}
		seen[a.Name] = true
		r.tabs(indent + 1)
		r.sb.WriteString(a.Name + strings.Repeat(" ", width-len(a.Name)) + " = ")
		r.push("attribute " + a.Name)
		r.value(a.Value, indent+1)
		r.pop()
		r.sb.WriteString("\n")
	}
	for i, nb := range b.Blocks {
		if i > 0 || len(b.Attrs) > 0 {
			r.sb.WriteString("\n")
		}
		r.block(nb, indent+1)
	}
	r.tabs(indent)
	r.sb.WriteString("}\n")
}

func (r *renderer) value(v Value, indent int) {
	if v == nil {
		r.errorf("missing value")
		r.sb.WriteString("null")
		return
	}
	v.render(r, indent)
}

func (v stringValue) render(r *renderer, _ int) {
	// Alloy decodes string literals with Go's strconv.Unquote
	// (syntax/vm/constant.go) and its scanner accepts exactly Go's escapes
	// (syntax/scanner/scanner.go scanEscape), so strconv.Quote is the
	// matching encoder.
	r.sb.WriteString(strconv.Quote(string(v)))
}

func (v numberValue) render(r *renderer, _ int) {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		r.errorf("number %v has no Alloy literal", f)
		r.sb.WriteString("0")
		return
	}
	// 'f' never writes an exponent, so the literal is plain digits.
	r.sb.WriteString(strconv.FormatFloat(f, 'f', -1, 64))
}

func (v intValue) render(r *renderer, _ int) {
	r.sb.WriteString(strconv.FormatInt(int64(v), 10))
}

func (v boolValue) render(r *renderer, _ int) {
	r.sb.WriteString(strconv.FormatBool(bool(v)))
}

func isScalar(v Value) bool {
	switch v.(type) {
	case listValue, objectValue:
		return false
	}
	return true
}

func (v listValue) render(r *renderer, indent int) {
	if len(v) == 0 {
		r.sb.WriteString("[]")
		return
	}
	inline := true
	for _, e := range v {
		inline = inline && isScalar(e)
	}
	if inline {
		r.sb.WriteString("[")
		for i, e := range v {
			if i > 0 {
				r.sb.WriteString(", ")
			}
			r.push(fmt.Sprintf("[%d]", i))
			r.value(e, indent)
			r.pop()
		}
		r.sb.WriteString("]")
		return
	}
	r.sb.WriteString("[\n")
	for i, e := range v {
		r.tabs(indent + 1)
		r.push(fmt.Sprintf("[%d]", i))
		r.value(e, indent+1)
		r.pop()
		r.sb.WriteString(",\n")
	}
	r.tabs(indent)
	r.sb.WriteString("]")
}

func (v objectValue) render(r *renderer, indent int) {
	if len(v) == 0 {
		r.sb.WriteString("{}")
		return
	}
	keys := make([]string, len(v))
	width := 0
	seen := map[string]bool{}
	for i, f := range v {
		switch {
		case f.Key == "":
			r.errorf("object field %d has an empty key", i)
		case seen[f.Key]:
			r.errorf("duplicate object key %q", f.Key)
		}
		seen[f.Key] = true
		keys[i] = f.Key
		if !isIdent(f.Key) {
			keys[i] = strconv.Quote(f.Key)
			// Alloy's parser takes a quoted key as the raw text between the
			// quotes, without decoding escapes (syntax/parser/internal.go,
			// parseField), so a key that needs escaping cannot round-trip.
			if keys[i] != `"`+f.Key+`"` {
				r.errorf("object key %q needs escaping, which Alloy does not decode in keys", f.Key)
			}
		}
		width = max(width, len(keys[i]))
	}
	r.sb.WriteString("{\n")
	for i, f := range v {
		r.tabs(indent + 1)
		r.sb.WriteString(keys[i] + strings.Repeat(" ", width-len(keys[i])) + " = ")
		r.push("key " + keys[i])
		r.value(f.Value, indent+1)
		r.pop()
		r.sb.WriteString(",\n")
	}
	r.tabs(indent)
	r.sb.WriteString("}")
}

func (v refValue) render(r *renderer, _ int) {
	if !isPath(string(v)) {
		r.errorf("invalid reference %q: want dot-separated identifiers", string(v))
	}
	r.sb.WriteString(string(v))
}

func (v callValue) render(r *renderer, indent int) {
	if !isPath(v.fn) {
		r.errorf("invalid function name %q: want dot-separated identifiers", v.fn)
	}
	r.sb.WriteString(v.fn + "(")
	for i, a := range v.args {
		if i > 0 {
			r.sb.WriteString(", ")
		}
		r.push(fmt.Sprintf("%s arg %d", v.fn, i))
		r.value(a, indent)
		r.pop()
	}
	r.sb.WriteString(")")
}

func (v concatValue) render(r *renderer, indent int) {
	if len(v) < 2 {
		r.errorf("concatenation needs at least two operands, got %d", len(v))
	}
	for i, e := range v {
		if i > 0 {
			r.sb.WriteString(" + ")
		}
		if !isScalar(e) {
			r.errorf("concatenation operand %d is a list or object", i)
		}
		r.value(e, indent)
	}
}

// isIdent reports whether s is an Alloy identifier: an ASCII letter or
// underscore followed by letters, digits and underscores, and not one of
// the literals true, false and null.
func isIdent(s string) bool {
	if s == "" || s == "true" || s == "false" || s == "null" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return true
}

// isPath reports whether s is one or more identifiers joined by dots.
func isPath(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if !isIdent(part) {
			return false
		}
	}
	return true
}
