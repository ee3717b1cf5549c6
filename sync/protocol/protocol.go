// Package protocol holds the wire types of sync protocol v1 (docs/protocol.md):
// what a device pushes and pulls, and the codes the server answers with.
// It knows nothing of HTTP or storage.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"dicoso/sync/hlc"
)

// Version is the protocol version this package speaks.
const Version = 1

// MaxBatch is the most changes one push may carry.
const MaxBatch = 1000

// Op is what a change does to its row.
type Op string

// Ops.
const (
	OpUpsert Op = "upsert"
	OpDelete Op = "delete"
)

// Result statuses.
const (
	StatusApplied   = "applied"
	StatusDuplicate = "duplicate"
	StatusRejected  = "rejected"
)

// Rejection codes: stable, clients switch on them.
const (
	CodeValidationFailed = "validation_failed"
	CodeForbidden        = "forbidden"
	CodeUnknownTable     = "unknown_table"
	CodeUnknownField     = "unknown_field"
	CodeImmutable        = "immutable"
	CodeClockSkew        = "clock_skew"
)

// Change is one device write: a set of field values for one row, or its
// deletion, stamped with the device's clock.
type Change struct {
	ID     string         `json:"id"`
	Table  string         `json:"table"`
	RowID  string         `json:"row_id"`
	Op     Op             `json:"op"`
	HLC    string         `json:"hlc"`
	Fields map[string]any `json:"fields,omitempty"`
	// Base is an extension (docs/protocol.md, "Merge") (optional, backward
	// compatible): the row as the device read it outside the pull, as the
	// read answered it (its "base"). A device that reads a row over the API
	// rather than pulling it (the headquarters console) sends it with its
	// change, so the server judges what the change had seen by that read
	// instead of the push's base_cursor.
	Base string `json:"base,omitempty"`
}

// PushRequest is the body of POST /api/v1/sync/push.
//
// BaseCursor is an extension (docs/protocol.md) (optional, backward compatible): the pull
// cursor the device had when it made these changes. It lets the server tell
// a concurrent edit (by another device, not yet seen by this one) from a
// plain overwrite, and list the former as a conflict.
//
// NoEcho is an extension too (optional, backward compatible): the device
// will pull with NoEcho, so each applied or duplicate Result carries what
// the server holds for the change's row that the device cannot know from
// its own write (Result.Version and Result.Fields).
type PushRequest struct {
	Protocol   int      `json:"protocol"`
	DeviceID   string   `json:"device_id"`
	BaseCursor string   `json:"base_cursor,omitempty"`
	NoEcho     bool     `json:"no_echo,omitempty"`
	Changes    []Change `json:"changes"`
}

// Result is the server's verdict on one change, in request order.
//
// Field is an extension (docs/protocol.md) (optional, backward compatible): on a refusal
// about one field, its wire name, so a device can point its user at it.
//
// Lost extends it too (optional, backward compatible): on an applied or
// duplicate change, the fields whose pushed value did not win because
// another device wrote the field concurrently (without having seen this
// device's value, and this device without having seen theirs) with a later
// clock. The device keeps its value for its user to copy back; the row as
// pulled holds the winner. See docs/protocol.md, "Lost values".
//
// Version and Fields answer a push sent with NoEcho, on an applied or
// duplicate change (docs/protocol.md, "Own writes"): Version is the row's
// version when it is not the change's own clock (a write ordered after the
// value it replaced, a later field of the row); Fields holds, for the
// fields the change sent and those the server computes, each value this
// device's clock set on the row that differs from what the change sent (a
// computed field, a later write of the same device).
type Result struct {
	ID      string         `json:"id"`
	Status  string         `json:"status"`
	Code    string         `json:"code,omitempty"`
	Message string         `json:"message,omitempty"`
	Field   string         `json:"field,omitempty"`
	Lost    []LostValue    `json:"lost,omitempty"`
	Version string         `json:"version,omitempty"`
	Fields  map[string]any `json:"fields,omitempty"`
	// OutOfScope (with NoEcho) says the row, as merged, is not one the
	// device reads: no pull will bring it or say it left, so the device
	// drops its copy once nothing of it waits to be sent.
	OutOfScope bool `json:"out_of_scope,omitempty"`
}

// LostValue is one pushed field value that lost to a concurrent later write.
type LostValue struct {
	Field  string `json:"field"`             // wire name of the field
	Value  any    `json:"value"`             // the value this change carried, which did not win
	By     string `json:"by,omitempty"`      // user id of the winning write, when known
	ByName string `json:"by_name,omitempty"` // that user's full name, for the notice
	At     string `json:"at"`                // RFC 3339 time of the winning write (its clock's physical part)
	HLC    string `json:"hlc"`               // the winning write's clock
}

// PushResponse answers a push once every applied change is durable.
type PushResponse struct {
	Results    []Result `json:"results"`
	ServerTime string   `json:"server_time"`
	HLC        string   `json:"hlc"`
}

// PullRequest is the body of POST /api/v1/sync/pull.
//
// NoEcho is an extension (optional, backward compatible): on a pull from a
// cursor, leave out the rows whose every value this device already holds,
// having written it itself or pulled it before the cursor
// (docs/protocol.md, "Own writes"). Only a device that pushes with NoEcho,
// and applies what those answers carry, may ask for it.
type PullRequest struct {
	Protocol int    `json:"protocol"`
	DeviceID string `json:"device_id"`
	Cursor   string `json:"cursor"`
	Limit    int    `json:"limit,omitempty"`
	NoEcho   bool   `json:"no_echo,omitempty"`
}

// Row is the whole current state of one row.
//
// A row that has left the reader's scope (a finding moved to another
// department, a note sent back for revision that a unit liaison no longer
// sees) comes as Deleted with no Fields and no Version: the device drops
// its copy.
type Row struct {
	Table   string         `json:"table"`
	RowID   string         `json:"row_id"`
	Fields  map[string]any `json:"fields"`
	Deleted bool           `json:"deleted"`
	Version string         `json:"version"`
}

// PullResponse is one page of rows changed after the request's cursor.
//
// ServerTime is an extension (docs/protocol.md) (always sent, ignored by older devices): the
// server's clock when it answered, so a device whose clock runs behind can
// judge pulled versions against the server's time, not its own.
type PullResponse struct {
	Rows       []Row  `json:"rows"`
	Cursor     string `json:"cursor"`
	HasMore    bool   `json:"has_more"`
	Reset      bool   `json:"reset"`
	ServerTime string `json:"server_time,omitempty"`
}

// Pull page sizes.
const (
	DefaultPullLimit = 500
	MaxPullLimit     = 2000
)

// HeaderPullCursor (an extension, docs/protocol.md) is the header of a
// pull answer with has_more that carries its cursor ahead of the body: a
// device may ask for the next page with it before it has read this one.
const HeaderPullCursor = "Pull-Cursor"

// ErrProtocol marks a request for a protocol version this server lacks.
var ErrProtocol = errors.New("unsupported protocol version")

// DecodeError is a malformed request body; Field names the culprit if known.
type DecodeError struct {
	Code    string // invalid_json, unknown_field, validation_failed
	Message string
}

func (e *DecodeError) Error() string { return e.Code + ": " + e.Message }

// DecodePush reads a push body strictly (unknown top-level or change keys
// refused) and checks its envelope: protocol, device id, batch size and the
// shape of every change. It does not judge tables, fields or values: those
// are per-change verdicts of the merge, so one bad change never sinks the
// batch.
func DecodePush(body []byte) (PushRequest, error) {
	req, ok := decodePushFast(body)
	if !ok {
		// Broken text is marked so that the schema refuses its change
		// (text.go); the fast path takes no body that has any.
		if marked, broken, _ := badText(body); broken {
			body = marked
		}
		req = PushRequest{}
		if err := decodeStrict(body, &req); err != nil {
			return req, err
		}
	}
	return req, req.validate()
}

// validate applies the rules of a push that its JSON shape does not carry.
func (req *PushRequest) validate() error {
	if req.Protocol != Version {
		return fmt.Errorf("%w: %d (this server speaks %d)", ErrProtocol, req.Protocol, Version)
	}
	if !hlc.ValidNode(req.DeviceID) {
		return &DecodeError{Code: "validation_failed", Message: "device_id must be 1-64 letters, digits, '-' or '_'"}
	}
	if len(req.Changes) > MaxBatch {
		return &DecodeError{Code: "validation_failed", Message: fmt.Sprintf("a push may carry at most %d changes", MaxBatch)}
	}
	seen := make(map[string]struct{}, len(req.Changes))
	for i, ch := range req.Changes {
		if ch.ID == "" || len(ch.ID) > 64 || strings.ContainsFunc(ch.ID, unicode.IsControl) {
			return &DecodeError{Code: "validation_failed", Message: fmt.Sprintf("changes[%d].id must be 1-64 characters, none of them a control character", i)}
		}
		if _, dup := seen[ch.ID]; dup {
			return &DecodeError{Code: "validation_failed", Message: fmt.Sprintf("changes[%d].id %q appears twice in one push", i, ch.ID)}
		}
		seen[ch.ID] = struct{}{}
	}
	return nil
}

// DecodePull reads a pull body strictly and applies the default limit.
func DecodePull(body []byte) (PullRequest, error) {
	var req PullRequest
	if err := decodeStrict(body, &req); err != nil {
		return req, err
	}
	if req.Protocol != Version {
		return req, fmt.Errorf("%w: %d (this server speaks %d)", ErrProtocol, req.Protocol, Version)
	}
	if !hlc.ValidNode(req.DeviceID) {
		return req, &DecodeError{Code: "validation_failed", Message: "device_id must be 1-64 letters, digits, '-' or '_'"}
	}
	switch {
	case req.Limit == 0:
		req.Limit = DefaultPullLimit
	case req.Limit < 0 || req.Limit > MaxPullLimit:
		return req, &DecodeError{Code: "validation_failed", Message: fmt.Sprintf("limit must be between 1 and %d", MaxPullLimit)}
	}
	return req, nil
}

func decodeStrict(body []byte, dst any) error {
	// A request is an object: null would decode to an empty request.
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] != '{' {
		return &DecodeError{Code: "invalid_json", Message: "request body must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			return &DecodeError{Code: "invalid_json", Message: "request body is empty"}
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return &DecodeError{Code: "unknown_field", Message: "unknown field " + name}
		}
		return &DecodeError{Code: "invalid_json", Message: "request body is not valid JSON: " + err.Error()}
	}
	if dec.More() {
		return &DecodeError{Code: "invalid_json", Message: "request body holds more than one JSON value"}
	}
	return nil
}
