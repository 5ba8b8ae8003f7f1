package rules

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/schema"
)

// samplesDir holds the repository's own sample documents.
const samplesDir = "../../samples"

func loadSample(tb testing.TB, name string) *schema.Document {
	tb.Helper()
	doc, err := extract.Load(context.Background(), filepath.Join(samplesDir, name), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return doc
}

func TestSamples(t *testing.T) {
	for _, tc := range []struct {
		file                      string
		title, author, published  string
		stance                    schema.Stance
		conviction, confidence    any
		horizon                   string
		views                     []string
		points                    int
		pointsByPerspective       map[string]int
		sourced, withImplications int
	}{
		{
			file: "research-note-energy.txt", title: "Refining Margins Normalise Lower", author: "Odile Marchetti",
			published: "2026-03-09", stance: schema.Bearish, conviction: 0.6, horizon: "2026-2028",
			views: []string{
				"commodities bearish 0-2 Year 0.7 0.6",
				"equity bearish 1-3 Year 0.6 0.5",
				"credit neutral 0-3 Year 0.5 0.4",
			},
			points: 10, pointsByPerspective: map[string]int{"commodities": 4, "equity": 4, "credit": 2},
			sourced: 10, withImplications: 10,
		},
		{
			file: "research-note-japan.md", title: "Japanese Banks Re-Rate as the BoJ Normalises", author: "Ren Takahashi-Moore",
			published: "2026-02-24", stance: schema.Bullish, conviction: 0.6, confidence: 0.7, horizon: "12-36 months",
			views: []string{
				"rates bullish 6-18 Months 0.7 0.6",
				"equity bullish 12-36 Months 0.6 0.6",
				"credit neutral 12-36 Months 0.5 0.4",
			},
			points: 10, pointsByPerspective: map[string]int{"rates": 4, "equity": 4, "credit": 2},
			sourced: 10, withImplications: 10,
		},
		{
			// Prose: lexicon stance, no scores, figures from sentences.
			file: "market-commentary.txt", title: "The Consumer Is Running Out of Cushion", author: "<nil>",
			published: "<nil>", stance: schema.Bearish, horizon: "6-12 months",
			points: 15, pointsByPerspective: map[string]int{"": 15},
			sourced: 9, withImplications: 0,
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			doc := loadSample(t, tc.file)
			res, err := New().Extract(context.Background(), doc)
			if err != nil {
				t.Fatal(err)
			}
			x := res.Extraction
			th := x.Theses[0]
			if str(x.Title) != tc.title || str(x.Author) != tc.author || str(x.Published) != tc.published {
				t.Errorf("title/author/published = %q/%q/%q", str(x.Title), str(x.Author), str(x.Published))
			}
			if th.Stance != tc.stance || num(th.Conviction) != tc.conviction || num(th.Confidence) != tc.confidence || str(th.Horizon) != tc.horizon {
				t.Errorf("thesis = %s conviction %v confidence %v horizon %q", th.Stance, num(th.Conviction), num(th.Confidence), str(th.Horizon))
			}
			if got := viewKeys(th.Views); !reflect.DeepEqual(got, tc.views) {
				t.Errorf("views = %q, want %q", got, tc.views)
			}
			by := map[string]int{}
			sourced, implied := 0, 0
			for _, d := range th.DataPoints {
				p := ""
				if d.Perspective != nil {
					p = *d.Perspective
				}
				by[p]++
				if d.Source != nil {
					sourced++
				}
				if d.Implication != nil {
					implied++
				}
			}
			if len(th.DataPoints) != tc.points || !reflect.DeepEqual(by, tc.pointsByPerspective) {
				t.Errorf("data points = %d by perspective %v, want %d %v", len(th.DataPoints), by, tc.points, tc.pointsByPerspective)
			}
			if sourced != tc.sourced || implied != tc.withImplications {
				t.Errorf("%d sourced and %d with implications, want %d and %d", sourced, implied, tc.sourced, tc.withImplications)
			}
			assertGroundedExactly(t, doc.Text, x)
		})
	}
}

func TestCommentaryFigures(t *testing.T) {
	doc := loadSample(t, "market-commentary.txt")
	res, err := New().Extract(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range res.Extraction.Theses[0].DataPoints {
		got[d.Value] = str(d.Source)
	}
	for value, source := range map[string]string{
		"3.1%":           "Larkspur Economics",
		"$1.21 trillion": "Corliss & Vane",
		"7.2%":           "Tidewater Credit Monitor",
		"18%":            "Halden Payments",
		"3.6%":           "Ostrander Wage Tracker",
		"2.5%":           "Brightwater Equity Data",
		"23x":            "<nil>",
		"410 bps":        "<nil>",
	} {
		if s, ok := got[value]; !ok || s != source {
			t.Errorf("value %q: source %q (found %v), want %q", value, s, ok, source)
		}
	}
}
