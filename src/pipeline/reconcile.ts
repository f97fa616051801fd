/**
 * The run's reconciliation: every input line and every record accounted for.
 *
 * @module
 */

/** Where each typed prompt went in Stage 4: these add up to the run's prompts. */
export interface PromptOutcomes {
  sent: number;
  cacheHits: number;
  skipped: number;
  dedupedInRun: number;
  pending: number;
  /** Distinct prompts the local prefilter found clean (`unchanged_local`): kept as typed, no call. */
  cleanLocal: number;
}

/** Counts that must add up; each `balanced` flag says whether its equation holds. */
export interface Reconciliation {
  lines: {
    read: number;
    records: number;
    rejects: number;
    blank: number;
    /** Lines that held a truncated stub glued to a complete record: one line, one record and one reject. */
    glued: number;
    /** read = records + rejects + blank − glued */
    balanced: boolean;
  };
  records: {
    /** Whether Stage 2 ran (`--until-stage` below 2 stops before it: nothing to balance). */
    ran: boolean;
    parsed: number;
    unique: number;
    duplicates: number;
    withoutUuid: number;
    /** uuid records whose envelope failed validation (also reject rows). */
    invalid: number;
    /** parsed = unique + duplicates + withoutUuid + invalid */
    balanced: boolean;
  };
  prompts: PromptOutcomes & {
    /** Typed prompts of this run plus those carried over from an earlier run's pending list. */
    total: number;
    carriedOver: number;
    /** total = sent + cacheHits + skipped + dedupedInRun + pending + cleanLocal */
    balanced: boolean;
  };
}

/** Builds a reconciliation from raw counts, computing the balance flags. */
export function reconcile(input: {
  lines: Omit<Reconciliation["lines"], "balanced">;
  records: Omit<Reconciliation["records"], "balanced">;
  prompts: Omit<Reconciliation["prompts"], "balanced">;
}): Reconciliation {
  const { lines, records, prompts } = input;
  return {
    lines: { ...lines, balanced: lines.read === lines.records + lines.rejects + lines.blank - lines.glued },
    records: {
      ...records,
      balanced: !records.ran ||
        records.parsed === records.unique + records.duplicates + records.withoutUuid + records.invalid,
    },
    prompts: {
      ...prompts,
      balanced: prompts.total ===
        prompts.sent + prompts.cacheHits + prompts.skipped + prompts.dedupedInRun + prompts.pending +
          prompts.cleanLocal,
    },
  };
}
