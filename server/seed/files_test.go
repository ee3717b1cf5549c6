package seed

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"dicoso/seeds"
)

// The plan's lists of inspected units, copied word for word from plan
// 356-KH/TWĐTN-BKT (II.1.1, II.1.2, II.2). They are the oracle: the seed
// files and the loaded store must name exactly these units, in this order.
var (
	planRound1   = []string{"Lai Châu", "Tuyên Quang", "Bắc Ninh", "Hà Nam", "Quảng Trị", "Khánh Hòa", "Gia Lai", "Bà Rịa-Vũng Tàu", "Bến Tre", "An Giang", "Đoàn Khối Doanh nghiệp Trung ương"}
	planRound2   = []string{"Yên Bái", "Thái Nguyên", "Vĩnh Phúc", "Ninh Bình", "Thanh Hóa", "Đà Nẵng", "Đắk Nông", "Đồng Nai", "Tiền Giang", "Sóc Trăng", "Đoàn Khối các Cơ quan Trung ương"}
	planThematic = []string{"Sơn La", "Phú Thọ", "Quảng Bình", "Quảng Ngãi", "Kon Tum", "Bình Dương", "Trà Vinh", "Cần Thơ"}
)

// copyFS copies the embedded seed files into a map the test may alter.
func copyFS(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(seeds.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(seeds.FS(), path)
		if err != nil {
			return err
		}
		m[path] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatalf("copy seeds: %v", err)
	}
	return m
}

func TestEmbeddedFilesAreValid(t *testing.T) {
	t.Parallel()
	p, err := parse2021(seeds.FS())
	if err != nil {
		t.Fatalf("parse 2021 seeds: %v", err)
	}
	if _, err := parseMerger(seeds.FS(), p); err != nil {
		t.Fatalf("parse merger seed: %v", err)
	}
}

func TestFilesArePrettyPrinted(t *testing.T) {
	t.Parallel()
	// Reviewable means one field per line, two-space indent, a final newline:
	// re-indenting must give the same bytes.
	for _, name := range []string{unitsFile, departmentsFile, planFile, mergerFile} {
		b, err := fs.ReadFile(seeds.FS(), name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		var out bytes.Buffer
		if err := json.Indent(&out, bytes.TrimSpace(b), "", "  "); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out.WriteByte('\n')
		if !bytes.Equal(out.Bytes(), b) {
			t.Errorf("%s is not pretty-printed with a two-space indent", name)
		}
		if strings.Contains(string(b), `\u`) {
			t.Errorf("%s escapes characters: write Vietnamese as UTF-8 text", name)
		}
	}
}

func TestCampaignFilesNameThePlansUnits(t *testing.T) {
	t.Parallel()
	p, err := parse2021(seeds.FS())
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := map[string][]string{
		"Kiểm tra định kỳ Đợt 1 năm 2021": planRound1,
		"Kiểm tra định kỳ Đợt 2 năm 2021": planRound2,
		"Kiểm tra chuyên đề năm 2021":     planThematic,
	}
	if len(p.plan.Campaigns) != len(want) {
		t.Fatalf("%d campaigns, want %d", len(p.plan.Campaigns), len(want))
	}
	for _, c := range p.plan.Campaigns {
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("unexpected campaign %q", c.Name)
			continue
		}
		if strings.Join(c.PlanNames, "|") != strings.Join(w, "|") {
			t.Errorf("%s: plan_unit_names %q, the plan lists %q", c.Name, c.PlanNames, w)
		}
	}
}

// TestInvalidFilesFailClearly alters one thing in a good file set and checks
// that loading refuses it with a message naming the problem.
func TestInvalidFilesFailClearly(t *testing.T) {
	t.Parallel()
	const lai = `"Lai Châu"`
	cases := []struct {
		name    string
		file    string
		from    string
		to      string
		wantErr string
	}{
		{"unknown campaign unit", planFile, `"7101c118-1527-4646-b0b8-0d6af47eac4a",`, `"00000000-0000-4000-8000-000000000000",`, "no such unit"},
		{"campaign unit not the plan's", planFile, `"Lai Châu",`, `"Lào Cai",`, `the plan names "Lào Cai"`},
		{"bad date", planFile, `"2021-06-15"`, `"2021-06-31"`, "not YYYY-MM-DD"},
		{"window reversed", planFile, `"starts_on": "2021-03-25"`, `"starts_on": "2021-04-25"`, "before starts_on"},
		{"not NFC", unitsFile, lai, "\"Lai Cha\u0302\u0301u\"", "NFC"},
		{"empty name", unitsFile, `"name": "Lai Châu"`, `"name": " "`, "name must not be empty"},
		{"misspelt field", departmentsFile, `"duties":`, `"dutys":`, "unknown field"},
		{"unknown source key", unitsFile, `"source": "TLQ; cap INF; xy CS (no GEO check)"`, `"source": "TLQ; cap INF; xy XYZ (no GEO check)"`, "source key XYZ"},
		{"duplicate province code", unitsFile, `"code": "14"`, `"code": "12"`, "code 12 already used"},
		{"upper-case id", planFile, `"d096a0fb-3d4b-4a22-a957-b46025236ee4"`, `"D096A0FB-3D4B-4A22-A957-B46025236EE4"`, "lower-case UUID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fsys := copyFS(t)
			data := string(fsys[tc.file].Data)
			if !strings.Contains(data, tc.from) {
				t.Fatalf("%s does not contain %s", tc.file, tc.from)
			}
			fsys[tc.file] = &fstest.MapFile{Data: []byte(strings.Replace(data, tc.from, tc.to, 1))}
			_, err := parse2021(fsys)
			if err == nil {
				t.Fatalf("parse accepted the altered %s", tc.file)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.file) {
				t.Fatalf("error %q should name %s and say %q", err, tc.file, tc.wantErr)
			}
		})
	}
}

func TestMergerFileMustCoverEveryProvince(t *testing.T) {
	t.Parallel()
	p, err := parse2021(seeds.FS())
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	fsys := copyFS(t)
	var doc map[string]any
	if err := json.Unmarshal(fsys[mergerFile].Data, &doc); err != nil {
		t.Fatal(err)
	}
	units := doc["units"].([]any)
	doc["units"] = units[:len(units)-1] // drop Cao Bằng, which continues
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	fsys[mergerFile] = &fstest.MapFile{Data: b}
	_, err = parseMerger(fsys, p)
	if err == nil || !strings.Contains(err.Error(), `"Cao Bằng" is in no unit's from`) {
		t.Fatalf("want an error naming the uncovered province, got %v", err)
	}
}
