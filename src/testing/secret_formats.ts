/**
 * Test helper: common secret formats, each inside a realistic prompt, and prompts that hold none.
 *
 * Every secret value is built here from a seeded generator, so no real-looking key is committed
 * verbatim (secret scanners and push protection see only prefixes and code). The values follow each
 * format's real shape (length, alphabet, fixed markers) closely enough for a maintained rule set to
 * recognise them.
 *
 * @module
 */
import { mulberry32 } from "../../mocks/_random.ts";

/** One secret format: a prompt that holds it and the parts that must never leave the machine. */
export interface SecretFormat {
  /** Short name, e.g. `aws_secret_env`. */
  name: string;
  /** Whether issue 9 listed the format among the 19 the first redactor missed (PEM without END: two cases). */
  missedBefore: boolean;
  /** A prompt as a person would type or paste it. */
  prompt: string;
  /** The secret parts: none may appear in anything sent, cached or queued. */
  secrets: string[];
}

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const ALNUM = UPPER + LOWER + DIGITS;
const BASE64 = ALNUM + "+/";
const HEX = "0123456789abcdef";

/**
 * Builds the formats from a seed: the same seed gives the same values.
 *
 * @param seed Seed of the value generator.
 * @default {9}
 * @returns The formats, in a stable order.
 */
export function secretFormats(seed = 9): SecretFormat[] {
  const random = mulberry32(seed);
  const pick = (alphabet: string, n: number): string => {
    let out = "";
    for (let i = 0; i < n; i++) out += alphabet[Math.floor(random() * alphabet.length)];
    return out;
  };
  // A base64 body of a private key: 64-char lines.
  const pemBody = (lines: number): string[] => Array.from({ length: lines }, () => pick(BASE64, 64));
  const awsSecret = () => pick(UPPER + LOWER, 4) + pick(BASE64, 35) + pick(DIGITS, 1);
  const formats: SecretFormat[] = [];
  const add = (name: string, missedBefore: boolean, prompt: string, ...secrets: string[]) =>
    formats.push({ name, missedBefore, prompt, secrets });

  // Cloud keys.
  const akia = "AKIA" + pick(UPPER + DIGITS, 16);
  add("aws_access_key_id", false, `teh deploy fails with key ${akia}, can you check the iam policy`, akia);
  const asia = "ASIA" + pick(UPPER + DIGITS, 16);
  add("aws_session_key_id", false, `sts gave me ${asia} but the call is denied`, asia);
  const bare = awsSecret();
  add("aws_secret_bare", true, `my secret key is ${bare} and it doesnt work in us-east-1`, bare);
  const env = awsSecret();
  add("aws_secret_env", true, `export AWS_SECRET_ACCESS_KEY=${env}\nthen run teh sync again`, env);
  const ini = awsSecret();
  add(
    "aws_secret_credentials_file",
    true,
    `my ~/.aws/credentials:\n[default]\naws_access_key_id = ${"AKIA" + pick(UPPER + DIGITS, 16)}\n` +
      `aws_secret_access_key = ${ini}\nwhy is it ignored`,
    ini,
  );
  const aiza = "AIza" + pick(ALNUM + "_-", 35);
  add("google_api_key", false, `maps wont load with key=${aiza} in teh browser`, aiza);
  const gcpKey = pemBody(4);
  add(
    "gcp_service_account_private_key",
    false,
    `here is the service account json {"type": "service_account", "private_key_id": "${pick(HEX, 40)}", ` +
      `"private_key": "-----BEGIN PRIVATE KEY-----\\n${
        gcpKey.join("\\n")
      }\\n-----END PRIVATE KEY-----\\n", ` +
      `"client_email": "ci@proj.iam.gserviceaccount.com"} why does auth fail`,
    ...gcpKey,
  );
  const azure = pick(BASE64, 86) + "==";
  add(
    "azure_storage_account_key",
    true,
    `connection string DefaultEndpointsProtocol=https;AccountName=mystore;AccountKey=${azure};` +
      `EndpointSuffix=core.windows.net gives 403`,
    azure,
  );

  // Source hosting and package registries.
  const ghp = "ghp_" + pick(ALNUM, 36);
  add("github_classic_token", false, `git push asks for a password, I used ${ghp}`, ghp);
  const gho = "gho_" + pick(ALNUM, 36);
  add("github_oauth_token", false, `the oauth app returned ${gho} is that right`, gho);
  const pat = "github_pat_" + pick(ALNUM, 22) + "_" + pick(ALNUM, 59);
  add("github_fine_grained_token", false, `set GH_TOKEN to ${pat} in the workflow`, pat);
  const glpat = "glpat-" + pick(ALNUM + "_-", 20);
  add("gitlab_token", true, `clone with ${glpat} fails on teh runner`, glpat);
  const npm = "npm_" + pick(ALNUM, 36);
  add("npm_token", true, `publish fails with token ${npm}`, npm);
  const npmrc = "npm_" + pick(ALNUM, 36);
  add("npmrc_auth_token", false, `my .npmrc has //registry.npmjs.org/:_authToken=${npmrc}`, npmrc);

  // AI providers.
  const openai = "sk-proj-" + pick(ALNUM + "_-", 74) + "T3BlbkFJ" + pick(ALNUM + "_-", 74);
  add("openai_project_key", false, `why does ${openai} return 401`, openai);
  const opaque = pick(ALNUM, 48);
  add("openai_env_opaque", true, `when I run OPENAI_API_KEY=${opaque} python app.py it crashes`, opaque);
  const anthropic = "sk-ant-api03-" + pick(ALNUM + "_-", 93) + "AA";
  add("anthropic_key", false, `claude says invalid key ${anthropic}`, anthropic);
  const hf = "hf_" + pick(UPPER + LOWER, 34);
  add("huggingface_token", true, `huggingface-cli login --token ${hf} hangs`, hf);

  // Chat, mail and payments.
  const slackBot = `xoxb-${pick(DIGITS, 12)}-${pick(DIGITS, 13)}-${pick(ALNUM, 24)}`;
  add("slack_bot_token", false, `the bot token ${slackBot} cant post to #general`, slackBot);
  const slackUser = `xoxp-${pick(DIGITS, 12)}-${pick(DIGITS, 12)}-${pick(DIGITS, 13)}-${pick(HEX, 32)}`;
  add("slack_user_token", false, `use ${slackUser} for the export script`, slackUser);
  const hookPath = `T${pick(UPPER + DIGITS, 10)}/B${pick(UPPER + DIGITS, 10)}/${pick(ALNUM, 24)}`;
  add(
    "slack_webhook",
    false,
    `post alerts to https://hooks.slack.com/services/${hookPath} from cron`,
    hookPath,
  );
  const sendgrid = "SG." + pick(ALNUM + "_", 22) + "." + pick(ALNUM + "_", 43);
  add("sendgrid_key", true, `emails bounce, key is ${sendgrid}`, sendgrid);
  const stripeLive = "sk_live_" + pick(ALNUM, 99);
  add("stripe_secret_key", true, `charge fails with ${stripeLive} in prod`, stripeLive);
  const stripeRestricted = "rk_live_" + pick(ALNUM, 99);
  add(
    "stripe_restricted_key",
    true,
    `the restricted key ${stripeRestricted} lacks refunds`,
    stripeRestricted,
  );
  const shopify = "shpat_" + pick(HEX, 32);
  add("shopify_token", false, `shopify admin api with ${shopify} gives 403`, shopify);

  // Databases and URLs with credentials.
  const pg = pick(ALNUM, 16);
  add("postgres_url", true, `psql postgres://app:${pg}@db.internal:5432/prod says timeout`, pg);
  const my = pick(ALNUM, 14) + "!";
  add("mysql_url", true, `why is DATABASE_URL="mysql://root:${my}@127.0.0.1:3306/shop" not picked up`, my);
  const mongo = pick(ALNUM, 20);
  add(
    "mongodb_srv_url",
    true,
    `mongoose.connect("mongodb+srv://admin:${mongo}@cluster0.ab1cd.mongodb.net/app?retryWrites=true")`,
    mongo,
  );
  const redis = pick(ALNUM, 24);
  add(
    "redis_url",
    false,
    `the worker with REDIS_URL=redis://default:${redis}@cache.example.com:6379 times out`,
    redis,
  );
  const gitUrl = pick(ALNUM, 20);
  add(
    "https_url_credentials",
    false,
    `git clone https://deploy:${gitUrl}@git.example.com/team/app.git`,
    gitUrl,
  );
  const dbPassword = pick(LOWER, 6) + pick(DIGITS, 4) + pick(UPPER, 2);
  add("db_password_env", true, `in .env I have DB_PASSWORD=${dbPassword} and DB_HOST=localhost`, dbPassword);
  const pgPassword = pick(ALNUM, 14);
  add(
    "pgpassword_env",
    true,
    `can you explain why PGPASSWORD=${pgPassword} pg_dump -h db -U app prod hangs`,
    pgPassword,
  );
  const yaml = pick(LOWER, 10) + pick(DIGITS, 3);
  add("yaml_password", false, `docker-compose.yml:\n  environment:\n    password: ${yaml}`, yaml);
  const quoted = pick(ALNUM, 18);
  add("json_api_key", false, `config.json has {"api_key": "${quoted}", "region": "eu"}`, quoted);
  const clientSecret = pick(ALNUM + "~_-", 34);
  add("client_secret_json", false, `oauth {"client_secret": "${clientSecret}"} is rejected`, clientSecret);
  const assignment = pick(LOWER, 5) + pick(DIGITS, 3);
  add("password_assignment", false, `login with password=${assignment} fails`, assignment);
  const token = pick(ALNUM, 32);
  add("token_env", false, `export GITHUB_TOKEN=${token} && gh pr list`, token);

  // HTTP credentials.
  const bearer = pick(ALNUM + "._-", 40);
  add(
    "curl_bearer",
    true,
    `curl -H "Authorization: Bearer ${bearer}" https://api.example.com/v1/items returns 401`,
    bearer,
  );
  const basic = btoa(`admin:${pick(ALNUM, 12)}`);
  add("authorization_basic", false, `the request sends Authorization: Basic ${basic} and fails`, basic);
  const curlPass = pick(ALNUM, 12);
  add("curl_user_password", true, `curl -u admin:${curlPass} https://jenkins.example.com/api/json`, curlPass);
  const apiKeyHeader = pick(HEX, 32);
  add(
    "x_api_key_header",
    false,
    `curl -H 'x-api-key: ${apiKeyHeader}' https://api.example.com`,
    apiKeyHeader,
  );

  // Tokens and keys.
  const jwt = "eyJ" + pick(ALNUM, 30) + ".eyJ" + pick(ALNUM, 60) + "." + pick(ALNUM + "_-", 43);
  add("jwt", false, `decode this token ${jwt} and tell me the claims`, jwt);
  const rsa = pemBody(6);
  add(
    "pem_rsa_private_key",
    false,
    `-----BEGIN RSA PRIVATE KEY-----\n${rsa.join("\n")}\n-----END RSA PRIVATE KEY-----\nis this key valid`,
    ...rsa,
  );
  const openssh = pemBody(5);
  add(
    "pem_openssh_private_key",
    false,
    `ssh says bad permissions on\n-----BEGIN OPENSSH PRIVATE KEY-----\n${openssh.join("\n")}\n` +
      `-----END OPENSSH PRIVATE KEY-----`,
    ...openssh,
  );
  const truncated = pemBody(4);
  add(
    "pem_without_end",
    true,
    `I pasted part of my key\n-----BEGIN EC PRIVATE KEY-----\n${truncated.join("\n")}`,
    ...truncated,
  );
  const truncatedThenProse = pemBody(3);
  add(
    "pem_without_end_then_prose",
    true,
    `-----BEGIN PRIVATE KEY-----\n${truncatedThenProse.join("\n")}\n\nwhy does openssl reject it`,
    ...truncatedThenProse,
  );
  return formats;
}

/**
 * Prompts that hold no secret and must reach the model unchanged: prose, code, hashes, ids, paths,
 * URLs without credentials, and secret-looking names bound to code rather than values.
 */
export const SECRET_FREE_PROMPTS: readonly string[] = [
  "pls fix teh bug in src/app.ts, the token count is wrong and sk- prefixes are fine",
  "reset the password field when the form is submitted, and show the secret question again",
  "why does git show 3f5e1c9a7b2d4e6f8091a2b3c4d5e6f708192a3b as the merge base and not 9f2c1ab",
  "the run id 0b6f3c2e-8d4a-4f1b-9c7e-2a5d6e8f9a01 is missing from the runs table",
  "move /home/alice/projects/ccpipe/src/llm/redact.ts to src/llm/secrets/redact_rules.ts",
  "open https://github.com/denoland/deno/issues/12345 and https://docs.example.com/api/v2/auth#tokens",
  "interface Login { password: string; token?: string | null; apiKey: ApiKey }",
  "const token = await getToken(); const secret = process.env.APP_SECRET; headers.authorization = token",
  'curl -H "Authorization: Bearer $TOKEN" https://api.example.com and -u "$USER:$PASS" for jenkins',
  "api_key = os.environ['API_KEY'] and password = getpass.getpass() in settings.py",
  "client = OpenAI(api_key=api_key) or OpenAI(api_key=OPENAI_API_KEY), and login(password=password)",
  "in the workflow set token: ${{ secrets.GITHUB_TOKEN }} and def connect(password: str, token: Optional[str])",
  "set max_tokens: 4096 and input_tokens=1200, then count tokens per model",
  "the integrity is sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",
  "docker pull node@sha256:9d1f4a1b0b5c8e7f6a2d3c4b5a69788776655443322110ffeeddccbbaa998877",
  "Password: required. Token: see the docs. Secret: keep it simple, and pass the tests",
  "DATABASE_URL=postgres://localhost:5432/dev works but postgres://app@db:5432/prod asks for a password",
  "export PWD=/home/alice/work && echo $API_TOKEN && cat ~/.config/token.json",
  "rename getUserPasswordHashAlgorithmName to passwordAlgorithm in AuthServiceConfigurationBuilder2",
  'fn main() { let key = HashMap::new(); key.insert("secret", 1); println!("{:?}", key); }',
  "the commit a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0 broke packages/coreUtilities/src/internalHelpers",
  "grep -rn 'BEGIN PUBLIC KEY' certs/ and check that ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 is the public key",
];
