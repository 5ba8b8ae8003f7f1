package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

// BenchmarkQuery100k runs analyst queries over 100,000 current data points
// (2,000 documents of 50 points, each extracted twice so that the current_*
// views must pick the latest extraction).
func BenchmarkQuery100k(b *testing.B) {
	ctx := context.Background()
	db := openTest(b)
	old := startRun(b, db, "p1")
	cur := startRun(b, db, "p2")
	units := []string{"%", " bps", "x", " billion"}
	for d := range 2000 {
		x := &schema.Extraction{Theses: []schema.Thesis{{Title: "t", Statement: "s", Stance: schema.Stances[d%4]}}}
		for i := range 50 {
			v := fmt.Sprintf("%d.%d%s", i, d%10, units[i%4])
			if units[i%4] == " billion" {
				v = "$" + v
			}
			x.Theses[0].DataPoints = append(x.Theses[0].DataPoints, schema.DataPoint{
				Indicator: fmt.Sprintf("indicator %d", i), Value: v, Source: ptr(fmt.Sprintf("source %d", d%37)), Quote: "q"})
		}
		id, err := db.SaveDocument(ctx, old, testDoc(d), Outcome{Extraction: x})
		if err != nil {
			b.Fatal(err)
		}
		if err := db.SaveExtraction(ctx, cur, id, Outcome{Extraction: x}); err != nil {
			b.Fatal(err)
		}
	}
	r, err := db.Reader()
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for _, q := range []struct{ name, sql string }{
		{"count", `SELECT count(*) FROM current_data_points`},
		{"filter-unit", `SELECT document_title, indicator, value FROM current_data_points WHERE unit = 'bp' AND value_num > 20`},
		{"group-source", `SELECT data_source, count(*), avg(value_num) FROM current_data_points GROUP BY data_source ORDER BY 2 DESC`},
		{"fts", `SELECT p.indicator, p.value FROM data_points_fts f JOIN current_data_points p ON p.data_point_id = f.docid WHERE data_points_fts MATCH 'source'`},
	} {
		b.Run(q.name, func(b *testing.B) {
			for range b.N {
				res, err := r.Query(ctx, q.sql, 0)
				if err != nil || len(res.Rows) == 0 {
					b.Fatalf("%v, %d rows", err, len(res.Rows))
				}
			}
		})
	}
}
