// The console's words, Vietnamese first and English second, switched by the
// same language as the field app (ui/i18n.ts: loadLang, setLang). Each
// screen module keeps its own dictionary (this file's for the shell, the
// review queue, row history and the report; text-*.ts for the others) and
// registers it with defineText, so that two people never edit one file. Keys
// are shared by every dictionary: a key defined twice stops the console at
// load, naming the key. Strings are NFC; {0}, {1} are arguments.
import { useCtx } from '../ui/context';
import type { Lang } from '../ui/i18n';

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

/** A key's words in lang, with {n} filled from args; the key itself when no dictionary has it. */
export function translate(lang: Lang, key: string, ...args: (string | number)[]): string {
  const e = all.get(key);
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
  logout: ['Đăng xuất', 'Log out'],
  language: ['English', 'Tiếng Việt'],
  menu: ['Trình đơn', 'Menu'],
  online: ['Có mạng', 'Online'],
  offline: ['Ngoại tuyến', 'Offline'],
  syncing: ['Đang đồng bộ…', 'Syncing…'],
  syncNow: ['Đồng bộ ngay', 'Sync now'],
  syncedAt: ['Đồng bộ lúc {0}', 'Synced at {0}'],
  neverSynced: ['Chưa đồng bộ lần nào', 'Never synced'],
  pendingChanges: ['{0} thay đổi chờ gửi', '{0} changes waiting to be sent'],
  syncProblem: ['Đồng bộ lỗi: {0}', 'Sync failed: {0}'],
  needsLogin: ['Cần đăng nhập lại để đồng bộ', 'Log in again to sync'],
  loading: ['Đang tải…', 'Loading…'],
  loadMore: ['Xem thêm', 'Show more'],
  retry: ['Thử lại', 'Try again'],
  back: ['Quay lại', 'Back'],
  close: ['Đóng', 'Close'],
  all: ['Tất cả', 'All'],
  none: ['Không có', 'None'],
  notAllowed: ['Tài khoản của bạn không được xem mục này.', 'Your account may not see this page.'],
  notFound: ['Không có trang này trong bảng điều khiển.', 'There is no such page in the console.'],
  comingSoon: ['Màn hình này đang được xây dựng.', 'This screen is being built.'],
  needsNetwork: ['Cần có mạng để đọc dữ liệu từ máy chủ.', 'Reading from the server needs a connection.'],
  serverError: ['Máy chủ báo lỗi: {0}', 'The server reported: {0}'],
  networkError: ['Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.', 'Cannot reach the server. Check the connection and try again.'],
  invalidField: ['«{0}» không hợp lệ', '“{0}” is not valid'],
  downloading: ['Đang tải…', 'Downloading…'],
  downloadFailed: ['Không tải được tệp: {0}', 'Could not download the file: {0}'],
  role_admin: ['Quản trị hệ thống', 'Administrator'],
  role_inspection_committee: ['Ban Kiểm tra', 'Inspection Committee'],
  role_office: ['Văn phòng', 'Office'],
  role_department: ['Ban khối phong trào', 'Department'],
  role_secretary: ['Bí thư', 'Secretary'],
  role_inspector: ['Thành viên đoàn kiểm tra', 'Inspector'],
  role_unit_liaison: ['Cán bộ đầu mối đơn vị', 'Unit liaison'],
});

export type SharedKey = keyof typeof shared;
