// Words of the schedule, notice and briefing parts of the field app,
// Vietnamese first and English second, kept apart from i18n.ts so that this
// part's words are edited in one place. {0}, {1} are arguments.
import { useCtx } from './context';

const dict = {
  v_scheduleTitle: ['Lịch làm việc của đoàn kiểm tra', 'The inspection team’s schedule'],
  v_mySchedule: ['Lịch làm việc của đoàn', 'Team schedule'],
  v_noVisits: ['Chưa có lịch làm việc. Lịch hiện ở đây khi Ban Kiểm tra ban hành thông báo và máy đã đồng bộ.', 'No schedule yet. It appears here once the Inspection Committee issues the notice and this phone has synced.'],
  v_noTeamVisits: ['Đoàn chưa được xếp lịch.', 'The team has no schedule yet.'],
  v_comes: ['Đoàn đến làm việc: {0}', 'The team comes: {0}'],
  v_at: ['Địa điểm: {0}', 'Place: {0}'],
  v_contact: ['Liên hệ: {0}', 'Contact: {0}'],
  v_leader: ['Trưởng đoàn: {0}', 'Team leader: {0}'],
  v_members: ['Thành viên: {0}', 'Members: {0}'],
  v_content: ['Nội dung kiểm tra', 'What will be inspected'],
  v_prepare: ['Đơn vị chuẩn bị', 'What to prepare'],
  v_notice: ['Thông báo số {0}', 'Notice no. {0}'],
  v_noticeNoNumber: ['Thông báo của Ban Kiểm tra', 'Notice of the Inspection Committee'],
  v_signed: ['ngày {0}', 'of {0}'],
  v_changed: ['Đã thay đổi (sửa đổi lần {0})', 'Changed (revision {0})'],
  v_noNotice: ['Chưa có thông báo ban hành.', 'No notice issued yet.'],
  v_daysRange: ['{0} – {1}', '{0} – {1}'],
  // Briefings on a phone.
  b_title: ['Giao ban cụm', 'Cluster briefings'],
  b_none: ['Chưa có buổi giao ban nào.', 'No briefing yet.'],
  b_new: ['Ghi buổi giao ban', 'Record a briefing'],
  b_cluster: ['Cụm', 'Cluster'],
  b_round: ['Đợt', 'Round'],
  b_noRound: ['(không gắn đợt)', '(no round)'],
  b_date: ['Ngày giao ban', 'Date'],
  b_place: ['Địa điểm', 'Place'],
  b_host: ['Đơn vị đăng cai', 'Host unit'],
  b_units: ['Đơn vị tham dự', 'Attending units'],
  b_minutes: ['Biên bản (nội dung giao ban)', 'Minutes'],
  b_save: ['Lưu buổi giao ban', 'Save the briefing'],
  b_saved: ['Đã lưu trên máy; sẽ gửi khi có mạng.', 'Saved on this device; sent when online.'],
  b_recs: ['Kiến nghị, đề xuất của cơ sở', 'Recommendations raised'],
  b_noRecs: ['Chưa có kiến nghị.', 'No recommendation yet.'],
  b_addRec: ['Thêm kiến nghị', 'Add a recommendation'],
  b_recText: ['Nội dung kiến nghị', 'Recommendation'],
  b_recUnit: ['Đơn vị kiến nghị', 'Raised by'],
  b_anyUnit: ['(chung cả cụm)', '(the whole cluster)'],
  b_noClusters: ['Bạn không phụ trách cụm nào: chỉ Bí thư và ban phụ trách cụm (hoặc cơ quan Trung ương Đoàn) ghi giao ban.', 'You lead no cluster: only its secretary and department (or headquarters) record its briefings.'],
  b_answer: ['Trả lời: {0}', 'Answer: {0}'],
  b_unanswered: ['Chưa trả lời', 'Not answered yet'],
  b_pending: ['Chờ gửi', 'Waiting to be sent'],
  b_source: ['Giao ban {0}, ngày {1}', 'Briefing of {0}, {1}'],
  b_open: ['Mở buổi giao ban', 'Open the briefing'],
  b_need: ['Chọn cụm và ngày giao ban.', 'Choose the cluster and the date.'],
} as const;

export type VisitKey = keyof typeof dict;

/** The translate function of this part, in the user's language. */
export function useVisitText(): (key: VisitKey, ...args: (string | number)[]) => string {
  const { lang } = useCtx();
  return (key, ...args) => {
    const e = dict[key];
    const s = lang === 'vi' ? e[0] : e[1];
    return s.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ''));
  };
}
