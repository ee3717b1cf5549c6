package syncdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"dicoso/server/store"
)

// Attachment is the record of one stored blob (the bytes live in the blob
// store, named by SHA256).
type Attachment struct {
	SHA256     string
	Size       int64
	MIME       string
	UploadedBy string // the first user who uploaded these bytes
	CreatedAt  string // RFC 3339 UTC
}

// RecordAttachment notes a blob that is on disk. The first upload's record
// stays: repeating it changes nothing, and created says whether this call
// made the record.
func (d *DB) RecordAttachment(ctx context.Context, a Attachment) (created bool, err error) {
	if a.CreatedAt == "" {
		a.CreatedAt = d.now().UTC().Format(time.RFC3339Nano)
	}
	var by any
	if a.UploadedBy != "" {
		by = a.UploadedBy
	}
	err = d.st.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO attachments (sha256, size, mime, uploaded_by, created_at)
			VALUES (?, ?, ?, ?, ?)`, a.SHA256, a.Size, a.MIME, by, a.CreatedAt)
		if err != nil {
			return fmt.Errorf("record attachment %s: %w", a.SHA256, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("record attachment %s: %w", a.SHA256, err)
		}
		created = n == 1
		return nil
	})
	return created, err
}

// GetAttachment reads the record of blob sha; store.ErrNotFound when none.
func (d *DB) GetAttachment(ctx context.Context, sha string) (Attachment, error) {
	var a Attachment
	var by sql.NullString
	err := d.st.Reader().QueryRowContext(ctx,
		`SELECT sha256, size, mime, uploaded_by, created_at FROM attachments WHERE sha256 = ?`, sha).
		Scan(&a.SHA256, &a.Size, &a.MIME, &by, &a.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Attachment{}, store.ErrNotFound
	}
	if err != nil {
		return Attachment{}, fmt.Errorf("read attachment %s: %w", sha, err)
	}
	a.UploadedBy = by.String
	return a, nil
}

// MayReadAttachment reports whether a may download blob sha: a uploaded it,
// or a may read (under the same scope as pull) a live row that references
// it: a check-in whose photo it is, or a visit note listing it among its
// attachments. The scope is the pull's SQL, so the two cannot disagree.
func (d *DB) MayReadAttachment(ctx context.Context, a Actor, sha string) (bool, error) {
	checkinScope, args := scopeClause(a, mustTable("checkins"))
	noteScope, _ := scopeClause(a, mustTable("visit_notes")) // same named arguments
	q := `SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = :sha AND uploaded_by = :me)
		OR EXISTS (SELECT 1 FROM checkins r WHERE r.photo = :sha AND r.deleted = 0 AND (` + checkinScope + `))
		OR EXISTS (SELECT 1 FROM visit_notes r WHERE r.deleted = 0
			AND EXISTS (SELECT 1 FROM json_each(r.attachments) j WHERE j.value = :sha)
			AND (` + noteScope + `))`
	args = append(args, sql.Named("sha", sha))
	var ok bool
	if err := d.st.Reader().QueryRowContext(ctx, q, args...).Scan(&ok); err != nil {
		return false, fmt.Errorf("check access to attachment %s: %w", sha, err)
	}
	return ok, nil
}
