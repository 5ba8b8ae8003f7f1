package compare

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"

	// encoding/json's behaviour on the faster encoding/json/v2 engine:
	// about twice as fast to skip the fields a diff does not read.
	json "github.com/go-json-experiment/json/v1"

	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// RunPairsJSON is what DiffRuns reads when the store offers it: each
// pair's stored JSON, which DiffRuns decodes itself on every core, only
// the fields a diff reads, and once when both runs stored the same bytes
// (satisfied by *store.DB and *store.Reader).
type RunPairsJSON interface {
	ExtractionPairsJSON(ctx context.Context, a, b int64, fn func(store.ExtractionPairJSON) error) error
}

var (
	_ RunPairsJSON = (*store.DB)(nil)
	_ RunPairsJSON = (*store.Reader)(nil)
)

// diffBatchSize is how many documents a worker diffs at a time: enough to
// make handing them over cheap, few enough to keep every core busy.
const diffBatchSize = 64

// diffBatch is consecutive pairs, diffed by one worker; done is closed
// when docs (or err) are set.
type diffBatch struct {
	pairs []store.ExtractionPairJSON
	docs  []DiffDocument
	err   error
	done  chan struct{}
}

// diffRunsJSON is DiffRuns over stored JSON: the store's rows are read in
// one goroutine, handed in batches to GOMAXPROCS workers that decode and
// diff them, and collected in document order. At most a few batches per
// worker are in flight, so memory beyond the report stays bounded.
func diffRunsJSON(ctx context.Context, s RunPairsJSON, a, b int64) (*DiffReport, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	todo := make(chan *diffBatch, workers)
	order := make(chan *diffBatch, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for bt := range todo {
				bt.docs, bt.err = diffBatchSafely(bt.pairs, a, b)
				bt.pairs = nil
				close(bt.done)
			}
		})
	}
	rep := &DiffReport{RunA: a, RunB: b, Documents: []DiffDocument{}}
	collected := make(chan error, 1)
	go func() {
		// The first error in document order wins, as a serial diff
		// would meet it; later batches are drained.
		var err error
		for bt := range order {
			<-bt.done
			if err != nil {
				continue
			}
			if bt.err != nil {
				err = bt.err
				cancel()
				continue
			}
			for _, d := range bt.docs {
				rep.add(d)
			}
		}
		collected <- err
	}()
	var cur *diffBatch
	send := func() error {
		bt := cur
		cur = nil
		// To the workers first: a batch the collector waits for is
		// always on its way.
		select {
		case todo <- bt:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case order <- bt:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	err := s.ExtractionPairsJSON(ctx, a, b, func(p store.ExtractionPairJSON) error {
		if cur == nil {
			cur = &diffBatch{pairs: make([]store.ExtractionPairJSON, 0, diffBatchSize), done: make(chan struct{})}
		}
		cur.pairs = append(cur.pairs, p)
		if len(cur.pairs) < diffBatchSize {
			return nil
		}
		return send()
	})
	if err == nil && cur != nil {
		err = send()
	}
	close(todo)
	close(order)
	wg.Wait()
	if cerr := <-collected; cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// add appends d to the report and counts it.
func (rep *DiffReport) add(d DiffDocument) {
	switch d.Status {
	case DocOnlyA:
		rep.Summary.OnlyA++
	case DocOnlyB:
		rep.Summary.OnlyB++
	case DocChanged:
		rep.Summary.Compared++
		rep.Summary.Changed++
	default:
		rep.Summary.Compared++
		rep.Summary.Unchanged++
	}
	rep.Documents = append(rep.Documents, d)
}

// diffBatchSafely is diffPairs with a panic returned as an error: in a
// worker it would otherwise end the process, not the request.
func diffBatchSafely(ps []store.ExtractionPairJSON, a, b int64) (docs []DiffDocument, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("diff of runs %d and %d: internal error (recovered panic): %v\n%s", a, b, r, debug.Stack())
		}
	}()
	return diffPairs(ps, a, b)
}

// diffPairs decodes and diffs each pair, as DiffRuns does.
func diffPairs(ps []store.ExtractionPairJSON, a, b int64) ([]DiffDocument, error) {
	docs := make([]DiffDocument, len(ps))
	for i, p := range ps {
		if p.A != nil && p.B != nil && bytes.Equal(p.A, p.B) {
			// The same bytes decode to the same extraction.
			d, err := diffSame(p)
			if err != nil {
				return nil, fmt.Errorf("document %d in run %d: %w", p.DocumentID, a, err)
			}
			docs[i] = d
			continue
		}
		xa, err := decodeForDiff(p.A)
		if err != nil {
			return nil, fmt.Errorf("document %d in run %d: %w", p.DocumentID, a, err)
		}
		xb, err := decodeForDiff(p.B)
		if err != nil {
			return nil, fmt.Errorf("document %d in run %d: %w", p.DocumentID, b, err)
		}
		docs[i] = diffDocument(p.DocumentID, p.Source, p.Title, xa, xb)
	}
	return docs, nil
}

// diffSame is diffDocument of an extraction with itself, which finds every
// data point unchanged and nothing else, unless a thesis has two views of
// one perspective (Diff pairs the first and calls the second removed and
// added): then it is the whole Diff.
func diffSame(p store.ExtractionPairJSON) (DiffDocument, error) {
	var sx sameExtraction
	if err := json.Unmarshal(p.A, &sx); err != nil {
		return DiffDocument{}, fmt.Errorf("decode stored extraction: %w", err)
	}
	n := 0
	for _, t := range sx.Theses {
		if len(t.Views) > 1 {
			seen := make(map[string]bool, len(t.Views))
			for _, v := range t.Views {
				k := normPerspective(v.Perspective)
				if seen[k] {
					x, err := decodeForDiff(p.A)
					if err != nil {
						return DiffDocument{}, err
					}
					return diffDocument(p.DocumentID, p.Source, p.Title, x, x), nil
				}
				seen[k] = true
			}
		}
		n += len(t.DataPoints)
	}
	return DiffDocument{DocumentID: p.DocumentID, Source: p.Source, Title: p.Title, Status: DocUnchanged,
		Diff: &DocumentDiff{Unchanged: n}}, nil
}

// sameExtraction is what diffSame reads: each thesis's view perspectives
// and its number of data points.
type sameExtraction struct {
	Theses []struct {
		Views []struct {
			Perspective string `json:"perspective"`
		} `json:"views"`
		DataPoints []struct{} `json:"data_points"`
	} `json:"theses"`
}

// diffDocument is one document of the report: Diff of a and b when it has
// both.
func diffDocument(id int64, source, title string, a, b *schema.Extraction) DiffDocument {
	d := DiffDocument{DocumentID: id, Source: source, Title: title}
	switch {
	case b == nil:
		d.Status = DocOnlyA
	case a == nil:
		d.Status = DocOnlyB
	default:
		dd := Diff(a, b)
		d.Status = DocUnchanged
		if dd.Changed() {
			d.Status = DocChanged
		}
		d.Diff = &dd
	}
	return d
}

// The fields of a stored extraction that Diff reads, and no others: the
// quotes, sources and implications that make up most of the bytes are
// scanned but not copied.
type (
	storedExtraction struct {
		Theses []storedThesis `json:"theses"`
	}
	storedThesis struct {
		Title      string            `json:"title"`
		Statement  string            `json:"statement"`
		Subject    *string           `json:"subject"`
		Stance     schema.Stance     `json:"stance"`
		Confidence *float64          `json:"confidence"`
		Conviction *float64          `json:"conviction"`
		Horizon    *string           `json:"horizon"`
		Views      []storedView      `json:"views"`
		DataPoints []storedDataPoint `json:"data_points"`
	}
	storedView struct {
		Perspective string        `json:"perspective"`
		Stance      schema.Stance `json:"stance"`
		Confidence  *float64      `json:"confidence"`
		Conviction  *float64      `json:"conviction"`
		Horizon     *string       `json:"horizon"`
	}
	storedDataPoint struct {
		Indicator string `json:"indicator"`
		Value     string `json:"value"`
	}
)

// decodeForDiff decodes the fields Diff reads of a stored extraction; nil
// stands for none. Like a whole decode it refuses malformed JSON.
func decodeForDiff(s []byte) (*schema.Extraction, error) {
	if s == nil {
		return nil, nil
	}
	var lx storedExtraction
	if err := json.Unmarshal(s, &lx); err != nil {
		return nil, fmt.Errorf("decode stored extraction: %w", err)
	}
	x := &schema.Extraction{}
	if lx.Theses != nil {
		x.Theses = make([]schema.Thesis, len(lx.Theses))
	}
	for i, t := range lx.Theses {
		x.Theses[i] = schema.Thesis{Title: t.Title, Statement: t.Statement, Subject: t.Subject, Stance: t.Stance,
			Confidence: t.Confidence, Conviction: t.Conviction, Horizon: t.Horizon}
		if t.Views != nil {
			vs := make([]schema.View, len(t.Views))
			for j, v := range t.Views {
				vs[j] = schema.View{Perspective: v.Perspective, Stance: v.Stance, Confidence: v.Confidence,
					Conviction: v.Conviction, Horizon: v.Horizon}
			}
			x.Theses[i].Views = vs
		}
		if t.DataPoints != nil {
			ps := make([]schema.DataPoint, len(t.DataPoints))
			for j, p := range t.DataPoints {
				ps[j] = schema.DataPoint{Indicator: p.Indicator, Value: p.Value}
			}
			x.Theses[i].DataPoints = ps
		}
	}
	return x, nil
}
