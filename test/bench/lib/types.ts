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
  /** Due integrations per dispatch row, ascending (BENCH_DISPATCH_N, default 10000,100000); seeded cumulatively. */
  dispatchSizes: number[];
  /**
   * Seconds the dispatch section may take, seeding included (BENCH_DISPATCH_BUDGET, 90; 10,000 and
   * 100,000 take about 60 s on 2 cores): a size whose projected time (linear in the sizes measured so
   * far, which overestimates) exceeds it is extrapolated from the largest one measured instead.
   */
  dispatchBudgetSeconds: number;
  /** Records of the one integration in the sync-records section (BENCH_SYNC_RECORDS). */
  syncRecords: number;
  /** Provider page sizes, one full sync each (BENCH_SYNC_PAGE_SIZES, default 100,1000). */
  syncPageSizes: number[];
  /** Changes in the incremental pass after each full sync (BENCH_SYNC_CHANGES). */
  syncChanges: number;
  /** Integrations whose tokens the KMS-cycle section opens each cycle (BENCH_KMS_N). */
  kmsIntegrations: number;
  /** Container counts, one cold set each (BENCH_KMS_CONTAINERS, default 1,4,16). */
  kmsContainers: number[];
  /** 15-minute cycles simulated per container count (BENCH_KMS_CYCLES, 5: t = 0, 15, 30, 45, 60 min). */
  kmsCycles: number;
  /** Only these manifest functions in the bundle sections, when set (BENCH_FUNCTIONS=list-providers,sync-worker). */
  functions: string[] | undefined;
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
  /** The raw data of a section that already ran in this run (undefined when it did not run or failed). */
  earlier(sectionId: string): Json | undefined;
}

export interface Section {
  /** Short id, used by BENCH_SECTIONS and as the JSON key. */
  id: string;
  title: string;
  run(context: BenchContext): Promise<SectionOutput>;
}
