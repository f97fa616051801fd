/**
 * The read-and-parse floor: reads every `*.jsonl` file under a folder and `JSON.parse`s every line,
 * nothing else. Case 6 runs it as its own process, like ccpipe, so both pay Deno's start-up; Stages
 * 0–3 cannot be faster than this on one core.
 *
 * Run as `deno run --allow-read bench/_floor.ts <projects>`; prints `{ records, bytes, ms }`.
 *
 * @module
 */

async function* transcripts(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* transcripts(path);
    else if (entry.name.endsWith(".jsonl")) yield path;
  }
}

if (import.meta.main) {
  const started = performance.now();
  const decoder = new TextDecoder();
  let records = 0, bytes = 0;
  for await (const path of transcripts(Deno.args[0]!)) {
    const data = await Deno.readFile(path);
    bytes += data.length;
    for (let start = 0; start < data.length;) {
      let end = data.indexOf(10, start);
      if (end === -1) end = data.length;
      try {
        if (end > start) JSON.parse(decoder.decode(data.subarray(start, end)));
        records++;
      } catch {
        // A malformed line costs its parse all the same.
      }
      start = end + 1;
    }
  }
  console.log(JSON.stringify({ records, bytes, ms: performance.now() - started }));
}
