/**
 * The one place the CLI writes text: data to stdout, messages and progress to stderr. `--json`
 * silences decoration so stdout stays machine-readable.
 *
 * @module
 */

/** Where the CLI writes. Tests pass a recording implementation. */
export interface Output {
  /** Writes a line of data to stdout. */
  out(line: string): void;
  /** Writes a message line to stderr. */
  err(line: string): void;
  /** Whether stderr is an interactive terminal (progress is drawn only then). */
  readonly errIsTerminal: boolean;
  /** Rewrites the current stderr status line (terminal only). */
  status(line: string): void;
  /** The terminal's width in columns (progress lines are clamped to it). @default {80} */
  columns?(): number;
}

const encoder = new TextEncoder();

/** The real terminal. */
export function consoleOutput(): Output {
  const errIsTerminal = Deno.stderr.isTerminal();
  let statusShown = false;
  const writeErr = (text: string) => void Deno.stderr.writeSync(encoder.encode(text));
  return {
    out(line) {
      try {
        Deno.stdout.writeSync(encoder.encode(line + "\n"));
      } catch (error) {
        // A reader that stopped early (`ccpipe run | head`) is not an error.
        if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
      }
    },
    err(line) {
      // A message goes on its own line, not after a progress line still on screen.
      writeErr(`${statusShown ? "\r\x1b[2K" : ""}${line}\n`);
      statusShown = false;
    },
    errIsTerminal,
    status(line) {
      if (!errIsTerminal) return;
      writeErr(`\r\x1b[2K${line}`);
      statusShown = line !== "";
    },
    columns() {
      try {
        return Deno.consoleSize().columns;
      } catch {
        return 80; // not a terminal
      }
    },
  };
}

/** An output that records lines (tests). */
export function recordingOutput(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (l) => void stdout.push(l),
    err: (l) => void stderr.push(l),
    errIsTerminal: false,
    status() {},
  };
}
