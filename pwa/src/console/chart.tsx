// The console's charts, in plain SVG and CSS: a stacked bar per campaign
// (coverage) and a secretary's cumulative field days by month against the
// pace line. A chart library would weigh more than these two shapes.

export interface Segment {
  key: string;
  value: number;
  label: string;
}

/**
 * One horizontal bar split into segments (each coloured by its key through
 * the .seg-<key> class), with the counts as its accessible name.
 */
export function StackBar({ segments, total, id }: { segments: Segment[]; total: number; id?: string }) {
  const shown = segments.filter((s) => s.value > 0);
  const name = shown.map((s) => `${s.label}: ${s.value}`).join(', ');
  return (
    <div class="stackbar" id={id} role="img" aria-label={name}>
      {total === 0 ? <div class="stackbar-empty" /> : shown.map((s) => (
        <div key={s.key} class={`seg seg-${s.key}`} data-seg={s.key} data-count={s.value}
          style={{ width: `${(100 * s.value) / total}%` }} title={`${s.label}: ${s.value}`}>
          {s.value / total >= 0.06 ? s.value : ''}
        </div>
      ))}
    </div>
  );
}

/** The colour key under a StackBar. */
export function Legend({ segments }: { segments: Segment[] }) {
  return (
    <ul class="legend">
      {segments.map((s) => (
        <li key={s.key}><span class={`swatch seg-${s.key}`} aria-hidden="true" />{s.label} <strong>{s.value}</strong></li>
      ))}
    </ul>
  );
}

export interface MonthPoint {
  /** 1..12 */
  month: number;
  /** Field days from January 1 to the end of the month (or to the day read). */
  days: number;
}

/**
 * Cumulative field days by month (a stepped line through each month's end)
 * against the pace line: the plan's minimum spread evenly over the year.
 * small draws a sparkline for a table row; otherwise axes and labels.
 */
export function CumulativeChart({ points, min, small, label, monthLabel }: {
  points: MonthPoint[];
  min: number;
  small?: boolean;
  label: string;
  monthLabel?: (m: number) => string;
}) {
  const w = small ? 150 : 560;
  const h = small ? 44 : 240;
  const pad = small ? { l: 2, r: 2, t: 3, b: 3 } : { l: 36, r: 12, t: 12, b: 28 };
  const top = Math.max(min, ...points.map((p) => p.days), 1);
  const x = (m: number) => pad.l + ((w - pad.l - pad.r) * m) / 12;
  const y = (d: number) => h - pad.b - ((h - pad.t - pad.b) * d) / top;
  const line = [`${x(0)},${y(0)}`, ...points.map((p) => `${x(p.month)},${y(p.days)}`)].join(' ');
  const last = points[points.length - 1];
  const ticks = small ? [] : [0, Math.round(top / 2), top];
  return (
    <svg class={small ? 'cumchart cumchart-small' : 'cumchart'} viewBox={`0 0 ${w} ${h}`} width={w} height={h}
      role="img" aria-label={label}>
      {ticks.map((v) => (
        <g key={v}>
          <line class="grid" x1={pad.l} x2={w - pad.r} y1={y(v)} y2={y(v)} />
          <text class="tick" x={pad.l - 6} y={y(v) + 4} text-anchor="end">{v}</text>
        </g>
      ))}
      {!small && monthLabel && Array.from({ length: 12 }, (_, i) => (
        <text key={i} class="tick" x={(x(i) + x(i + 1)) / 2} y={h - 8} text-anchor="middle">{monthLabel(i + 1)}</text>
      ))}
      <line class="pace" x1={x(0)} y1={y(0)} x2={x(12)} y2={y(min)} />
      <polyline class="days" points={line} />
      {!small && points.map((p) => <circle key={p.month} class="dot" cx={x(p.month)} cy={y(p.days)} r={3} />)}
      {last && <circle class="dot dot-last" cx={x(last.month)} cy={y(last.days)} r={small ? 2.5 : 4} />}
    </svg>
  );
}
