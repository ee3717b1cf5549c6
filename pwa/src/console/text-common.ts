// Words my console screens share (coverage, field days, findings,
// management), Vietnamese first with the plan's terms
// (docs/glossary.md), English second. Strings are NFC; {0}, {1} are
// arguments.
import { defineText, translate, type SharedKey } from './text';
export const commonText = defineText({
  c_downloadExcel: ['Tải Excel', 'Download Excel'],
  c_needsNetwork: ['Cần có mạng: màn hình này đọc số liệu trên máy chủ.', 'Needs a connection: this screen reads the server’s figures.'],
  c_loadFailed: ['Không đọc được số liệu: {0}', 'Could not read the figures: {0}'],
  c_asOf: ['Số liệu đến ngày {0}', 'Figures as of {0}'],
  c_noCluster: ['Chưa có cụm', 'No cluster'],
  c_allClusters: ['Mọi cụm', 'Every cluster'],
  c_allCampaigns: ['Mọi đợt kiểm tra', 'Every campaign'],
} as const);

/** A dictionary of [Vietnamese, English] pairs. */
export type Pairs = Record<string, readonly [string, string]>;

/**
 * Translates a key of dict into lang, filling {0}, {1}…; a key dict lacks
 * is the shell's or the field app's (text.ts translate), so words both
 * say the same are written once.
 */
export function tr<D extends Pairs>(dict: D, lang: 'vi' | 'en', key: keyof D | SharedKey, ...args: (string | number)[]): string {
  const pair = dict[key as keyof D];
  if (!pair) return translate(lang, String(key), ...args);
  const s: string = pair[lang === 'vi' ? 0 : 1];
  return s.replace(/\{(\d)\}/g, (_, i: string) => String(args[Number(i)] ?? ''));
}
