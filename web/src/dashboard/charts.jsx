// Charts: a uPlot line per metric with the baseline band and the anomalies
// marked, and a small SVG interval plot for an evaluation's effect.
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { gql, pages } from './api.js';
import { METRIC_CONTEXT, OBSERVATIONS_PAGE } from './operations.js';

const daySeconds = (d) => Date.parse(`${d}T00:00:00Z`) / 1000;

// series builds uPlot's columns: x (days), value, band low, band high,
// anomaly (the value on days inside an anomaly insight, else null).
function series(data) {
  const obs = data.observations.filter((o) => !o.missing && o.value != null);
  const byDay = new Map();
  for (const o of obs) if (!byDay.has(o.localDay)) byDay.set(o.localDay, o.value); // one point a day
  const days = [...byDay.keys()].sort();
  const baselines = [...data.baselines].filter((b) => b.bandLow != null && b.bandHigh != null)
    .sort((a, b) => (a.asOfDay < b.asOfDay ? -1 : 1));
  const anomalies = data.insights.edges.map((e) => e.node);
  const inAnomaly = (d) => anomalies.some((a) => a.startDay <= d && d <= a.endDay);
  const x = [], v = [], lo = [], hi = [], an = [];
  for (const d of days) {
    let band = null;
    for (const b of baselines) if (b.asOfDay <= d) band = b; // the baseline in force that day
    if (!band && baselines.length) band = baselines[0];
    x.push(daySeconds(d));
    v.push(byDay.get(d));
    lo.push(band ? band.bandLow : null);
    hi.push(band ? band.bandHigh : null);
    an.push(inAnomaly(d) ? byDay.get(d) : null);
  }
  return { cols: [x, v, lo, hi, an], anomalies: an.filter((a) => a != null).length, days: days.length };
}

export function MetricChart({ metric, info, refreshKey }) {
  const box = useRef(null);
  const [summary, setSummary] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!metric) return undefined;
    let plot = null;
    let cancelled = false;
    let observer = null;
    Promise.all([pages(OBSERVATIONS_PAGE, { metric }, 4), gql(METRIC_CONTEXT, { metric })]).then(([observations, ctx]) => {
      const data = { ...ctx, observations };
      if (cancelled || !box.current) return;
      const s = series(data);
      setSummary(s);
      const unit = info?.canonicalUnit || '';
      const width = () => Math.max(280, box.current.clientWidth);
      plot = new uPlot({
        width: width(),
        height: 240,
        scales: { x: { time: true } },
        series: [
          {},
          { label: `${info?.name || metric} (${unit})`, stroke: '#1f5fa8', width: 2, points: { show: true, size: 4 } },
          { label: 'Baseline band low', stroke: '#8fb98f', width: 1, dash: [4, 4] },
          { label: 'Baseline band high', stroke: '#8fb98f', width: 1, dash: [4, 4] },
          { label: 'Anomaly', stroke: '#c0392b', width: 0, paths: () => null, points: { show: true, size: 10, stroke: '#c0392b', fill: '#c0392b' } },
        ],
        bands: [{ series: [3, 2], fill: 'rgba(120, 180, 120, 0.18)' }],
        axes: [{}, { label: unit }],
      }, s.cols, box.current);
      observer = new ResizeObserver(() => plot && plot.setSize({ width: width(), height: 240 }));
      observer.observe(box.current);
    }, setError);
    return () => {
      cancelled = true;
      if (observer) observer.disconnect();
      if (plot) plot.destroy();
    };
  }, [metric, refreshKey]);
  return (
    <figure class="chart" aria-labelledby={`cap-${metric}`}>
      <div ref={box} class="chart-box" role="img"
        aria-label={summary ? `${metric}: ${summary.days} days of data, ${summary.anomalies} anomalous days marked in red, baseline band shaded` : `${metric} chart`} />
      <figcaption id={`cap-${metric}`}>
        {error ? <span role="alert">{error.message}</span> : `${info?.name || metric}: daily values, the baseline band (shaded) and anomalies (red)` }
        {summary ? ` · ${summary.days} days, ${summary.anomalies} anomalous` : ''}
      </figcaption>
    </figure>
  );
}

// IntervalPlot draws the effect and its 95% interval against zero (and the
// minimum detectable effect, when known) on a shared axis.
export function IntervalPlot({ effect, low, high, mde, unit }) {
  if (effect == null || low == null || high == null) return null;
  const marks = [0, effect, low, high, ...(mde ? [mde, -mde] : [])];
  const span = Math.max(...marks.map(Math.abs)) * 1.15 || 1;
  const W = 320, H = 56, pad = 16;
  const X = (v) => pad + ((v + span) / (2 * span)) * (W - 2 * pad);
  return (
    <svg class="interval" viewBox={`0 0 ${W} ${H}`} role="img"
      aria-label={`Effect ${effect.toFixed(2)} ${unit}, 95% interval ${low.toFixed(2)} to ${high.toFixed(2)} ${unit}`}>
      <line x1={pad} x2={W - pad} y1={28} y2={28} stroke="#bbb" />
      <line x1={X(0)} x2={X(0)} y1={8} y2={48} stroke="#555" stroke-dasharray="3 3" />
      {mde ? <rect x={X(-mde)} width={X(mde) - X(-mde)} y={18} height={20} fill="rgba(200,200,200,0.35)" /> : null}
      <line class="ci" x1={X(low)} x2={X(high)} y1={28} y2={28} stroke="#1f5fa8" stroke-width={4} />
      <circle class="effect-dot" cx={X(effect)} cy={28} r={6} fill="#1f5fa8" />
      <text x={X(0)} y={H - 1} font-size="10" text-anchor="middle">0</text>
      <text x={X(effect)} y={12} font-size="10" text-anchor="middle">{effect.toFixed(2)}</text>
    </svg>
  );
}
