/** `rows` under `heads` in fixed-width columns: the first left-aligned, the others right-aligned. */
export function textTable(heads: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [heads, ...rows];
  const widths = heads.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}
