// Command gen writes the copies of the Go registry (sync/schema) and of the
// shared business rules (sync/plan) that other languages and documents
// need, so that there is one source and no hand-kept copy to drift:
//
//	pwa/src/db/schema.gen.ts     the synced tables and fields the PWA stores
//	pwa/src/store/plan.gen.ts    the plan's rules and the tally's SQL
//	server/api/openapi.json      components.schemas.SyncedTable (the table enum)
//
// It runs from `go generate ./sync/schema` (or `go generate ./...`); CI runs
// it and fails when the committed files differ from what it writes. A file
// whose content is unchanged is not rewritten.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	root := flag.String("root", ".", "the repository's root directory")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	schemaTS, err := schemaTS()
	if err != nil {
		return err
	}
	if err := write(filepath.Join(root, "pwa/src/db/schema.gen.ts"), schemaTS); err != nil {
		return err
	}
	planTS, err := planTS()
	if err != nil {
		return err
	}
	if err := write(filepath.Join(root, "pwa/src/store/plan.gen.ts"), planTS); err != nil {
		return err
	}
	docPath := filepath.Join(root, "server/api/openapi.json")
	doc, err := os.ReadFile(docPath)
	if err != nil {
		return err
	}
	doc, err = openAPI(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", docPath, err)
	}
	return write(docPath, doc)
}

// write replaces path's content when it differs.
func write(path string, content []byte) error {
	old, err := os.ReadFile(path)
	if err == nil && bytes.Equal(old, content) {
		return nil
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
