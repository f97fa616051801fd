/**
 * `ccpipe completions bash|zsh|fish`: a completion script generated from the command registry and each
 * command's flag table, so a command or flag added anywhere is completed without editing this file.
 *
 * @module
 */
import { UsageError } from "../../errors.ts";
import { type FlagSpec, unknownChoice } from "../args.ts";
import { type Command, defineCommand } from "../command.ts";
import { Commands } from "../registry.ts";

/** The shells `ccpipe completions` writes for. */
export const Shells = ["bash", "zsh", "fish"] as const;

/** What a completion script needs to know about one command. */
export interface CompletionCommand {
  name: string;
  summary: string;
  actions: readonly string[];
  flags: [string, FlagSpec][];
}

/** Loads every registered command's completion facts. */
export async function completionModel(): Promise<CompletionCommand[]> {
  return await Promise.all(Commands.map(async (entry) => {
    const command = await entry.load();
    return {
      name: entry.name,
      summary: entry.summary,
      actions: command.actions ?? [],
      flags: Object.entries(command.flags),
    };
  }));
}

/** What a flag's value completes to. */
function valueKind(spec: FlagSpec): "none" | "dir" | "file" | "choices" | "any" {
  if (spec.type === "boolean") return "none";
  if (spec.choices) return "choices";
  if (spec.value === "DIR") return "dir";
  if (spec.value === "FILE") return "file";
  return "any";
}

/** The first sentence of a help text, short enough for a completion menu. */
function brief(text: string): string {
  const first = text.split(/[(;:]/)[0].trim();
  return first.length > 60 ? `${first.slice(0, 59)}…` : first;
}

/** Writes the bash script. */
export function bashScript(commands: CompletionCommand[]): string {
  const cases = commands.map((c) => {
    const words = [
      ...c.actions,
      ...c.flags.flatMap(([n, s]) => [`--${n}`, ...(s.short ? [`-${s.short}`] : [])]),
    ];
    const values = c.flags.filter(([, s]) => valueKind(s) !== "none").map(([n, s]) => {
      const kind = valueKind(s);
      const reply = kind === "dir"
        ? `COMPREPLY=($(compgen -d -- "$cur"))`
        : kind === "file"
        ? `COMPREPLY=($(compgen -f -- "$cur"))`
        : kind === "choices"
        ? `COMPREPLY=($(compgen -W "${s.choices!.join(" ")}" -- "$cur"))`
        : "COMPREPLY=()";
      return `        --${n}) ${reply}; return ;;`;
    });
    return [
      `    ${c.name})`,
      ...(values.length ? ['      case "$prev" in', ...values, "      esac"] : []),
      `      COMPREPLY=($(compgen -W "${words.join(" ")}" -- "$cur")) ;;`,
    ].join("\n");
  });
  return `# ccpipe completion for bash: source this file, or save it as
# ~/.local/share/bash-completion/completions/ccpipe
_ccpipe() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(" ")} --help --version" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join("\n")}
  esac
}
complete -F _ccpipe ccpipe
`;
}

function zshQuote(text: string): string {
  return text.replace(/'/g, "'\\''").replace(/([[\]:])/g, "\\$1");
}

/** Writes the zsh script. */
export function zshScript(commands: CompletionCommand[]): string {
  const cases = commands.map((c) => {
    const specs = c.flags.map(([n, s]) => {
      const kind = valueKind(s);
      const action = kind === "none"
        ? ""
        : kind === "dir"
        ? ":dir:_files -/"
        : kind === "file"
        ? ":file:_files"
        : kind === "choices"
        ? `${s.bare === undefined ? ":" : "::"}${n}:(${s.choices!.join(" ")})` // `::`: the value is optional
        : `:${(s.value ?? "value").toLowerCase()}: `;
      const names = s.short
        ? `'(-${s.short} --${n})'{-${s.short},--${n}}`
        : `'${s.multiple ? "*" : ""}--${n}`;
      const quoteStart = s.short ? "'" : "";
      return `        ${names}${quoteStart}[${zshQuote(brief(s.help))}]${action}'`;
    });
    if (c.actions.length) specs.push(`        '1:action:(${c.actions.join(" ")})'`);
    return `      ${c.name})\n        _arguments -s \\\n${specs.join(" \\\n")} ;;`;
  });
  return `#compdef ccpipe
# ccpipe completion for zsh: save as _ccpipe in a folder on $fpath, or source it after compinit
_ccpipe() {
  local curcontext="$curcontext" state line
  local -a commands
  commands=(
${commands.map((c) => `    '${c.name}:${zshQuote(c.summary)}'`).join("\n")}
  )
  _arguments -C '1: :->command' '*:: :->args'
  case $state in
    command) _describe 'command' commands ;;
    args)
      case $line[1] in
${cases.join("\n")}
      esac ;;
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _ccpipe "$@"; else compdef _ccpipe ccpipe; fi
`;
}

function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** Writes the fish script. */
export function fishScript(commands: CompletionCommand[]): string {
  const lines = [
    "# ccpipe completion for fish: save as ~/.config/fish/completions/ccpipe.fish",
    "complete -c ccpipe -f",
    ...commands.map((c) =>
      `complete -c ccpipe -n __fish_use_subcommand -a ${c.name} -d ${fishQuote(c.summary)}`
    ),
  ];
  for (const c of commands) {
    const when = `-n '__fish_seen_subcommand_from ${c.name}'`;
    if (c.actions.length) lines.push(`complete -c ccpipe ${when} -a ${fishQuote(c.actions.join(" "))}`);
    for (const [n, s] of c.flags) {
      const kind = valueKind(s);
      const value = kind === "none"
        ? ""
        : kind === "dir"
        ? " -r -a '(__fish_complete_directories)'"
        : kind === "file"
        ? " -r -F"
        : kind === "choices"
        ? ` ${s.bare === undefined ? "-x" : "-f"} -a ${fishQuote(s.choices!.join(" "))}` // -f alone: optional
        : " -x";
      lines.push(
        `complete -c ccpipe ${when} -l ${n}${s.short ? ` -s ${s.short}` : ""}${value} -d ${
          fishQuote(brief(s.help))
        }`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** `ccpipe completions`. */
export const completionsCommand: Command = defineCommand({
  name: "completions",
  operands: "<bash|zsh|fish>",
  actions: Shells,
  positionals: 1,
  description: `Prints a completion script for your shell, covering every command, flag and flag value:

  ccpipe completions bash > ~/.local/share/bash-completion/completions/ccpipe
  ccpipe completions zsh > "\${fpath[1]}/_ccpipe"      # then restart zsh
  ccpipe completions fish > ~/.config/fish/completions/ccpipe.fish`,
  flags: {},
  async run({ positionals }, ctx) {
    const shell = positionals[0];
    if (shell === undefined) throw new UsageError("completions needs a shell: bash, zsh or fish");
    if (!(Shells as readonly string[]).includes(shell)) throw unknownChoice("shell", shell, Shells);
    const model = await completionModel();
    const script = shell === "bash"
      ? bashScript(model)
      : shell === "zsh"
      ? zshScript(model)
      : fishScript(model);
    ctx.output.out(script.trimEnd());
    return 0;
  },
});
