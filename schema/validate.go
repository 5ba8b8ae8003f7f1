package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Problem is one way a document fails the schema or its semantic rules.
type Problem struct {
	// Path is a JSONPath to the offending value, e.g. "$.theses[0].stance".
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// ValidationError lists every problem found in an extraction. Callers that
// re-ask a model quote it back verbatim.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("extraction does not match the schema: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		if i == 10 {
			fmt.Fprintf(&b, "and %d more", len(e.Problems)-i)
			break
		}
		b.WriteString(p.String())
	}
	return b.String()
}

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSON))
	if err != nil {
		return nil, fmt.Errorf("parse embedded schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	const url = "https://thesisdb.dev/schema/extraction/1"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("add embedded schema: %w", err)
	}
	return c.Compile(url)
})

// Parse validates data against the JSON Schema and the semantic rules that
// the schema cannot express (scores within 0..1, non-empty statements and
// values), then decodes it. A *ValidationError names every problem with its
// JSON path; other errors mean data is not JSON at all.
func Parse(data []byte) (*Extraction, error) {
	if err := validateJSON(data); err != nil {
		return nil, err
	}
	var x Extraction
	if err := json.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("decode extraction: %w", err)
	}
	if err := x.Check(); err != nil {
		return nil, err
	}
	return &x, nil
}

// validateJSON checks data against the JSON Schema.
func validateJSON(data []byte) error {
	sch, err := compiled()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("extraction is not valid JSON: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return &ValidationError{Problems: schemaProblems(ve)}
		}
		return err
	}
	return nil
}

// Validate checks x against the JSON Schema and the semantic rules, as
// Parse does for its JSON form (the rules are checked on x itself, not on
// a copy decoded from that form: the same values, without the cost).
// While the schema says no more than the Go types do, bar nulls, enums and
// numbers (see fastShape), x is checked in place instead of encoded to
// JSON and decoded again for the validator; an x that fails is run
// through the validator all the same, for its messages.
func Validate(x *Extraction) error {
	if check := fastShape(); check != nil && x != nil && check(reflect.ValueOf(x).Elem()) {
		return x.Check()
	}
	return validateEncoded(x)
}

// validateEncoded is Validate through x's JSON form and the JSON Schema
// validator.
func validateEncoded(x *Extraction) error {
	data, err := json.Marshal(x)
	if err != nil {
		return fmt.Errorf("encode extraction: %w", err)
	}
	if err := validateJSON(data); err != nil {
		return err
	}
	return x.Check()
}

// Check applies the semantic rules the JSON Schema cannot express.
func (x *Extraction) Check() error {
	var ps []Problem
	// Paths are formatted only for a problem: most extractions have none.
	add := func(msg string, format string, args ...any) {
		ps = append(ps, Problem{fmt.Sprintf(format, args...), msg})
	}
	bad := func(v *float64) bool { return v != nil && (math.IsNaN(*v) || *v < 0 || *v > 1) }
	scoreMsg := func(v *float64) string { return fmt.Sprintf("score %v is outside 0..1 (write 7/10 as 0.7)", *v) }
	stanceMsg := func(s Stance) string { return fmt.Sprintf("%q is not one of bullish, bearish, neutral, mixed", s) }
	const empty = "must not be empty"
	for i, t := range x.Theses {
		if strings.TrimSpace(t.Statement) == "" {
			add(empty, "$.theses[%d].statement", i)
		}
		if !t.Stance.Valid() {
			add(stanceMsg(t.Stance), "$.theses[%d].stance", i)
		}
		if bad(t.Confidence) {
			add(scoreMsg(t.Confidence), "$.theses[%d].confidence", i)
		}
		if bad(t.Conviction) {
			add(scoreMsg(t.Conviction), "$.theses[%d].conviction", i)
		}
		for j, v := range t.Views {
			if strings.TrimSpace(v.Perspective) == "" {
				add(empty, "$.theses[%d].views[%d].perspective", i, j)
			}
			if !v.Stance.Valid() {
				add(stanceMsg(v.Stance), "$.theses[%d].views[%d].stance", i, j)
			}
			if bad(v.Confidence) {
				add(scoreMsg(v.Confidence), "$.theses[%d].views[%d].confidence", i, j)
			}
			if bad(v.Conviction) {
				add(scoreMsg(v.Conviction), "$.theses[%d].views[%d].conviction", i, j)
			}
		}
		for j, d := range t.DataPoints {
			if strings.TrimSpace(d.Indicator) == "" {
				add(empty, "$.theses[%d].data_points[%d].indicator", i, j)
			}
			if strings.TrimSpace(d.Value) == "" {
				add(empty, "$.theses[%d].data_points[%d].value", i, j)
			}
		}
	}
	if len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

// schemaProblems flattens the validator's output into leaf problems with
// JSONPath locations, sorted and de-duplicated.
func schemaProblems(ve *jsonschema.ValidationError) []Problem {
	out := ve.BasicOutput()
	seen := map[Problem]bool{}
	var ps []Problem
	for _, u := range out.Errors {
		if u.Error == nil {
			continue
		}
		msg := u.Error.String()
		// Wrapper units ("doesn't validate with ...") repeat their causes.
		if strings.HasPrefix(msg, "doesn't validate with") || strings.HasPrefix(msg, "validation failed") {
			continue
		}
		p := Problem{Path: pointerToPath(u.InstanceLocation), Message: msg}
		if !seen[p] {
			seen[p] = true
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		ps = append(ps, Problem{Path: pointerToPath(strings.Join(ve.InstanceLocation, "/")), Message: ve.Error()})
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Path < ps[j].Path })
	return ps
}

// pointerToPath turns a JSON pointer ("/theses/0/stance") into a JSONPath
// ("$.theses[0].stance").
func pointerToPath(ptr string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
		} else {
			b.WriteString("." + tok)
		}
	}
	return b.String()
}
