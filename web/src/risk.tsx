/** Risk as text and colour (never colour alone), e.g. "high risk · 7". */
export function RiskBadge({ level, score }: { level: string; score?: number }) {
  return (
    <span class={`risk risk-${level}`}>
      {level} risk{score === undefined ? '' : ` · ${score}`}
    </span>
  );
}
