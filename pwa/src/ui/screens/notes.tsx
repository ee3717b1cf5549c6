import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  FINDING_CATEGORIES, holdsFieldRole, NOTE_SECTIONS, noteShown, PURPOSES,
  type Finding, type FindingCategory, type Note, type NotePhoto, type NoteSection, type Purpose,
} from '../../store/records';
import { compressPhoto } from '../photo';
import { CameraIcon } from './checkin';
import { Badge, Banner, Field, Screen, UnitPicker } from '../components';
import { useCtx, useData } from '../context';
import { formatDate } from '../i18n';
import { LostNotices } from '../lost';

/** A note's unit, campaign and visit date, in one line. */
function noteContext(n: Note): string {
  return [n.unit_name, n.campaign_name, n.visit_date ? formatDate(n.visit_date) : ''].filter(Boolean).join(' · ');
}

const AUTOSAVE_MS = 800;

export function Notes() {
  const { t, rt, navigate } = useCtx();
  const notes = useData(() => rt.records.notes(), []);
  const names = useData(() => rt.records.userNames(), []);
  return (
    <Screen title={t('notes')}>
      {holdsFieldRole(rt.user.roles) && (
        <button class="btn btn-primary" id="new-note" onClick={() => navigate('#/note/new')}>{t('newNote')}</button>
      )}
      {notes && notes.length === 0 && <p class="muted">{t('noNotes')}</p>}
      <ul class="list" id="note-list">
        {(notes ?? []).map((n) => (
          <li key={n.id}>
            <button class="list-item list-btn" data-note={n.title} onClick={() => navigate(`#/note/${n.id}`)}>
              <div>
                <strong>{n.title || t('visitNote')}</strong>
                <div class="muted small" data-note-context>{noteContext(n)}</div>
                <div class="muted small">
                  <span class={`status status-${noteShown(n)}`} data-note-state={noteShown(n)}>{t(`note_${noteShown(n)}`)}</span>
                  {n.author_id !== rt.user.id && ` · ${names?.get(n.author_id) ?? ''}`}
                </div>
              </div>
              <Badge mark={n.sync} />
            </button>
          </li>
        ))}
      </ul>
    </Screen>
  );
}

/** Starting a note: unit, kind, optional trip and campaign; prefilled from the campaign view's link. */
export function NoteNew({ unit, campaign }: { unit?: string; campaign?: string }) {
  const { t, rt, navigate } = useCtx();
  const units = useData(() => rt.records.units(), []);
  const trips = useData(() => rt.records.trips(), []);
  const campaigns = useData(() => rt.records.campaigns(), []);
  const [unitIds, setUnitIds] = useState<string[]>(unit ? [unit] : []);
  const [kind, setKind] = useState<Purpose>(campaign ? 'inspection' : 'thematic_survey');
  const [campaignId, setCampaignId] = useState(campaign ?? '');
  const [tripId, setTripId] = useState('');
  const [title, setTitle] = useState('');
  const [error, setError] = useState('');
  const unitOptions = useMemo(() => (units ?? []).map((u) => ({ unit: u })), [units]);
  const create = async () => {
    if (unitIds.length === 0) return setError(t('required', t('unit')));
    const id = await rt.records.createNote({
      unit_id: unitIds[0]!, kind, title, trip_id: tripId || null,
      campaign_id: kind === 'inspection' && campaignId ? campaignId : null,
    });
    navigate(`#/note/${id}`);
  };
  return (
    <Screen title={t('newNote')} back="#/notes">
      <div class="card stack">
        <Field label={t('noteTitle')}>
          <input class="input" id="note-title-new" value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
        </Field>
        <fieldset class="field">
          <legend class="field-label">{t('kind')}</legend>
          <div class="choice-list">
            {PURPOSES.map((p) => (
              <button type="button" key={p} class={`choice ${kind === p ? 'on' : ''}`} aria-pressed={kind === p}
                data-purpose={p} onClick={() => setKind(p)}>{t(`purpose_${p}`)}</button>
            ))}
          </div>
        </fieldset>
        {kind === 'inspection' && (
          <Field label={t('campaign')}>
            <select class="input" value={campaignId} onChange={(e) => setCampaignId((e.target as HTMLSelectElement).value)}>
              <option value="">{t('noCampaign')}</option>
              {(campaigns ?? []).map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          </Field>
        )}
        {(trips ?? []).length > 0 && (
          <Field label={t('trip')}>
            <select class="input" id="note-trip" value={tripId} onChange={(e) => setTripId((e.target as HTMLSelectElement).value)}>
              <option value="">{t('noTrip')}</option>
              {(trips ?? []).map((tr) => <option key={tr.id} value={tr.id}>{tr.title}</option>)}
            </select>
          </Field>
        )}
        <div class="field">
          <span class="field-label">{t('unit')}</span>
          <UnitPicker units={unitOptions} value={unitIds} onChange={setUnitIds} />
        </div>
        {error && <Banner kind="error">{error}</Banner>}
        <button class="btn btn-primary" id="note-create" onClick={create}>{t('save')}</button>
      </div>
    </Screen>
  );
}

type Draft = Record<NoteSection | 'title', string>;

export function NoteEdit({ id }: { id: string }) {
  const { t, rt } = useCtx();
  const note = useData(() => rt.records.note(id), [id]);
  const findings = useData(() => rt.records.findings(id), [id]);
  const names = useData(() => rt.records.userNames(), []);
  const reviewer = useData(async () => {
    const n = await rt.records.note(id);
    return n ? rt.records.canReview(n, rt.user.roles ?? []) : false;
  }, [id]);
  const [draft, setDraft] = useState<Draft | null>(null);
  const dirty = useRef(new Set<keyof Draft>());
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const draftRef = useRef<Draft | null>(null);
  const [saveState, setSaveState] = useState<'idle' | 'saving' | 'saved'>('idle');
  draftRef.current = draft;

  // Fields not being edited follow the stored note (a pulled change, the
  // reviewer's decision); fields with unsaved typing keep the typing.
  useEffect(() => {
    if (!note) return;
    setDraft((d) => {
      const next = { ...(d ?? {}) } as Draft;
      for (const k of ['title', ...NOTE_SECTIONS] as (keyof Draft)[]) {
        if (!d || !dirty.current.has(k)) next[k] = (note[k] as string) ?? '';
      }
      return next;
    });
  }, [note]);

  const flush = async () => {
    clearTimeout(timer.current);
    const d = draftRef.current;
    if (!d || dirty.current.size === 0) return;
    const fields: Partial<Draft> = {};
    for (const k of dirty.current) fields[k] = d[k];
    dirty.current.clear();
    setSaveState('saving');
    await rt.records.saveNote(id, fields);
    setSaveState('saved');
  };
  // Save what was typed when leaving the screen or hiding the page.
  useEffect(() => {
    const onHide = () => void flush();
    window.addEventListener('pagehide', onHide);
    document.addEventListener('visibilitychange', onHide);
    return () => {
      window.removeEventListener('pagehide', onHide);
      document.removeEventListener('visibilitychange', onHide);
      // Leaving ends a fix ("Sửa"): what was typed is saved first, then
      // the note's change goes out with the next sync.
      void flush().finally(() => rt.store.endFix('visit_notes', id));
    };
  }, [id]);

  const edit = (k: keyof Draft, v: string) => {
    setDraft({ ...(draftRef.current as Draft), [k]: v });
    dirty.current.add(k);
    setSaveState('idle');
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void flush(), AUTOSAVE_MS);
  };

  if (!note || !draft) return <Screen title={t('visitNote')} back="#/notes"><p class="muted">{t('loading')}</p></Screen>;
  const mine = note.author_id === rt.user.id;
  // The author may amend until the note is reviewed; a reviewer's decision
  // and the author's amendments touch different fields and both survive.
  const editable = mine && note.status !== 'reviewed';
  const submit = async () => {
    await flush();
    await rt.records.saveNote(id, { status: 'submitted' });
    rt.store.endFix('visit_notes', id);
  };
  return (
    <Screen title={draft.title || t('visitNote')} back="#/notes">
      <p class="row">
        <span class={`status status-${noteShown(note)}`} id="note-status">{t(`note_${noteShown(note)}`)}</span>
        <Badge mark={note.sync} />
      </p>
      <NoteHeader note={note} />
      {!mine && <p class="muted">{t('author')}: {names?.get(note.author_id) ?? ''}</p>}
      {note.status === 'needs_revision' && (
        <Banner kind="warn"><span id="review-comment">{t('needsRevisionBanner', note.review_comment)}</span></Banner>
      )}
      {note.status === 'reviewed' && (
        <Banner kind="ok">{t('reviewedBanner')}{note.review_comment ? ` ${note.review_comment}` : ''}</Banner>
      )}
      {note.status === 'submitted' && mine && <Banner kind="info">{t('readOnlyNote')}</Banner>}
      <LostNotices table="visit_notes" rowId={id} />
      <div class="card stack">
        <Field label={t('noteTitle')}>
          <input class="input" id="note-title" value={draft.title} disabled={!editable}
            onInput={(e) => edit('title', (e.target as HTMLInputElement).value)} />
        </Field>
        {NOTE_SECTIONS.map((s) => (
          <Field key={s} label={t(`section_${s}`)}>
            <textarea class="input section" id={`note-${s}`} rows={3} value={draft[s]} disabled={!editable}
              onInput={(e) => edit(s, (e.target as HTMLTextAreaElement).value)} onBlur={() => void flush()} />
          </Field>
        ))}
        <p class="muted small" aria-live="polite" id="save-state">
          {saveState === 'saving' ? t('saving') : saveState === 'saved' ? t('saved') : ''}
        </p>
        {editable && note.status !== 'submitted' && (
          <button class="btn btn-primary" id="note-submit" onClick={submit}>
            {note.status === 'needs_revision' ? t('resubmitNote') : t('submitNote')}
          </button>
        )}
      </div>
      <NotePhotos note={note} editable={editable} />
      <ReviewRounds noteId={note.id} />
      {reviewer && note.status !== 'draft' && <ReviewPanel note={note} />}
      <div class="card stack">
        <h2>{t('findings')}</h2>
        <ul class="list" id="finding-list">
          {(findings ?? []).map((f) => (
            <FindingRow key={f.id} f={f} editable={rt.records.findingsEditable(note)} />
          ))}
        </ul>
        {mine && note.status !== 'reviewed' && <AddFinding note={note} />}
      </div>
    </Screen>
  );
}

/** Unit, campaign, its window and the visit date, under the note's title. */
function NoteHeader({ note }: { note: Note }) {
  const { t, rt } = useCtx();
  const campaign = useData(async () => (note.campaign_id ? (await rt.records.campaigns()).find((c) => c.id === note.campaign_id) : undefined), [note.campaign_id]);
  return (
    <div class="muted small" id="note-header">
      <div><strong>{note.unit_name ?? ''}</strong>{note.visit_date ? ` · ${formatDate(note.visit_date)}` : ''}</div>
      {note.campaign_name && (
        <div>{note.campaign_name}{campaign?.starts_on ? ` · ${t('window', formatDate(campaign.starts_on), formatDate(campaign.ends_on))}` : ''}</div>
      )}
    </div>
  );
}

/**
 * The note's photos: taken or picked, compressed on the device like a
 * check-in's, kept in the device store and uploaded before the note that
 * names them. The author adds and removes them while the note is theirs
 * to amend.
 */
function NotePhotos({ note, editable }: { note: Note; editable: boolean }) {
  const { t, rt } = useCtx();
  const photos = useData(() => rt.records.notePhotos(note.id), [note.id]);
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const onPick = async (e: Event) => {
    const files = [...((e.target as HTMLInputElement).files ?? [])];
    if (files.length === 0) return;
    setBusy(true);
    setError('');
    try {
      for (const f of files) await rt.records.addNotePhoto(note.id, await compressPhoto(f));
    } catch (err) {
      setError(t('photoFailed', err instanceof Error ? err.message : String(err)));
    } finally {
      setBusy(false);
      if (input.current) input.current.value = '';
    }
  };
  if (!editable && (!photos || photos.length === 0)) return null;
  return (
    <div class="card stack" id="note-photos">
      <h2>{t('notePhotos')}{photos && photos.length > 0 ? ` (${photos.length})` : ''}</h2>
      {photos && photos.length === 0 && <p class="muted small">{t('noNotePhotos')}</p>}
      {photos && photos.length > 0 && (
        <ul class="photo-grid">
          {photos.map((p, i) => (
            <li key={p.sha256} data-photo={p.sha256}>
              <PhotoThumb photo={p} alt={t('notePhotoAlt', i + 1, note.title || t('visitNote'))} />
              {p.held && !p.uploaded && <span class="small muted" data-photo-pending>{t('photoPending')}</span>}
              {editable && (
                <button type="button" class="btn btn-ghost btn-small" data-photo-remove
                  aria-label={t('removeNotePhoto', i + 1)}
                  onClick={() => void rt.records.removeNotePhoto(note.id, p.sha256)}>{t('removePhoto')}</button>
              )}
            </li>
          ))}
        </ul>
      )}
      {editable && (
        <label class="btn btn-secondary photo-btn" id="note-photo-btn">
          <input ref={input} id="note-photo-input" class="visually-hidden" type="file" accept="image/*" multiple
            disabled={busy} onChange={(e) => void onPick(e)} />
          <CameraIcon />
          <span>{busy ? t('photoCompressing') : t('addNotePhoto')}</span>
        </label>
      )}
      {error && <Banner kind="error">{error}</Banner>}
    </div>
  );
}

/** A photo from the device store, or from the server when taken on another device (online only). */
function PhotoThumb({ photo, alt }: { photo: NotePhoto; alt: string }) {
  const { t, rt, session, online } = useCtx();
  const [url, setUrl] = useState('');
  useEffect(() => {
    let alive = true;
    let made = '';
    void (async () => {
      made = (await rt.records.photoURL(photo.sha256)) ?? '';
      if (!made && online) {
        const res = await session.fetch(`/api/v1/attachments/${photo.sha256}`);
        if (res.ok) made = URL.createObjectURL(await res.blob());
      }
      if (alive) setUrl(made);
      else if (made) URL.revokeObjectURL(made);
    })().catch(() => undefined);
    return () => {
      alive = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [photo.sha256, online]);
  if (!url) return <div class="photo-thumb photo-missing small muted">{online ? t('loading') : t('photoNotOnDevice')}</div>;
  return <img class="photo-thumb" src={url} alt={alt} />;
}

/**
 * A finding of the note; its author may correct or delete it while the
 * note is a draft or sent back (the server lets the author do either).
 */
function FindingRow({ f, editable }: { f: Finding; editable: boolean }) {
  const { t, rt } = useCtx();
  const [mode, setMode] = useState<'view' | 'edit' | 'delete'>('view');
  const [cat, setCat] = useState<FindingCategory>(f.category);
  const [text, setText] = useState(f.text);
  const save = async () => {
    if (!text.trim()) return;
    await rt.records.updateFinding(f.id, { category: cat, text: text.trim() });
    setMode('view');
  };
  if (mode === 'edit') {
    return (
      <li class="list-item stack finding-edit" data-finding-row={f.text}>
        <Field label={t('category')}>
          <select class="input" data-finding-category value={cat} onChange={(e) => setCat((e.target as HTMLSelectElement).value as FindingCategory)}>
            {FINDING_CATEGORIES.map((c) => <option key={c} value={c}>{t(`cat_${c}`)}</option>)}
          </select>
        </Field>
        <Field label={t('findingText')}>
          <textarea class="input" data-finding-text rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        </Field>
        <div class="grid2">
          <button class="btn btn-ghost" onClick={() => { setMode('view'); setCat(f.category); setText(f.text); }}>{t('cancel')}</button>
          <button class="btn btn-primary" data-finding-save onClick={() => void save()}>{t('saveFinding')}</button>
        </div>
      </li>
    );
  }
  return (
    <li class="list-item finding-item" data-finding-row={f.text}>
      <div>
        <div class="small muted">{t(`cat_${f.category}`)} · {t(`finding_${f.status}` as 'finding_open')}</div>
        <div>{f.text}</div>
        {editable && mode === 'view' && (
          <div class="row-actions">
            <button class="btn btn-ghost btn-small" data-finding-edit onClick={() => setMode('edit')}>{t('editFinding')}</button>
            <button class="btn btn-ghost btn-small" data-finding-delete onClick={() => setMode('delete')}>{t('deleteFinding')}</button>
          </div>
        )}
        {editable && mode === 'delete' && (
          <div class="row-actions" role="alert">
            <span class="small">{t('confirmDeleteFinding')}</span>
            <button class="btn btn-ghost btn-small" onClick={() => setMode('view')}>{t('cancel')}</button>
            <button class="btn btn-danger btn-small" data-finding-delete-yes onClick={() => void rt.records.deleteFinding(f.id)}>{t('deleteFinding')}</button>
          </div>
        )}
      </div>
      <Badge mark={f.sync} />
    </li>
  );
}

function AddFinding({ note }: { note: Note }) {
  const { t, rt } = useCtx();
  const [cat, setCat] = useState<FindingCategory>('shortcoming');
  const [text, setText] = useState('');
  const add = async () => {
    if (!text.trim()) return;
    await rt.records.addFinding(note, cat, text.trim());
    setText('');
  };
  return (
    <div class="stack">
      <Field label={t('category')}>
        <select class="input" id="finding-category" value={cat} onChange={(e) => setCat((e.target as HTMLSelectElement).value as FindingCategory)}>
          {FINDING_CATEGORIES.map((c) => <option key={c} value={c}>{t(`cat_${c}`)}</option>)}
        </select>
      </Field>
      <Field label={t('findingText')}>
        <textarea class="input" id="finding-text" rows={2} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </Field>
      <button class="btn btn-secondary" id="finding-add" onClick={add}>{t('addFinding')}</button>
    </div>
  );
}

/**
 * Every review round of the note, oldest first: who decided what, when,
 * and why. The author sees them on the phone as the reviewers do.
 */
function ReviewRounds({ noteId }: { noteId: string }) {
  const { t, rt, lang } = useCtx();
  const rounds = useData(() => rt.records.reviewRounds(noteId), [noteId]);
  if (!rounds || rounds.length === 0) return null;
  return (
    <div class="card stack">
      <h2>{t('reviewRounds')}</h2>
      <ol class="list" id="review-rounds">
        {rounds.map((r) => (
          <li class="list-item" key={r.id}>
            <div>
              <div class="small muted">
                {new Date(r.at).toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB', { dateStyle: 'short', timeStyle: 'short' })} · {r.reviewer}
              </div>
              <div><strong>{t(`decision_${r.decision}`)}</strong>{r.comment ? `: ${r.comment}` : ''}</div>
            </div>
          </li>
        ))}
      </ol>
    </div>
  );
}

/**
 * For a reviewer (headquarters, or the team leader): the decision and a
 * comment. The box starts empty for every decision; sending a note back
 * needs a comment saying what to revise.
 */
function ReviewPanel({ note }: { note: Note }) {
  const { t, rt } = useCtx();
  const [comment, setComment] = useState('');
  const [missing, setMissing] = useState(false);
  const decide = async (status: 'needs_revision' | 'reviewed') => {
    if (status === 'needs_revision' && !comment.trim()) {
      setMissing(true);
      return;
    }
    await rt.records.review(note.id, status, comment);
    setComment('');
    setMissing(false);
  };
  return (
    <div class="card stack">
      <h2>{t('review')}</h2>
      <Field label={t('reviewComment')}>
        <textarea class="input" id="review-input" rows={3} value={comment} aria-invalid={missing}
          onInput={(e) => { setComment((e.target as HTMLTextAreaElement).value); setMissing(false); }} />
      </Field>
      {missing && <p class="warn-text" id="review-comment-missing" role="alert">{t('reviewCommentRequired')}</p>}
      <div class="grid2">
        <button class="btn btn-secondary" id="review-revise" onClick={() => void decide('needs_revision')}>{t('askRevision')}</button>
        <button class="btn btn-primary" id="review-approve" onClick={() => void decide('reviewed')}>{t('approve')}</button>
      </div>
    </div>
  );
}
