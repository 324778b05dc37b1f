/**
 * The benchmark's building blocks. A section measures one thing and hands
 * back tables (printed) plus optional raw data (written to the JSON report).
 * Figures are reported, never asserted.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface Column {
  key: string;
  title: string;
  /** Decimal places for numbers (default: 0 for integers, 2 otherwise). */
  digits?: number;
  /** Instead of `digits`: integers as they are, other numbers with this many decimals. */
  maxDigits?: number;
  /** Default: right for columns whose cells are all numbers, left otherwise. */
  align?: 'left' | 'right';
}

export interface Table {
  title: string;
  columns: Column[];
  rows: Row[];
  /** Printed under the table, one bullet each. */
  notes?: string[];
}

export interface SectionOutput {
  tables: Table[];
  /** Extra raw figures for bench-results/latest.json. */
  data?: Json;
}

export interface BenchOptions {
  /** Seconds of measured load for HTTP sections (BENCH_DURATION). */
  durationSeconds: number;
  /** Concurrent connections for HTTP sections (BENCH_CONNECTIONS). */
  connections: number;
  /** Fresh processes per function for cold imports (BENCH_COLD_RUNS, at least 5). */
  coldRuns: number;
  /** Integrations sealed in the vault section (BENCH_VAULT_N). */
  vaultIntegrations: number;
  /** Simulated warm containers that open every token (BENCH_VAULT_CONTAINERS). */
  vaultContainers: number;
  /**
   * Sequential handler invocations per provider and case in the in-process
   * webhook section (BENCH_WEBHOOK_N); unset: up to 1000, each row capped in time.
   */
  webhookInvocations: number | undefined;
  /** Only these section ids, when set (BENCH_SECTIONS=bundles,vault). */
  sections: string[] | undefined;
  /** Where the JSON report goes (BENCH_OUT). */
  outFile: string;
}

export interface BenchContext {
  /** Repository root. */
  root: string;
  /** Scratch directory inside the repository's node_modules (so bundles resolve their externals); removed at the end. */
  workDir: string;
  options: BenchOptions;
  /** Progress line on stderr (stdout carries only the tables). */
  log(message: string): void;
  /** Computes a value once per run and shares it between sections (e.g. the bundles). */
  memo<T>(key: string, compute: () => Promise<T>): Promise<T>;
  /** Runs at the end of the whole run (last registered first), also after a failure. */
  onCleanup(cleanup: () => Promise<void> | void): void;
}

export interface Section {
  /** Short id, used by BENCH_SECTIONS and as the JSON key. */
  id: string;
  title: string;
  run(context: BenchContext): Promise<SectionOutput>;
}
