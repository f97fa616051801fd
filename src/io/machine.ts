/**
 * Which machine a row comes from, for a team loading one BigQuery dataset from many laptops: a stable
 * id that reveals no name (a hash of host name and OS user) unless the person chooses one.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The columns every staged row carries. */
export interface MachineColumns {
  machine_id: string;
  user_label: string | null;
}

/** What a run without a machine identity is stamped with (tests, library use). */
export const LOCAL_MACHINE: MachineColumns = { machine_id: "local", user_label: null };

/** Options of {@linkcode machineColumns}. */
export interface MachineOptions {
  /** The host name (`Deno.hostname()`). */
  hostname: string;
  /** The OS user (`USER` / `USERNAME`). */
  osUser: string;
  /** `--machine-name`: used as the id as is, instead of the hash. */
  name?: string;
  /** `--user`: a label for reports (a person, a team). */
  user?: string;
}

const labelPattern = /^[\p{L}\p{N}._@+-][\p{L}\p{N} ._@+-]{0,99}$/u;

function checked(flag: string, value: string): string {
  if (!labelPattern.test(value)) {
    throw new RangeError(
      `Cannot use '--${flag}' as it must be 1-100 letters, digits, spaces or . _ @ + -: current value is ${
        JSON.stringify(value.slice(0, 100))
      }`,
    );
  }
  return value;
}

/**
 * Says which machine and user this process loads for: `--machine-name` when given, else `m-` and 16
 * hex digits of SHA-256 over host name and OS user (stable across runs, no raw name leaves).
 *
 * @param options The host name, OS user and the optional flags.
 * @returns The `machine_id` and `user_label` columns.
 * @throws {RangeError} When `name` or `user` is empty, longer than 100 characters or holds other characters.
 *
 * @example The default id is a hash
 * ```ts
 * import { machineColumns } from "./machine.ts";
 * const { machine_id, user_label } = machineColumns({ hostname: "dana-mbp", osUser: "dana" });
 * if (!/^m-[0-9a-f]{16}$/.test(machine_id) || user_label !== null) throw new Error();
 * ```
 */
export function machineColumns(options: MachineOptions): MachineColumns {
  const machine_id = options.name !== undefined
    ? checked("machine-name", options.name)
    : `m-${createHash("sha256").update(`${options.hostname}\0${options.osUser}`).digest("hex").slice(0, 16)}`;
  return { machine_id, user_label: options.user !== undefined ? checked("user", options.user) : null };
}
