/** @jsxImportSource hono/jsx */
/**
 * Charts drawn as SVG on the server, so they print, scale and need no
 * script: a line chart of one figure over time (with its peak marked when
 * asked) and a weekday × hour heat map. Each mark carries its value in a
 * `<title>` (a tooltip, read by screen readers) and in `data-` attributes.
 *
 * @module
 */
export interface ChartPoint {
  label: string;
  value: number;
}

const W = 640;
const H = 220;
const PAD = { left: 48, right: 40, top: 28, bottom: 36 };

/** Round numbers for the axis: 0 and a top that is 1, 2 or 5 times a power of ten. */
function niceTop(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * power).find((top) => top >= max)!;
}

export function LineChart(
  { id, title, points, unit, markPeak = false }: {
    id: string;
    title: string;
    points: ChartPoint[];
    unit: string;
    markPeak?: boolean;
  },
) {
  const top = niceTop(Math.max(0, ...points.map((p) => p.value)));
  const x = (i: number) =>
    PAD.left + (points.length <= 1 ? 0 : (i * (W - PAD.left - PAD.right)) / (points.length - 1));
  const y = (v: number) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const peak = points.reduce((best, p, i) => (p.value > points[best].value ? i : best), 0);
  const every = Math.max(1, Math.ceil(points.length / 8));
  return (
    <figure id={id}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} width={W} height={H}>
        <title>{title}</title>
        {[0, 0.5, 1].map((f) => (
          <g>
            <line
              x1={PAD.left}
              x2={W - PAD.right}
              y1={y(top * f)}
              y2={y(top * f)}
              stroke="#d1d5db"
            />
            <text x={PAD.left - 6} y={y(top * f) + 4} text-anchor="end">{format(top * f)}</text>
          </g>
        ))}
        <polyline
          fill="none"
          stroke="#0b57d0"
          stroke-width="2"
          points={points.map((p, i) => `${x(i)},${y(p.value)}`).join(" ")}
        />
        {points.map((p, i) => (
          <circle
            cx={x(i)}
            cy={y(p.value)}
            r="3"
            fill="#0b57d0"
            data-label={p.label}
            data-value={p.value}
          >
            <title>{`${p.label}: ${format(p.value)} ${unit}`}</title>
          </circle>
        ))}
        {points.map((p, i) =>
          i % every === 0 && (
            <text x={x(i)} y={H - PAD.bottom + 18} text-anchor="middle">{p.label}</text>
          )
        )}
        {markPeak && points.length > 0 && points[peak].value > 0 && (
          <g class="peak" data-label={points[peak].label} data-value={points[peak].value}>
            <circle
              cx={x(peak)}
              cy={y(points[peak].value)}
              r="7"
              fill="none"
              stroke="#b3261e"
              stroke-width="2"
            />
            <text x={x(peak)} y={y(points[peak].value) - 12} text-anchor="middle" font-weight="700">
              {`peak ${format(points[peak].value)}`}
            </text>
          </g>
        )}
      </svg>
      <figcaption class="muted">{title} ({unit})</figcaption>
    </figure>
  );
}

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const CELL = 24;

/** `grid[weekday - 1][hour]`, Monday first; null where the window holds no such weekday. */
export function HeatMap(
  { id, title, grid }: { id: string; title: string; grid: (number | null)[][] },
) {
  const max = Math.max(0, ...grid.flat().map((v) => v ?? 0));
  const left = 40;
  const width = left + 24 * CELL + 4;
  const height = 20 + 7 * CELL + 4;
  return (
    <figure id={id}>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={title}
        width={width}
        height={height}
      >
        <title>{title}</title>
        {Array.from({ length: 24 }, (_, h) =>
          h % 3 === 0 && (
            <text x={left + h * CELL + CELL / 2} y="14" text-anchor="middle">{h}</text>
          ))}
        {grid.map((row, d) => (
          <g>
            <text x={left - 6} y={20 + d * CELL + CELL / 2 + 4} text-anchor="end">
              {WEEKDAYS[d]}
            </text>
            {row.map((value, h) => (
              <rect
                class="cell"
                x={left + h * CELL}
                y={20 + d * CELL}
                width={CELL - 2}
                height={CELL - 2}
                fill={shade(value, max)}
                stroke="#e5e7eb"
                data-weekday={d + 1}
                data-hour={h}
                data-value={value ?? ""}
              >
                <title>
                  {`${WEEKDAYS[d]} ${h}:00–${h + 1}:00: ${
                    value === null ? "no such day" : format(value)
                  } users on average`}
                </title>
              </rect>
            ))}
          </g>
        ))}
      </svg>
      <figcaption class="muted">{title}; darker is more users (most: {format(max)})</figcaption>
    </figure>
  );
}

/** White for none, through to dark blue for the most; grey where there is no such day. */
function shade(value: number | null, max: number): string {
  if (value === null) return "#f3f4f6";
  if (value <= 0 || max <= 0) return "#ffffff";
  const t = value / max;
  const mix = (from: number, to: number) => Math.round(from + (to - from) * t);
  return `rgb(${mix(219, 11)},${mix(234, 87)},${mix(254, 208)})`;
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
