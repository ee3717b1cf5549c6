// Package seeds holds the reference data the server starts from, as
// reviewable JSON files: the 2021 plan 356-KH/TWĐTN-BKT, its units and
// departments, and the 2025 merger of provinces (not loaded by default).
// README.md describes each file and its sources; server/seed loads them.
package seeds

import (
	"embed"
	"io/fs"
)

//go:embed *.json
var files embed.FS

// FS returns the seed files, named as in this directory (e.g. "plan-2021.json").
func FS() fs.FS { return files }
