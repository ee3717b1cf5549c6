// A failed request in the console, in the user's language: built from the
// envelope's stable code and, for validation_failed, from the field each
// detail names and the rule it broke (docs/protocol.md, the error
// envelope), the field called by the label its form shows. The server's own
// sentence (English, written for support) is shown only for a code this
// build has no words for. Refused sync changes are the field app's
// refusalExplanation (ui/refusal.ts).
import { ApiError, NetworkError } from '../sync/session';
import type { Lang } from '../ui/i18n';
import { fieldLabel } from '../ui/refusal';
import { defineText, translate } from './text';

/** One field the server refused (validation_failed details). */
export interface FieldFault {
  field: string;
  rule: string;
  param?: string;
}

export const errorWords = defineText({
  // Codes of the error envelope (server/api/errors.go and the handlers).
  err_forbidden: ['Tài khoản của bạn không được làm việc này.', 'Your account may not do this.'],
  err_not_found: ['Máy chủ không còn mục này, hoặc tài khoản của bạn không được xem nó (có thể vừa bị xoá, hay quyền vừa đổi). Tải lại để xem dữ liệu mới nhất.', 'The server no longer has this, or your account may not see it (it may have just been deleted, or your roles changed). Reload to see the latest.'],
  err_id_taken: ['Mã của mục này đã được dùng trên máy chủ. Tải lại rồi thử lại.', 'The server already has an item with this id. Reload and try again.'],
  err_unauthorized: ['Phiên đăng nhập đã hết. Đăng nhập lại rồi thử lại.', 'Your session has ended. Log in again and retry.'],
  err_rate_limited: ['Quá nhiều yêu cầu trong thời gian ngắn. Chờ một lát rồi thử lại.', 'Too many requests in a short time. Wait a moment and retry.'],
  err_too_large: ['Dữ liệu gửi lên quá lớn.', 'What was sent is too large.'],
  err_unavailable: ['Máy chủ tạm thời chưa sẵn sàng. Thử lại sau ít phút; chưa có gì được ghi.', 'The server is not available for a moment. Retry in a few minutes; nothing was written.'],
  err_internal: ['Máy chủ gặp lỗi khi xử lý. Thử lại; nếu vẫn lỗi, báo quản trị hệ thống.', 'The server failed to handle this. Retry; if it fails again, tell the administrator.'],
  err_request: ['Ứng dụng gửi yêu cầu không hợp lệ. Tải lại trang rồi thử lại.', 'The app sent a request the server could not read. Reload the page and retry.'],
  err_invalid: ['Dữ liệu không hợp lệ.', 'Something in it is not valid.'],
  err_in_use: ['Còn dữ liệu đang dùng mục này: {0}.', 'Still in use: {0}.'],
  err_field: ['«{0}»: {1}', '“{0}”: {1}'],
  // Rules a field broke (validation_failed details, and the forms' own
  // checks made before sending, by the same names).
  rule_required: ['Cần nhập mục này', 'This is required'],
  rule_min: ['Quá ngắn (tối thiểu {0})', 'Too short (at least {0})'],
  rule_max: ['Quá dài (tối đa {0})', 'Too long (at most {0})'],
  rule_username: ['3–64 ký tự a-z, 0-9, dấu chấm, gạch dưới hoặc gạch ngang; không dấu, không khoảng trắng', '3–64 characters of a-z, 0-9, “.”, “_” or “-”'],
  rule_username_taken: ['Tên đăng nhập đã có người dùng', 'That username is taken'],
  rule_exists: ['Mục được chọn không còn tồn tại', 'The chosen item no longer exists'],
  rule_oneof: ['Giá trị không được chấp nhận', 'Not an accepted value'],
  rule_gtefield: ['Ngày kết thúc phải sau ngày bắt đầu', 'The end must not be before the start'],
  rule_date: ['Ngày không hợp lệ', 'Not a valid date'],
  rule_int: ['Phải là số nguyên', 'Must be a whole number'],
  rule_uuid: ['Mã không hợp lệ', 'Not a valid id'],
  rule_needs_department: ['Vai trò «Ban khối phong trào» cần chọn ban', 'The department role needs a department'],
  rule_needs_unit: ['Vai trò «Cán bộ đầu mối đơn vị» cần chọn đơn vị', 'The unit liaison role needs a unit'],
  rule_confirm: ['Hai lần nhập mật khẩu mới không khớp', 'The two new passwords differ'],
  rule_current_password: ['Mật khẩu hiện tại không đúng', 'The current password is wrong'],
  rule_nefield: ['Mật khẩu mới phải khác mật khẩu hiện tại', 'The new password must differ from the current one'],
  rule_last_admin: ['Không thể khoá hoặc bỏ quyền quản trị của quản trị viên cuối cùng', 'The last enabled administrator cannot be disabled or lose the role'],
  rule_cursor: ['Danh sách đã thay đổi: tải lại từ đầu', 'The list has changed: load it again from the start'],
  rule_other: ['Giá trị không hợp lệ', 'Not a valid value'],
  // What the console names in words that the field app does not.
  field_full_name: ['Họ và tên', 'Full name'],
  field_roles: ['Vai trò', 'Roles'],
  field_name: ['Tên', 'Name'],
  field_member_ids: ['Thành viên', 'Members'],
  field_limit: ['Số dòng mỗi trang', 'Rows a page'],
  field_cursor: ['Trang tiếp theo', 'Next page'],
  table_departments: ['Ban', 'Departments'],
  table_users: ['Người dùng', 'Users'],
  table_clusters: ['Cụm hoạt động', 'Activity clusters'],
  table_plans: ['Kế hoạch', 'Plans'],
  table_campaigns: ['Đợt kiểm tra', 'Inspection campaigns'],
  table_special_periods: ['Đợt cao điểm', 'Special periods'],
  table_teams: ['Đoàn kiểm tra', 'Inspection teams'],
} as const);

/** Codes that say the same thing in different words: they share a sentence. */
const SAME: Record<string, keyof typeof errorWords> = {
  token_expired: 'err_unauthorized',
  body_too_large: 'err_too_large',
  attachment_too_large: 'err_too_large',
  store_unavailable: 'err_unavailable',
  unavailable: 'err_unavailable',
  not_ready: 'err_unavailable',
  invalid_json: 'err_request',
  bad_request: 'err_request',
  unknown_field: 'err_request',
  unknown_filter: 'err_request',
  unsupported_media_type: 'err_request',
  unsupported_encoding: 'err_request',
  invalid_gzip: 'err_request',
  method_not_allowed: 'err_request',
};

/** Rules whose words are another's. */
const SAME_RULE: Record<string, string> = { notnull: 'required', datetime: 'date', number: 'int', year: 'int', boolean: 'oneof', valid: 'other' };

/** The fields a refusal names, by wire name (validation_failed details). */
export function faultsOf(e: unknown): Record<string, FieldFault> {
  const out: Record<string, FieldFault> = {};
  if (!(e instanceof ApiError) || !Array.isArray(e.details)) return out;
  for (const d of e.details as unknown[]) {
    const f = d as Partial<FieldFault>;
    if (f && typeof f.field === 'string' && typeof f.rule === 'string') out[f.field] = { field: f.field, rule: f.rule, param: f.param };
  }
  return out;
}

/** A broken rule in words ("Quá dài (tối đa 300)"). */
export function ruleText(lang: Lang, f: FieldFault): string {
  const rule = SAME_RULE[f.rule] ?? f.rule;
  const key = `rule_${rule}`;
  return key in errorWords ? translate(lang, key, f.param ?? '') : translate(lang, 'rule_other');
}

/** Fields the field app has a word for under another name. */
const FIELD_WORDS: Record<string, string> = { username: 'username', password: 'password', leader_id: 'teamLeader', year: 'year' };

/** A field by the label its form shows (labels first), else the app's word for it, else its wire name. */
export function fieldText(lang: Lang, field: string, labels: Record<string, string> = {}): string {
  if (labels[field]) return labels[field];
  const own = FIELD_WORDS[field] ?? `field_${field}`;
  if (FIELD_WORDS[field] || own in errorWords) return translate(lang, own);
  return fieldLabel((k, ...a) => translate(lang, k, ...a), '', field);
}

/** A table in words (a refusal that names where a row is still used). */
export function tableText(lang: Lang, table: string): string {
  const key = `table_${table}`;
  const s = translate(lang, key);
  return s === key ? table : s;
}

/**
 * A failed request in the user's words: the network; each field a
 * validation refusal names, with the rule it broke; the code's own
 * sentence; the server's message only for a code this build does not know.
 */
export function errorText(lang: Lang, e: unknown, labels: Record<string, string> = {}): string {
  if (e instanceof NetworkError) return translate(lang, 'networkError');
  if (!(e instanceof ApiError)) return translate(lang, 'serverError', e instanceof Error ? e.message : String(e));
  const faults = Object.values(faultsOf(e));
  if (faults.length > 0 && (e.code === 'validation_failed' || e.code === 'unknown_field')) {
    return faults.map((f) => translate(lang, 'err_field', fieldText(lang, f.field, labels), ruleText(lang, f))).join('; ');
  }
  switch (e.code) {
    case 'validation_failed':
      return translate(lang, 'err_invalid');
    case 'username_taken':
    case 'last_admin':
      return ruleText(lang, { field: '', rule: e.code });
    case 'wrong_password':
      return ruleText(lang, { field: '', rule: 'current_password' });
    case 'in_use':
      return translate(lang, 'err_in_use', usesText(lang, e.details));
  }
  const key = SAME[e.code] ?? `err_${e.code}`;
  if (key in errorWords) return translate(lang, key);
  if (e.status >= 500) return translate(lang, 'err_internal');
  return translate(lang, 'serverError', `${e.message} (${e.code})`);
}

/** Where a row is still used (in_use details: [{table, field, count}]), in words. */
function usesText(lang: Lang, details: unknown): string {
  if (!Array.isArray(details)) return '';
  return (details as { table?: string; count?: number }[])
    .filter((u) => typeof u?.table === 'string')
    .map((u) => `${u.count ?? ''} ${tableText(lang, u.table!)}`.trim())
    .join(', ');
}

/** A sync run's server problem (the engine's "code: message") in words, when its code is known. */
export function syncProblemText(lang: Lang, message: string): string {
  const code = /^([a-z_]+): /.exec(message)?.[1];
  if (!code) return message;
  const key = SAME[code] ?? `err_${code}`;
  return key in errorWords ? translate(lang, key) : message;
}
