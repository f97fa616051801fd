// `ccpipe report html` opened in a real headless Chromium (Debian's `chromium`, driven by puppeteer-core):
// no uncaught error, no console error or warning, no request leaving the file, every chart drawn, the
// session table sorting and filtering; a screenshot is saved for a person to look at.
import { deepStrictEqual as assertEquals, match as assertMatch, ok as assert } from "node:assert/strict";
import puppeteer from "puppeteer-core";
import { denoFileSystem } from "../src/io/file_system.ts";
import { runPipeline } from "../src/pipeline/run_pipeline.ts";
import { recordingOutput } from "../src/cli/logger.ts";
import { main } from "../src/cli/main.ts";
import { CHART_IDS } from "../src/report/html_page.ts";
import { DuckDbSink, openDuckDbSink } from "../src/sinks/duckdb.ts";
import { fixtureFiles } from "../src/testing/fixture_files.ts";
import { writeTree } from "../src/testing/write_tree.ts";

const fixture = new URL("../fixtures/claude_code_100/projects", import.meta.url).pathname;
const CHROMIUM = "/usr/bin/chromium";
const haveChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!haveChromium) {
  const why = `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`;
  if (Deno.env.get("CI")) throw new Error(`The HTML report test needs a browser: ${why}`);
  console.warn(`html_report_test: the browser test does not run here: ${why}`);
}

async function cli(args: string[]) {
  const output = recordingOutput();
  const code = await main(args, { output, env: () => undefined });
  return { code, stdout: output.stdout, stderr: output.stderr };
}

async function fixtureDataDir() {
  const tree = await writeTree({});
  await runPipeline({
    sources: [fixture],
    dataDir: tree.join("data"),
    fs: denoFileSystem(),
    openSink: () => openDuckDbSink(tree.join("data", "ccpipe.duckdb")),
  });
  return tree;
}

/** Writes `ccpipe report html` of `dataDir` to `out` (with `extra` flags) and checks that it succeeded. */
async function writeReport(out: string, dataDir: string, ...extra: string[]): Promise<void> {
  const result = await cli(["report", "html", ...extra, "--out", out, "--data-dir", dataDir]);
  assertEquals(result.code, 0, result.stderr.join("\n"));
}

/**
 * Headless Chromium with one page that records console errors and warnings, uncaught errors, failed
 * requests (`problems`) and every URL it asks for (`requests`); closed at scope end.
 */
async function openBrowser() {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu"],
    defaultViewport: { width: 1400, height: 1000 },
  });
  const page = await browser.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warn") problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`uncaught: ${e}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("request", (r) => requests.push(r.url()));
  return {
    page,
    problems,
    requests,
    /** How many pixels each canvas painted (-1 for a missing one). */
    async paintedPixels(ids: readonly string[]): Promise<[string, number][]> {
      // The function runs in the page, so it is passed as text: Deno's type library has no DOM.
      return await page.evaluate(`${JSON.stringify(ids)}.map((id) => {
        const canvas = document.getElementById(id);
        if (!canvas) return [id, -1];
        const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) n++;
        return [id, n];
      })`) as [string, number][];
    },
    /** Opens a page file and waits until its script says it is ready. */
    async show(path: string): Promise<void> {
      await page.goto(`file://${path}`, { waitUntil: "load" });
      await page.waitForSelector("html[data-ready=true]", { timeout: 10_000 });
    },
    [Symbol.asyncDispose]: () => browser.close(),
  };
}

Deno.test("ccpipe report html keeps prompt text out unless --include-text, and writes nothing on bad input", async () => {
  await using tree = await fixtureDataDir();
  const data = ["--data-dir", tree.join("data")];
  const plain = await cli(["report", "html", "--out", tree.join("plain.html"), ...data]);
  assertEquals(plain.code, 0, plain.stderr.join("\n"));
  assertMatch(plain.stdout[0], /^wrote .*plain\.html: \d+ KiB, 7 sessions, no prompt text$/);
  const page = await Deno.readTextFile(tree.join("plain.html"));
  // A prompt typed in the fixture (B1), and a session title, which the page does show.
  const prompt = "the sitemap has teh wrong adress";
  assert(!page.includes(prompt), "prompt text left out by default");
  assert(page.includes("Announce tag pages post"), "session titles are listed");
  assert(!/\b(src|href)=["']?(https?:)?\/\//i.test(page), "nothing loaded from elsewhere");
  assert(page.length < 400_000, `fixture page is ${page.length} bytes`);

  const text = await cli(["report", "html", "--include-text", "--out", tree.join("text.html"), ...data]);
  assertMatch(text.stdout[0], /, 46 prompts with their text$/);
  assert((await Deno.readTextFile(tree.join("text.html"))).includes(prompt));

  const bad = await cli(["report", "html", "--since", "2026-13-01", "--out", tree.join("bad.html"), ...data]);
  assertEquals(bad.code, 2);
  const missing = await cli([
    "report",
    "html",
    "--out",
    tree.join("none.html"),
    "--data-dir",
    tree.join("nope"),
  ]);
  assertEquals(missing.code, 3);
  const strayOut = await cli(["report", "daily", "--out", tree.join("x.html"), ...data]);
  assertEquals(strayOut.code, 2);
  for (const name of ["bad.html", "none.html", "x.html"]) {
    assertEquals(await Deno.stat(tree.join(name)).then(() => true, () => false), false, name);
  }
});

Deno.test("ccpipe report html stays bounded: at most 5,000 sessions listed, under 2 MB with 20,000 sessions", async () => {
  await using tree = await fixtureDataDir();
  {
    await using db = await DuckDbSink.open({ path: tree.join("data", "ccpipe.duckdb") });
    await db.query(
      `INSERT INTO sessions (session_id, project_id, project, first_timestamp, last_timestamp, event_date,
         message_count, human_prompt_count, assistant_count, tool_use_count, title, run_id)
       SELECT 'synthetic-' || i, 'p', '/home/dana/code/project-' || (i % 40),
         TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (i) MINUTE, TIMESTAMP '2026-01-01 00:30:00' + INTERVAL (i) MINUTE,
         DATE '2026-01-01', 40, 6, 20, 12, 'A session title of a usual length, number ' || i, 'r'
       FROM range(20000) t(i)`,
    );
  }
  const out = await cli([
    "report",
    "html",
    "--json",
    "--out",
    tree.join("big.html"),
    "--data-dir",
    tree.join("data"),
  ]);
  const result = JSON.parse(out.stdout[0]);
  assertEquals(result.sessions, 5000);
  assert(result.bytes < 2 * 1024 * 1024, `page is ${result.bytes} bytes`);
  assertMatch(await Deno.readTextFile(tree.join("big.html")), /"sessions_omitted":15007/);
});

Deno.test({
  name: "ccpipe report html in headless Chromium: no error, no request out, every chart drawn, table works",
  ignore: !haveChromium,
  async fn() {
    await using tree = await fixtureDataDir();
    await writeReport(tree.join("report.html"), tree.join("data"));
    await using browser = await openBrowser();
    const { page, problems, requests } = browser;
    await browser.show(tree.join("report.html"));

    // Each chart drew: its canvas has painted (non-transparent) pixels.
    for (const [id, n] of await browser.paintedPixels(CHART_IDS)) assert(n > 500, `${id} drew ${n} pixels`);

    // The session table: 7 rows, newest first; sorting by cost and filtering by project change it.
    const rows = () => page.$$eval("#sessions tbody tr", (trs) => trs.map((tr) => tr.textContent ?? ""));
    assertEquals((await rows()).length, 7);
    await page.click('#sessions th[data-col="cost_usd"]');
    assertMatch((await rows())[0], /\$0\.1280$/);
    await page.select("#f-project", "/home/dana/code/ml_notebooks");
    assertEquals((await rows()).length, 2);
    await page.click('input[value="weekly"]');
    assertEquals(await page.$$eval("canvas", (c) => c.length), CHART_IDS.length);

    const shot = `${Deno.env.get("CCPIPE_SCREENSHOT_DIR") ?? tree.path}/report.png`;
    await page.click('input[value="daily"]');
    await page.select("#f-project", "");
    await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
    assert((await Deno.stat(shot)).size > 10_000);

    // With --include-text, the prompts table too (46 typed prompts, one page of 50).
    await writeReport(tree.join("text.html"), tree.join("data"), "--include-text");
    await browser.show(tree.join("text.html"));
    assertEquals(await page.$$eval("#prompts-body tr", (trs) => trs.length), 46);
    assertEquals(problems, []);
    assertEquals(requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:")), []);
  },
});

Deno.test({
  name:
    "ccpipe report html in headless Chromium: two machines get a cost-by-machine chart, drawn without error",
  ignore: !haveChromium,
  async fn() {
    await using tree = await writeTree({
      ...await fixtureFiles(fixture, ["-home-dana-code-blog-site/", "-home-dana-code-invoice-api/"], "alpha"),
      ...await fixtureFiles(fixture, ["-home-dana-code-ml-notebooks/"], "beta"),
    });
    for (const name of ["alpha", "beta"]) {
      await runPipeline({
        sources: [tree.join(name)],
        dataDir: tree.join("data"),
        fs: denoFileSystem(),
        openSink: () => openDuckDbSink(tree.join("data", "ccpipe.duckdb")),
        machine: { machine_id: name, user_label: null },
      });
    }
    await writeReport(tree.join("team.html"), tree.join("data"));
    await using browser = await openBrowser();
    const { problems } = browser;
    await browser.show(tree.join("team.html"));
    const [[, painted]] = await browser.paintedPixels(["chart-machines"]);
    assert(painted > 500, `chart-machines drew ${painted} pixels`);
    assertEquals(problems, []);
  },
});
