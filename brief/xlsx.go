package brief

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Number formats of the workbook. Cells hold plain numbers; the format
// shows them. A format's separators are the reader's spreadsheet's: the
// [$-42A] tag (Vietnamese, LCID 0x042A) marks the formats as Vietnamese,
// so that a spreadsheet that honours a format's language (LibreOffice) and
// one set to Vietnamese (Excel on vi-VN) write 621.000 and 12,9 %.
var numFormats = map[string][3]string{ // int, two decimals, percent
	"vi": {"[$-42A]#,##0", "[$-42A]#,##0.00", "[$-42A]0.0%"},
	"en": {"#,##0", "#,##0.00", "0.0%"},
}

// Where the tables start: the meta lines, a blank row, then the header.
const xlsxMetaRow = 2 // the title is row 1

// WriteXLSX writes the brief as a workbook: one sheet per level (a
// province's districts and stations, a district's stations), the campaign,
// scope, day and "as of" on top, a frozen header row, real number cells
// with number formats and the scope's total in bold at the bottom.
func (b *Brief) WriteXLSX(out io.Writer, lang string) error {
	lang = Lang(lang)
	w := text[lang]
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f, lang)
	if err != nil {
		return err
	}
	tables := b.tables(lang)
	for i, t := range tables {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", t.sheet); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(t.sheet); err != nil {
			return err
		}
		if err := b.writeSheet(f, st, lang, t); err != nil {
			return fmt.Errorf("brief sheet %s: %w", t.sheet, err)
		}
	}
	if err := f.SetDocProps(&excelize.DocProperties{Title: w.title + " " + b.Day.String(), Language: lang, Creator: "Tiến Độ"}); err != nil {
		return err
	}
	_, err = f.WriteTo(out)
	return err
}

// styles are the workbook's cell styles, by role.
type styles struct {
	title, label, head, text, totalText int
	num, totalNum                       map[kind]int
}

func newStyles(f *excelize.File, lang string) (*styles, error) {
	var errs []error
	style := func(s *excelize.Style) int {
		id, err := f.NewStyle(s)
		errs = append(errs, err)
		return id
	}
	border := []excelize.Border{{Type: "bottom", Color: "BFBFBF", Style: 1}}
	totalBorder := []excelize.Border{{Type: "top", Color: "000000", Style: 1}}
	s := &styles{num: map[kind]int{}, totalNum: map[kind]int{}}
	s.title = style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	s.label = style(&excelize.Style{Font: &excelize.Font{Bold: true}})
	s.head = style(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E8EEF4"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center", Horizontal: "center"}, Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}})
	s.text = style(&excelize.Style{Border: border})
	s.totalText = style(&excelize.Style{Font: &excelize.Font{Bold: true}, Border: totalBorder})
	formats := numFormats[lang]
	for k, code := range map[kind]string{kInt: formats[0], kDecimal: formats[1], kPercent: formats[2]} {
		code := code
		s.num[k] = style(&excelize.Style{CustomNumFmt: &code, Border: border})
		s.totalNum[k] = style(&excelize.Style{CustomNumFmt: &code, Font: &excelize.Font{Bold: true}, Border: totalBorder})
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (b *Brief) writeSheet(f *excelize.File, st *styles, lang string, t table) error {
	w := text[lang]
	sheet := t.sheet
	var errs []error
	check := func(err error) { errs = append(errs, err) }
	cell := func(col, row int) string {
		name, err := excelize.CoordinatesToCellName(col, row)
		check(err)
		return name
	}
	check(f.SetCellStr(sheet, "A1", w.title+" — "+t.heading))
	check(f.SetCellStyle(sheet, "A1", "A1", st.title))
	meta := b.meta(lang)
	for i, m := range meta {
		r := xlsxMetaRow + i
		check(f.SetCellStr(sheet, cell(1, r), m[0]))
		check(f.SetCellStyle(sheet, cell(1, r), cell(1, r), st.label))
		check(f.SetCellStr(sheet, cell(2, r), m[1]))
	}
	head := xlsxMetaRow + len(meta) + 1
	widths := make([]int, len(t.columns))
	for c, col := range t.columns {
		check(f.SetCellStr(sheet, cell(c+1, head), col.head))
		widths[c] = longestWord(col.head)
	}
	check(f.SetCellStyle(sheet, cell(1, head), cell(len(t.columns), head), st.head))
	check(f.SetRowHeight(sheet, head, 48))
	write := func(r int, row *Row, total bool) {
		for c, col := range t.columns {
			at := cell(c+1, r)
			v := col.value(row)
			style := st.text
			if total {
				style = st.totalText
			}
			switch x := v.(type) {
			case string:
				check(f.SetCellStr(sheet, at, x))
				widths[c] = max(widths[c], utf8.RuneCountInString(x))
			case int64:
				check(f.SetCellInt(sheet, at, x))
				widths[c] = max(widths[c], len(fmt.Sprint(x))*4/3+1, 8)
			case float64:
				if col.kind == kPercent {
					x /= 100 // a percent cell holds the fraction
				}
				check(f.SetCellFloat(sheet, at, x, -1, 64))
				widths[c] = max(widths[c], 8)
			}
			if v != nil && col.kind != kText {
				style = st.num[col.kind]
				if total {
					style = st.totalNum[col.kind]
				}
			}
			check(f.SetCellStyle(sheet, at, at, style))
		}
	}
	r := head + 1
	for _, row := range t.rows {
		write(r, row, false)
		r++
	}
	write(r, t.total, true)
	for c, width := range widths {
		name, err := excelize.ColumnNumberToName(c + 1)
		check(err)
		check(f.SetColWidth(sheet, name, name, float64(min(max(width, 6), 48)+2)))
	}
	// The meta labels sit in column A: wide enough for them too, without
	// widening the names' column past its longest name.
	first, _ := excelize.ColumnNumberToName(1)
	labels := 0
	for _, m := range meta {
		labels = max(labels, utf8.RuneCountInString(m[0]))
	}
	if labels+2 > min(max(widths[0], 6), 48)+2 {
		check(f.SetColWidth(sheet, first, first, float64(labels+2)))
	}
	check(f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: head, TopLeftCell: cell(1, head+1), ActivePane: "bottomLeft"}))
	check(f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Size: ptr(9), Orientation: ptr("landscape"), FitToWidth: ptr(1), FitToHeight: ptr(0)}))
	check(f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: ptr(true)}))
	// The header row repeats on every printed page.
	check(f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", Scope: sheet,
		RefersTo: fmt.Sprintf("'%s'!$%d:$%d", strings.ReplaceAll(sheet, "'", "''"), head, head)}))
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// longestWord is the length of a header's longest word: headers wrap, so
// their column need only fit that.
func longestWord(s string) int {
	n := 0
	for _, word := range strings.Fields(s) {
		n = max(n, utf8.RuneCountInString(word))
	}
	return n
}

func ptr[T any](v T) *T { return &v }
