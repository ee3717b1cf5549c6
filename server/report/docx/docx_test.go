package docx_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"dicoso/server/report/docx"
	"dicoso/server/report/docx/docxtest"
)

func write(t *testing.T, d *docx.Document) docxtest.Doc {
	t.Helper()
	var buf bytes.Buffer
	if err := d.Write(&buf); err != nil {
		t.Fatal(err)
	}
	doc, err := docxtest.Open(buf.Bytes())
	if err != nil {
		t.Fatalf("the file does not open: %v", err)
	}
	return doc
}

func TestParagraphsKeepTextAndFormat(t *testing.T) {
	t.Parallel()
	d := docx.New("Báo cáo")
	d.Add(
		docx.Paragraph{Align: docx.Center, Runs: []docx.Run{{Text: "BÁO CÁO", Bold: true, Size: 14}}},
		docx.Paragraph{Align: docx.Justify, FirstLine: 10, Runs: []docx.Run{
			{Text: "Kết quả <kiểm tra> & \"đánh giá\" "}, {Text: "Tỉnh đoàn", Italic: true}}},
		docx.Paragraph{Align: docx.Right, Runs: []docx.Run{{Text: "ĐOÀN TNCS HỒ CHÍ MINH", Bold: true, Underline: true}}},
		docx.Text("dòng một\ndòng hai\tcột"),
		docx.Text("  giữ khoảng trắng  "),
		docx.Text("ký tự điều khiển \x01 bị thay"),
		docx.Paragraph{},
	)
	doc := write(t, d)
	want := []docxtest.Paragraph{
		{Text: "BÁO CÁO", Align: "center", Bold: true},
		{Text: `Kết quả <kiểm tra> & "đánh giá" Tỉnh đoàn`, Align: "both"},
		{Text: "ĐOÀN TNCS HỒ CHÍ MINH", Align: "right", Bold: true, Underline: true},
		{Text: "dòng một\ndòng hai\tcột"},
		{Text: "  giữ khoảng trắng  "},
		{Text: "ký tự điều khiển \uFFFD bị thay"},
		{},
	}
	if !slices.Equal(doc.Paragraphs, want) {
		t.Errorf("paragraphs\n%+v\nwant\n%+v", doc.Paragraphs, want)
	}
	for _, part := range []string{"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/_rels/document.xml.rels", "word/styles.xml", "docProps/core.xml"} {
		if !slices.Contains(doc.Parts, part) {
			t.Errorf("no part %s in %v", part, doc.Parts)
		}
	}
}

func TestTables(t *testing.T) {
	t.Parallel()
	d := docx.New("Bảng")
	d.AddTable(docx.Table{Widths: []float64{15, 60}, Borders: true, Rows: []docx.Row{
		{Header: true, Cells: []docx.Cell{{Paragraphs: []docx.Paragraph{{Runs: []docx.Run{{Text: "STT", Bold: true}}}}}, {Paragraphs: []docx.Paragraph{docx.Text("Nội dung")}}}},
		{Cells: []docx.Cell{{Paragraphs: []docx.Paragraph{docx.Text("1")}}, {}}}, // an empty cell still holds a paragraph
	}})
	d.Add(docx.Text("sau bảng"))
	doc := write(t, d)
	if doc.Tables != 1 || doc.Rows != 2 {
		t.Fatalf("%d tables %d rows, want 1 and 2", doc.Tables, doc.Rows)
	}
	want := []docxtest.Paragraph{
		{Text: "STT", Bold: true, Table: 1, Row: 0, Cell: 0},
		{Text: "Nội dung", Table: 1, Row: 0, Cell: 1},
		{Text: "1", Table: 1, Row: 1, Cell: 0},
		{Text: "", Table: 1, Row: 1, Cell: 1},
		{Text: "sau bảng"},
	}
	if !slices.Equal(doc.Paragraphs, want) {
		t.Errorf("paragraphs\n%+v\nwant\n%+v", doc.Paragraphs, want)
	}

	bad := docx.New("Sai")
	bad.AddTable(docx.Table{Widths: []float64{10, 10}, Rows: []docx.Row{{Cells: []docx.Cell{{}}}}})
	if err := bad.Write(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "1 cells for 2 columns") {
		t.Errorf("a short row: %v", err)
	}
}
