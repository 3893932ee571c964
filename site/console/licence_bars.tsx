/** @jsxImportSource hono/jsx */
/**
 * Licences as bars, one row each: the bar is what is consumed, the outline
 * what is owned, both on the row's own scale (the larger of the two fills
 * the width), so a shortfall shows as a red bar past the outline however
 * large the licence. Each row carries its figures in `data-` attributes and
 * a `<title>`, like the other charts.
 *
 * @module
 */
import type { LicencePosition } from "../licences/licence_position.ts";

const W = 640;
const LABEL = 200;
const BAR = 360;
const ROW = 28;

export function LicenceBars({ positions }: { positions: LicencePosition[] }) {
  const height = positions.length * ROW + 8;
  return (
    <figure id="licence-bars">
      <svg
        viewBox={`0 0 ${W} ${height}`}
        role="img"
        aria-label="Consumed against owned, per licence"
        width={W}
        height={height}
      >
        <title>Consumed against owned, per licence</title>
        {positions.map((p, i) => <Bar key={p.licenceId} p={p} y={4 + i * ROW} />)}
      </svg>
      <figcaption class="muted">
        Bar: consumed (red past what is owned); outline: owned. Each row on its own scale.
      </figcaption>
    </figure>
  );
}

function Bar({ p, y }: { p: LicencePosition; y: number }) {
  const scale = Math.max(p.owned, p.consumed, 1);
  const width = (n: number) => (n / scale) * BAR;
  const within = Math.min(p.consumed, p.owned);
  return (
    <g
      class="licence-bar"
      data-licence={p.licenceId}
      data-owned={p.owned}
      data-consumed={p.consumed}
    >
      <title>{`${p.name}: ${p.consumed} consumed of ${p.owned} owned`}</title>
      <text x={LABEL - 8} y={y + 16} text-anchor="end">{short(p.name)}</text>
      <rect class="consumed" x={LABEL} y={y + 4} width={width(within)} height={16} fill="#0b57d0" />
      {p.shortfall > 0 && (
        <rect
          class="shortfall"
          x={LABEL + width(within)}
          y={y + 4}
          width={width(p.shortfall)}
          height={16}
          fill="#b3261e"
        />
      )}
      <rect
        class="owned"
        x={LABEL}
        y={y + 2}
        width={width(p.owned)}
        height={20}
        fill="none"
        stroke="#1a1a1a"
        stroke-width="1.5"
      />
      <text x={LABEL + BAR + 8} y={y + 16}>{`${p.consumed} / ${p.owned}`}</text>
    </g>
  );
}

const short = (name: string) => name.length > 28 ? `${name.slice(0, 27)}…` : name;
