package api

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"dicoso/server/auth"
	"dicoso/server/report"
	"dicoso/server/syncdb"
)

// sheetTexts reads the worksheet XML of an export as it lies in the file
// (the zip's xl/worksheets and the shared strings), without a spreadsheet
// library: every cell's text, sheet by sheet.
func sheetTexts(t *testing.T, body []byte) map[string][]string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	read := func(name string) []byte {
		for _, f := range z.File {
			if f.Name == name {
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				b, err := io.ReadAll(rc)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
		return nil
	}
	var sst struct {
		SI []struct {
			T string `xml:"t"`
			R []struct {
				T string `xml:"t"`
			} `xml:"r"`
		} `xml:"si"`
	}
	if b := read("xl/sharedStrings.xml"); b != nil {
		if err := xml.Unmarshal(b, &sst); err != nil {
			t.Fatalf("sharedStrings.xml: %v", err)
		}
	}
	shared := make([]string, len(sst.SI))
	for i, si := range sst.SI {
		shared[i] = si.T
		for _, r := range si.R {
			shared[i] += r.T
		}
	}
	out := map[string][]string{}
	for _, f := range z.File {
		if !strings.HasPrefix(f.Name, "xl/worksheets/sheet") {
			continue
		}
		var ws struct {
			Rows []struct {
				C []struct {
					T  string `xml:"t,attr"`
					V  string `xml:"v"`
					IS struct {
						T string `xml:"t"`
					} `xml:"is"`
				} `xml:"c"`
			} `xml:"sheetData>row"`
		}
		if err := xml.Unmarshal(read(f.Name), &ws); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		for _, r := range ws.Rows {
			for _, c := range r.C {
				v := c.V
				switch c.T {
				case "s":
					i := 0
					for _, d := range c.V {
						i = i*10 + int(d-'0')
					}
					if i < len(shared) {
						v = shared[i]
					}
				case "inlineStr":
					v = c.IS.T
				}
				out[f.Name] = append(out[f.Name], v)
			}
		}
	}
	return out
}

// Coverage by activity cluster: the JSON report and its workbook take the
// same cluster_id, keep each campaign's units of that cluster only and
// count those; an unknown cluster is 404 and a malformed one refused.
func TestCoverageByCluster(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	office := e.addUser(t, "van.phong", auth.RoleOffice)
	lan := e.addAccount(t, account{username: "bt.lan", fullName: "Nguyễn Thị Lan", roles: []string{auth.RoleInspector}})
	cluster := uuid.NewString()
	e.apply(t,
		syncdb.ServerChange{Table: "clusters", RowID: cluster, Fields: map[string]any{"name": "Cụm Tây Bắc"}},
		syncdb.ServerChange{Table: "units", RowID: unitLaiChau, Fields: map[string]any{"cluster_id": cluster}},
		syncdb.ServerChange{Table: "units", RowID: unitHaNam, Fields: map[string]any{"cluster_id": cluster}},
	)
	e.team(t, campaignRound1, lan, unitLaiChau, unitHaNam)
	visit := trip(lan, "inspection", "done", []string{unitLaiChau}, map[string]string{"2021-06-05": unitLaiChau})
	lan.push(t, "", append(visit, note(lan, campaignRound1, unitLaiChau, visit[0].RowID, "submitted"))...)

	var cov report.Coverage
	e.get(t, office, "/api/v1/reports/coverage?date=2021-07-01&cluster_id="+cluster).decode(t, http.StatusOK, &cov)
	for _, c := range cov.Items {
		planned := 0
		for _, u := range c.Units {
			if u.ClusterID == nil || *u.ClusterID != cluster {
				t.Errorf("%s lists %s, outside the cluster", c.Name, u.Name)
			}
			planned++
		}
		if c.Planned != planned {
			t.Errorf("%s: planned %d, units %d", c.Name, c.Planned, planned)
		}
		if c.ID == campaignRound1 && (c.Planned != 2 || c.Inspected != 1 || c.Overdue != 1) {
			t.Errorf("round 1 in the cluster: %+v, want 2 planned, 1 inspected, 1 overdue", c)
		}
	}

	r := e.get(t, office, "/api/v1/reports/coverage.xlsx?date=2021-07-01&cluster_id="+cluster)
	r.wantStatus(t, http.StatusOK)
	texts := sheetTexts(t, r.body)
	var all []string
	for _, v := range texts {
		all = append(all, v...)
	}
	joined := strings.Join(all, "|")
	for _, want := range []string{"Cụm hoạt động: Cụm Tây Bắc", "Lai Châu", "Hà Nam", "Đã kiểm tra, đúng thời gian"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the workbook's XML lacks %q", want)
		}
	}
	if slices.ContainsFunc(all, func(s string) bool { return s == "Bắc Ninh" }) {
		t.Error("the workbook lists Bắc Ninh, outside the cluster")
	}
	wb := openWorkbook(t, r)
	if n := len(wb.rows["Đơn vị được kiểm tra"]) - 3; n != 2 {
		t.Errorf("%d unit rows, want the cluster's 2 (both in round 1 only)", n)
	}

	for _, path := range []string{"/api/v1/reports/coverage", "/api/v1/reports/coverage.xlsx"} {
		e.get(t, office, path+"?cluster_id="+uuid.NewString()).wantError(t, http.StatusNotFound, "not_found")
		e.get(t, office, path+"?cluster_id=tay-bac").wantError(t, http.StatusBadRequest, "validation_failed")
	}
}

// Exports of an empty selection are valid files: the findings register of
// a store with none, and the coverage of a cluster with no unit, open as
// workbooks with their title and headers and no rows, in their XML too.
func TestExportsOfAnEmptySelection(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	office := e.addUser(t, "van.phong", auth.RoleOffice)
	empty := uuid.NewString()
	e.apply(t, syncdb.ServerChange{Table: "clusters", RowID: empty, Fields: map[string]any{"name": "Cụm chưa có đơn vị"}})

	fr := e.get(t, office, "/api/v1/reports/findings.xlsx?category=aspiration")
	wb := openWorkbook(t, fr)
	for _, s := range wb.sheets {
		if rows := wb.rows[s]; len(rows) != 3 {
			t.Errorf("findings.xlsx %s: %d rows, want title, selection and headers only: %q", s, len(rows), rows)
		}
	}
	if len(sheetTexts(t, fr.body)) == 0 {
		t.Error("findings.xlsx holds no worksheet XML")
	}

	cr := e.get(t, office, "/api/v1/reports/coverage.xlsx?cluster_id="+empty)
	cw := openWorkbook(t, cr)
	if rows := cw.rows["Đơn vị được kiểm tra"]; len(rows) != 3 {
		t.Errorf("coverage.xlsx of an empty cluster: %d rows, want 3", len(rows))
	}
	joined := ""
	for _, v := range sheetTexts(t, cr.body) {
		joined += strings.Join(v, "|")
	}
	if !strings.Contains(joined, "Cụm hoạt động: Cụm chưa có đơn vị") {
		t.Errorf("the empty export does not say what it selected: %s", joined)
	}
	var cov report.Coverage
	e.get(t, office, "/api/v1/reports/coverage?cluster_id="+empty).decode(t, http.StatusOK, &cov)
	for _, c := range cov.Items {
		if c.Planned != 0 || c.Units == nil {
			t.Errorf("%s in an empty cluster: %+v", c.Name, c)
		}
	}
}
