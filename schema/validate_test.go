package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const validDoc = `{
 "title": "T", "author": null, "published": "2026-02-16",
 "theses": [{
  "title": "Rotation", "statement": "Small caps beat mega caps.", "subject": null,
  "stance": "bullish", "confidence": null, "conviction": 0.5, "horizon": "0-5 Year",
  "views": [{"perspective": "rates", "stance": "bearish", "confidence": 0.7, "conviction": 0.4,
             "horizon": "0-5 Year", "summary": null, "as_of": null}],
  "data_points": [{"indicator": "HY OAS", "value": "284 bps", "source": "Fidelity",
                   "implication": null, "perspective": "credit", "quote": "HY OAS is 284 bps."}]
 }]
}`

func TestParseValid(t *testing.T) {
	x, err := Parse([]byte(validDoc))
	if err != nil {
		t.Fatal(err)
	}
	if got := x.Theses[0].DataPoints[0].Value; got != "284 bps" {
		t.Errorf("value = %q", got)
	}
	if *x.Theses[0].Views[0].Confidence != 0.7 {
		t.Errorf("confidence = %v", *x.Theses[0].Views[0].Confidence)
	}
	// Round trip: what we marshal is valid again and identical in meaning.
	data, _ := json.Marshal(x)
	if _, err := Parse(data); err != nil {
		t.Fatalf("re-parse of marshalled extraction: %v", err)
	}
}

func TestParseNamesPaths(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		wantPath       string
	}{
		{"bad enum", `"stance": "bullish", "confidence"`, `"stance": "very bullish", "confidence"`, "$.theses[0].stance"},
		{"extra property", `"horizon": "0-5 Year",
  "views"`, `"horizon": "0-5 Year", "extra": 1,
  "views"`, "$.theses[0]"},
		{"missing required", `, "quote": "HY OAS is 284 bps."`, ``, "$.theses[0].data_points[0]"},
		{"wrong type", `"conviction": 0.5`, `"conviction": "5/10"`, "$.theses[0].conviction"},
		{"score out of range", `"conviction": 0.5`, `"conviction": 5`, "$.theses[0].conviction"},
		{"empty value", `"value": "284 bps"`, `"value": " "`, "$.theses[0].data_points[0].value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(validDoc, tc.from, tc.to, 1)
			if doc == validDoc {
				t.Fatal("test edit did not apply")
			}
			_, err := Parse([]byte(doc))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			found := false
			for _, p := range ve.Problems {
				if p.Path == tc.wantPath {
					found = true
				}
			}
			if !found {
				t.Errorf("problems %v do not name %s", ve.Problems, tc.wantPath)
			}
		})
	}
}

func TestParseNotJSON(t *testing.T) {
	_, err := Parse([]byte("```json\n{}\n```"))
	var ve *ValidationError
	if err == nil || errors.As(err, &ve) {
		t.Fatalf("err = %v, want a JSON syntax error", err)
	}
}

func TestSchemaIsStrictCompatible(t *testing.T) {
	// OpenAI strict mode: every object closed, every property required, no
	// unsupported keywords.
	var root map[string]any
	if err := json.Unmarshal(JSON, &root); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, n any)
	walk = func(path string, n any) {
		m, ok := n.(map[string]any)
		if !ok {
			return
		}
		for _, kw := range []string{"format", "minLength", "maxLength", "pattern", "minimum", "maximum", "oneOf", "allOf"} {
			if _, has := m[kw]; has {
				t.Errorf("%s uses %q, which strict structured outputs reject", path, kw)
			}
		}
		if props, ok := m["properties"].(map[string]any); ok {
			if m["additionalProperties"] != false {
				t.Errorf("%s: additionalProperties must be false", path)
			}
			req := map[string]bool{}
			for _, r := range m["required"].([]any) {
				req[r.(string)] = true
			}
			for name, p := range props {
				if !req[name] {
					t.Errorf("%s.%s is not required", path, name)
				}
				walk(path+"."+name, p)
			}
		}
		if items, ok := m["items"]; ok {
			walk(path+"[]", items)
		}
	}
	walk("$", root)
}

func TestValidateGoValue(t *testing.T) {
	x := &Extraction{Theses: []Thesis{{Title: "t", Statement: "s", Stance: "up"}}}
	err := Validate(x)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v, want *ValidationError", err)
	}
	// nil slices marshal as null, which the schema refuses: callers must
	// use empty slices.
	x.Theses[0].Stance = Bullish
	x.Theses[0].Views = []View{}
	x.Theses[0].DataPoints = []DataPoint{}
	if err := Validate(x); err != nil {
		t.Fatalf("Validate(valid) = %v", err)
	}
}
