package store

import (
	"database/sql"

	"github.com/thesisdb/thesisdb/schema"
)

// costArg is the cost_usd stored for u: NULL when it could not be priced.
func costArg(u schema.Usage) any {
	if u.CostUnknown {
		return nil
	}
	return u.CostUSD
}

// nullCost scans a cost_usd that may be NULL into a Usage.
type nullCost schema.Usage

func (c *nullCost) Scan(v any) error {
	var f sql.NullFloat64
	if err := f.Scan(v); err != nil {
		return err
	}
	c.CostUSD, c.CostUnknown = f.Float64, !f.Valid
	return nil
}
