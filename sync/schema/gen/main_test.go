package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The committed copies are what the generator writes from the registry and
// the rules as they are now: an edit of sync/schema or sync/plan without
// `go generate ./sync/schema`, or a hand edit of a generated copy, fails
// here (and in CI's drift check) instead of reaching a phone.
func TestCommittedCopiesAreCurrent(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	read := func(rel string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	schemaTS, err := schemaTS()
	if err != nil {
		t.Fatal(err)
	}
	planTS, err := planTS()
	if err != nil {
		t.Fatal(err)
	}
	doc := read("server/api/openapi.json")
	wantDoc, err := openAPI(doc)
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string][]byte{
		"pwa/src/db/schema.gen.ts":  schemaTS,
		"pwa/src/store/plan.gen.ts": planTS,
		"server/api/openapi.json":   wantDoc,
	} {
		if !bytes.Equal(read(rel), want) {
			t.Errorf("%s is not what `go generate ./sync/schema` writes: run it and commit the result", rel)
		}
	}
}

// The document is rewritten without changing anything but the table enum:
// keys keep their order, text its characters, numbers their spelling.
func TestOpenAPIRewriteKeepsTheDocument(t *testing.T) {
	in := []byte(`{
  "a": "Hà Nội <b> & \"x\"\n\u0001",
  "n": [
    1.50,
    -2e3,
    true,
    null
  ],
  "e": {},
  "l": [],
  "components": {
    "schemas": {
      "SyncedTable": {
        "type": "string",
        "enum": [
          "old"
        ],
        "description": "kept"
      }
    }
  }
}
`)
	out, err := openAPI(in)
	if err != nil {
		t.Fatal(err)
	}
	head := in[:bytes.Index(in, []byte(`"enum"`))]
	if !bytes.HasPrefix(out, head) {
		t.Fatalf("the document changed before the enum:\n%s", out)
	}
	if !bytes.Contains(out, []byte("\"enum\": [\n          \"departments\",")) || bytes.Contains(out, []byte(`"old"`)) {
		t.Errorf("the enum is not the registry's:\n%s", out)
	}
	if !bytes.HasSuffix(out, []byte("        ],\n        \"description\": \"kept\"\n      }\n    }\n  }\n}\n")) {
		t.Errorf("the document changed after the enum:\n%s", out)
	}
}
