// Package docxtest opens a .docx file the way the tests need to check it:
// every XML part parsed, and the paragraphs of word/document.xml with
// their text, formatting and place (body or table cell).
package docxtest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Doc is an opened document.
type Doc struct {
	// Parts are the names of the package's parts.
	Parts []string
	// Paragraphs of the body, tables included, in document order.
	Paragraphs []Paragraph
	// Tables counts the tables; Rows their rows.
	Tables, Rows int
}

// Paragraph is one w:p.
type Paragraph struct {
	Text  string // the runs' text; a w:br is "\n", a w:tab "\t"
	Align string // w:jc, "" when unset
	// Bold, Italic, Underline: every run with text is so.
	Bold, Italic, Underline bool
	// Table is the 1-based table holding the paragraph, 0 in the body; Row
	// and Cell its 0-based place there.
	Table, Row, Cell int
}

// Open reads a .docx file. Every .xml and .rels part must be well-formed,
// and the package must declare its main document.
func Open(body []byte) (Doc, error) {
	var d Doc
	z, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return d, fmt.Errorf("not a zip: %w", err)
	}
	var document []byte
	for _, f := range z.File {
		d.Parts = append(d.Parts, f.Name)
		rc, err := f.Open()
		if err != nil {
			return d, err
		}
		raw, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return d, err
		}
		if strings.HasSuffix(f.Name, ".xml") || strings.HasSuffix(f.Name, ".rels") {
			if err := wellFormed(raw); err != nil {
				return d, fmt.Errorf("%s: %w", f.Name, err)
			}
		}
		switch f.Name {
		case "word/document.xml":
			document = raw
		case "[Content_Types].xml":
			if !bytes.Contains(raw, []byte(`PartName="/word/document.xml"`)) {
				return d, fmt.Errorf("[Content_Types].xml does not declare word/document.xml")
			}
		}
	}
	if document == nil {
		return d, fmt.Errorf("no word/document.xml")
	}
	return d, d.read(document)
}

func wellFormed(raw []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

const w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

// read walks word/document.xml.
func (d *Doc) read(raw []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	var (
		p                *Paragraph
		text             strings.Builder
		inRunProps, inT  bool
		run              struct{ b, i, u, hasText bool }
		allB, allI, allU bool
		anyText          bool
		table, row, cell = 0, -1, -1
		depth            int // nesting of tables
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != w {
				continue
			}
			switch t.Name.Local {
			case "tbl":
				d.Tables++
				depth++
				table, row = d.Tables, -1
			case "tr":
				d.Rows++
				row++
				cell = -1
			case "tc":
				cell++
			case "p":
				p = &Paragraph{}
				if depth > 0 {
					p.Table, p.Row, p.Cell = table, row, cell
				}
				text.Reset()
				allB, allI, allU, anyText = true, true, true, false
			case "jc":
				if p != nil {
					p.Align = attr(t, "val")
				}
			case "r":
				run.b, run.i, run.u, run.hasText = false, false, false, false
			case "rPr":
				inRunProps = true
			case "b":
				run.b = run.b || inRunProps
			case "i":
				run.i = run.i || inRunProps
			case "u":
				run.u = run.u || (inRunProps && attr(t, "val") != "none")
			case "t":
				inT = true
			case "br":
				text.WriteString("\n")
			case "tab":
				if !inRunProps {
					text.WriteString("\t")
				}
			}
		case xml.EndElement:
			if t.Name.Space != w {
				continue
			}
			switch t.Name.Local {
			case "tbl":
				depth--
			case "rPr":
				inRunProps = false
			case "t":
				inT = false
			case "r":
				if run.hasText {
					anyText = true
					allB, allI, allU = allB && run.b, allI && run.i, allU && run.u
				}
			case "p":
				p.Text = text.String()
				p.Bold, p.Italic, p.Underline = anyText && allB, anyText && allI, anyText && allU
				d.Paragraphs = append(d.Paragraphs, *p)
				p = nil
			}
		case xml.CharData:
			if inT {
				text.Write(t)
				run.hasText = run.hasText || len(t) > 0
			}
		}
	}
}

func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// Text is every paragraph's text, one per line.
func (d Doc) Text() string {
	lines := make([]string, len(d.Paragraphs))
	for i, p := range d.Paragraphs {
		lines[i] = p.Text
	}
	return strings.Join(lines, "\n")
}

// Find is the first paragraph whose text is s, and whether there is one.
func (d Doc) Find(s string) (Paragraph, bool) {
	for _, p := range d.Paragraphs {
		if p.Text == s {
			return p, true
		}
	}
	return Paragraph{}, false
}

// Index is the position of the first paragraph whose text is s, -1 when
// none is.
func (d Doc) Index(s string) int {
	for i, p := range d.Paragraphs {
		if p.Text == s {
			return i
		}
	}
	return -1
}
