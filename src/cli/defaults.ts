/**
 * Where ccpipe looks for transcripts and keeps its data when not told otherwise.
 *
 * @module
 */

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Default source roots: every root listed in `CLAUDE_CONFIG_DIR` (comma-separated, each's `projects/`
 * when present), else `~/.claude/projects` and `~/.config/claude/projects` where they exist.
 *
 * @param env Environment lookup (injectable for tests).
 * @returns Existing directories, possibly none.
 */
export function defaultSources(env: (name: string) => string | undefined): string[] {
  const configured = env("CLAUDE_CONFIG_DIR");
  if (configured) {
    return configured.split(",").map((p) => p.trim()).filter((p) => p !== "").map((root) =>
      exists(`${root}/projects`) ? `${root}/projects` : root
    );
  }
  const home = env("HOME");
  if (!home) return [];
  return [`${home}/.claude/projects`, `${home}/.config/claude/projects`].filter(exists);
}

/**
 * Default data dir: `$XDG_DATA_HOME/ccpipe`, else `~/.local/share/ccpipe`.
 *
 * @param env Environment lookup.
 * @returns The path (not created here).
 */
export function defaultDataDir(env: (name: string) => string | undefined): string {
  const xdg = env("XDG_DATA_HOME");
  if (xdg) return `${xdg}/ccpipe`;
  return `${env("HOME") ?? "."}/.local/share/ccpipe`;
}
