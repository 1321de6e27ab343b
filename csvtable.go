package tiendo

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"
)

// csvTable is a CSV file read by its header row, as the registry and quota
// imports take them from spreadsheets: columns in any order, names in any
// case, a byte-order mark dropped, cells trimmed.
type csvTable struct {
	cr  *csv.Reader
	col map[string]int
}

// openCSVTable reads the header row of a file (what names it in errors:
// "stations file") and checks that every required column is there (want
// is the header the error suggests).
func openCSVTable(r io.Reader, what string, required []string, want string) (*csvTable, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, Errorf(EInvalid, "%s: cannot read header row: %v", what, err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, h := range required {
		if _, ok := col[h]; !ok {
			return nil, Errorf(EInvalid, "%s: missing column %q (want %s)", what, h, want)
		}
	}
	return &csvTable{cr: cr, col: col}, nil
}

// each calls row for every data row, by its index (0 is the first after
// the header), with get returning a column's trimmed cell ("" when the
// file has no such column or the row is short). A row the CSV reader
// refuses (a stray quote) is not passed on: it is added to *bad as a
// problem of field "row", in its place among the rows' own, and reading
// goes on.
func (t *csvTable) each(bad *[]FieldError, row func(index int, get func(column string) string)) {
	for i := 0; ; i++ {
		rec, err := t.cr.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			*bad = append(*bad, FieldError{Index: i, Field: "row", Reason: err.Error()})
			continue
		}
		row(i, func(column string) string {
			if c, ok := t.col[column]; ok && c < len(rec) {
				return strings.TrimSpace(rec[c])
			}
			return ""
		})
	}
}
