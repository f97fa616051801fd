/**
 * A plain-JavaScript guard compiled from a lenient zod schema, for hot loops: it answers "would this
 * parse?" without zod's copy of every object, and the value is then used as it is.
 *
 * @module
 */
import type { z } from "zod";

/** Tells whether a value certainly satisfies the schema it was compiled from. */
export type FastGuard = (value: unknown) => boolean;

interface Def {
  type: string;
  format?: string;
  innerType?: { _zod: { def: Def } };
  shape?: Record<string, { _zod: { def: Def } }>;
  catchall?: { _zod: { def: Def } };
  checks?: { _zod: { def: { check: string; minimum?: number; value?: unknown; inclusive?: boolean } } }[];
}

/**
 * Compiles a guard from a schema built of strings (optionally with `.min()`), numbers and `z.int()`
 * (optionally with `.min()`/`.max()`), booleans, `unknown`, `.optional()`, `.nullable()`, `.nullish()`
 * and loose objects. A schema using anything else
 * compiles to a guard that always answers false, so the caller falls back to zod (which also gives the
 * reason a value fails).
 *
 * When the guard returns true, `schema.parse(value)` succeeds and returns an equal value, so the value
 * itself can stand for the parsed one.
 *
 * @param schema The schema.
 * @returns The guard.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { fastGuard } from "./fast_guard.ts";
 * const guard = fastGuard(z.looseObject({ id: z.string().min(1), n: z.number().nullish() }));
 * if (!guard({ id: "a", extra: [1] }) || guard({ id: "" })) throw new Error("unexpected");
 * ```
 */
export function fastGuard(schema: z.ZodType): FastGuard {
  return compile((schema as unknown as { _zod: { def: Def } })._zod.def) ?? (() => false);
}

/** The definition keys each supported type may carry; any other (a format, a default...) is not compiled. */
const KEYS: Record<string, readonly string[]> = {
  string: ["type", "checks"],
  // `check`, `abort` and `format` are z.int()'s own check: only the "safeint" format is compiled.
  number: ["type", "checks", "check", "abort", "format"],
  boolean: ["type"],
  unknown: ["type"],
  optional: ["type", "innerType"],
  nullable: ["type", "innerType"],
  object: ["type", "shape", "catchall"],
};

function compile(def: Def): FastGuard | null {
  const allowed = KEYS[def.type];
  if (!allowed || Object.keys(def).some((key) => !allowed.includes(key))) return null;
  switch (def.type) {
    case "string": {
      let min = 0;
      for (const check of def.checks ?? []) {
        if (check._zod.def.check !== "min_length" || typeof check._zod.def.minimum !== "number") return null;
        min = Math.max(min, check._zod.def.minimum);
      }
      return (v) => typeof v === "string" && v.length >= min;
    }
    case "number": {
      if (def.format !== undefined && def.format !== "safeint") return null;
      // zod's number refuses NaN and the infinities; z.int() anything but a safe integer.
      const whole = def.format === "safeint";
      let least = -Infinity, most = Infinity, leastIn = true, mostIn = true;
      for (const check of def.checks ?? []) {
        const { check: kind, value, inclusive } = check._zod.def;
        if (typeof value !== "number" || typeof inclusive !== "boolean") return null;
        if (kind === "greater_than") [least, leastIn] = [value, inclusive];
        else if (kind === "less_than") [most, mostIn] = [value, inclusive];
        else return null;
      }
      return (v) =>
        typeof v === "number" && (whole ? Number.isSafeInteger(v) : Number.isFinite(v)) &&
        (leastIn ? v >= least : v > least) && (mostIn ? v <= most : v < most);
    }
    case "boolean":
      return (v) => typeof v === "boolean";
    case "unknown":
      return () => true;
    case "optional": {
      const inner = def.innerType && compile(def.innerType._zod.def);
      return inner ? (v) => v === undefined || inner(v) : null;
    }
    case "nullable": {
      const inner = def.innerType && compile(def.innerType._zod.def);
      return inner ? (v) => v === null || inner(v) : null;
    }
    case "object": {
      // Only loose objects: a strict or stripping one changes the value, so it cannot stand for itself.
      if (def.catchall?._zod.def.type !== "unknown" || !def.shape) return null;
      const fields: [string, FastGuard][] = [];
      for (const [key, field] of Object.entries(def.shape)) {
        const guard = compile(field._zod.def);
        if (!guard) return null;
        fields.push([key, guard]);
      }
      return (v) => {
        if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
        const object = v as Record<string, unknown>;
        for (const [key, guard] of fields) if (!guard(object[key])) return false;
        return true;
      };
    }
    default:
      return null;
  }
}
