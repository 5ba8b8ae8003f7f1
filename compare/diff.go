package compare

import (
	"strconv"

	"github.com/thesisdb/thesisdb/schema"
)

// Change statuses of theses, views and data points in a Diff.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// FieldChange is one field that differs: its name and its values before
// (in A) and after (in B), as text; "" stands for null.
type FieldChange struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// ViewChange is a view added, removed or changed, identified by its
// perspective.
type ViewChange struct {
	Perspective string        `json:"perspective"`
	Status      string        `json:"status"`
	Changes     []FieldChange `json:"changes,omitempty"`
}

// ThesisDiff is what differs in one thesis: its own fields and its views.
type ThesisDiff struct {
	// Title is B's title, or A's for a removed thesis.
	Title   string        `json:"title"`
	Status  string        `json:"status"`
	Changes []FieldChange `json:"changes,omitempty"`
	Views   []ViewChange  `json:"views,omitempty"`
}

// DataPointChange is a data point added, removed or whose value changed,
// matched by normalised indicator across the whole document.
type DataPointChange struct {
	Indicator string `json:"indicator"`
	Status    string `json:"status"`
	From      string `json:"from,omitempty"`
	To        string `json:"to,omitempty"`
}

// DocumentDiff is what changed between two extractions of one document.
type DocumentDiff struct {
	Theses     []ThesisDiff      `json:"theses,omitempty"`
	DataPoints []DataPointChange `json:"data_points,omitempty"`
	// Unchanged counts the data points present in both with the same value.
	Unchanged int `json:"data_points_unchanged"`
}

// Changed reports whether anything differs.
func (d DocumentDiff) Changed() bool { return len(d.Theses) > 0 || len(d.DataPoints) > 0 }

// Count returns how many data points were added, removed and changed.
func (d DocumentDiff) Count() (added, removed, changed int) {
	for _, c := range d.DataPoints {
		switch c.Status {
		case Added:
			added++
		case Removed:
			removed++
		default:
			changed++
		}
	}
	return added, removed, changed
}

// Diff says what changed from extraction a to extraction b of the same
// document: per thesis (paired by content: one each pair; otherwise by shared words, then in order) the stance,
// confidence, conviction and horizon, and the views by perspective; and the
// data points added, removed or changed, matched by normalised indicator
// (NormIndicator), a change being a different value (SameValue). Scores
// differing by less than 1e-9 are equal. Either side may be nil.
func Diff(a, b *schema.Extraction) DocumentDiff {
	var d DocumentDiff
	ta, tb := theses(a), theses(b)
	for _, p := range pairTheses(ta, tb) {
		switch {
		case p[1] < 0:
			d.Theses = append(d.Theses, ThesisDiff{Title: ta[p[0]].Title, Status: Removed})
		case p[0] < 0:
			d.Theses = append(d.Theses, ThesisDiff{Title: tb[p[1]].Title, Status: Added})
		default:
			if td := diffThesis(&ta[p[0]], &tb[p[1]]); len(td.Changes) > 0 || len(td.Views) > 0 {
				d.Theses = append(d.Theses, td)
			}
		}
	}
	d.DataPoints, d.Unchanged = diffDataPoints(allDataPoints(a), allDataPoints(b))
	return d
}

func diffThesis(a, b *schema.Thesis) ThesisDiff {
	td := ThesisDiff{Title: b.Title, Status: Changed}
	td.Changes = fieldChanges(a.Stance, b.Stance, a.Confidence, b.Confidence, a.Conviction, b.Conviction, a.Horizon, b.Horizon)
	byPersp := map[string]int{}
	for i, v := range b.Views {
		if _, dup := byPersp[normPerspective(v.Perspective)]; !dup {
			byPersp[normPerspective(v.Perspective)] = i
		}
	}
	seen := map[int]bool{}
	for _, va := range a.Views {
		j, ok := byPersp[normPerspective(va.Perspective)]
		if !ok || seen[j] {
			td.Views = append(td.Views, ViewChange{Perspective: va.Perspective, Status: Removed})
			continue
		}
		seen[j] = true
		vb := b.Views[j]
		if ch := fieldChanges(va.Stance, vb.Stance, va.Confidence, vb.Confidence, va.Conviction, vb.Conviction, va.Horizon, vb.Horizon); len(ch) > 0 {
			td.Views = append(td.Views, ViewChange{Perspective: vb.Perspective, Status: Changed, Changes: ch})
		}
	}
	for j, vb := range b.Views {
		if !seen[j] {
			td.Views = append(td.Views, ViewChange{Perspective: vb.Perspective, Status: Added})
		}
	}
	return td
}

func fieldChanges(sa, sb schema.Stance, ca, cb, va, vb *float64, ha, hb *string) []FieldChange {
	var out []FieldChange
	if sa != sb {
		out = append(out, FieldChange{"stance", string(sa), string(sb)})
	}
	if !eqPtr(ca, cb) {
		out = append(out, FieldChange{"confidence", fmtScore(ca), fmtScore(cb)})
	}
	if !eqPtr(va, vb) {
		out = append(out, FieldChange{"conviction", fmtScore(va), fmtScore(vb)})
	}
	if deref(ha) != deref(hb) {
		out = append(out, FieldChange{"horizon", deref(ha), deref(hb)})
	}
	return out
}

func fmtScore(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'g', -1, 64)
}

// diffDataPoints matches a's and b's data points by normalised indicator;
// among several with one indicator, equal values pair first. Each
// indicator and value is normalised once, and b's data points are looked
// up by indicator, so that documents of many data points cost little more
// than their number.
func diffDataPoints(a, b []schema.DataPoint) ([]DataPointChange, int) {
	var out []DataPointChange
	unchanged := 0
	va, vb := dpValues(a), dpValues(b)
	byKey := make(map[string][]int, len(b))
	for j := range b {
		byKey[vb[j].key] = append(byKey[vb[j].key], j)
	}
	same := func(i, j int) bool {
		if va[i].norm == vb[j].norm {
			return true
		}
		qa, oka := va[i].quantity(a[i].Value)
		qb, okb := vb[j].quantity(b[j].Value)
		return oka && okb && sameQuantity(qa, qb)
	}
	usedB := make([]bool, len(b))
	pairOf := make([]int, len(a))
	for i := range pairOf {
		pairOf[i] = -1
	}
	// Same indicator and value first, then same indicator; each in b's
	// order.
	for pass := 0; pass < 2; pass++ {
		for i := range a {
			if pairOf[i] >= 0 {
				continue
			}
			for _, j := range byKey[va[i].key] {
				if usedB[j] || (pass == 0 && !same(i, j)) {
					continue
				}
				pairOf[i], usedB[j] = j, true
				break
			}
		}
	}
	for i, pa := range a {
		j := pairOf[i]
		switch {
		case j < 0:
			out = append(out, DataPointChange{Indicator: pa.Indicator, Status: Removed, From: pa.Value})
		case same(i, j):
			unchanged++
		default:
			out = append(out, DataPointChange{Indicator: b[j].Indicator, Status: Changed, From: pa.Value, To: b[j].Value})
		}
	}
	for j, pb := range b {
		if !usedB[j] {
			out = append(out, DataPointChange{Indicator: pb.Indicator, Status: Added, To: pb.Value})
		}
	}
	return out, unchanged
}

// dpValue is a data point's indicator key and value as diffDataPoints
// compares them (NormIndicator, and SameValue's two forms).
type dpValue struct {
	key, norm string
	q         schema.Quantity
	qok, qset bool
}

func dpValues(ps []schema.DataPoint) []dpValue {
	vs := make([]dpValue, len(ps))
	for i, p := range ps {
		vs[i] = dpValue{key: NormIndicator(p.Indicator), norm: normText(p.Value)}
	}
	return vs
}

// quantity is schema.ParseQuantity(value), parsed on first use.
func (v *dpValue) quantity(value string) (schema.Quantity, bool) {
	if !v.qset {
		v.q, v.qok = schema.ParseQuantity(value)
		v.qset = true
	}
	return v.q, v.qok
}
