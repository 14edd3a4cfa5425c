// chart.js: small SVG charts drawn by hand, with no library.  A chart is a
// <figure>: its <svg role="img"> carries a <title> and a <desc> summing up
// the figures, the caption says the same in words, and every point is also
// in a visually hidden table, so a screen reader gets the numbers too.
import { useRef } from 'preact/hooks';
import { html, formatCount } from './ui.js';

const W = 400;
const H = 170;
const PAD = { l: 44, r: 10, t: 10, b: 24 };
let seq = 0;

// "2024-02-16" -> "Feb 16" (the API's days are UTC days).
export function formatDay(date, opts = { month: 'short', day: 'numeric' }) {
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return String(date);
  return new Intl.DateTimeFormat(undefined, { ...opts, timeZone: 'UTC' }).format(d);
}

// The smallest 1, 2, 2.5 or 5 times a power of ten at or above max; for
// whole numbers at least 2, so that the middle tick is whole too.
function niceMax(max, integer) {
  if (integer && max <= 2) return 2;
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

// Short axis labels: 1.2k, 3M.
function compact(n) {
  try {
    return new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
  } catch {
    return String(n);
  }
}

function useId(prefix) {
  const ref = useRef(null);
  if (!ref.current) ref.current = `${prefix}-${++seq}`;
  return ref.current;
}

function summary(title, points, format) {
  if (!points.length) return `${title}: no data.`;
  const total = points.reduce((s, p) => s + (Number(p.value) || 0), 0);
  const peak = points.reduce((a, p) => (Number(p.value) > Number(a.value) ? p : a), points[0]);
  const range = `${formatDay(points[0].date)} to ${formatDay(points[points.length - 1].date)}`;
  if (!total) return `${title}, ${range}: none.`;
  return `${title}, ${range}: ${format(total)} in all; the most was ${format(peak.value)} on ${formatDay(peak.date)}.`;
}

// <LineChart title="Views" points=${[{date, value}]} format=${fn} integer=${false} />:
// a line over an area, the y axis from 0 to a round maximum.
export function LineChart({ title, points, format = formatCount, integer = true, color = 'var(--accent)' }) {
  const id = useId('chart');
  const values = points.map((p) => Number(p.value) || 0);
  const max = niceMax(Math.max(0, ...values), integer);
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const x = (i) => PAD.l + (points.length > 1 ? (i * iw) / (points.length - 1) : iw / 2);
  const y = (v) => PAD.t + ih - (v / max) * ih;
  const line = values.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join('');
  const area = points.length > 1
    ? `${line}L${x(values.length - 1).toFixed(1)},${y(0)}L${x(0).toFixed(1)},${y(0)}Z` : '';
  const ticks = [0, max / 2, max];
  const xLabels = points.length > 2 ? [0, Math.floor((points.length - 1) / 2), points.length - 1]
    : points.map((_, i) => i);
  const text = summary(title, points, format);
  return html`<figure class="chart">
    <figcaption id=${`${id}-cap`}><strong>${title}</strong> <span class="chart-summary">${text}</span></figcaption>
    <svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-labelledby=${`${id}-t ${id}-d`} focusable="false">
      <title id=${`${id}-t`}>${title}</title>
      <desc id=${`${id}-d`}>${text}</desc>
      ${ticks.map((t) => html`<g class="tick" key=${t}>
        <line x1=${PAD.l} x2=${W - PAD.r} y1=${y(t)} y2=${y(t)} />
        <text x=${PAD.l - 6} y=${y(t) + 4} text-anchor="end">${compact(t)}</text>
      </g>`)}
      ${xLabels.map((i) => html`<text class="xlabel" key=${i} x=${x(i)} y=${H - 6}
        text-anchor=${i === 0 && points.length > 1 ? 'start' : i === points.length - 1 && points.length > 1 ? 'end' : 'middle'}>${formatDay(points[i].date)}</text>`)}
      ${area && html`<path class="area" d=${area} fill=${color} />`}
      ${points.length > 0 && html`<path class="line" d=${line} stroke=${color} />`}
      ${points.length <= 31 && points.map((p, i) => html`<circle key=${p.date} cx=${x(i)} cy=${y(values[i])} r="2.5" fill=${color}>
        <title>${formatDay(p.date)}: ${format(p.value)}</title>
      </circle>`)}
    </svg>
    <div class="sr-only"><table>
      <caption>${title} by day</caption>
      <thead><tr><th scope="col">Day</th><th scope="col">${title}</th></tr></thead>
      <tbody>${points.map((p) => html`<tr key=${p.date}><th scope="row">${formatDay(p.date, { dateStyle: 'medium' })}</th><td>${format(p.value)}</td></tr>`)}</tbody>
    </table></div>
  </figure>`;
}
