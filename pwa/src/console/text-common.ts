// Words my console screens share (coverage, field days, findings,
// management), Vietnamese first with the plan's terms
// (docs/glossary.md), English second. Strings are NFC; {0}, {1} are
// arguments.
import { defineText } from './text';
export const commonText = defineText({
  c_downloadExcel: ['Tải Excel', 'Download Excel'],
  c_downloading: ['Đang tải…', 'Downloading…'],
  c_downloadFailed: ['Không tải được tệp: {0}', 'Could not download the file: {0}'],
  c_needsNetwork: ['Cần có mạng: màn hình này đọc số liệu trên máy chủ.', 'Needs a connection: this screen reads the server’s figures.'],
  c_loadFailed: ['Không đọc được số liệu: {0}', 'Could not read the figures: {0}'],
  c_retry: ['Thử lại', 'Try again'],
  c_loading: ['Đang tải…', 'Loading…'],
  c_all: ['Tất cả', 'All'],
  c_asOf: ['Số liệu đến ngày {0}', 'Figures as of {0}'],
  c_noCluster: ['Chưa có cụm', 'No cluster'],
  c_allClusters: ['Mọi cụm', 'Every cluster'],
  c_cluster: ['Cụm hoạt động', 'Activity cluster'],
  c_campaign: ['Đợt kiểm tra', 'Inspection campaign'],
  c_allCampaigns: ['Mọi đợt kiểm tra', 'Every campaign'],
  c_year: ['Năm', 'Year'],
  c_close: ['Đóng', 'Close'],
} as const);

/** A dictionary of [Vietnamese, English] pairs. */
export type Pairs = Record<string, readonly [string, string]>;

/** Translates a key of dict into lang, filling {0}, {1}… */
export function tr<D extends Pairs>(dict: D, lang: 'vi' | 'en', key: keyof D, ...args: (string | number)[]): string {
  const pair = dict[key];
  const s: string = pair ? pair[lang === 'vi' ? 0 : 1] : String(key);
  return s.replace(/\{(\d)\}/g, (_, i: string) => String(args[Number(i)] ?? ''));
}
