import assert from "node:assert/strict";
import { secretFormats } from "../testing/secret_formats.ts";
import { findSecrets } from "./secret_rules.ts";

const FORMATS = secretFormats();
const prompt = (name: string) => FORMATS.find((format) => format.name === name)!;

Deno.test("findSecrets() finds provider keys through secretlint's recommended rules", () => {
  const expected: Record<string, string> = {
    stripe_secret_key: "@secretlint/secretlint-rule-stripe",
    huggingface_token: "@secretlint/secretlint-rule-huggingface",
    gitlab_token: "@secretlint/secretlint-rule-gitlab",
    sendgrid_key: "@secretlint/secretlint-rule-sendgrid",
    npm_token: "@secretlint/secretlint-rule-npm",
    slack_webhook: "@secretlint/secretlint-rule-slack",
    aws_access_key_id: "@secretlint/secretlint-rule-aws",
  };
  for (const [name, rule] of Object.entries(expected)) {
    const { prompt: text, secrets } = prompt(name);
    const [span, ...rest] = findSecrets(text);
    assert.equal(rest.length, 0, name);
    assert.equal(span!.rule, rule, name);
    assert.ok(text.slice(span!.start, span!.end).includes(secrets[0]!), name);
  }
});

Deno.test("findSecrets() widens a rule's range that stops inside the key", () => {
  // secretlint's AWS rule reports 40 characters from the start of `AWS_SECRET_ACCESS_KEY=`.
  const { prompt: text, secrets } = prompt("aws_secret_env");
  const spans = findSecrets(text);
  assert.equal(spans.length, 1);
  assert.equal(text.slice(spans[0]!.start, spans[0]!.end), `AWS_SECRET_ACCESS_KEY=${secrets[0]}`);
});

Deno.test("findSecrets() merges overlapping spans and sorts them", () => {
  const text = "a password=ghp_" + "x".repeat(36) + " then b token=" + "y1".repeat(10);
  const spans = findSecrets(text).map(({ start, end }) => text.slice(start, end));
  assert.deepEqual(spans, ["ghp_" + "x".repeat(36), "y1".repeat(10)]);
});

Deno.test("findSecrets() reads `a=b=c` as one value and each BEGIN without END alone", () => {
  // Both shapes are quadratic for a naive scan; their timing is in bench/llm.bench.ts.
  const chained = "token=".repeat(20_000);
  assert.deepEqual(findSecrets(chained), [{
    start: 6,
    end: chained.length,
    rule: "ccpipe/secret-assignment",
  }]);
  const begins = "-----BEGIN PRIVATE KEY-----".repeat(2_000);
  assert.equal(findSecrets(begins).length, 2_000);
});
