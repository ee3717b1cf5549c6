// A refused change explained in the user's language: built from the
// server's stable code and the field it names (protocol Result.field), with
// the field called by the label its form shows. The server's own sentence
// (English, for support) stays as a detail line on the screen.
import { isKey, type Key } from './i18n';

type T = (key: Key, ...args: (string | number)[]) => string;

/** The label a field has wherever the app shows it, by wire name. */
const LABELS: Record<string, Key> = {
  title: 'noteTitle',
  results: 'section_results',
  models: 'section_models',
  shortcomings: 'section_shortcomings',
  aspirations: 'section_aspirations',
  recommendations: 'section_recommendations',
  conclusions: 'section_conclusions',
  purpose: 'purpose',
  kind: 'kind',
  campaign_id: 'campaign',
  trip_id: 'trip',
  unit_id: 'unit',
  unit_ids: 'units',
  starts_on: 'startsOn',
  ends_on: 'endsOn',
  status: 'status',
  notes: 'notesField',
  note: 'note',
  day: 'field_day',
  activity: 'activity',
  at: 'field_at',
  lat: 'position',
  lng: 'position',
  accuracy_m: 'position',
  photo: 'photo',
  voided: 'field_voided',
  void_reason: 'field_void_reason',
  category: 'category',
  text: 'field_text',
  review_comment: 'reviewComment',
  reviewed_by: 'field_reviewed_by',
  user_id: 'field_owner',
  author_id: 'field_owner',
  note_id: 'visitNote',
  finding_id: 'table_findings',
  department_id: 'field_department',
  due_on: 'field_due_on',
  answer: 'field_answer',
  status_to: 'status',
  attachments: 'field_attachments',
  team_id: 'field_team',
  place: 'field_place',
  contact: 'field_contact',
  number: 'field_number',
  signed_on: 'field_signed_on',
  recipients: 'field_recipients',
  content: 'field_content',
  preparation: 'field_preparation',
  held_on: 'field_held_on',
  host_unit_id: 'field_host_unit',
  minutes: 'field_minutes',
  cluster_id: 'field_cluster',
  decision: 'field_decision',
  reviewer_id: 'field_reviewed_by',
};

/** Where one table's form words a field differently from the rest of the app. */
const TABLE_LABELS: Record<string, Record<string, Key>> = {
  trips: { title: 'tripTitle' },
  findings: { text: 'findingText' },
  units: { name: 'placeName', parent_id: 'placeParent' },
  reviews: { comment: 'reviewComment' },
};

/** A table's name in the user's words (the wire name for a table this build has no word for). */
export function tableLabel(t: T, table: string): string {
  const key = `table_${table}`;
  return isKey(key) ? t(key) : table;
}

/** The field's label as its form shows it; the wire name for a field no screen shows. */
export function fieldLabel(t: T, table: string, field: string): string {
  const key = TABLE_LABELS[table]?.[field] ?? LABELS[field];
  return key ? t(key) : field;
}

/** Codes with their own explanation; any other code gets the generic one. */
const KNOWN = ['validation_failed', 'forbidden', 'unknown_table', 'unknown_field', 'immutable', 'clock_skew'];
/** Codes whose explanation never names a field. */
const FIELDLESS = ['unknown_table', 'clock_skew'];

/** Refusals with a sentence of their own, by table, field and code. */
const SPECIFIC: Record<string, Key> = {
  'trip_days.day.validation_failed': 'futureDayRefused',
};

/** Why the server refused, in the user's words, naming the field when the server did. */
export function refusalExplanation(t: T, table: string, code: string, field: string | null): string {
  const own = SPECIFIC[`${table}.${field ?? ''}.${code}`];
  if (own) return t(own);
  const base = KNOWN.includes(code) ? code : 'other';
  if (field && !FIELDLESS.includes(base)) {
    return t(`refused_${base}_field` as Key, fieldLabel(t, table, field));
  }
  return t(`refused_${base}` as Key);
}
