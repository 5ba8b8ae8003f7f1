package schema

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// shapeCheck reports whether a Go value's JSON form passes the part of the
// JSON Schema it was compiled from.
type shapeCheck func(reflect.Value) bool

// fastShape is the embedded JSON Schema compiled against the Go types of
// an Extraction, or nil when the schema says more than fastShape can check
// on a Go value. It can when every object is a struct whose JSON fields
// are exactly the schema's properties (no others allowed, none omitted),
// and every value's type is its Go type's, nullable where the Go type is
// a pointer: then what remains to check is that slices are not nil (null),
// strings are in their enums and numbers are finite (json.Marshal refuses
// NaN and infinities), which the compiled check does without encoding.
var fastShape = sync.OnceValue(func() shapeCheck {
	var root map[string]any
	if err := json.Unmarshal(JSON, &root); err != nil {
		return nil
	}
	check, ok := compileShape(root, reflect.TypeFor[Extraction]())
	if !ok {
		return nil
	}
	return check
})

// shapeKeywords are the keywords compileShape understands; a schema node
// with any other (minLength, format, $ref, ...) is not compiled.
var shapeKeywords = map[string]bool{"$schema": true, "$id": true, "title": true, "description": true,
	"type": true, "enum": true, "required": true, "additionalProperties": true, "properties": true, "items": true}

// compileShape compiles schema node for values of Go type t; ok is false
// when a value of t could pass the check and fail the node.
func compileShape(node map[string]any, t reflect.Type) (check shapeCheck, ok bool) {
	for k := range node {
		if !shapeKeywords[k] {
			return nil, false
		}
	}
	want, nullable, ok := schemaType(node["type"])
	if !ok {
		return nil, false
	}
	enum, hasEnum := node["enum"]
	ptr := t.Kind() == reflect.Pointer
	if ptr {
		if !nullable || hasEnum {
			return nil, false // null would fail the node
		}
		t = t.Elem()
	}
	if hasEnum && t.Kind() != reflect.String {
		return nil, false
	}
	switch t.Kind() {
	case reflect.String:
		if want != "string" {
			return nil, false
		}
		check = func(reflect.Value) bool { return true }
		if hasEnum {
			list, ok := enum.([]any)
			if !ok {
				return nil, false
			}
			allowed := map[string]bool{}
			for _, v := range list {
				s, ok := v.(string)
				if !ok {
					return nil, false
				}
				allowed[s] = true
			}
			check = func(v reflect.Value) bool { return allowed[v.String()] }
		}
	case reflect.Float64:
		if want != "number" {
			return nil, false
		}
		check = func(v reflect.Value) bool { f := v.Float(); return !math.IsNaN(f) && !math.IsInf(f, 0) }
	case reflect.Slice:
		items, ok := node["items"].(map[string]any)
		if want != "array" || !ok {
			return nil, false
		}
		elem, ok := compileShape(items, t.Elem())
		if !ok {
			return nil, false
		}
		check = func(v reflect.Value) bool {
			if v.IsNil() {
				return nullable // encodes as null
			}
			for i := range v.Len() {
				if !elem(v.Index(i)) {
					return false
				}
			}
			return true
		}
	case reflect.Struct:
		if check, ok = compileObject(node, t, want); !ok {
			return nil, false
		}
	default:
		return nil, false
	}
	if ptr {
		inner := check
		check = func(v reflect.Value) bool { return v.IsNil() || inner(v.Elem()) }
	}
	return check, true
}

// compileObject compiles an object node for struct type t.
func compileObject(node map[string]any, t reflect.Type, want string) (shapeCheck, bool) {
	props, ok := node["properties"].(map[string]any)
	if want != "object" || !ok || node["additionalProperties"] != false {
		return nil, false
	}
	type field struct {
		index int
		check shapeCheck
	}
	var fields []field
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous || opts != "" {
			return nil, false // embedded or omitempty: not always the property
		}
		if name == "" {
			name = f.Name
		}
		p, ok := props[name].(map[string]any)
		if !ok {
			return nil, false // a field the schema does not allow
		}
		c, ok := compileShape(p, f.Type)
		if !ok {
			return nil, false
		}
		fields = append(fields, field{i, c})
		names = append(names, name)
	}
	if len(props) != len(names) {
		return nil, false // a required property may be missing
	}
	if req, ok := node["required"]; ok {
		list, ok := req.([]any)
		if !ok {
			return nil, false
		}
		for _, r := range list {
			if s, ok := r.(string); !ok || !slices.Contains(names, s) {
				return nil, false
			}
		}
	}
	return func(v reflect.Value) bool {
		for _, f := range fields {
			if !f.check(v.Field(f.index)) {
				return false
			}
		}
		return true
	}, true
}

// schemaType reads a node's type: one JSON type, possibly with "null".
func schemaType(t any) (want string, nullable, ok bool) {
	var types []string
	switch t := t.(type) {
	case string:
		types = []string{t}
	case []any:
		for _, v := range t {
			s, ok := v.(string)
			if !ok {
				return "", false, false
			}
			types = append(types, s)
		}
	default:
		return "", false, false
	}
	for _, s := range types {
		switch {
		case s == "null":
			nullable = true
		case want != "":
			return "", false, false // a union of two types
		default:
			want = s
		}
	}
	return want, nullable, want != ""
}
