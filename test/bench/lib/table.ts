import type { Cell, Column, Table } from './types';

/** Renders a table as aligned plain text (stdout-friendly, no colours). */

function formatCell(cell: Cell | undefined, column: Column): string {
  if (cell === null || cell === undefined) return '—';
  if (typeof cell === 'boolean') return cell ? 'yes' : 'no';
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell)) return '—';
    if (column.digits === undefined && column.maxDigits !== undefined && Number.isInteger(cell)) return String(cell);
    const digits = column.digits ?? column.maxDigits ?? (Number.isInteger(cell) ? 0 : 2);
    return cell.toFixed(digits);
  }
  return cell;
}

export function renderTable(table: Table): string {
  const { columns, rows } = table;
  const cells = rows.map((row) => columns.map((column) => formatCell(row[column.key], column)));
  const rightAligned = columns.map((column) => {
    if (column.align) return column.align === 'right';
    const values = rows.map((row) => row[column.key]).filter((cell) => cell !== null && cell !== undefined);
    return values.length > 0 && values.every((cell) => typeof cell === 'number');
  });
  const widths = columns.map((column, index) =>
    Math.max(column.title.length, ...cells.map((line) => (line[index] ?? '').length)),
  );
  const pad = (text: string, index: number) => {
    const width = widths[index] ?? text.length;
    return rightAligned[index] ? text.padStart(width) : text.padEnd(width);
  };
  const line = (values: string[]) => values.map((value, index) => pad(value, index)).join('  ').trimEnd();

  const out: string[] = [`## ${table.title}`, ''];
  out.push(line(columns.map((column) => column.title)));
  out.push(widths.map((width) => '-'.repeat(width)).join('  '));
  if (rows.length === 0) out.push('(no rows)');
  for (const row of cells) out.push(line(row));
  for (const note of table.notes ?? []) out.push(`  * ${note}`);
  return out.join('\n');
}
