import assert from "node:assert/strict";
import { placeholdersIn, redact, restore } from "./redact.ts";

const SECRETS: Record<string, string> = {
  aws: "AKIAIOSFODNN7EXAMPLE",
  github: "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
  githubPat: "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
  openai: "sk-proj-abcdefghijklmnopqrstuvwx0123",
  anthropic: "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345",
  google: "AIzaSyA1234567890abcdefghijklmnopqrstu",
  slack: "xoxb-1234567890-abcdefghijkl",
  jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
  pem: "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234\nabcd==\n-----END RSA PRIVATE KEY-----",
};

Deno.test("redact() replaces every secret shape with a numbered placeholder", () => {
  for (const [name, secret] of Object.entries(SECRETS)) {
    const { text, secrets } = redact(`before ${secret} after`);
    assert.equal(text, "before {{SECRET_1}} after", name);
    assert.deepEqual(secrets, [secret], name);
  }
});

Deno.test("redact() keeps the key of an assignment and hides its value", () => {
  const { text, secrets } = redact('set password=hunter22 and api_key: "abcd1234" and TOKEN = xyz98765');
  assert.equal(text, 'set password={{SECRET_1}} and api_key: "{{SECRET_2}}" and TOKEN = {{SECRET_3}}');
  assert.deepEqual(secrets, ["hunter22", "abcd1234", "xyz98765"]);
});

Deno.test("redact() gives the same secret the same number and numbers per text", () => {
  const { text, secrets } = redact(`${SECRETS.aws} then ${SECRETS.google} then ${SECRETS.aws}`);
  assert.equal(text, "{{SECRET_1}} then {{SECRET_2}} then {{SECRET_1}}");
  assert.equal(secrets.length, 2);
  assert.equal(redact(`only ${SECRETS.google}`).text, "only {{SECRET_1}}");
});

Deno.test("redact() leaves ordinary prose alone", () => {
  const prose = "pls fix teh bug in src/app.ts, the token count is wrong and sk- prefixes are fine";
  assert.deepEqual(redact(prose), { text: prose, secrets: [] });
});

Deno.test("restore() reverses redact() even after a correction", () => {
  const original = `teh key is ${SECRETS.aws} adn password=hunter22`;
  const { text, secrets } = redact(original);
  const corrected = text.replace("teh", "the").replace("adn", "and");
  assert.equal(restore(corrected, secrets), `the key is ${SECRETS.aws} and password=hunter22`);
  assert.equal(restore(text, secrets), original);
  assert.equal(restore("{{SECRET_9}}", secrets), "{{SECRET_9}}");
  assert.deepEqual(placeholdersIn(text), ["{{SECRET_1}}", "{{SECRET_2}}"]);
});
