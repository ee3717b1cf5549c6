// Package docx writes editable Word documents (Office Open XML,
// WordprocessingML): paragraphs of runs (bold, italic, underlined, sized),
// alignment and indents, line breaks, and tables with or without borders,
// on A4 pages. It is the small part of the format the headquarters reports
// need, written with archive/zip and encoding/xml; no DOCX library is
// served to this project that is both maintained and free to use.
//
// The output is a package of four parts: [Content_Types].xml, _rels/.rels,
// word/document.xml (with its relationships) and word/styles.xml, whose
// defaults (Times New Roman 14 pt, Vietnamese) are what Vietnamese
// administrative documents are typed in.
package docx

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ContentType is the media type of a .docx file.
const ContentType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

// Align is a paragraph's alignment.
type Align string

// Alignments (WordprocessingML's w:jc values).
const (
	Left    Align = "left"
	Center  Align = "center"
	Right   Align = "right"
	Justify Align = "both"
)

// Run is text in one format. A "\n" in Text is a line break inside the
// paragraph, a "\t" a tab.
type Run struct {
	Text      string
	Bold      bool
	Italic    bool
	Underline bool
	// Size in points; 0 keeps the document's 14 pt.
	Size float64
}

// Paragraph is a block of runs.
type Paragraph struct {
	Runs  []Run
	Align Align // "" is left
	// FirstLine indents the first line, Indent the whole paragraph; both
	// in millimetres.
	FirstLine, Indent float64
	// SpaceBefore and SpaceAfter in points.
	SpaceBefore, SpaceAfter float64
	// KeepNext keeps the paragraph on the page of the next one (headings).
	KeepNext bool
}

// Text is a paragraph of one plain run.
func Text(s string) Paragraph { return Paragraph{Runs: []Run{{Text: s}}} }

// Table is a grid of cells.
type Table struct {
	// Widths of the columns in millimetres; every row has this many cells.
	Widths []float64
	// Borders draws single lines around and between the cells.
	Borders bool
	Rows    []Row
}

// Row is a table row. A header row repeats at the top of each page.
type Row struct {
	Cells  []Cell
	Header bool
}

// Cell holds paragraphs (at least one is written, as Word requires).
type Cell struct {
	Paragraphs []Paragraph
}

// Document is a document being built. The zero value is not usable: New.
type Document struct {
	title string
	body  bytes.Buffer
	err   error
}

// New starts an empty document; title goes in its properties.
func New(title string) *Document { return &Document{title: title} }

// Add appends paragraphs.
func (d *Document) Add(ps ...Paragraph) {
	for _, p := range ps {
		writeParagraph(&d.body, p)
	}
}

// AddTable appends a table. A row with a number of cells other than the
// columns' is an error, reported by Write.
func (d *Document) AddTable(t Table) {
	for i, r := range t.Rows {
		if len(r.Cells) != len(t.Widths) {
			d.err = fmt.Errorf("docx: table row %d has %d cells for %d columns", i, len(r.Cells), len(t.Widths))
			return
		}
	}
	writeTable(&d.body, t)
}

// Write writes the .docx package to w.
func (d *Document) Write(w io.Writer) error {
	if d.err != nil {
		return d.err
	}
	z := zip.NewWriter(w)
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", contentTypes},
		{"_rels/.rels", packageRels},
		{"docProps/core.xml", coreProps(d.title, time.Now())},
		{"word/_rels/document.xml.rels", documentRels},
		{"word/styles.xml", styles},
		{"word/document.xml", documentHead + d.body.String() + documentTail},
	}
	for _, p := range parts {
		f, err := z.Create(p.name)
		if err != nil {
			return fmt.Errorf("docx: %s: %w", p.name, err)
		}
		if _, err := io.WriteString(f, p.body); err != nil {
			return fmt.Errorf("docx: %s: %w", p.name, err)
		}
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("docx: %w", err)
	}
	return nil
}

// twips is millimetres in twentieths of a point, WordprocessingML's unit
// of length.
func twips(mm float64) int { return int(mm*1440/25.4 + 0.5) }

func writeParagraph(b *bytes.Buffer, p Paragraph) {
	b.WriteString("<w:p><w:pPr>")
	if p.KeepNext {
		b.WriteString("<w:keepNext/>")
	}
	fmt.Fprintf(b, `<w:spacing w:before="%d" w:after="%d"/>`, int(p.SpaceBefore*20), int(p.SpaceAfter*20))
	if p.FirstLine != 0 || p.Indent != 0 {
		fmt.Fprintf(b, `<w:ind w:left="%d" w:firstLine="%d"/>`, twips(p.Indent), twips(p.FirstLine))
	}
	if p.Align != "" {
		fmt.Fprintf(b, `<w:jc w:val="%s"/>`, p.Align)
	}
	b.WriteString("</w:pPr>")
	for _, r := range p.Runs {
		writeRun(b, r)
	}
	b.WriteString("</w:p>")
}

func writeRun(b *bytes.Buffer, r Run) {
	b.WriteString("<w:r>")
	if r.Bold || r.Italic || r.Underline || r.Size > 0 {
		b.WriteString("<w:rPr>")
		if r.Bold {
			b.WriteString("<w:b/>")
		}
		if r.Italic {
			b.WriteString("<w:i/>")
		}
		if r.Underline {
			b.WriteString(`<w:u w:val="single"/>`)
		}
		if r.Size > 0 {
			half := strconv.Itoa(int(r.Size*2 + 0.5))
			b.WriteString(`<w:sz w:val="` + half + `"/><w:szCs w:val="` + half + `"/>`)
		}
		b.WriteString("</w:rPr>")
	}
	text := strings.ReplaceAll(r.Text, "\r\n", "\n")
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteString("<w:br/>")
		}
		for j, part := range strings.Split(line, "\t") {
			if j > 0 {
				b.WriteString("<w:tab/>")
			}
			if part == "" {
				continue
			}
			// preserve: Word would otherwise drop leading and trailing spaces.
			b.WriteString(`<w:t xml:space="preserve">`)
			escape(b, part)
			b.WriteString("</w:t>")
		}
	}
	b.WriteString("</w:r>")
}

// escape writes s as XML character data. Characters XML 1.0 cannot carry
// (most control characters) become U+FFFD rather than breaking the file.
func escape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a bytes.Buffer does not fail
}

func writeTable(b *bytes.Buffer, t Table) {
	b.WriteString(`<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/><w:tblLayout w:type="fixed"/>`)
	if t.Borders {
		b.WriteString("<w:tblBorders>")
		for _, side := range []string{"top", "left", "bottom", "right", "insideH", "insideV"} {
			fmt.Fprintf(b, `<w:%s w:val="single" w:sz="4" w:space="0" w:color="000000"/>`, side)
		}
		b.WriteString("</w:tblBorders>")
	}
	b.WriteString(`<w:tblCellMar><w:left w:w="85" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar>`)
	b.WriteString("</w:tblPr><w:tblGrid>")
	for _, w := range t.Widths {
		fmt.Fprintf(b, `<w:gridCol w:w="%d"/>`, twips(w))
	}
	b.WriteString("</w:tblGrid>")
	for _, r := range t.Rows {
		b.WriteString("<w:tr>")
		if r.Header {
			b.WriteString("<w:trPr><w:tblHeader/></w:trPr>")
		}
		for i, c := range r.Cells {
			fmt.Fprintf(b, `<w:tc><w:tcPr><w:tcW w:w="%d" w:type="dxa"/></w:tcPr>`, twips(t.Widths[i]))
			if len(c.Paragraphs) == 0 {
				writeParagraph(b, Paragraph{})
			}
			for _, p := range c.Paragraphs {
				writeParagraph(b, p)
			}
			b.WriteString("</w:tc>")
		}
		b.WriteString("</w:tr>")
	}
	b.WriteString("</w:tbl>")
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"

const contentTypes = xmlHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
	`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
	`<Default Extension="xml" ContentType="application/xml"/>` +
	`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
	`<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>` +
	`<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>` +
	`</Types>`

const packageRels = xmlHeader + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>` +
	`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>` +
	`</Relationships>`

const documentRels = xmlHeader + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
	`</Relationships>`

// styles: Times New Roman 14 pt, Vietnamese, single line spacing with a
// little air after each paragraph.
const styles = xmlHeader + `<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">` +
	`<w:docDefaults><w:rPrDefault><w:rPr>` +
	`<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="Times New Roman" w:cs="Times New Roman"/>` +
	`<w:sz w:val="28"/><w:szCs w:val="28"/><w:lang w:val="vi-VN" w:eastAsia="vi-VN" w:bidi="ar-SA"/>` +
	`</w:rPr></w:rPrDefault>` +
	`<w:pPrDefault><w:pPr><w:spacing w:after="60" w:line="264" w:lineRule="auto"/></w:pPr></w:pPrDefault>` +
	`</w:docDefaults>` +
	`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>` +
	`<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>` +
	`<w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/>` +
	`<w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>` +
	`</w:styles>`

// The page: A4, margins of Vietnamese administrative documents (top and
// bottom 20 mm, left 30 mm, right 15 mm).
var documentHead = xmlHeader + `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"` +
	` xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>`

var documentTail = fmt.Sprintf(`<w:sectPr><w:pgSz w:w="%d" w:h="%d"/>`+
	`<w:pgMar w:top="%d" w:right="%d" w:bottom="%d" w:left="%d" w:header="709" w:footer="709" w:gutter="0"/>`+
	`</w:sectPr></w:body></w:document>`,
	twips(210), twips(297), twips(20), twips(15), twips(20), twips(30))

func coreProps(title string, now time.Time) string {
	var b bytes.Buffer
	b.WriteString(xmlHeader + `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"` +
		` xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"` +
		` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>`)
	escape(&b, title)
	b.WriteString(`</dc:title><dc:creator>dicoso</dc:creator><dc:language>vi-VN</dc:language>`)
	fmt.Fprintf(&b, `<dcterms:created xsi:type="dcterms:W3CDTF">%s</dcterms:created>`, now.UTC().Format(time.RFC3339))
	b.WriteString(`</cp:coreProperties>`)
	return b.String()
}
