package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
)

func TestFastShapeCompilesEmbeddedSchema(t *testing.T) {
	if fastShape() == nil {
		t.Fatal("the embedded schema is not compiled for Go values: Validate encodes every extraction to JSON")
	}
}

// Validate's check in place must agree with the JSON Schema validator on
// every value, valid or not, with the same messages.
func TestValidateAgreesWithJSONSchema(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	s := func(v string) *string { return &v }
	valid := func() *Extraction {
		return &Extraction{Title: s("T"), Theses: []Thesis{{
			Title: "Rotation", Statement: "Small caps beat mega caps.", Stance: Bullish, Conviction: f(0.5), Horizon: s("0-5 Year"),
			Views:      []View{{Perspective: "rates", Stance: Bearish, Confidence: f(0.7)}},
			DataPoints: []DataPoint{{Indicator: "HY OAS", Value: "284 bps", Source: s("Fidelity"), Quote: "HY OAS is 284 bps."}},
		}}}
	}
	cases := map[string]func(x *Extraction){
		"valid":                     func(*Extraction) {},
		"no theses":                 func(x *Extraction) { x.Theses = []Thesis{} },
		"nil theses":                func(x *Extraction) { x.Theses = nil },
		"nil views":                 func(x *Extraction) { x.Theses[0].Views = nil },
		"nil data points":           func(x *Extraction) { x.Theses[0].DataPoints = nil },
		"stance":                    func(x *Extraction) { x.Theses[0].Stance = "up" },
		"empty stance":              func(x *Extraction) { x.Theses[0].Stance = "" },
		"view stance":               func(x *Extraction) { x.Theses[0].Views[0].Stance = "Bullish" },
		"NaN confidence":            func(x *Extraction) { x.Theses[0].Confidence = f(math.NaN()) },
		"infinite view conviction":  func(x *Extraction) { x.Theses[0].Views[0].Conviction = f(math.Inf(1)) },
		"score above 1":             func(x *Extraction) { x.Theses[0].Confidence = f(7) },
		"empty statement":           func(x *Extraction) { x.Theses[0].Statement = " " },
		"empty value":               func(x *Extraction) { x.Theses[0].DataPoints[0].Value = "" },
		"invalid UTF-8":             func(x *Extraction) { x.Theses[0].DataPoints[0].Quote = "\xff\xfe" },
		"second thesis bad stance":  func(x *Extraction) { x.Theses = append(x.Theses, x.Theses[0]); x.Theses[1].Stance = "x" },
		"stance and empty perspect": func(x *Extraction) { x.Theses[0].Stance = "x"; x.Theses[0].Views[0].Perspective = "" },
	}
	for name, mutate := range cases {
		x := valid()
		mutate(x)
		got, want := fmt.Sprint(Validate(x)), fmt.Sprint(validateEncoded(x))
		if got != want {
			t.Errorf("%s: Validate = %s, the JSON Schema validator says %s", name, got, want)
		}
		if name == "valid" && got != "<nil>" {
			t.Errorf("valid: %s", got)
		}
	}
	if err := Validate(nil); err == nil {
		t.Error("Validate(nil) = nil")
	}
}

// A schema that says more than the Go types (a length, a format, a
// property the types lack, a non-null type for a pointer) is not compiled,
// so Validate keeps using the validator for it.
func TestFastShapeRefusesWhatItCannotCheck(t *testing.T) {
	edits := map[string]func(root map[string]any){
		"minLength": func(r map[string]any) { thesisProp(r, "title")["minLength"] = 1.0 },
		"format":    func(r map[string]any) { thesisProp(r, "horizon")["format"] = "date" },
		"non-null pointer": func(r map[string]any) {
			thesisProp(r, "subject")["type"] = "string"
		},
		"integer":          func(r map[string]any) { thesisProp(r, "confidence")["type"] = []any{"integer", "null"} },
		"extra property":   func(r map[string]any) { thesisProps(r)["ticker"] = map[string]any{"type": "string"} },
		"missing property": func(r map[string]any) { delete(thesisProps(r), "horizon") },
		"additional allowed": func(r map[string]any) {
			r["additionalProperties"] = true
		},
		"enum on a number": func(r map[string]any) { thesisProp(r, "confidence")["enum"] = []any{0.5} },
		"ref":              func(r map[string]any) { r["$defs"] = map[string]any{} },
	}
	var base map[string]any
	if err := json.Unmarshal(JSON, &base); err != nil {
		t.Fatal(err)
	}
	if _, ok := compileShape(base, reflect.TypeFor[Extraction]()); !ok {
		t.Fatal("the embedded schema does not compile")
	}
	for name, edit := range edits {
		var root map[string]any
		if err := json.Unmarshal(JSON, &root); err != nil {
			t.Fatal(err)
		}
		edit(root)
		if _, ok := compileShape(root, reflect.TypeFor[Extraction]()); ok {
			t.Errorf("%s: compiled", name)
		}
	}
	// A narrower enum is compiled, and checked.
	var root map[string]any
	json.Unmarshal(JSON, &root)
	thesisProp(root, "stance")["enum"] = []any{"bullish"}
	check, ok := compileShape(root, reflect.TypeFor[Extraction]())
	if !ok {
		t.Fatal("narrower enum: not compiled")
	}
	x := Extraction{Theses: []Thesis{{Stance: Bearish, Views: []View{}, DataPoints: []DataPoint{}}}}
	if check(reflect.ValueOf(x)) {
		t.Error("narrower enum: bearish passes")
	}
}

func thesisProps(root map[string]any) map[string]any {
	return root["properties"].(map[string]any)["theses"].(map[string]any)["items"].(map[string]any)["properties"].(map[string]any)
}

func thesisProp(root map[string]any, name string) map[string]any {
	return thesisProps(root)[name].(map[string]any)
}

func BenchmarkValidate(b *testing.B) {
	x, err := Parse([]byte(validDoc))
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"in-place", "encoded"} {
		b.Run("path="+path, func(b *testing.B) {
			for range b.N {
				var err error
				if path == "in-place" {
					err = Validate(x)
				} else {
					err = validateEncoded(x)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
