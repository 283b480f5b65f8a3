package rules

import (
	"encoding/json"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// at walks a dotted path ("vpcConfig.subnetIds") through nested maps and
// returns the value, or a null Value when any step is missing or unknown.
func at(m property.Map, path string) property.Value { return keys(m, strings.Split(path, ".")...) }

// keys walks literal keys, for a key that contains dots ("grafana.ini").
func keys(m property.Map, path ...string) property.Value {
	cur := property.New(m)
	for _, k := range path {
		if !cur.IsMap() {
			return property.Value{}
		}
		cur = cur.AsMap().Get(k)
	}
	return cur
}

// str returns the string at path and whether it is a known string.
func str(m property.Map, path string) (string, bool) {
	v := at(m, path)
	if !v.IsString() {
		return "", false
	}
	return v.AsString(), true
}

// num returns the number at path and whether it is a known number.
func num(m property.Map, path string) (float64, bool) {
	v := at(m, path)
	if !v.IsNumber() {
		return 0, false
	}
	return v.AsNumber(), true
}

// boolean returns the bool at path and whether it is a known bool.
func boolean(m property.Map, path string) (bool, bool) {
	v := at(m, path)
	if !v.IsBool() {
		return false, false
	}
	return v.AsBool(), true
}

// stringList returns the known strings of the array at path.
func stringList(m property.Map, path string) []string { return valueStrings(at(m, path)) }

// valueStrings returns the known strings of an array value.
func valueStrings(v property.Value) []string {
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.AsArray().AsSlice() {
		if e.IsString() {
			out = append(out, e.AsString())
		}
	}
	return out
}

// maps returns the map elements of the array at path.
func mapList(m property.Map, path string) []property.Map {
	v := at(m, path)
	if !v.IsArray() {
		return nil
	}
	var out []property.Map
	for _, e := range v.AsArray().AsSlice() {
		if e.IsMap() {
			out = append(out, e.AsMap())
		}
	}
	return out
}

// plain converts a Value to plain Go (string, float64, bool, []any,
// map[string]any); unknowns become nil.
func plain(v property.Value) any {
	switch {
	case v.IsString():
		return v.AsString()
	case v.IsNumber():
		return v.AsNumber()
	case v.IsBool():
		return v.AsBool()
	case v.IsArray():
		var out []any
		for _, e := range v.AsArray().AsSlice() {
			out = append(out, plain(e))
		}
		return out
	case v.IsMap():
		out := map[string]any{}
		for k, e := range v.AsMap().All {
			out[k] = plain(e)
		}
		return out
	}
	return nil
}

// policyDocument is the part of an IAM policy document the rules read.
type policyDocument struct {
	Statement []policyStatement
}

type policyStatement struct {
	Sid       string
	Effect    string
	Action    stringOrList
	Resource  stringOrList
	Principal any
	Condition map[string]map[string]any
}

// stringOrList decodes IAM's "Action": "x" or "Action": ["x", "y"].
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// parsePolicy decodes a policy document held as a JSON string; ok is false
// when the value is unknown (computed during preview) or not a document.
func parsePolicy(v property.Value) (policyDocument, bool) {
	if !v.IsString() {
		return policyDocument{}, false
	}
	var doc policyDocument
	if err := json.Unmarshal([]byte(v.AsString()), &doc); err != nil {
		return policyDocument{}, false
	}
	return doc, true
}
