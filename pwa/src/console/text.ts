// The console's words, Vietnamese first and English second, switched by the
// same language as the field app (ui/i18n.ts: loadLang, setLang). Each
// screen module keeps its own dictionary (this file's for the shell, the
// review queue, row history and the report; text-*.ts for the others) and
// registers it with defineText, so that two people never edit one file. Keys
// are shared by every dictionary: a key defined twice stops the console at
// load, naming the key. Strings are NFC; {0}, {1} are arguments. A key no
// console dictionary has is looked up in the field app's words
// (ui/i18n.ts), so the words both use (statuses, categories, note
// sections, the sync bar) are written once, there.
import { useCtx } from '../ui/context';
import { isKey, translate as fieldWords, type Key as FieldKey, type Lang } from '../ui/i18n';

export type Entry = readonly [vi: string, en: string];
export type Dict = Record<string, Entry>;

const all = new Map<string, Entry>();

/** Registers a dictionary and returns it, typed, for useText. */
export function defineText<D extends Dict>(d: D): D {
  for (const [k, v] of Object.entries(d)) {
    const had = all.get(k);
    if (had && had !== v) throw new Error(`console text: key "${k}" is defined twice`);
    all.set(k, v);
  }
  return d;
}

/**
 * A key's words in lang, with {n} filled from args: from the console's
 * dictionaries, else the field app's; the key itself when neither has it.
 */
export function translate(lang: Lang, key: string, ...args: (string | number)[]): string {
  const e = all.get(key);
  if (!e && isKey(key)) return fieldWords(lang, key, ...args);
  const s = e ? e[lang === 'vi' ? 0 : 1] : key;
  return s.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ''));
}

export type Tr<K extends string> = (key: K, ...args: (string | number)[]) => string;

/**
 * The translate function of a screen, bound to the current language and
 * typed by its dictionary (plus the shell's shared words).
 */
export function useText<D extends Dict>(_d: D): Tr<(keyof D & string) | SharedKey> {
  const { lang } = useCtx();
  return (key, ...args) => translate(lang, key, ...args);
}

/** The shell's words every screen may use. */
export const shared = defineText({
  consoleTitle: ['Bảng điều khiển', 'Console'],
  nav_queue: ['Hàng chờ duyệt', 'Review queue'],
  nav_coverage: ['Độ bao phủ', 'Coverage'],
  nav_fielddays: ['Ngày đi cơ sở', 'Field days'],
  nav_findings: ['Phát hiện & kiến nghị', 'Findings'],
  nav_management: ['Quản trị', 'Management'],
  nav_history: ['Lịch sử', 'History'],
  nav_report: ['Báo cáo đợt kiểm tra', 'Campaign report'],
  fieldApp: ['Ứng dụng hiện trường', 'Field app'],
  menu: ['Trình đơn', 'Menu'],
  offline: ['Ngoại tuyến', 'Offline'],
  syncedAt: ['Đồng bộ lúc {0}', 'Synced at {0}'],
  neverSynced: ['Chưa đồng bộ lần nào', 'Never synced'],
  pendingChanges: ['{0} thay đổi chờ gửi', '{0} changes waiting to be sent'],
  syncProblem: ['Đồng bộ lỗi: {0}', 'Sync failed: {0}'],
  needsLogin: ['Cần đăng nhập lại để đồng bộ', 'Log in again to sync'],
  loadMore: ['Xem thêm', 'Show more'],
  retry: ['Thử lại', 'Try again'],
  close: ['Đóng', 'Close'],
  all: ['Tất cả', 'All'],
  none: ['Không có', 'None'],
  notAllowed: ['Tài khoản của bạn không được xem mục này.', 'Your account may not see this page.'],
  notFound: ['Không có trang này trong bảng điều khiển.', 'There is no such page in the console.'],
  comingSoon: ['Màn hình này đang được xây dựng.', 'This screen is being built.'],
  needsNetwork: ['Cần có mạng để đọc dữ liệu từ máy chủ.', 'Reading from the server needs a connection.'],
  serverError: ['Máy chủ báo lỗi: {0}', 'The server reported: {0}'],
  networkError: ['Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.', 'Cannot reach the server. Check the connection and try again.'],
  downloading: ['Đang tải…', 'Downloading…'],
  downloadFailed: ['Không tải được tệp: {0}', 'Could not download the file: {0}'],
  role_admin: ['Quản trị hệ thống', 'Administrator'],
  role_inspection_committee: ['Ban Kiểm tra', 'Inspection Committee'],
  role_office: ['Văn phòng', 'Office'],
  role_department: ['Ban khối phong trào', 'Department'],
  role_secretary: ['Bí thư', 'Secretary'],
  role_inspector: ['Thành viên đoàn kiểm tra', 'Inspector'],
  role_unit_liaison: ['Cán bộ đầu mối đơn vị', 'Unit liaison'],
  // The plan's words for statuses (docs/glossary.md); the others, with the
  // categories and note sections, are the field app's (ui/i18n.ts).
});

/** The shell's words and the field app's, which every screen may use. */
export type SharedKey = keyof typeof shared | FieldKey;

/** The review queue. */
export const queueText = defineText({
  q_title: ['Hàng chờ duyệt', 'Review queue'],
  q_untitled: ['Ghi chép làm việc', 'Visit note'],
  q_refresh: ['Làm mới', 'Refresh'],
  q_search: ['Tìm trong ghi chép và vấn đề phát hiện', 'Search notes and findings'],
  q_searchHint: ['Gõ không dấu cũng được: «lai chau» tìm ra «Lai Châu».', 'Diacritics are optional: “lai chau” finds “Lai Châu”.'],
  q_statusHandedIn: ['Mọi ghi chép đã gửi', 'Every handed-in note'],
  q_campaign: ['Đợt kiểm tra', 'Campaign'],
  q_round: ['Loại đợt', 'Round'],
  q_round_periodic: ['Kiểm tra định kỳ', 'Periodic inspection'],
  q_round_thematic: ['Kiểm tra chuyên đề', 'Thematic inspection'],
  q_round_special: ['Kiểm tra đột xuất', 'Special inspection'],
  q_cluster: ['Cụm hoạt động', 'Cluster'],
  q_any: ['Tất cả', 'Any'],
  q_clear: ['Bỏ lọc', 'Clear filters'],
  q_moreFilters: ['Lọc thêm', 'More filters'],
  q_moreFiltersOn: ['Lọc thêm ({0} đang dùng)', 'More filters ({0} in use)'],
  q_total: ['{0} ghi chép', '{0} notes'],
  q_shown: ['đang hiện {0}', '{0} shown'],
  q_byCampaign: ['Theo đợt kiểm tra', 'By campaign'],
  q_byUnit: ['Theo đơn vị ({0})', 'By unit ({0})'],
  q_empty: ['Không có ghi chép nào chờ duyệt. Ghi chép xuất hiện ở đây khi người viết bấm «Gửi ghi chép» và máy của họ đã đồng bộ.',
    'No notes are waiting for review. A note appears here once its author submits it and their device has synced.'],
  q_emptyFiltered: ['Không có ghi chép nào khớp bộ lọc. Hãy bỏ bớt điều kiện lọc hoặc từ khoá tìm kiếm.',
    'No note matches these filters. Remove a filter or change the search words.'],
  q_waiting: ['chờ {0} ngày', 'waiting {0} days'],
  q_waitingToday: ['gửi hôm nay', 'submitted today'],
  q_pending: ['Đang chờ gửi', 'Waiting to be sent'],
  q_refusedHint: ['Máy chủ từ chối quyết định này: xem ở màn hình Đồng bộ.', 'The server refused this decision: see the Sync screen.'],
  q_refusedWhy: ['Máy chủ từ chối quyết định này: {0}.', 'The server refused this decision: {0}.'],
  q_openSync: ['Sửa hoặc gửi lại ở màn hình Đồng bộ', 'Fix or send it again in Sync'],
  q_sent: ['Đã gửi quyết định', 'Decision sent'],
  q_pick: ['Chọn một ghi chép ở danh sách bên trái để xem và duyệt.', 'Pick a note from the list to read and review it.'],
  q_done: ['Mọi ghi chép trong danh sách này đã có quyết định.', 'Every note in this list has been decided.'],
  q_backToList: ['Danh sách', 'List'],
  q_window: ['Thời gian kiểm tra', 'Inspection window'],
  q_visitDate: ['Ngày làm việc', 'Visit date'],
  q_submittedAt: ['Gửi lúc', 'Submitted at'],
  q_sections: ['Nội dung ghi chép', 'The note'],
  q_emptySection: ['(để trống)', '(empty)'],
  q_noFindings: ['Ghi chép không nêu vấn đề nào.', 'The note raises no findings.'],
  q_checkinPhotos: ['Ảnh điểm danh của người viết tại đơn vị', 'The author’s check-in photos at the unit'],
  q_photoFailed: ['Không tải được ảnh', 'Could not load the photo'],
  q_rounds: ['Các vòng duyệt', 'Review rounds'],
  q_noRounds: ['Chưa có vòng duyệt nào.', 'No review rounds yet.'],
  q_round_submitted: ['Gửi duyệt', 'Handed in'],
  q_round_needs_revision: ['Yêu cầu chỉnh sửa', 'Sent back'],
  q_round_reviewed: ['Đã duyệt', 'Reviewed'],
  q_comment: ['Ý kiến người duyệt', 'Reviewer’s comment'],
  q_commentHint: ['Bắt buộc khi yêu cầu chỉnh sửa: nói rõ cần sửa gì.', 'Required when sending back: say what must change.'],
  q_commentRequired: ['Hãy ghi ý kiến: người viết cần biết phải sửa gì.', 'Write a comment: the author needs to know what to change.'],
  q_sendBack: ['Yêu cầu chỉnh sửa', 'Send back for revision'],
  q_approve: ['Đã duyệt', 'Mark reviewed'],
  q_ownNote: ['Bạn là người viết ghi chép này nên không tự duyệt.', 'You wrote this note, so you do not review it.'],
  q_decided: ['Ghi chép đang ở trạng thái «{0}».', 'The note is “{0}”.'],
  q_history: ['Lịch sử thay đổi', 'Change history'],
  q_openReport: ['In báo cáo', 'Print the report'],
  q_reportNeedsCampaign: ['Chọn một đợt kiểm tra để in báo cáo của đợt.', 'Pick a campaign to print its report.'],
  q_contentFromDevice: ['Đang hiện bản trên máy này (chưa đọc được từ máy chủ).', 'Showing this device’s copy (the server could not be read).'],
  q_loadingNote: ['Đang tải ghi chép…', 'Loading the note…'],
  q_you: ['bạn', 'you'],
});

/** Row history (Lịch sử). */
export const historyText = defineText({
  h_title: ['Lịch sử thay đổi', 'Change history'],
  h_of_visit_notes: ['Ghi chép: {0}', 'Note: {0}'],
  h_of_findings: ['Vấn đề phát hiện: {0}', 'Finding: {0}'],
  h_of_other: ['{0} {1}', '{0} {1}'],
  h_intro: ['Mỗi dòng là một thay đổi máy chủ đã nhận: ai sửa, từ thiết bị nào, giá trị mới, giá trị bị ghi đè và giá trị bị mất do có bản sửa mới hơn.',
    'Each line is a change the server received: who made it, from which device, the new values, the values they overwrote and the values lost to a newer edit.'],
  h_changes: ['Các thay đổi ({0})', 'Changes ({0})'],
  h_when: ['Thời gian', 'When'],
  h_who: ['Người sửa', 'Who'],
  h_device: ['Thiết bị', 'Device'],
  h_what: ['Nội dung thay đổi', 'What changed'],
  h_thisDevice: ['thiết bị này', 'this device'],
  h_server: ['máy chủ', 'the server'],
  h_created: ['Tạo mới', 'Created'],
  h_deleted: ['Xoá', 'Deleted'],
  h_overwrote: ['thay cho', 'replacing'],
  h_lost: ['Bị mất (đã có bản sửa mới hơn)', 'Lost (a newer edit was already there)'],
  h_empty: ['(trống)', '(empty)'],
  h_conflicts: ['Sửa cùng lúc ({0})', 'Concurrent edits ({0})'],
  h_noConflicts: ['Không có lần sửa cùng lúc nào.', 'No concurrent edits.'],
  h_conflictIntro: ['Hai thiết bị sửa cùng một mục mà không thấy bản sửa của nhau; bản có thời điểm sau được giữ.',
    'Two devices changed the same field without seeing each other’s edit; the later one was kept.'],
  h_kept: ['Được giữ', 'Kept'],
  h_dropped: ['Bị thay', 'Replaced'],
  h_detected: ['Phát hiện lúc {0}', 'Found at {0}'],
  h_resolved: ['Đã xem xét lúc {0}', 'Reviewed at {0}'],
  h_resolve: ['Đánh dấu đã xem xét', 'Mark as reviewed'],
  h_noHistory: ['Máy chủ chưa nhận thay đổi nào của bản ghi này.', 'The server has received no change to this record yet.'],
  h_unknownTable: ['Không có lịch sử cho loại bản ghi này.', 'There is no history for this kind of record.'],
});

/** The campaign report's print view. */
export const reportText = defineText({
  r_print: ['In báo cáo', 'Print'],
  r_word: ['Tải Word (.docx)', 'Download Word (.docx)'],
  r_signedOn: ['Ngày ký', 'Signing date'],
  r_signedOnHint: ['Để trống thì ngày, tháng để trống cho Văn phòng điền.', 'Left empty, day and month stay blank for the Office to fill in.'],
  r_loading: ['Đang lập báo cáo…', 'Compiling the report…'],
  r_source: ['Bản xem in này lấy đúng nội dung tệp Word do máy chủ lập: chỉ gồm các ghi chép đã duyệt; đơn vị chưa có ghi chép được duyệt được ghi rõ.',
    'This print view shows exactly what the server’s Word file says: reviewed notes only, with the units not yet reviewed named.'],
  r_backToConsole: ['Bảng điều khiển', 'Console'],
  r_unreadable: ['Không đọc được tệp báo cáo: {0}', 'Could not read the report file: {0}'],
});
