/**
 * Daily BigQuery job budgets: counts load and query jobs per table and per UTC day in the data
 * dir's state, and refuses a job that would exceed a budget before it starts.
 *
 * Keyed on what the quotas count: the per-table quota (1,500 table operations a day) counts the load
 * jobs that write a table on that table — for ccpipe each run's own staging table, not the target —
 * and the project quota (100,000 load jobs a day) every load job; DML statements have no daily quota
 * (only BigQuery's concurrency limits), so query jobs count towards the optional project budget alone.
 *
 * BigQuery's own quotas count failed jobs too, so a job is counted when it is submitted, whatever
 * its outcome. The window is a fixed UTC day: every counter resets at midnight UTC. (BigQuery's
 * per-table limit refills over a rolling 24 h, so a fixed day is the simple, slightly optimistic
 * approximation; keep the budget below the quota if that matters.)
 *
 * @module
 */
import { join } from "node:path";
import { SinkError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic_write.ts";
import { type Clock, systemClock } from "../ports.ts";

/** The kinds of job a budget counts. */
export type JobKind = "load" | "query";

/** What a job writes: a table as `project.dataset.table`, or nothing (`{ project }`). */
export type JobTarget = string | { project: string };

// Jobs that write no table are counted under a key no table id can take.
function keyOf(target: JobTarget): string {
  return typeof target === "string" ? target : `${target.project}.-`;
}

function projectOf(target: JobTarget): string {
  if (typeof target !== "string") return target.project;
  return target.slice(0, target.lastIndexOf(".", target.lastIndexOf(".") - 1));
}

/** The daily limits; `null` means no budget. */
export interface JobBudgetLimits {
  /** Load jobs writing one table per UTC day. */
  loadJobsPerTablePerDay: number | null;
  /** Load jobs per project per UTC day. */
  loadJobsPerDay: number | null;
  /** Query jobs per project per UTC day. */
  queryJobsPerDay: number | null;
}

/** The state file as stored: one UTC day of counters keyed by `project.dataset.table`. */
interface BudgetState {
  version: 1;
  day: string;
  load: Record<string, number>;
  query: Record<string, number>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Name of the state file inside the state dir. */
export const BUDGET_STATE_FILE = "bigquery_jobs.json";

/**
 * Returns the next midnight UTC strictly after a time.
 *
 * @param ms Milliseconds since the epoch.
 * @returns Milliseconds since the epoch of the next UTC midnight.
 *
 * @example
 * ```ts
 * import { nextUtcMidnight } from "./bigquery_budget.ts";
 * const next = nextUtcMidnight(Date.parse("2026-08-10T23:59:59Z"));
 * if (new Date(next).toISOString() !== "2026-08-11T00:00:00.000Z") throw new Error();
 * ```
 */
export function nextUtcMidnight(ms: number): number {
  return (Math.floor(ms / DAY_MS) + 1) * DAY_MS;
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function emptyState(day: string): BudgetState {
  return { version: 1, day, load: {}, query: {} };
}

function isCounterMap(value: unknown): value is Record<string, number> {
  return typeof value === "object" && value !== null &&
    Object.values(value).every((n) => Number.isInteger(n) && (n as number) >= 0);
}

/** Per-table per-day job counters persisted as JSON in the state dir (temp file + rename). */
export class JobBudget {
  #path: string;
  #limits: JobBudgetLimits;
  #clock: Clock;
  #state: BudgetState;

  private constructor(path: string, limits: JobBudgetLimits, clock: Clock, state: BudgetState) {
    this.#path = path;
    this.#limits = limits;
    this.#clock = clock;
    this.#state = state;
  }

  /**
   * Opens the counters stored in a state dir (none stored means none used).
   *
   * @param stateDir The data dir's state folder; created on the first write.
   * @param options The limits and the clock.
   * @returns The budget.
   * @throws {SinkError} When the state file exists but cannot be read or parsed.
   */
  static async open(
    stateDir: string,
    options: { limits: JobBudgetLimits; clock?: Clock },
  ): Promise<JobBudget> {
    for (const [name, value] of Object.entries(options.limits)) {
      if (value !== null && !(Number.isInteger(value) && value > 0)) {
        throw new RangeError(
          `Cannot open job budget as '${name}' must be a positive integer or null: current value is ${value}`,
        );
      }
    }
    const clock = options.clock ?? systemClock;
    const path = join(stateDir, BUDGET_STATE_FILE);
    let state = emptyState(utcDay(clock.now()));
    try {
      const parsed = JSON.parse(await Deno.readTextFile(path)) as Partial<BudgetState>;
      if (
        parsed.version !== 1 || typeof parsed.day !== "string" || !isCounterMap(parsed.load) ||
        !isCounterMap(parsed.query)
      ) {
        throw new SyntaxError("unexpected shape");
      }
      state = parsed as BudgetState;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new SinkError(
          `Cannot read the BigQuery job budget state at ${path}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }
    return new JobBudget(path, options.limits, clock, state);
  }

  /** Path of the state file. */
  get path(): string {
    return this.#path;
  }

  #today(): BudgetState {
    const day = utcDay(this.#clock.now());
    if (this.#state.day !== day) this.#state = emptyState(day);
    return this.#state;
  }

  /**
   * Counts the jobs of a kind started today on one table, or on every table of a project.
   *
   * @param kind `load` or `query`.
   * @param scope `{ table: "project.dataset.table" }` or `{ project }`.
   * @returns The number of jobs counted today (UTC).
   */
  used(kind: JobKind, scope: { table: string } | { project: string }): number {
    const counters = this.#today()[kind];
    if ("table" in scope) return counters[scope.table] ?? 0;
    const prefix = `${scope.project}.`;
    return Object.entries(counters).reduce((sum, [key, n]) => key.startsWith(prefix) ? sum + n : sum, 0);
  }

  /**
   * Throws when starting `jobs` more jobs of a kind would exceed a budget.
   *
   * @param kind `load` or `query`.
   * @param target The table the jobs write (`project.dataset.table`), or `{ project }` for jobs writing none.
   * @param jobs How many jobs are about to start. @default {1}
   * @throws {SinkError} Naming the budget, its limit and when it resets (the next UTC midnight).
   */
  check(kind: JobKind, target: JobTarget, jobs = 1): void {
    const project = projectOf(target);
    const budgets: [string, number | null, number][] = [];
    if (kind === "load" && typeof target === "string") {
      budgets.push([
        "loadJobsPerTablePerDay",
        this.#limits.loadJobsPerTablePerDay,
        this.used("load", { table: target }),
      ]);
    }
    budgets.push(
      kind === "load"
        ? ["loadJobsPerDay", this.#limits.loadJobsPerDay, this.used("load", { project })]
        : ["queryJobsPerDay", this.#limits.queryJobsPerDay, this.used("query", { project })],
    );
    for (const [name, limit, used] of budgets) {
      if (limit !== null && used + jobs > limit) {
        const resets = new Date(nextUtcMidnight(this.#clock.now())).toISOString();
        const on = typeof target === "string" ? target : project;
        throw new SinkError(
          `Cannot start a BigQuery ${kind} job on ${on} as the daily budget '${name}' (${limit}) is used up: ` +
            `${used} started today (UTC), ${jobs} more needed; it resets at ${resets}`,
          { transient: true },
        );
      }
    }
  }

  /**
   * Checks the budgets, then counts one job and persists the counters before the job is submitted.
   *
   * @param kind `load` or `query`.
   * @param target The table the job writes, or `{ project }` for a job writing none.
   * @throws {SinkError} When a budget would be exceeded (nothing is counted then) or the state cannot be written.
   */
  async take(kind: JobKind, target: JobTarget): Promise<void> {
    this.check(kind, target);
    const state = this.#today();
    const key = keyOf(target);
    state[kind][key] = (state[kind][key] ?? 0) + 1;
    await this.#save();
  }

  async #save(): Promise<void> {
    try {
      await writeFileAtomic(this.#path, JSON.stringify(this.#state) + "\n");
    } catch (error) {
      throw new SinkError(
        `Cannot write the BigQuery job budget state at ${this.#path}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
}
