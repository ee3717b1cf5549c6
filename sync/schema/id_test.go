package schema

import (
	"regexp"
	"testing"
)

// The 36-character UUID form, as the protocol describes a row id.
var uuidForm = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func TestValidID(t *testing.T) {
	for _, s := range []string{
		"3f2b6c1e-9a4d-4e8b-b1c2-0d9e8f7a6b5c", "3F2B6C1E-9A4D-4E8B-B1C2-0D9E8F7A6B5C",
		"00000000-0000-0000-0000-000000000000",
	} {
		if !ValidID(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{
		"", "3f2b6c1e9a4d4e8bb1c20d9e8f7a6b5c", "3f2b6c1e-9a4d-4e8b-b1c2-0d9e8f7a6b5", "3f2b6c1e-9a4d-4e8b-b1c2-0d9e8f7a6b5c0",
		"3f2b6c1g-9a4d-4e8b-b1c2-0d9e8f7a6b5c", "3f2b6c1e_9a4d-4e8b-b1c2-0d9e8f7a6b5c", "3f2b6c1e-9a4d-4e8b-b1c2-0d9e8f7a6b5\n",
		"{3f2b6c1e-9a4d-4e8b-b1c2-0d9e8f7a6b5c}", "3f2b6c1e-9a4d-4e8b-b1c2-0d9e8f7a6bé",
	} {
		if ValidID(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

// ValidID reads bytes for speed; it must accept exactly the UUID form.
func FuzzValidID(f *testing.F) {
	f.Add("3f2b6c1e-9a4d-4e8b-b1c2-0d9e8f7a6b5c")
	f.Add("3f2b6c1e-9a4d-4e8b-b1c2-0d9e8f7a6b5Z")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidID(s), uuidForm.MatchString(s); got != want {
			t.Errorf("ValidID(%q) = %v, the UUID form says %v", s, got, want)
		}
	})
}
