package syncdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"dicoso/server/store"
	"dicoso/sync/schema"
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

// RecordAttachment notes a blob that is on disk and who uploaded it. The
// first upload's record stays: repeating it changes nothing, and created
// says whether this call made the record. Every uploader is remembered, as
// each may name the blob in their rows (MayNameAttachment).
func (d *DB) RecordAttachment(ctx context.Context, a Attachment) (created bool, err error) {
	if a.CreatedAt == "" {
		a.CreatedAt = d.now().UTC().Format(time.RFC3339Nano)
	}
	var by any
	if a.UploadedBy != "" {
		by = a.UploadedBy
	}
	err = d.st.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO attachments (sha256, size, mime, uploaded_by, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING`, a.SHA256, a.Size, a.MIME, by, a.CreatedAt)
		if err != nil {
			return fmt.Errorf("record attachment %s: %w", a.SHA256, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("record attachment %s: %w", a.SHA256, err)
		}
		created = n == 1
		if a.UploadedBy == "" {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO attachment_uploads (sha256, user_id, uploaded_at)
			VALUES (?, ?, ?) ON CONFLICT (sha256, user_id) DO NOTHING`, a.SHA256, a.UploadedBy, a.CreatedAt); err != nil {
			return fmt.Errorf("record upload of %s: %w", a.SHA256, err)
		}
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
// or a may read (under the same scope as pull) a live row that names it in
// its attachment field (Spec.Attachments: a check-in's photo, a visit
// note's attachments). The scope is the pull's SQL, so the two cannot
// disagree.
func (d *DB) MayReadAttachment(ctx context.Context, a Actor, sha string) (bool, error) {
	a.dialect = d.st.Dialect()
	q, args := mayReadAttachmentSQL(a, sha)
	var ok bool
	if err := d.st.Reader().QueryRowContext(ctx, q, args...).Scan(&ok); err != nil {
		return false, fmt.Errorf("check access to attachment %s: %w", sha, err)
	}
	return ok, nil
}

func mayReadAttachmentSQL(a Actor, sha string) (string, []any) {
	or := []string{"EXISTS (SELECT 1 FROM attachment_uploads WHERE sha256 = :sha AND user_id = :me)"}
	for _, t := range schema.Tables() {
		sp, ok := specs[t.Name]
		if !ok || sp.Attachments == "" {
			continue
		}
		// Read, not pulled: headquarters open the photos of any note in the console.
		scope, _ := scopeClauseWith(a, t, false, true) // its arguments are scopeArgs(a)
		f, _ := t.Field(sp.Attachments)
		names := "r." + f.Name + " = :sha"
		if f.Type == schema.List {
			names = "EXISTS (SELECT 1 FROM " + a.dialect.JSONEach("r."+f.Name, "j") + " WHERE j.value = :sha)"
		}
		or = append(or, "EXISTS (SELECT 1 FROM "+t.Name+" r WHERE r.deleted = 0 AND "+names+" AND ("+scope+"))")
	}
	return "SELECT " + strings.Join(or, " OR "), append(scopeArgs(a), sql.Named("sha", sha))
}

// mayNameAttachments refuses a change naming a blob its author neither
// uploaded nor may already read: naming one in a row of one's own would
// otherwise unlock its bytes (MayReadAttachment).
func mayNameAttachments(ctx context.Context, tx *wtx, a Actor, t *schema.Table, sp *Spec, vals map[string]any) error {
	field := sp.Attachments
	v, set := vals[field]
	if field == "" || !set || v == nil {
		return nil
	}
	var hashes []string
	switch f, _ := t.Field(field); f.Type {
	case schema.List:
		if err := json.Unmarshal([]byte(v.(string)), &hashes); err != nil {
			return fmt.Errorf("decode %s: %w", field, err)
		}
	default:
		if s := v.(string); s != "" {
			hashes = []string{s}
		}
	}
	if len(hashes) == 0 {
		return nil
	}
	// Rows merged earlier in this transaction count as they now stand.
	if err := tx.flush(ctx); err != nil {
		return err
	}
	for _, h := range hashes {
		q, args := mayReadAttachmentSQL(a, h)
		var ok bool
		if err := tx.tx.QueryRowContext(ctx, q, args...).Scan(&ok); err != nil {
			return fmt.Errorf("check access to attachment %s: %w", h, err)
		}
		if !ok {
			return rejectField(field, "%s names the attachment %s, which you have not uploaded and may not read: upload it first", field, h)
		}
	}
	return nil
}
