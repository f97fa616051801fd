import assert from "node:assert/strict";
import { SECRET_FREE_PROMPTS, secretFormats } from "../testing/secret_formats.ts";
import { placeholdersIn, redact, restore } from "./redact.ts";

const FORMATS = secretFormats();
const byName = (name: string) => FORMATS.find((format) => format.name === name)!;
const AWS_ID = byName("aws_access_key_id").secrets[0];
const GOOGLE = byName("google_api_key").secrets[0];

Deno.test("redact() hides every part of every secret format and restore() gives the prompt back", () => {
  for (const { name, prompt, secrets } of FORMATS) {
    const redacted = redact(prompt);
    for (const secret of secrets) {
      assert.ok(!redacted.text.includes(secret), `${name} leaks: ${redacted.text}`);
    }
    assert.ok(redacted.secrets.length >= 1 && placeholdersIn(redacted.text).length >= 1, name);
    assert.equal(restore(redacted.text, redacted.secrets), prompt, name);
  }
});

Deno.test("redact() keeps the name of an assignment and hides its value", () => {
  const { text, secrets } = redact('set password=hunter22 and api_key: "abcd1234" and TOKEN = xyz98765');
  assert.equal(text, 'set password={{SECRET_1}} and api_key: "{{SECRET_2}}" and TOKEN = {{SECRET_3}}');
  assert.deepEqual(secrets, ["hunter22", "abcd1234", "xyz98765"]);
});

Deno.test("redact() hides the password of a URL, a curl -u and an Authorization header", () => {
  // secretlint's database rule reports the whole connection string; other schemes lose only the password.
  assert.equal(redact("psql postgres://app:pa55-word@db:5432/prod").text, "psql {{SECRET_1}}");
  assert.equal(redact("redis://default:p@ss@cache:6379/0").text, "redis://default:{{SECRET_1}}@cache:6379/0");
  assert.equal(
    redact("curl -u admin:hunter22 https://ci.local").text,
    "curl -u admin:{{SECRET_1}} https://ci.local",
  );
  assert.equal(
    redact('curl -H "Authorization: Basic YWRtaW46aHVudGVyMjI=" x').text,
    'curl -H "Authorization: Basic {{SECRET_1}}" x',
  );
});

Deno.test("redact() ends a private key without END at the end of its base64 lines", () => {
  const body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nQ2xsb3N1cmVzIGFyZSBub3QgYWxsb3dlZA==";
  const { text, secrets } = redact(`-----BEGIN PRIVATE KEY-----\n${body}\n\nwhy is it rejected`);
  assert.equal(text, "{{SECRET_1}}\n\nwhy is it rejected");
  assert.deepEqual(secrets, [`-----BEGIN PRIVATE KEY-----\n${body}`]);
});

Deno.test("redact() gives the same secret the same number and numbers per text", () => {
  const { text, secrets } = redact(`${AWS_ID} then ${GOOGLE} then ${AWS_ID}`);
  assert.equal(text, "{{SECRET_1}} then {{SECRET_2}} then {{SECRET_1}}");
  assert.deepEqual(secrets, [AWS_ID, GOOGLE]);
  assert.equal(redact(`only ${GOOGLE}`).text, "only {{SECRET_1}}");
});

Deno.test("redact() leaves prose, code, hashes, ids, paths and plain URLs alone", () => {
  for (const prompt of SECRET_FREE_PROMPTS) assert.deepEqual(redact(prompt), { text: prompt, secrets: [] });
});

Deno.test("redact() ignores a secretlint-disable comment in the prompt", () => {
  const { text } = redact(`// secretlint-disable\nuse ${AWS_ID}`);
  assert.equal(text, "// secretlint-disable\nuse {{SECRET_1}}");
});

Deno.test("restore() reverses redact() even after a correction", () => {
  const original = `teh key is ${AWS_ID} adn password=hunter22`;
  const { text, secrets } = redact(original);
  const corrected = text.replace("teh", "the").replace("adn", "and");
  assert.equal(restore(corrected, secrets), `the key is ${AWS_ID} and password=hunter22`);
  assert.equal(restore(text, secrets), original);
  assert.equal(restore("{{SECRET_9}}", secrets), "{{SECRET_9}}");
  assert.deepEqual(placeholdersIn(text), ["{{SECRET_1}}", "{{SECRET_2}}"]);
});

Deno.test("the secret formats include the 19 that issue 9 found missed (PEM without END twice)", () => {
  const missed = FORMATS.filter((format) => format.missedBefore).map((format) => format.name);
  assert.deepEqual(missed.sort(), [
    "aws_secret_bare",
    "aws_secret_credentials_file",
    "aws_secret_env",
    "azure_storage_account_key",
    "curl_bearer",
    "curl_user_password",
    "db_password_env",
    "gitlab_token",
    "huggingface_token",
    "mongodb_srv_url",
    "mysql_url",
    "npm_token",
    "openai_env_opaque",
    "pem_without_end",
    "pem_without_end_then_prose",
    "pgpassword_env",
    "postgres_url",
    "sendgrid_key",
    "stripe_restricted_key",
    "stripe_secret_key",
  ]);
});
