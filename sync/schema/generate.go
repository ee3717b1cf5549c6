package schema

// The registry is the one source of the synced tables: the PWA's schema
// (pwa/src/db/schema.gen.ts), the PWA's copy of the plan's rules
// (pwa/src/store/plan.gen.ts, from sync/plan) and the OpenAPI table enum
// are written from it. Run `go generate ./...` after changing either
// package; CI fails when a committed copy differs.
//go:generate go run ./gen -root ../..
