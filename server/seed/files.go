package seed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"dicoso/sync/schema"
)

// The seed files. The 2021 set is loaded into an empty store; the merger
// file is applied on request, on top of the 2021 units.
const (
	unitsFile       = "units-2021.json"
	departmentsFile = "departments-2021.json"
	planFile        = "plan-2021.json"
	mergerFile      = "units-2025-merger.json"
)

const dateLayout = "2006-01-02"

// Unit kinds a seed file may use (the schema allows more; seeds only know
// these two levels).
const (
	kindProvince          = "province"
	kindCentralAffiliated = "central_affiliated"
)

// rawFile is one seed file's bytes and the hash recorded in seed_loads.
type rawFile struct {
	name   string
	data   []byte
	sha256 string
}

func readFile(fsys fs.FS, name string) (rawFile, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return rawFile{}, fmt.Errorf("seed %s: %w", name, err)
	}
	// Names are compared byte for byte (campaign lists against the plan, user
	// searches against names), so every string must be in one normal form.
	if !norm.NFC.IsNormal(data) {
		return rawFile{}, fmt.Errorf("seed %s: text is not in Unicode NFC form", name)
	}
	sum := sha256.Sum256(data)
	return rawFile{name: name, data: data, sha256: hex.EncodeToString(sum[:])}, nil
}

// decodeStrict decodes one JSON document, refusing fields the structs do not
// name, so a misspelt key in a reviewed file fails instead of vanishing.
func decodeStrict(f rawFile, v any) error {
	dec := json.NewDecoder(bytes.NewReader(f.data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("seed %s: %w", f.name, err)
	}
	if dec.More() {
		return fmt.Errorf("seed %s: data after the JSON document", f.name)
	}
	return nil
}

// unitsDoc is units-2021.json.
type unitsDoc struct {
	About         string            `json:"about"`
	ValidFromNote string            `json:"valid_from_note"`
	Sources       map[string]string `json:"sources"`
	Units         []unitEntry       `json:"units"`
}

// unitEntry is one unit. Only the fields that have a column are loaded; the
// others are kept in the file for review.
type unitEntry struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	Lat       *float64 `json:"lat"`
	Lng       *float64 `json:"lng"`
	ValidFrom string   `json:"valid_from"`
	ValidTo   *string  `json:"valid_to"`
	Source    string   `json:"source"`

	NameNote        string  `json:"name_note,omitempty"`
	FullName        string  `json:"full_name"`
	Type            string  `json:"type,omitempty"`
	UnionUnit       string  `json:"union_unit,omitempty"`
	Region          string  `json:"region,omitempty"`
	Region8         string  `json:"region8,omitempty"`
	Capital         string  `json:"capital,omitempty"`
	CoordConfidence string  `json:"coord_confidence,omitempty"`
	Note            string  `json:"note,omitempty"`
	Status2021      string  `json:"status_2021,omitempty"`
	Established     *string `json:"established,omitempty"`
	Confidence      string  `json:"confidence,omitempty"`
}

// departmentsDoc is departments-2021.json.
type departmentsDoc struct {
	About       string            `json:"about"`
	NotLoaded   string            `json:"not_loaded"`
	Departments []departmentEntry `json:"departments"`
}

type departmentEntry struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Duties string `json:"duties"`
	Source string `json:"source"`
}

// planDoc is plan-2021.json.
type planDoc struct {
	About          string          `json:"about"`
	Source         string          `json:"source"`
	Plan           planEntry       `json:"plan"`
	Campaigns      []campaignEntry `json:"campaigns"`
	SpecialPeriods []periodEntry   `json:"special_periods"`
}

type planEntry struct {
	ID               string `json:"id"`
	Year             int    `json:"year"`
	Number           string `json:"number"`
	IssuedOn         string `json:"issued_on"`
	Title            string `json:"title"`
	MinFieldDays     int    `json:"min_field_days"`
	MinFieldDaysText string `json:"min_field_days_text"`
}

type campaignEntry struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	Name      string   `json:"name"`
	Content   string   `json:"content"`
	StartsOn  string   `json:"starts_on"`
	EndsOn    string   `json:"ends_on"`
	UnitIDs   []string `json:"unit_ids"`
	PlanNames []string `json:"plan_unit_names"`

	PlanSection string `json:"plan_section"`
	WindowText  string `json:"window_text"`
}

type periodEntry struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	StartsOn   string `json:"starts_on"`
	EndsOn     string `json:"ends_on"`
	WindowNote string `json:"window_note"`
}

// plan2021 is the validated 2021 set.
type plan2021 struct {
	files       []rawFile
	units       unitsDoc
	departments departmentsDoc
	plan        planDoc
}

// parse2021 reads and validates the three 2021 files together, since the
// campaigns refer to the units.
func parse2021(fsys fs.FS) (*plan2021, error) {
	var p plan2021
	for _, name := range []string{departmentsFile, unitsFile, planFile} {
		f, err := readFile(fsys, name)
		if err != nil {
			return nil, err
		}
		p.files = append(p.files, f)
	}
	if err := decodeStrict(p.files[0], &p.departments); err != nil {
		return nil, err
	}
	if err := decodeStrict(p.files[1], &p.units); err != nil {
		return nil, err
	}
	if err := decodeStrict(p.files[2], &p.plan); err != nil {
		return nil, err
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// ids collects every id of a seed set, refusing malformed and repeated ones:
// ids are fixed in the files so that every server names rows alike.
type ids map[string]string

func (s ids) add(id, what string) error {
	// Lower case, because the sync engine stores ids lower-cased and the
	// files are the ids' single source.
	if !schema.ValidID(id) || id != strings.ToLower(id) {
		return fmt.Errorf("%s: id %q is not a lower-case UUID", what, id)
	}
	if prev, ok := s[id]; ok {
		return fmt.Errorf("%s: id %s already used by %s", what, id, prev)
	}
	s[id] = what
	return nil
}

func (p *plan2021) validate() error {
	seen := ids{}
	var errs []error
	fail := func(file string, err error) { errs = append(errs, fmt.Errorf("seed %s: %w", file, err)) }

	if len(p.departments.Departments) == 0 {
		fail(departmentsFile, errors.New("no departments"))
	}
	for i, d := range p.departments.Departments {
		what := fmt.Sprintf("departments[%d] %q", i, d.Name)
		if err := seen.add(d.ID, what); err != nil {
			fail(departmentsFile, err)
		}
		if strings.TrimSpace(d.Name) == "" || strings.TrimSpace(d.Duties) == "" {
			fail(departmentsFile, fmt.Errorf("%s: name and duties must not be empty", what))
		}
	}

	units := map[string]unitEntry{}
	codes := map[string]string{}
	for i, u := range p.units.Units {
		what := fmt.Sprintf("units[%d] %q", i, u.Name)
		if err := seen.add(u.ID, what); err != nil {
			fail(unitsFile, err)
		}
		if err := validateUnit(u, p.units.Sources); err != nil {
			fail(unitsFile, fmt.Errorf("%s: %w", what, err))
		}
		if u.Kind == kindProvince {
			if prev, ok := codes[u.Code]; ok {
				fail(unitsFile, fmt.Errorf("%s: code %s already used by %q", what, u.Code, prev))
			}
			codes[u.Code] = u.Name
		}
		units[u.ID] = u
	}

	pl := p.plan.Plan
	if err := seen.add(pl.ID, "plan"); err != nil {
		fail(planFile, err)
	}
	if strings.TrimSpace(pl.Number) == "" || strings.TrimSpace(pl.Title) == "" {
		fail(planFile, errors.New("plan: number and title must not be empty"))
	}
	if pl.Year < 2000 || pl.Year > 2100 {
		fail(planFile, fmt.Errorf("plan: year %d out of range", pl.Year))
	}
	if pl.MinFieldDays < 0 || pl.MinFieldDays > 366 {
		fail(planFile, fmt.Errorf("plan: min_field_days %d out of range", pl.MinFieldDays))
	}
	if _, err := parseDate(pl.IssuedOn); err != nil {
		fail(planFile, fmt.Errorf("plan: issued_on: %w", err))
	}
	if len(p.plan.Campaigns) == 0 {
		fail(planFile, errors.New("no campaigns"))
	}
	for i, c := range p.plan.Campaigns {
		what := fmt.Sprintf("campaigns[%d] %q", i, c.Name)
		if err := seen.add(c.ID, what); err != nil {
			fail(planFile, err)
		}
		if err := validateCampaign(c, units); err != nil {
			fail(planFile, fmt.Errorf("%s: %w", what, err))
		}
	}
	for i, sp := range p.plan.SpecialPeriods {
		what := fmt.Sprintf("special_periods[%d] %q", i, sp.Name)
		if err := seen.add(sp.ID, what); err != nil {
			fail(planFile, err)
		}
		if strings.TrimSpace(sp.Name) == "" {
			fail(planFile, fmt.Errorf("%s: name must not be empty", what))
		}
		if err := validateWindow(sp.StartsOn, sp.EndsOn); err != nil {
			fail(planFile, fmt.Errorf("%s: %w", what, err))
		}
	}
	return errors.Join(errs...)
}

var provinceCode = regexp.MustCompile(`^[0-9]{2}$`)

// sourceKey matches the short source names inside a unit's source string
// ("TLQ; cap INF; xy CS (GEO Δ0.4km)"): every one must be in the sources map,
// so a reader can always look a fact's origin up.
var sourceKey = regexp.MustCompile(`\b[A-Z][A-Z0-9_]+\b`)

func validateUnit(u unitEntry, sources map[string]string) error {
	if strings.TrimSpace(u.Name) == "" {
		return errors.New("name must not be empty")
	}
	switch u.Kind {
	case kindProvince:
		if !provinceCode.MatchString(u.Code) {
			return fmt.Errorf("province code %q is not two digits", u.Code)
		}
		// Check-in distance needs the capital's point.
		if u.Lat == nil || u.Lng == nil {
			return errors.New("a province needs lat and lng")
		}
	case kindCentralAffiliated:
	default:
		return fmt.Errorf("kind %q is not %s or %s", u.Kind, kindProvince, kindCentralAffiliated)
	}
	if (u.Lat == nil) != (u.Lng == nil) {
		return errors.New("lat and lng go together")
	}
	if u.Lat != nil && (*u.Lat < -90 || *u.Lat > 90 || *u.Lng < -180 || *u.Lng > 180) {
		return fmt.Errorf("coordinates %v,%v out of range", *u.Lat, *u.Lng)
	}
	from, err := parseDate(u.ValidFrom)
	if err != nil {
		return fmt.Errorf("valid_from: %w", err)
	}
	if u.ValidTo != nil {
		to, err := parseDate(*u.ValidTo)
		if err != nil {
			return fmt.Errorf("valid_to: %w", err)
		}
		if to.Before(from) {
			return fmt.Errorf("valid_to %s before valid_from %s", *u.ValidTo, u.ValidFrom)
		}
	}
	if strings.TrimSpace(u.Source) == "" {
		return errors.New("source must not be empty")
	}
	for _, k := range sourceKey.FindAllString(u.Source, -1) {
		if _, ok := sources[k]; !ok {
			return fmt.Errorf("source key %s is not in the sources map", k)
		}
	}
	return nil
}

func validateCampaign(c campaignEntry, units map[string]unitEntry) error {
	if strings.TrimSpace(c.Name) == "" || strings.TrimSpace(c.Content) == "" {
		return errors.New("name and content must not be empty")
	}
	switch c.Kind {
	case "periodic", "thematic", "special":
	default:
		return fmt.Errorf("kind %q is not periodic, thematic or special", c.Kind)
	}
	if err := validateWindow(c.StartsOn, c.EndsOn); err != nil {
		return err
	}
	if len(c.UnitIDs) == 0 {
		return errors.New("no units")
	}
	// plan_unit_names is the plan's list, word for word; it keeps unit_ids
	// honest: a wrong id fails here instead of inspecting the wrong province.
	if len(c.PlanNames) != len(c.UnitIDs) {
		return fmt.Errorf("%d plan_unit_names for %d unit_ids", len(c.PlanNames), len(c.UnitIDs))
	}
	inList := map[string]bool{}
	for i, id := range c.UnitIDs {
		u, ok := units[id]
		if !ok {
			return fmt.Errorf("unit_ids[%d] %s: no such unit in %s", i, id, unitsFile)
		}
		if inList[id] {
			return fmt.Errorf("unit_ids[%d] %s (%s) listed twice", i, id, u.Name)
		}
		inList[id] = true
		if SameUnitName(u.Name, c.PlanNames[i]) {
			continue
		}
		return fmt.Errorf("unit_ids[%d] %s is %q but the plan names %q", i, id, u.Name, c.PlanNames[i])
	}
	return nil
}

// SameUnitName reports whether two unit names are the same unit name as the
// plan writes it and as the official list does. The only difference allowed
// is the spacing around a hyphen: the plan writes "Bà Rịa-Vũng Tàu", the
// official name is "Bà Rịa - Vũng Tàu". Case and diacritics must match.
func SameUnitName(a, b string) bool {
	return hyphenSpacing(a) == hyphenSpacing(b)
}

func hyphenSpacing(s string) string {
	return strings.ReplaceAll(s, " - ", "-")
}

func validateWindow(starts, ends string) error {
	s, err := parseDate(starts)
	if err != nil {
		return fmt.Errorf("starts_on: %w", err)
	}
	e, err := parseDate(ends)
	if err != nil {
		return fmt.Errorf("ends_on: %w", err)
	}
	if e.Before(s) {
		return fmt.Errorf("ends_on %s before starts_on %s", ends, starts)
	}
	return nil
}

func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	return t, nil
}
