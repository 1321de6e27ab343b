package brief

import (
	_ "embed"
	"html/template"
	"io"

	"tiendo/dashboards"
)

//go:embed brief.html
var pageHTML string

//go:embed brief.css
var pageCSS string

var page = template.Must(template.New("brief.html").Parse(pageHTML))

// Link is one of the page's actions (the XLSX, the CSV, the other
// language, the dashboard); none of them print.
type Link struct {
	Label    string
	Href     string
	Lang     string // hreflang, for the language switch
	Download bool
}

// htmlCell is a table cell as the page shows it.
type htmlCell struct {
	Text  string
	Class string
}

type htmlTable struct {
	Heading string
	Head    []string
	Rows    [][]htmlCell
	Total   []htmlCell
}

type htmlView struct {
	Lang, Title, Heading, Nav, Note string
	CSS                             template.CSS
	Links                           []Link
	Meta                            [][2]string
	Tables                          []htmlTable
	Explain                         []string
}

// WriteHTML writes the brief as one page that prints on A4 portrait: its
// stylesheet inline (the page is saved and mailed as it is), no script,
// the header row repeated on every printed page, no row split across
// pages, the actions (links) left off the paper. Numbers are written for
// the reader: 621.000 and 12,9% in Vietnamese.
func (b *Brief) WriteHTML(out io.Writer, lang string, links []Link) error {
	lang = Lang(lang)
	w := text[lang]
	scope := b.scopeWords(w)
	v := htmlView{Lang: lang, CSS: template.CSS(pageCSS), Links: links, Nav: w.title,
		Title:   w.title + " " + w.dayText(b.Day) + " · " + scope + " · Tiến Độ",
		Heading: w.title + " · " + scope + " · " + w.dayText(b.Day),
		Note:    b.storageNote(lang), Explain: b.explanation(lang)}
	for _, m := range b.meta(lang) {
		if m[0] != w.notes {
			v.Meta = append(v.Meta, m)
		}
	}
	for _, t := range b.tables(lang) {
		ht := htmlTable{Heading: t.heading}
		for _, c := range t.columns {
			ht.Head = append(ht.Head, c.head)
		}
		for _, r := range t.rows {
			ht.Rows = append(ht.Rows, htmlRow(t.columns, r, lang))
		}
		ht.Total = htmlRow(t.columns, t.total, lang)
		v.Tables = append(v.Tables, ht)
	}
	return page.Execute(out, v)
}

func htmlRow(cols []column, r *Row, lang string) []htmlCell {
	out := make([]htmlCell, len(cols))
	for i, c := range cols {
		var cell htmlCell
		switch x := c.value(r).(type) {
		case string:
			cell.Text, cell.Class = x, "text"
			if i == 0 {
				cell.Class = "name"
			}
			if c.head == text[lang].pace && r.Pace != nil {
				cell.Class = "state state-" + string(r.Pace.State)
			}
		case int64:
			cell.Text, cell.Class = dashboards.FormatInt(x, lang), "num"
			if x < 0 {
				cell.Class += " neg"
			}
		case float64:
			cell.Class = "num"
			if c.kind == kPercent {
				cell.Text = dashboards.FormatPercent(x, lang)
			} else {
				cell.Text = dashboards.FormatDecimal(x, 2, lang)
			}
		default:
			cell.Text, cell.Class = "–", "num"
		}
		out[i] = cell
	}
	return out
}
