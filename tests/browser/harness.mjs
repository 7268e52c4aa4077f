// A small harness for the browser suite: starts the real `veza` binary on a throw-away SQLite
// database, launches Debian's Chromium through playwright-core and runs named steps in order,
// saving a screenshot of every failure. No browser download is involved (docs/web.md).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// The suite's packages (playwright-core, @axe-core/playwright) are dev dependencies of web/,
// installed by `npm ci` there: one lock file for the whole front end.
const requireFromWeb = createRequire(join(repoRoot, 'web/package.json'));
const { chromium } = requireFromWeb('playwright-core');
export const AxeBuilder = requireFromWeb('@axe-core/playwright').default;

export const config = {
  binary: process.env.VEZA_BINARY ?? join(repoRoot, 'build/veza'),
  webRoot: process.env.VEZA_WEB_ROOT ?? join(repoRoot, 'web/dist'),
  artifacts: process.env.VEZA_BROWSER_ARTIFACTS ?? join(repoRoot, 'build/browser-artifacts'),
  chromium: process.env.CHROMIUM ?? '/usr/bin/chromium',
  // Fixed, so --public-url (the only origin allowed to refresh with the session cookie) is known
  // before the server starts. Default base as scripts/test-services; +780 is free there.
  port: Number(process.env.VEZA_TEST_PORT_BASE ?? 15000) + 780,
};

export const baseUrl = `http://127.0.0.1:${config.port}`;

// Flags for a sandboxed, offline machine (see docs/web.md).
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--autoplay-policy=no-user-gesture-required',
  '--use-fake-device-for-media-stream',
];

export function log(...args) {
  console.log(`[browser ${new Date().toISOString().slice(11, 19)}]`, ...args);
}

export class Veza {
  // extraArgs: more `veza serve` flags (the suite adds an --oauth-provider).
  constructor(extraArgs = []) {
    this.dir = mkdtempSync(join(tmpdir(), 'veza-browser-'));
    this.databaseFile = join(this.dir, 'veza.db');
    this.database = `sqlite://${this.databaseFile}`;
    this.extraArgs = extraArgs;
    this.output = [];
  }

  args() {
    return [
      '--listen', `127.0.0.1:${config.port}`,
      '--public-url', baseUrl,
      '--database', this.database,
      '--blobs', `file://${join(this.dir, 'blobs')}`,
      '--web-root', config.webRoot,
      '--log-level', 'warn',
      '--no-access-log',
      ...this.extraArgs,
    ];
  }

  // One SQL statement on the server's database with the sqlite3 CLI (the outbox:// mailer keeps
  // mail there): rows as lines, columns separated by '|'.
  sql(statement) {
    const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', this.databaseFile, statement], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sqlite3 failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  async start() {
    this.proc = spawn(config.binary, ['serve', ...this.args()], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk) => {
      this.output.push(String(chunk));
      if (this.output.length > 400) this.output.splice(0, 200);
    };
    this.proc.stdout.on('data', keep);
    this.proc.stderr.on('data', keep);
    this.exited = new Promise((r) => this.proc.on('exit', r));
    for (let i = 0; i < 300; i++) {
      if (this.proc.exitCode !== null) throw new Error(`veza exited: ${this.output.join('')}`);
      try {
        const res = await fetch(`${baseUrl}/readyz`);
        if (res.ok) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`veza did not become ready on ${baseUrl}: ${this.output.join('')}`);
  }

  // `veza set-role` works on the database directly, beside the running server.
  setRole(username, role) {
    const r = spawnSync(config.binary, ['set-role', username, role, '--database', this.database], { cwd: this.dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`set-role failed: ${r.stderr}${r.stdout}`);
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// A few seconds of a tone with a moving envelope (so the waveform has a shape), with tags.
export function makeAudio(path, { seconds = 8, title = 'Night Drive', artist = 'The Test Pattern' } = {}) {
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi',
      '-i', `aevalsrc='0.8*sin(2*PI*330*t)*(0.25+0.75*abs(sin(PI*t/3)))+0.05*random(0)':s=44100:d=${seconds}`,
      '-metadata', `title=${title}`,
      '-metadata', `artist=${artist}`,
      '-metadata', 'album=Browser Suite',
      '-metadata', 'genre=Synthwave',
      '-c:a', 'pcm_s16le',
      path,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: config.chromium, args: chromiumArgs, headless: true });
}

export async function newPage(browser, options = {}) {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: { width: 1366, height: 860 },
    colorScheme: 'dark',
    ...options,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30000); // generous: `make test` runs this beside every other suite
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.consoleErrors = errors;
  return { context, page };
}

export async function screenshot(page, name) {
  mkdirSync(config.artifacts, { recursive: true });
  const path = join(config.artifacts, `${name}.png`);
  // Images that a client-side navigation just added may still be loading.
  await page.waitForFunction(() => [...document.images].every((i) => i.complete), null, { timeout: 3000 }).catch(() => undefined);
  await page.screenshot({ path, fullPage: false });
  return path;
}

const steps = [];
// knownIssue: a server defect found by this step and reported; the step still runs, its
// failure is listed as XFAIL (not counted), and a pass says the mark can go.
export function step(name, fn, { knownIssue } = {}) {
  steps.push({ name, fn, knownIssue });
}

export async function runSteps(world) {
  let failed = 0;
  const results = [];
  for (const { name, fn, knownIssue } of steps) {
    const started = Date.now();
    try {
      await fn(world);
      results.push({ name, ok: true, ms: Date.now() - started });
      log(`${knownIssue ? 'XPASS (remove the knownIssue mark)' : 'PASS'} ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      if (knownIssue) {
        results.push({ name, ok: false, knownIssue, ms: Date.now() - started, error: String(e?.message ?? e) });
        log(`XFAIL ${name}: ${knownIssue}\n  ${String(e?.message ?? e).split('\n')[0]}`);
        continue;
      }
      failed++;
      results.push({ name, ok: false, ms: Date.now() - started, error: String(e?.stack ?? e) });
      log(`FAIL ${name}: ${e?.stack ?? e}`);
      for (const [label, page] of Object.entries(world.pages ?? {})) {
        try {
          await screenshot(page, `FAILED-${name.replace(/\W+/g, '-')}-${label}`);
        } catch {
          /* page closed */
        }
      }
    }
  }
  mkdirSync(config.artifacts, { recursive: true });
  writeFileSync(join(config.artifacts, 'results.json'), JSON.stringify(results, null, 2));
  return failed;
}

export function expect(condition, message) {
  if (!condition) throw new Error(`expectation failed: ${message}`);
}

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as an authenticator app computes it from the secret.
export function totp(base32Secret, now = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32Secret.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 30000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(code).padStart(6, '0');
}

// A local OAuth provider shaped like GitHub (tests/tools/social-oauth-provider.mjs): its
// authorize endpoint signs in at once as a fixed identity and redirects back. Resolves to
// { port, stop() } once it listens.
export async function startOAuthProvider() {
  const proc = spawn(process.execPath, [join(repoRoot, 'tests/tools/social-oauth-provider.mjs'), '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise((resolvePort, reject) => {
    let buffered = '';
    proc.stdout.on('data', (chunk) => {
      buffered += String(chunk);
      const m = /"port":(\d+)/.exec(buffered);
      if (m) resolvePort(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`the OAuth provider exited (${code})`)));
    setTimeout(() => reject(new Error('the OAuth provider did not start')), 10000);
  });
  return { port, stop: () => proc.kill('SIGTERM') };
}
