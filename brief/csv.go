package brief

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// bom starts the CSV: without it Excel reads UTF-8 as the system's code
// page and "Lạng Sơn" comes out as "Láº¡ng SÆ¡n".
const bom = "\ufeff"

// formulaLead are the first characters that make a spreadsheet read a
// cell as a formula; the stations export (tiendo.WriteStationsCSV) puts an
// apostrophe before text that starts with one, and so does the brief, so
// that a station named "=HYPERLINK(…)" stays a name.
const formulaLead = "=+-@\t\r"

func neutralise(s string) string {
	if s != "" && strings.ContainsRune(formulaLead, rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes the brief as one table: a header row, then a row per
// district (for the province), per station and the scope's total, each
// with its level in the first column. Numbers are plain (no thousands
// separator, "." before decimals, percentages in points) for programs to
// read; the XLSX is the one for people.
func (b *Brief) WriteCSV(out io.Writer, lang string) error {
	lang = Lang(lang)
	w := text[lang]
	bw := bufio.NewWriter(out)
	if _, err := bw.WriteString(bom); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	tables := b.tables(lang)
	// Every level shares the province stations' columns, the widest, with
	// a neutral name column: a district's row leaves the district empty.
	cols := b.columns(lang, levelProvinceStations)
	head := []string{w.level, w.id, w.name}
	for _, c := range cols[1:] {
		head = append(head, c.head)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	record := func(levelName string, r *Row) []string {
		rec := []string{levelName, r.ID}
		for _, c := range cols {
			rec = append(rec, csvValue(c.value(r)))
		}
		return rec
	}
	for _, t := range tables {
		name := w.station
		if t.level == levelDistricts {
			name, _, _ = b.unitWords(w)
		}
		for _, r := range t.rows {
			if err := cw.Write(record(name, r)); err != nil {
				return err
			}
		}
	}
	total := b.Total
	total.Name = b.scopeWords(w)
	if err := cw.Write(record(w.total, &total)); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

func csvValue(v any) string {
	switch x := v.(type) {
	case string:
		return neutralise(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	return ""
}
