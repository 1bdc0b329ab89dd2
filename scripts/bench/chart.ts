/** Draws latency against concurrency as a self-contained SVG: no charting dependency to install. */

export interface ChartSeries {
  label: string;
  color: string;
  dashed: boolean;
  /** [concurrency, milliseconds] */
  points: [number, number][];
}

const WIDTH = 760;
const HEIGHT = 440;
const MARGIN = { left: 70, right: 230, top: 40, bottom: 56 };

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Log scales on both axes: concurrency grows by 16 and 4, latency spans microseconds to seconds. */
export function latencyChart(
  title: string,
  concurrency: readonly number[],
  series: ChartSeries[],
  targets: { ms: number; label: string }[] = [],
): string {
  const values = [...series.flatMap((line) => line.points.map(([, ms]) => ms)), ...targets.map((target) => target.ms)].filter(
    (ms) => ms > 0 && Number.isFinite(ms),
  );
  const low = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const minC = Math.min(...concurrency);
  const maxC = Math.max(...concurrency);
  const x = (clients: number): number =>
    MARGIN.left + (maxC === minC ? 0 : (Math.log(clients / minC) / Math.log(maxC / minC)) * plotWidth);
  const y = (ms: number): number => MARGIN.top + plotHeight - (Math.log(ms / low) / Math.log(high / low)) * plotHeight;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let decade = low; decade <= high; decade *= 10) {
    const label = decade >= 1 ? `${decade} ms` : `${decade * 1000} µs`;
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(decade)}" y2="${y(decade)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 8}" y="${y(decade) + 4}" text-anchor="end">${escape(label)}</text>`,
    );
  }
  for (const clients of concurrency) {
    parts.push(
      `<line x1="${x(clients)}" x2="${x(clients)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#eee"/>`,
      `<text x="${x(clients)}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle">${clients}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 14}" text-anchor="middle">concurrent clients</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">latency (log scale)</text>`,
  );
  for (const target of targets) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(target.ms)}" y2="${y(target.ms)}" stroke="#2ca02c" stroke-dasharray="2 3"/>`,
      `<text x="${MARGIN.left + 6}" y="${y(target.ms) - 4}" fill="#2ca02c">${escape(target.label)}</text>`,
    );
  }
  series.forEach((line, index) => {
    const points = line.points.filter(([, ms]) => ms > 0 && Number.isFinite(ms));
    const dash = line.dashed ? ' stroke-dasharray="6 4"' : '';
    if (points.length > 1) {
      const path = points.map(([clients, ms], at) => `${at === 0 ? 'M' : 'L'}${x(clients).toFixed(1)},${y(ms).toFixed(1)}`).join(' ');
      parts.push(`<path d="${path}" fill="none" stroke="${line.color}" stroke-width="2"${dash}/>`);
    }
    for (const [clients, ms] of points) {
      parts.push(`<circle cx="${x(clients).toFixed(1)}" cy="${y(ms).toFixed(1)}" r="3.5" fill="${line.color}"><title>${escape(`${line.label}: ${ms.toFixed(2)} ms at ${clients}`)}</title></circle>`);
    }
    const legendY = MARGIN.top + 8 + index * 20;
    const legendX = MARGIN.left + plotWidth + 16;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 28}" y1="${legendY}" y2="${legendY}" stroke="${line.color}" stroke-width="2"${dash}/>`,
      `<text x="${legendX + 36}" y="${legendY + 4}">${escape(line.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
