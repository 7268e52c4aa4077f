// The browser suite (CTest: WebBrowserSuite): the built web app in Debian's Chromium against a
// real `veza`. Steps share one server and build on each other, like a person would use it:
// sign up, upload, play, chat with a second person, try the admin area, then check
// accessibility. Screenshots of every main screen land in build/browser-artifacts/.
//   node tests/browser/run.mjs            (VEZA_BINARY, VEZA_WEB_ROOT, VEZA_TEST_PORT_BASE)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder, baseUrl, config, expect, totp, launchBrowser, log, makeAudio, newPage, runSteps, screenshot, startOAuthProvider, step, Veza } from './harness.mjs';

const stamp = Date.now().toString(36).slice(-5);
const alice = { username: `alice${stamp}`, email: `alice${stamp}@example.test`, password: 'correct horse battery 42' };
const carol = { username: `carol${stamp}`, email: `carol${stamp}@example.test`, password: 'third long passphrase 99' };
const bob = { username: `bob${stamp}`, email: `bob${stamp}@example.test`, password: 'another long passphrase 7' };
const dave = { username: `dave${stamp}`, email: `dave${stamp}@example.test`, password: 'dave plays the oboe 1984' };
const erin = { username: `erin${stamp}`, email: `erin${stamp}@example.test`, password: 'erin keeps bees in june 5' };
const frank = { username: `frank${stamp}`, email: `frank${stamp}@example.test`, password: 'frank tunes pianos at 9' };

async function signIn(page, who, password = who.password) {
  await page.goto('/login');
  await page.getByLabel('Username or email').fill(who.username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// Serious or critical axe findings on what the page shows now, labelled.
async function axeProblems(page, label) {
  const result = await new AxeBuilder({ page }).analyze();
  log(`axe ${label}: ${result.violations.length} violation(s)`);
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${label}: ${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

// A bearer token for `who` from the login API (the app keeps its own in memory only).
async function bearer(page, who) {
  return page.evaluate(async ({ username, password }) => {
    const r = await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: username, password }) });
    return (await r.json()).access_token;
  }, who);
}

// The newest mail to `address` from the outbox, waiting for the mailer to write it.
async function newestMail(w, page, address) {
  for (let i = 0; i < 50; i++) {
    const body = w.veza.sql(`SELECT body FROM outbox WHERE to_address = '${address}' ORDER BY created_at DESC LIMIT 1`);
    if (body) return body;
    await page.waitForTimeout(200);
  }
  return '';
}

async function signUp(page, who) {
  await page.goto('/signup');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${baseUrl}/`);
  await page.getByRole('heading', { name: /Welcome back/ }).waitFor();
}

function nav(page, name) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
}

async function audio(page) {
  return page.evaluate(() => {
    const a = document.getElementById('veza-audio');
    return { currentTime: a.currentTime, duration: a.duration, paused: a.paused, src: a.currentSrc };
  });
}

step('sign up lands on the home feed, signed in', async (w) => {
  const { page } = w.a;
  await signUp(page, alice);
  await page.getByRole('link', { name: 'Account settings' }).waitFor();
  await screenshot(page, '01-home-signed-in');
});

step('upload a generated file with a per-file progress bar until it is ready', async (w) => {
  const { page } = w.a;
  await nav(page, 'Upload').click();
  await page.getByRole('heading', { name: 'Share your sound' }).waitFor();
  await screenshot(page, '02-upload-empty');
  // Every value an upload's bar shows while uploading is recorded in the page, so a fast upload
  // between two polls still counts.
  await page.evaluate(() => {
    window.__uploadSeen = 0;
    new MutationObserver((records) => {
      for (const r of records) {
        const el = r.target;
        if (el.dataset?.testid !== 'upload-progress') continue;
        const phase = el.closest('[data-testid="upload-item"]')?.dataset.phase;
        if (phase === 'uploading' || phase === 'queued') window.__uploadSeen = Math.max(window.__uploadSeen, Number(el.getAttribute('aria-valuenow') ?? 0));
      }
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['aria-valuenow', 'data-phase'] });
  });
  // One file chosen with the picker, a second dropped on the drop zone (a real drop event with
  // a DataTransfer), so two uploads run side by side.
  await page.getByTestId('file-input').setInputFiles([w.audioFile]);
  const dropped = readFileSync(w.audioFile2).toString('base64');
  const dataTransfer = await page.evaluateHandle((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'second take.wav', { type: 'audio/wav' }));
    return dt;
  }, dropped);
  await page.getByTestId('dropzone').dispatchEvent('dragover', { dataTransfer });
  await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer });
  const items = page.getByTestId('upload-item');
  await items.nth(1).waitFor();
  const bar = items.first().getByTestId('upload-progress');
  await bar.waitFor();
  // The bar moves: remember the highest value seen until the upload turns into processing.
  let seen = 0;
  for (let i = 0; i < 600; i++) {
    const phase = await items.first().getAttribute('data-phase');
    const now = Number((await bar.getAttribute('aria-valuenow')) ?? 0);
    seen = Math.max(seen, now);
    if (phase !== 'uploading' && phase !== 'queued') break;
    await page.waitForTimeout(50);
  }
  seen = Math.max(seen, await page.evaluate(() => window.__uploadSeen));
  expect(seen > 0, `the upload progress bar moved (highest ${seen})`);
  await page.locator('[data-testid="upload-item"][data-phase="ready"]').nth(1).waitFor({ timeout: 180000 });
  // The details form is filled from the tags the server read.
  const firstForm = items.first().getByRole('form');
  await firstForm.getByLabel('Artist').waitFor();
  const artist = await firstForm.getByLabel('Artist').inputValue();
  expect(artist === 'The Test Pattern', `artist pre-filled from tags (got "${artist}")`);
  await firstForm.getByLabel('Description').fill('Made by ffmpeg for the browser suite.');
  await firstForm.getByRole('button', { name: 'Save details' }).click();
  await firstForm.getByText('Saved').waitFor();
  await screenshot(page, '03-upload-ready');
});

step('play the track: currentTime passes 1 s, then seek by clicking the waveform', async (w) => {
  const { page } = w.a;
  await page.getByTestId('upload-item').first().getByRole('link', { name: 'Open' }).click();
  await page.waitForURL(/\/tracks\//);
  w.trackUrl = page.url();
  await page.getByTestId('waveform').waitFor();
  // The ready track's waveform_url serves its peaks: the canvas must draw them, not the placeholder.
  await page.waitForSelector('[data-testid="waveform"][data-state="peaks"]', { timeout: 10000 });
  await page.getByTestId('track-play').click();
  await page.waitForFunction(() => document.getElementById('veza-audio').currentTime > 1, null, { timeout: 20000 });
  const playing = await audio(page);
  expect(!playing.paused, 'audio is playing');
  expect(/\/api\/v1\/tracks\/.+\/stream\//.test(playing.src) || /\.m3u8|blob:/.test(playing.src), `signed stream url (${playing.src})`);
  await screenshot(page, '04-track-playing');

  const box = await page.getByTestId('waveform').boundingBox();
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2);
  const after = await audio(page);
  expect(Math.abs(after.currentTime - after.duration * 0.75) < 1.0, `seeked to 75% (${after.currentTime.toFixed(2)} of ${after.duration.toFixed(2)})`);

  // Keyboard: Space pauses (focus on the page body, not a control).
  await page.locator('body').click({ position: { x: 5, y: 5 } }).catch(() => undefined);
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  await page.keyboard.press('Space');
  await page.waitForFunction(() => document.getElementById('veza-audio').paused);
  await page.keyboard.press('Space');
  await page.waitForFunction(() => !document.getElementById('veza-audio').paused);
});

step('the player keeps playing across page changes', async (w) => {
  const { page } = w.a;
  const before = (await audio(page)).src;
  await nav(page, 'Discover').click();
  await page.getByRole('heading', { name: 'New tracks' }).waitFor();
  const now = await audio(page);
  expect(now.src === before && !now.paused, 'same source, still playing after navigation');
  await page.getByRole('region', { name: 'Player' }).waitFor();
  await screenshot(page, '05-home-with-player');
  await page.getByRole('button', { name: 'Pause' }).first().click();
});

step('creator stats: the charts render with the suite\'s play counted', async (w) => {
  const { page } = w.a;
  await nav(page, 'Stats').click();
  await page.getByRole('heading', { name: 'Your stats', exact: true }).waitFor();
  // Play events are applied from a work queue: reload until the play shows (bounded).
  const plays = page.getByTestId('stat-tile').filter({ hasText: 'Plays' }).locator('strong');
  for (let i = 0; i < 30 && (await plays.textContent().catch(() => '0')) === '0'; i++) {
    await page.waitForTimeout(1000);
    await page.reload();
    await page.getByRole('heading', { name: 'Your stats', exact: true }).waitFor();
    await plays.waitFor();
  }
  const counted = Number((await plays.textContent()).replace(/\D/g, ''));
  expect(counted >= 1, `the play is counted (Plays: ${counted})`);
  // uPlot draws on a canvas inside the chart box, with the day series.
  const chart = page.getByRole('img', { name: /Plays and listeners per day/ });
  await chart.locator('canvas').waitFor();
  const box = await chart.boundingBox();
  expect(box && box.width > 200 && box.height > 100, 'the plays chart has a size');
  const top = page.locator('.bar-row', { hasText: 'Night Drive' });
  await top.waitFor();
  await top.click();
  await page.getByRole('img', { name: /Share of listeners still listening/ }).locator('canvas').waitFor();
  await screenshot(page, '40-creator-stats');
  // The track page shows the same play in its play count.
  await page.goto(w.trackUrl);
  await page.getByTestId('track-plays').waitFor();
  const shown = Number((await page.getByTestId('track-plays').textContent()).replace(/\D/g, ''));
  expect(shown >= 1, `the track page counts the play (${shown})`);
});

step('a reload keeps the session (refresh cookie + CSRF token)', async (w) => {
  const { page } = w.a;
  await page.reload();
  await page.getByRole('link', { name: 'Account settings' }).waitFor({ timeout: 10000 });
});

step('two people chat in real time', async (w) => {
  const a = w.a.page;
  const b = w.b.page;
  await nav(a, 'Chat').click();
  await a.getByRole('button', { name: 'New room' }).click();
  await a.getByLabel('Room name').fill('beats');
  await a.getByLabel('Topic').fill('Share what you are working on');
  await a.getByRole('button', { name: 'Create room' }).click();
  await a.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  const roomUrl = a.url();
  w.roomUrl = roomUrl;
  await a.getByTestId('chat-connection').getByText('Live').waitFor();

  await signUp(b, bob);
  await b.goto(roomUrl);
  await b.getByTestId('chat-connection').getByText('Live').waitFor();

  await a.getByTestId('composer').fill('hello from alice');
  await a.getByTestId('composer').press('Enter');
  await b.getByTestId('messages').getByText('hello from alice').waitFor({ timeout: 10000 });

  await b.getByTestId('composer').fill('hi alice, bob here');
  await b.getByRole('button', { name: 'Send' }).click();
  await a.getByTestId('messages').getByText('hi alice, bob here').waitFor({ timeout: 10000 });
  const count = await a.getByTestId('message').count();
  expect(count === 2, `each message shown once (${count})`);
  await screenshot(a, '06-chat');
  await screenshot(b, '06-chat-second-person');
});

step('chat comes back after the network drops, with nothing lost', async (w) => {
  const a = w.a.page;
  const b = w.b.page;
  // Drop B's socket from the browser side; the client reconnects and resumes from its last seq.
  await w.b.context.setOffline(true);
  // Offline emulation leaves open sockets alone; drop B's the way a lost network would.
  await b.evaluate(() => window.__vezaChat.simulateDrop());
  await b.getByTestId('chat-connection').getByText('Reconnecting…').waitFor();
  await a.getByTestId('composer').fill('sent while bob was offline');
  await a.getByTestId('composer').press('Enter');
  await a.getByTestId('messages').getByText('sent while bob was offline').waitFor();
  await w.b.context.setOffline(false);
  await b.evaluate(() => window.dispatchEvent(new Event('online')));
  await b.getByTestId('messages').getByText('sent while bob was offline').waitFor({ timeout: 30000 });
});

async function badge(page) {
  const b = page.getByTestId('notifications-badge');
  return (await b.count()) ? Number((await b.textContent()).replace('+', '')) : 0;
}

step('social: follow from a profile, the home feed, like and repost with counters', async (w) => {
  const a = w.a.page;
  const b = w.b.page;
  w.trackId = w.trackUrl.split('/tracks/')[1];
  // Alice keeps a page open: her bell must count what Bob does, live.
  await a.goto('/');
  await a.getByRole('heading', { name: /Welcome back/ }).waitFor();
  await b.goto(`/u/${alice.username}`);
  await b.getByRole('heading', { name: alice.username }).waitFor();
  await b.getByTestId('count-followers').getByText('0').waitFor();
  await b.getByTestId('follow').click();
  // Optimistic: the button and the counter change before any reload.
  await b.getByTestId('follow').getByText('Following').waitFor();
  await b.getByTestId('count-followers').getByText('1').waitFor();
  await b.getByRole('tab', { name: 'Tracks' }).waitFor();
  await b.getByRole('link', { name: 'Night Drive' }).first().waitFor();
  await screenshot(b, '20-profile');
  await b.reload();
  await b.getByTestId('count-followers').getByText('1').waitFor();
  await b.getByTestId('follow').getByText('Following').waitFor();

  await nav(b, 'Discover').click();
  await b.getByRole('heading', { name: 'From people you follow' }).waitFor();
  await b.getByTestId('feed-item').filter({ hasText: 'Night Drive' }).first().waitFor();
  const feedItems = await b.getByTestId('feed-item').count();
  expect(feedItems === 2, `both of Alice's uploads in Bob's feed (${feedItems})`);
  await screenshot(b, '21-home-feed');

  await b.goto(w.trackUrl);
  await b.getByRole('heading', { name: 'Night Drive' }).waitFor();
  await b.getByTestId('like').getByText('0').waitFor();
  await b.getByTestId('like').click();
  await b.getByTestId('like').getByText('1').waitFor();
  expect((await b.getByTestId('like').getAttribute('aria-pressed')) === 'true', 'like pressed');
  await b.getByTestId('repost').click();
  await b.getByTestId('repost').getByText('1').waitFor();
  await b.getByTestId('track-counts').getByText('1 · 1').waitFor();
  // The bell on Alice's open page counted the follow, like and repost without a reload.
  await a.waitForFunction(() => Number(document.querySelector('[data-testid="notifications-badge"]')?.textContent ?? 0) >= 3, null, { timeout: 15000 });
  // Bob's likes tab lists the track.
  await b.goto(`/u/${bob.username}?tab=likes`);
  await b.getByRole('link', { name: 'Night Drive' }).first().waitFor();
});

step('playlists: add from the track page, reorder, make private, share', async (w) => {
  const a = w.a.page;
  await a.goto(w.trackUrl);
  await a.getByRole('heading', { name: 'Night Drive' }).waitFor();
  await a.getByTestId('add-to-playlist').click();
  await a.getByLabel('New playlist name').fill('Late night drive');
  await a.getByRole('dialog', { name: 'Add to playlist' }).getByRole('button', { name: 'Create' }).click();
  await a.getByRole('dialog', { name: 'Add to playlist' }).getByText('Added').waitFor();
  await screenshot(a, '22-add-to-playlist');
  await a.keyboard.press('Escape');
  // The second upload joins the same playlist from its own page.
  await a.goto(`/u/${alice.username}`);
  await a.getByRole('link', { name: 'Second Take' }).first().click();
  await a.getByRole('heading', { name: 'Second Take' }).waitFor();
  await a.getByTestId('add-to-playlist').click();
  await a.getByRole('dialog', { name: 'Add to playlist' }).getByRole('button', { name: /Late night drive/ }).click();
  await a.getByRole('dialog', { name: 'Add to playlist' }).getByText('Added').waitFor();
  await a.keyboard.press('Escape');

  await a.goto(`/u/${alice.username}?tab=playlists`);
  await a.getByTestId('playlist-card').filter({ hasText: 'Late night drive' }).click();
  await a.getByRole('heading', { name: 'Late night drive' }).waitFor();
  const titles = async () => (await a.getByTestId('playlist-item').locator('.row-main a').allTextContents()).join(',');
  expect((await titles()) === 'Night Drive,Second Take', `added in order (${await titles()})`);
  // The move shows at once (optimistic); the reload waits for the server to have stored it.
  const stored = a.waitForResponse((r) => r.url().includes('/api/v1/playlists/') && r.request().method() !== 'GET');
  await a.getByRole('button', { name: 'Move Second Take up' }).click();
  await a.waitForFunction(() => document.querySelector('[data-testid="playlist-item"] .row-main a')?.textContent === 'Second Take');
  expect((await stored).ok(), 'the new order is stored');
  await a.reload();
  await a.getByTestId('playlist-item').first().getByText('Second Take').waitFor();
  await a.getByRole('button', { name: 'Edit' }).click();
  await a.getByTestId('playlist-visibility-select').selectOption('private');
  await a.getByRole('form', { name: 'Playlist details' }).getByRole('button', { name: 'Save' }).click();
  await a.getByTestId('playlist-visibility').getByText('Private').waitFor();
  await a.getByLabel('Invite by username').fill(bob.username);
  await a.getByRole('button', { name: 'Invite' }).click();
  await a.getByRole('region', { name: 'Collaborators' }).getByText(`@${bob.username}`).waitFor();
  await a.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await a.getByTestId('share').click();
  await a.getByTestId('share').getByText('Link copied').waitFor();
  const copied = await a.evaluate(() => navigator.clipboard.readText());
  expect(copied === a.url(), `share copies the page URL (${copied})`);
  await screenshot(a, '23-playlist');
});

step('search: instant results while typing, type tabs, track filters', async (w) => {
  const a = w.a.page;
  await nav(a, 'Search').click();
  await a.getByTestId('search-input').pressSequentially('nigt driv', { delay: 40 });
  // Typo tolerant, no Enter needed.
  await a.getByTestId('search-results').getByRole('link', { name: 'Night Drive' }).first().waitFor();
  await screenshot(a, '24-search');
  await a.getByTestId('search-input').fill(bob.username);
  await a.getByTestId('search-results').getByText(`@${bob.username}`).waitFor();
  await a.getByRole('tab', { name: 'Tracks' }).click();
  await a.getByTestId('search-input').fill('the test pattern');
  await a.getByTestId('search-results').getByRole('link', { name: 'Second Take' }).waitFor();
  await a.getByTestId('filter-duration').selectOption('long');
  await a.getByText('No results for “the test pattern”').waitFor();
  await a.getByTestId('filter-duration').selectOption('short');
  await a.getByTestId('filter-genre').fill('synthwave');
  await a.getByTestId('search-results').getByRole('link', { name: 'Night Drive' }).waitFor();
  await a.getByRole('tab', { name: 'Rooms' }).click();
  await a.getByTestId('search-input').fill('beats');
  await a.getByTestId('search-results').getByRole('link', { name: 'beats' }).waitFor();
});

step('comments at the playback time show on the waveform; replies; delete your own', async (w) => {
  const a = w.a.page;
  const b = w.b.page;
  await a.goto(w.trackUrl);
  await a.getByTestId('waveform').waitFor();
  await a.getByTestId('track-play').click();
  await a.waitForFunction(() => document.getElementById('veza-audio').currentTime > 2.2, null, { timeout: 20000 });
  await a.getByRole('button', { name: 'Pause' }).first().click();
  const at = await a.evaluate(() => document.getElementById('veza-audio').currentTime);
  await a.getByTestId('comment-input').fill('the synth comes in here');
  await a.getByRole('button', { name: 'Post', exact: true }).click();
  const comment = a.getByTestId('comment').filter({ hasText: 'the synth comes in here' });
  await comment.waitFor();
  const stamp = await comment.locator('.stamp').textContent();
  expect(stamp === `at 0:0${Math.floor(at)}`, `comment stamped at the playback time (${stamp}, audio at ${at.toFixed(2)})`);
  await a.getByTestId('comment-marker').first().waitFor();
  const marker = await a.getByTestId('comment-marker').first().boundingBox();
  const wave = await a.getByTestId('waveform').boundingBox();
  const fraction = (marker.x + marker.width / 2 - wave.x) / wave.width;
  const duration = await a.evaluate(() => document.getElementById('veza-audio').duration);
  expect(Math.abs(fraction - Math.floor(at) / duration) < 0.03, `marker under its time (${fraction.toFixed(3)} vs ${(at / duration).toFixed(3)})`);

  await b.goto(w.trackUrl);
  await b.getByTestId('comment').filter({ hasText: 'the synth comes in here' }).getByRole('button', { name: 'Reply' }).click();
  await b.getByTestId('reply-input').fill('agreed, love that part');
  await b.getByRole('button', { name: 'Reply', exact: true }).last().click();
  await b.getByTestId('comment-reply').filter({ hasText: 'agreed, love that part' }).waitFor();
  await b.getByTestId('comment').filter({ hasText: 'the synth comes in here' }).getByRole('button', { name: 'Reply' }).click();
  await b.getByTestId('reply-input').fill('oops, double post');
  await b.getByTestId('reply-input').press('Enter');
  const mine = b.getByTestId('comment-reply').filter({ hasText: 'oops, double post' });
  await mine.waitFor();
  b.once('dialog', (d) => d.accept());
  await mine.getByRole('button', { name: /Delete comment/ }).click();
  await mine.waitFor({ state: 'detached' });
  // Bob may not delete Alice's comment: no button for it.
  expect((await b.getByTestId('comment').filter({ hasText: 'the synth comes in here' }).locator(':scope > .comment-main > .comment-tools').getByRole('button', { name: /Delete/ }).count()) === 0, 'no delete on others’ comments');
  await a.reload();
  await a.getByTestId('comment-reply').filter({ hasText: 'agreed, love that part' }).waitFor();
  expect((await a.getByTestId('comment-reply').count()) === 1, 'the deleted reply is gone');
  await a.getByTestId('comment-marker').first().click();
  await screenshot(a, '25-track-comments');
});

step('notifications: the bell counts live, the list names what happened, mark all read', async (w) => {
  const a = w.a.page;
  const b = w.b.page;
  const before = await badge(a);
  expect(before >= 4, `unread follow, like, repost and comment (${before})`);
  // One more, while Alice looks at another page: the count goes up on its own.
  await a.goto('/library');
  await b.goto(`/u/${alice.username}`);
  await b.getByTestId('follow').click(); // unfollow (no notification)
  await b.getByTestId('follow').getByText('Follow', { exact: true }).waitFor();
  await b.goto(w.trackUrl);
  await b.getByTestId('like').click(); // unlike
  await b.getByTestId('like').getByText('0').waitFor();
  await b.getByTestId('comment-input').fill('second listen, still great');
  await b.getByRole('button', { name: 'Post', exact: true }).click();
  await a.waitForFunction((n) => Number(document.querySelector('[data-testid="notifications-badge"]')?.textContent ?? 0) > n, before, { timeout: 15000 });
  await a.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Notifications/ }).click();
  // The live one can show before the fetched page does: wait for each kind, not for the first row.
  for (const kind of ['follow', 'like', 'repost', 'comment']) {
    await a.locator(`[data-testid="notification"][data-kind="${kind}"]`).first().waitFor({ timeout: 15000 });
  }
  // Bob's name is known from his comment on the track page Alice opened earlier.
  await a.getByTestId('notification').filter({ hasText: `${bob.username} liked “Night Drive”` }).first().waitFor();
  await screenshot(a, '26-notifications');
  await a.getByTestId('mark-all-read').click();
  await a.getByTestId('notifications-badge').waitFor({ state: 'detached' });
  await a.reload();
  await a.getByTestId('notification').first().waitFor();
  expect((await badge(a)) === 0 && (await a.locator('.notif.unread-row').count()) === 0, 'still all read after a reload');
});

step('chat extras: typing, mentions, reactions, replies, edits, deletes, embeds, presence, DMs', async (w) => {
  const a = w.a.page;
  const b = w.b.page;
  await a.goto(w.roomUrl);
  await b.goto(w.roomUrl);
  await a.getByTestId('chat-connection').getByText('Live').waitFor();
  await b.getByTestId('chat-connection').getByText('Live').waitFor();
  // Presence: Alice sees Bob online in the member list.
  await a.getByTestId('member').filter({ hasText: bob.username }).locator('[data-status="online"]').waitFor({ timeout: 15000 });
  // Typing: Bob types, Alice sees it.
  await b.getByTestId('composer').pressSequentially(`hey @${alice.username.slice(0, 4)}`, { delay: 30 });
  await a.getByTestId('typing').getByText(`${bob.username} is typing…`).waitFor({ timeout: 10000 });
  // Mentions autocomplete from the room's members.
  await b.getByTestId('mention-list').getByText(alice.username).waitFor();
  await screenshot(b, '27-chat-mention');
  await screenshot(a, '27-chat-typing');
  await b.getByTestId('composer').press('Tab');
  await b.getByTestId('composer').pressSequentially('listen: ');
  await b.getByTestId('composer').pressSequentially(`track:${w.trackId}`);
  expect((await b.getByTestId('composer').inputValue()) === `hey @${alice.username} listen: track:${w.trackId}`, 'mention completed');
  await b.getByTestId('composer').press('Enter');
  const bobs = a.getByTestId('message').filter({ hasText: 'listen:' });
  await bobs.waitFor();
  await bobs.locator('.mention-me').waitFor();
  // The track named in the message is embedded with a play button.
  await bobs.getByTestId('track-embed').getByRole('button', { name: 'Play Night Drive' }).click();
  await a.waitForFunction(() => !document.getElementById('veza-audio').paused);
  await a.getByRole('button', { name: 'Pause' }).first().click();
  // Alice reacts; Bob sees the count.
  await bobs.hover();
  await bobs.getByRole('button', { name: 'React', exact: true }).click();
  await bobs.getByRole('button', { name: 'React with 🔥' }).click();
  await bobs.getByTestId('reaction').getByText('1').waitFor();
  const onB = b.getByTestId('message').filter({ hasText: 'listen:' });
  await onB.getByTestId('reaction').filter({ hasText: '🔥' }).getByText('1').waitFor({ timeout: 10000 });
  // Alice replies; Bob sees the quote.
  await bobs.hover();
  await bobs.getByRole('button', { name: 'Reply' }).click();
  await a.getByTestId('replying').waitFor();
  await a.getByTestId('composer').fill('on it, typo in thsi one');
  await a.getByTestId('composer').press('Enter');
  const reply = b.getByTestId('message').filter({ hasText: 'typo in' });
  await reply.locator('.msg-reply-to').getByText(bob.username).waitFor({ timeout: 10000 });
  // Alice fixes it; Bob sees the edit.
  const mineOnA = a.getByTestId('message').filter({ hasText: 'typo in' });
  await mineOnA.hover();
  await mineOnA.getByRole('button', { name: 'Edit message' }).click();
  await a.getByTestId('edit-input').fill('on it, typo in this one');
  await a.getByTestId('edit-input').press('Enter');
  await b.getByTestId('message').filter({ hasText: 'typo in this one' }).getByText('(edited)').waitFor({ timeout: 10000 });
  await screenshot(a, '28-chat-extras');
  // And deletes a message of her own; Bob sees a tombstone.
  await a.getByTestId('composer').fill('this one goes away');
  await a.getByTestId('composer').press('Enter');
  const doomed = a.getByTestId('message').filter({ hasText: 'this one goes away' });
  await doomed.waitFor();
  await b.getByTestId('message').filter({ hasText: 'this one goes away' }).waitFor();
  a.once('dialog', (d) => d.accept());
  await doomed.hover();
  await doomed.getByRole('button', { name: 'Delete message' }).click();
  await b.getByText('This message was deleted.').waitFor({ timeout: 10000 });
  await screenshot(b, '29-chat-second-person-extras');

  // A direct message, started from a profile.
  await a.goto(`/u/${bob.username}`);
  await a.getByTestId('message-user').click();
  await a.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  w.dmUrl = a.url();
  await a.getByRole('heading', { name: bob.username, exact: true }).waitFor();
  const bobBefore = await badge(b);
  await a.getByTestId('composer').fill('psst, private feedback');
  await a.getByTestId('composer').press('Enter');
  // Bob's bell rings (a dm notification), and the room list marks the conversation unread.
  await b.waitForFunction((n) => Number(document.querySelector('[data-testid="notifications-badge"]')?.textContent ?? 0) > n, bobBefore, { timeout: 15000 });
  await b.goto(w.roomUrl);
  await b.getByRole('link', { name: new RegExp(alice.username) }).filter({ has: b.getByTestId('room-unread') }).waitFor({ timeout: 15000 });
  await screenshot(b, '30-chat-dm-unread');
  await b.goto(w.dmUrl);
  await b.getByTestId('messages').getByText('psst, private feedback').waitFor();
});

step('moderation: a report is resolved with a ban in /admin; the banned user\'s open chat is closed', async (w) => {
  const a = w.a.page;
  const b = w.b.page;
  // Servers without the moderation service (before its merge) have no such routes.
  const status = await a.evaluate(async () => (await fetch('/api/v1/moderation/words')).status);
  if (status === 404) {
    log('moderation step: the server has no /api/v1/moderation routes; nothing to drive');
    return;
  }
  w.veza.setRole(alice.username, 'admin');
  await a.goto(w.roomUrl);
  await b.goto(w.roomUrl);
  await b.getByTestId('chat-connection').getByText('Live').waitFor();
  await b.getByTestId('composer').fill('cheap followers, ask me how');
  await b.getByTestId('composer').press('Enter');
  const spam = a.getByTestId('message').filter({ hasText: 'cheap followers' });
  await spam.waitFor();
  a.once('dialog', (d) => d.accept('selling followers'));
  await spam.hover();
  await spam.getByRole('button', { name: 'Report message' }).click();
  await a.getByText('Thanks. A moderator will look at it.').waitFor();

  await a.goto('/admin');
  await a.getByRole('tab', { name: 'Word filter' }).click();
  await a.getByTestId('word-input').fill('darn');
  await a.getByRole('button', { name: 'Add', exact: true }).click();
  await a.getByTestId('filter-word').filter({ hasText: 'darn' }).waitFor();

  await a.getByRole('tab', { name: 'Reports' }).click();
  const card = a.getByTestId('report').filter({ hasText: 'cheap followers' });
  await card.waitFor();
  await card.getByTestId('report-action').selectOption('ban');
  await card.getByTestId('report-duration').selectOption('3600');
  await card.getByLabel('Everywhere').check();
  await card.getByTestId('report-reason').fill('spam, first warning');
  await screenshot(a, '33-admin-report');
  await card.getByTestId('report-resolve').click();
  await card.waitFor({ state: 'detached' });
  // Banned everywhere: the server closes Bob's socket (4003) and the app says so.
  await b.getByTestId('chat-banner').getByText('banned').waitFor({ timeout: 15000 });
  await screenshot(b, '34-chat-banned');

  await a.getByRole('tab', { name: 'Bans and mutes' }).click();
  const row = a.getByTestId('sanction').first();
  await row.locator('.badge', { hasText: 'ban' }).waitFor();
  await row.getByText(/left/).waitFor();
  await screenshot(a, '35-admin-sanctions');
  a.once('dialog', (d) => d.accept('lifted by the browser suite'));
  await row.getByRole('button', { name: 'Lift' }).click();
  await a.getByText('No active mutes or bans.').waitFor();
});

step('an ordinary user gets no access to /admin or its API', async (w) => {
  const b = w.b.page;
  expect((await nav(b, 'Admin').count()) === 0, 'no Admin link in the navigation');
  await b.goto('/admin');
  await b.getByTestId('no-access').waitFor();
  await screenshot(b, '07-admin-refused');
  // The API refuses too: with the user's own token (403) and with none (401).
  const statuses = await b.evaluate(async ({ username, password }) => {
    const login = await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: username, password }) });
    const { access_token } = await login.json();
    const auth = { Authorization: `Bearer ${access_token}` };
    return {
      list: (await fetch('/api/v1/admin/users', { headers: auth })).status,
      audit: (await fetch('/api/v1/admin/audit-log', { headers: auth })).status,
      anonymous: (await fetch('/api/v1/admin/users')).status,
    };
  }, bob);
  expect(statuses.list === 403 && statuses.audit === 403 && statuses.anonymous === 401, `admin API refused: ${JSON.stringify(statuses)}`);
});

step('an admin suspends a user in /admin; their sessions end', async (w) => {
  w.veza.setRole(alice.username, 'admin');
  const a = w.a.page;
  // Bob has the chat open while he is suspended.
  const b = w.b.page;
  await b.goto(w.roomUrl);
  await b.getByTestId('chat-connection').getByText('Live').waitFor();
  await a.goto('/admin');
  await a.getByRole('heading', { name: 'Moderation dashboard' }).waitFor();
  await a.getByTestId('admin-search').fill(bob.username);
  await a.getByTestId('admin-user').filter({ hasText: bob.username }).click();
  await a.getByTestId('admin-reason').fill('spamming the beats room');
  await screenshot(a, '08-admin-user');
  await a.getByTestId('admin-suspend').click();
  await a.getByText('Suspended; every session was signed out.').waitFor();
  // A refresh is refused (every session was revoked).
  const after = await b.evaluate(async () => {
    const csrf = document.cookie.split('; ').find((c) => c.startsWith('__Host-veza_csrf='))?.split('=')[1] ?? '';
    return (await fetch('/api/v1/auth/refresh', { method: 'POST', headers: { 'X-CSRF-Token': csrf } })).status;
  });
  expect(after === 401 || after === 403, `suspended user's refresh refused (${after})`);
  await a.getByRole('tab', { name: 'Audit log' }).click();
  await a.getByTestId('audit-entry').first().waitFor();
  await screenshot(a, '09-admin-audit');
});

step(
  "the suspended user's open chat is closed (4001) within a heartbeat",
  async (w) => {
    const b = w.b.page;
    // docs/websocket.md: the session is re-checked every heartbeat (25 s), then close 4001.
    await b.getByText('Your session ended').waitFor({ timeout: 45000 });
    await screenshot(b, '09-chat-closed-after-suspension');
  },
);

step('admin: rooms with slow mode, and the system page', async (w) => {
  const a = w.a.page;
  await a.goto('/admin');
  await a.getByRole('tab', { name: 'Rooms' }).click();
  await a.getByTestId('admin-room').filter({ hasText: 'beats' }).getByRole('button').click();
  await a.getByTestId('admin-slow-mode').selectOption('10');
  await a.getByRole('button', { name: 'Save room' }).click();
  await a.getByText('Room saved.').waitFor();
  await a.getByTestId('admin-room').filter({ hasText: 'beats' }).getByText('10 s').waitFor();
  await screenshot(a, '31-admin-rooms');
  // The room shows its slow mode to its members.
  await a.goto(w.roomUrl);
  await a.getByText('Slow mode 10s').waitFor();
  await a.goto('/admin');
  await a.getByRole('tab', { name: 'System' }).click();
  const tile = a.getByTestId('stat-tile').filter({ hasText: 'Open connections' });
  await a.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="stat-tile"] strong')?.textContent ?? ''));
  expect(/\d/.test(await tile.locator('strong').textContent()), 'open connections shown');
  await screenshot(a, '32-admin-system');
});

step('track takedowns: a moderator takes a track down in /admin, its owner sees why, then it is restored', async (w) => {
  // Dave uploads a track of his own (through the API, to keep the step short) and waits for it.
  const { context, page: d } = await newPage(w.browser);
  w.pages.d = d;
  await signUp(d, dave);
  const title = `Rain Study ${stamp}`;
  const trackId = await d.evaluate(
    async ({ who, title, wav }) => {
      const login = await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: who.username, password: who.password }) });
      const auth = { Authorization: `Bearer ${(await login.json()).access_token}` };
      const form = new FormData();
      form.set('title', title);
      form.set('file', new File([Uint8Array.from(atob(wav), (c) => c.charCodeAt(0))], 'rain.wav', { type: 'audio/wav' }));
      const made = await (await fetch('/api/v1/tracks', { method: 'POST', headers: auth, body: form })).json();
      for (let i = 0; i < 600; i++) {
        const t = await (await fetch(`/api/v1/tracks/${made.id}`, { headers: auth })).json();
        if (t.state === 'ready') return t.id;
        if (t.state === 'failed') throw new Error(`processing failed: ${t.failure_reason}`);
        await new Promise((r) => setTimeout(r, 300));
      }
      throw new Error('the track did not become ready');
    },
    { who: dave, title, wav: readFileSync(w.audioFile2).toString('base64') },
  );
  const trackUrl = `/tracks/${trackId}`;

  w.veza.setRole(alice.username, 'moderator');
  const a = w.a.page;
  await a.goto('/admin');
  await a.getByRole('tab', { name: 'Takedowns' }).click();
  await a.getByText('Nothing is taken down.').waitFor();
  await a.getByTestId('takedown-search').fill('rain study');
  const candidate = a.getByTestId('takedown-candidate').filter({ hasText: title });
  await candidate.getByRole('button', { name: 'Take down…' }).click();
  await a.getByTestId('takedown-reason').fill('Reported as someone else\'s recording');
  await screenshot(a, '41-admin-takedown-form');
  await a.getByTestId('takedown-submit').click();
  await a.getByText('is taken down; its owner was told why.').waitFor();
  const row = a.getByTestId('takedown').filter({ hasText: title });
  await row.getByText('Reported as someone else').waitFor();
  await screenshot(a, '42-admin-takedowns');

  // Everyone else: the track is gone (its page, search, the owner's public profile).
  const other = await newPage(w.browser);
  await other.page.goto(trackUrl);
  await other.page.getByText(/not found|no such track/i).first().waitFor();
  const hidden = await other.page.evaluate(async (id) => ({
    track: (await fetch(`/api/v1/tracks/${id}`)).status,
    search: (await (await fetch('/api/v1/search?q=rain%20study&type=track')).text()).includes(id),
  }), trackId);
  expect(hidden.track === 404 && !hidden.search, `hidden from others: ${JSON.stringify(hidden)}`);
  await other.context.close();

  // The owner sees it marked, with the reason, a notification, and cannot play it.
  await d.goto(trackUrl);
  const note = d.getByTestId('taken-down');
  await note.getByText('Your track was taken down by a moderator').waitFor();
  await note.getByText('Reported as someone else').waitFor();
  expect(await d.getByTestId('track-play').isDisabled(), 'the owner cannot play a taken-down track');
  await screenshot(d, '43-owner-sees-takedown');
  await d.goto('/notifications');
  await d.getByTestId('notification').filter({ hasText: 'took down' }).filter({ hasText: 'Reported as someone else' }).first().waitFor();

  // The owner cannot undo it through the API either.
  const undo = await d.evaluate(async ({ who, id }) => {
    const login = await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: who.username, password: who.password }) });
    const auth = { Authorization: `Bearer ${(await login.json()).access_token}` };
    return (await fetch(`/api/v1/admin/tracks/${id}/takedown`, { method: 'DELETE', headers: auth })).status;
  }, { who: dave, id: trackId });
  expect(undo === 403, `the owner's restore is refused (${undo})`);

  // Restored by the moderator: it plays again for its owner.
  await row.getByRole('button', { name: 'Restore' }).click();
  await a.getByText('is restored.').waitFor();
  await a.getByText('Nothing is taken down.').waitFor();
  await d.goto(trackUrl);
  await d.getByTestId('waveform').waitFor();
  expect(!(await d.getByTestId('track-play').isDisabled()), 'playable again after the restore');
  await a.getByRole('tab', { name: 'Takedowns' }).waitFor();
  await context.close();
  delete w.pages.d;
});

step('admin system page: live gauges and the instance figures show real numbers', async (w) => {
  w.veza.setRole(alice.username, 'admin');
  const a = w.a.page;
  // Someone is online: Alice's second context keeps the chat open.
  const { context, page: watcher } = await newPage(w.browser);
  await signIn(watcher, alice);
  await watcher.waitForURL(`${baseUrl}/`);
  await watcher.goto(w.roomUrl);
  await watcher.getByTestId('chat-connection').getByText('Live').waitFor();
  // A wrong current password is logged as a warning: the page's recent errors list it.
  const token = await bearer(a, alice);
  const refused = await a.evaluate(async (t) => (await fetch('/api/v1/auth/change-password', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${t}` }, body: JSON.stringify({ current_password: 'not alices password 1', new_password: 'never applied here 22' }) })).status, token);
  expect(refused === 403, `a wrong current password is refused (${refused})`);
  await a.goto('/admin');
  await a.getByRole('tab', { name: 'System' }).click();
  await a.getByTestId('recent-error').filter({ hasText: 'security: re-authentication failed' }).first().waitFor();
  const gauge = (id) => a.locator(`[data-testid="gauge"][data-gauge="${id}"] strong`);
  // Messages per second needs two samples (5 s apart); a message is sent in between.
  await gauge('users-online').filter({ hasText: /\d/ }).waitFor();
  await watcher.getByTestId('composer').fill('checking the system page');
  await watcher.getByTestId('composer').press('Enter');
  await gauge('messages-rate').filter({ hasText: /\d/ }).waitFor({ timeout: 20000 });
  const read = async (id) => Number((await gauge(id).textContent()).replace(/[^\d.]/g, ''));
  const online = await read('users-online');
  const sockets = await read('sockets');
  const queue = await read('media-queue');
  const storage = await gauge('storage').textContent();
  expect(online >= 1 && sockets >= 1, `users online ${online}, sockets ${sockets}`);
  expect(Number.isFinite(queue), `media queue ${queue}`);
  expect(/^[\d.]+ (B|kB|MB|GB|TB)$/.test(storage) && !/^0 B$/.test(storage), `storage used: ${storage}`);
  const figure = (label) => a.getByTestId('instance-stat').filter({ hasText: label }).locator('strong');
  const accounts = Number((await figure('Accounts').textContent()).replace(/\D/g, ''));
  const tracks = Number((await figure('Tracks').textContent()).replace(/\D/g, ''));
  const messages = Number((await figure('Messages').textContent()).replace(/\D/g, ''));
  expect(accounts >= 3 && tracks >= 2 && messages >= 1, `instance figures: ${accounts} accounts, ${tracks} tracks, ${messages} messages`);
  await a.getByRole('img', { name: /per day/ }).locator('canvas').waitFor();
  await screenshot(a, '44-admin-system');
  await context.close();
});

step('account settings: change password, verify a new email, delete the account', async (w) => {
  const { context, page } = await newPage(w.browser);
  w.pages.e = page;
  await signUp(page, erin);
  await page.goto('/settings');
  await page.getByRole('tab', { name: 'Security' }).click();
  const password = page.getByRole('region', { name: 'Password', exact: true });
  const newPassword = 'erin moved the hives in may 6';
  await password.getByLabel('Current password').fill(erin.password);
  await password.getByLabel('New password').fill(newPassword);
  await password.getByRole('button', { name: 'Change password' }).click();
  await password.getByText('Password changed.').waitFor();

  // The new email is unverified until the link in the mail is opened.
  const email = page.getByRole('region', { name: 'Email', exact: true });
  const newEmail = `erin.new${stamp}@example.test`;
  await email.getByLabel('Email').fill(newEmail);
  await email.getByLabel('Password').fill(newPassword);
  await email.getByRole('button', { name: 'Change email' }).click();
  await email.getByText('Email changed.').waitFor();
  await email.getByText('Not verified yet.').waitFor();
  await email.getByRole('button', { name: 'Resend verification' }).click();
  await email.getByText('Verification mail sent.').waitFor();
  await screenshot(page, '45-settings-email');
  const body = await newestMail(w, page, newEmail);
  const link = /https?:\/\/\S*\/verify-email\?token=[A-Za-z0-9_-]+/.exec(body);
  expect(link, `a verification link in the mail: ${body.slice(0, 200)}`);
  await page.goto(new URL(link[0]).pathname + new URL(link[0]).search);
  await page.getByText('Your email address is verified.').waitFor();
  await page.goto('/settings');
  await page.getByRole('tab', { name: 'Security' }).click();
  await page.getByRole('region', { name: 'Email', exact: true }).getByText('Verified.').waitFor();

  // Sign out; the old password no longer works, the new one does.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, erin);
  await page.getByRole('alert').first().waitFor();
  expect(page.url().includes('/login'), 'the old password is refused');
  await signIn(page, erin, newPassword);
  // Signed in again (the app returns to the page it came from).
  await page.getByRole('link', { name: 'Account settings' }).waitFor();

  // Delete the account: then signing in fails.
  await page.goto('/settings');
  await page.getByRole('tab', { name: /Account/ }).click();
  const danger = page.getByRole('region', { name: 'Delete account' });
  await danger.getByLabel('Password').fill(newPassword);
  await danger.getByLabel('Type DELETE to confirm').fill('DELETE');
  await screenshot(page, '46-settings-delete');
  await danger.getByRole('button', { name: 'Delete my account' }).click();
  await page.waitForURL(/\/(login|signup)?$/);
  await signIn(page, erin, newPassword);
  await page.getByRole('alert').first().waitFor();
  const status = await page.evaluate(async ({ username, password }) => (await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: username, password }) })).status, { username: erin.username, password: newPassword });
  expect(status === 401, `sign-in after deletion refused (${status})`);
  await context.close();
  delete w.pages.e;
});

step('settings: an avatar upload, revoking another device\'s session, and a password reset through the mailed link', async (w) => {
  const { context, page } = await newPage(w.browser);
  await signUp(page, frank);

  // An avatar: a real PNG is resized and shown; a file that is not an image is refused.
  const work = mkdtempSync(join(tmpdir(), 'veza-browser-avatar-'));
  const png = join(work, 'me.png');
  const made = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240', '-frames:v', '1', png]);
  expect(made.status === 0, `ffmpeg made the avatar image: ${made.stderr}`);
  await page.goto('/settings');
  const avatarPanel = page.getByRole('region', { name: 'Avatar', exact: true });
  const picker = avatarPanel.locator('input[type=file]');
  await picker.setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('these are not pixels') });
  await avatarPanel.getByRole('alert').waitFor();
  expect((await avatarPanel.locator('img').count()) === 0, 'no avatar after a refused file');
  await picker.setInputFiles(png);
  await avatarPanel.getByText('Avatar updated.').waitFor();
  const shown = avatarPanel.locator('img');
  await shown.waitFor();
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await shown.elementHandle());
  const src = await shown.getAttribute('src');
  expect(/\/avatar\?size=128/.test(src), `the 128 px avatar is shown (${src})`);
  const served = await page.evaluate(async (url) => {
    const r = await fetch(url);
    return { status: r.status, type: r.headers.get('content-type') };
  }, src);
  expect(served.status === 200 && /^image\//.test(served.type), `the avatar is served as an image (${served.status} ${served.type})`);
  await screenshot(page, '50-settings-avatar');
  rmSync(work, { recursive: true, force: true });

  // A second device signs in; the first revokes it, and the second is signed out.
  const other = await newPage(w.browser);
  await signIn(other.page, frank);
  await other.page.getByRole('link', { name: 'Account settings' }).waitFor();
  await page.getByRole('tab', { name: 'Sessions' }).click();
  const sessions = page.getByTestId('session');
  await sessions.nth(1).waitFor();
  expect((await sessions.count()) === 2, 'two sessions listed');
  await screenshot(page, '51-settings-sessions');
  await sessions.filter({ hasNotText: 'This device' }).getByRole('button', { name: 'Revoke' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="session"]').length === 1);
  await page.getByTestId('session').filter({ hasText: 'This device' }).waitFor();
  await other.page.reload();
  await other.page.getByRole('link', { name: 'Sign in', exact: true }).first().waitFor();
  expect((await other.page.getByRole('link', { name: 'Account settings' }).count()) === 0, 'the revoked device is signed out');

  // The revoked device resets the password through the mailed link; the first device's session
  // ends with it, and only the new password signs in.
  const p = other.page;
  await p.goto('/login');
  await p.getByRole('link', { name: 'Forgot your password?' }).click();
  await p.getByLabel('Email').fill(frank.email);
  await p.getByRole('button', { name: 'Send reset link' }).click();
  await p.getByRole('status').getByText('a reset link is on its way').waitFor();
  const mail = await newestMail(w, p, frank.email);
  const link = /https?:\/\/\S*\/reset-password\?token=[A-Za-z0-9_-]+/.exec(mail);
  expect(link, `a reset link in the mail: ${mail.slice(0, 200)}`);
  const resetUrl = new URL(link[0]);
  await p.goto(resetUrl.pathname + resetUrl.search);
  await p.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await p.getByLabel('New password').fill('short');
  await p.getByRole('button', { name: 'Set password' }).click();
  await p.getByRole('alert').waitFor();
  const newPassword = 'frank tunes harpsichords at 10';
  await p.getByLabel('New password').fill(newPassword);
  await p.getByRole('button', { name: 'Set password' }).click();
  await p.getByRole('heading', { name: 'Password changed' }).waitFor();
  await screenshot(p, '52-reset-password-done');
  await p.getByRole('link', { name: 'Sign in with the new password' }).click();
  await p.getByLabel('Username or email').fill(frank.username);
  await p.getByLabel('Password').fill(frank.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('alert').first().waitFor();
  await signIn(p, frank, newPassword);
  await p.getByRole('link', { name: 'Account settings' }).waitFor();
  // The link works once.
  const reused = await p.evaluate(async (token) => (await fetch('/api/v1/auth/password/reset', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token, new_password: 'another long password 11' }) })).status, resetUrl.searchParams.get('token'));
  expect(reused >= 400 && reused < 500, `a used reset link is refused (${reused})`);
  // The first device was on /settings, which sends a signed-out visitor to /login: check on home.
  await page.goto('/');
  await page.getByRole('link', { name: 'Sign in', exact: true }).first().waitFor();
  expect((await page.getByRole('link', { name: 'Account settings' }).count()) === 0, 'the first device is signed out by the reset');
  await other.context.close();
  await context.close();
});

step('OAuth: the configured provider\'s button signs in end to end (local GitHub-shaped provider)', async (w) => {
  const { context, page } = await newPage(w.browser);
  await page.goto('/login');
  const button = page.getByRole('link', { name: 'Continue with Github' });
  await button.waitFor();
  await page.goto('/signup');
  await page.getByRole('link', { name: 'Continue with Github' }).waitFor();
  await screenshot(page, '47-signup-oauth');
  await page.getByRole('link', { name: 'Continue with Github' }).click();
  await page.waitForURL((u) => u.origin === baseUrl && !u.pathname.startsWith('/api/'));
  // Signed in as the provider's identity (a new account named after its GitHub login).
  await page.getByRole('link', { name: 'Account settings' }).waitFor();
  await page.goto('/settings');
  const username = await page.getByLabel('Display name').inputValue().catch(() => '');
  log(`signed in through the provider; display name "${username}"`);
  await screenshot(page, '49-oauth-signed-in');
  await context.close();
});

step('no serious accessibility violations on the new admin screens and stats, dark and light', async (w) => {
  const problems = [];
  for (const theme of ['dark', 'light']) {
    const { context, page } = await newPage(w.browser, { colorScheme: theme });
    await signIn(page, alice);
    await page.waitForURL(`${baseUrl}/`);
    await page.goto('/admin');
    for (const tab of ['Takedowns', 'System']) {
      await page.getByRole('tab', { name: tab }).click();
      await page.waitForTimeout(600);
      problems.push(...(await axeProblems(page, `${theme} admin ${tab}`)));
    }
    await page.goto('/stats');
    await page.getByRole('heading', { name: 'Your stats', exact: true }).waitFor();
    await page.getByTestId('chart').first().waitFor();
    problems.push(...(await axeProblems(page, `${theme} stats`)));
    if (theme === 'light') await screenshot(page, '48-stats-light');
    await context.close();
  }
  expect(problems.length === 0, `axe found:\n  ${problems.join('\n  ')}`);
});

step('settings: profile, sessions, then two-step sign-in with an authenticator code', async (w) => {
  const { context, page } = await newPage(w.browser);
  w.pages.c = page;
  await signUp(page, carol);
  await page.goto('/settings');
  await page.getByLabel('Display name').fill('Carol C.');
  await page.getByLabel('Bio').fill('Modular synths and field recordings.');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await page.getByText('Profile saved.').waitFor();
  await page.getByRole('link', { name: 'Account settings' }).getByText('Carol C.').waitFor();
  await screenshot(page, '14-settings-profile');

  await page.getByRole('tab', { name: 'Sessions' }).click();
  await page.getByTestId('session').filter({ hasText: 'This device' }).waitFor();

  await page.getByRole('tab', { name: 'Security' }).click();
  const twoStep = page.getByRole('region', { name: 'Two-step verification' });
  await twoStep.getByLabel('Password').first().fill(carol.password);
  await twoStep.getByRole('button', { name: 'Set up authenticator' }).click();
  const secret = (await twoStep.getByTestId('totp-secret').textContent()).replace(/\s/g, '');
  const usedWindow = Math.floor(Date.now() / 30000);
  await twoStep.getByLabel('6-digit code').fill(totp(secret));
  await twoStep.getByRole('button', { name: 'Confirm' }).click();
  await twoStep.getByText('Two-step verification is on.').waitFor();
  await screenshot(page, '15-settings-2fa');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.goto('/login');
  await page.getByLabel('Username or email').fill(carol.username);
  await page.getByLabel('Password').fill(carol.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/login\/2fa/);
  await screenshot(page, '16-login-2fa');
  // A code is accepted once: wait for the authenticator's next one, as a person would.
  while (Math.floor(Date.now() / 30000) <= usedWindow) await page.waitForTimeout(500);
  await page.getByLabel('Code').fill(totp(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL(`${baseUrl}/`);
  await page.getByRole('link', { name: 'Account settings' }).waitFor();
  await context.close();
  delete w.pages.c;
});

const axePages = [
  ['home', '/'],
  ['track', null],
  ['upload', '/upload'],
  ['library', '/library'],
  ['chat', '/chat'],
  ['settings', '/settings'],
  ['admin', '/admin'],
  ['search', '/search?q=night'],
  ['notifications', '/notifications'],
  ['profile', `/u/${alice.username}`],
];

step('no serious accessibility violations on the main pages (axe), dark and light', async (w) => {
  const problems = [];
  for (const theme of ['dark', 'light']) {
    const { context, page } = await newPage(w.browser, { colorScheme: theme });
    // Same account as A: sign in through the form (the cookie jar is per context).
    await page.goto('/login');
    await page.getByLabel('Username or email').fill(alice.username);
    await page.getByLabel('Password').fill(alice.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${baseUrl}/`);
    // Light theme: the pages with the most colour (the rest share their components).
    const pages = theme === 'dark' ? axePages : axePages.filter(([n]) => ['home', 'track', 'chat', 'admin'].includes(n));
    for (const [name, path] of pages) {
      const t0 = Date.now();
      await page.goto(path ?? w.trackUrl);
      await page.locator('main h1').first().waitFor();
      await page.waitForTimeout(300);
      const result = await new AxeBuilder({ page }).analyze();
      for (const v of result.violations) {
        if (v.impact === 'serious' || v.impact === 'critical') {
          problems.push(`${theme} ${name}: ${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
        }
      }
      if (theme === 'light' && (name === 'home' || name === 'track')) await screenshot(page, `10-${name}-light`);
      log(`axe ${theme} ${name}: ${result.violations.length} violation(s) in ${Date.now() - t0} ms`);
    }
    await context.close();
  }
  for (const [name, path] of [['login', '/login'], ['signup', '/signup']]) {
    const { context, page } = await newPage(w.browser);
    await page.goto(path);
    await page.locator('h1').first().waitFor();
    const result = await new AxeBuilder({ page }).analyze();
    for (const v of result.violations) if (v.impact === 'serious' || v.impact === 'critical') problems.push(`${name}: ${v.id}`);
    await screenshot(page, `11-${name}`);
    await context.close();
  }
  expect(problems.length === 0, `axe found:\n  ${problems.join('\n  ')}`);
});

step('phone-sized screens', async (w) => {
  const { context, page } = await newPage(w.browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  w.pages.phone = page;
  await page.goto('/');
  await page.getByRole('heading', { level: 1 }).waitFor();
  await screenshot(page, '12-phone-home-signed-out');
  await page.goto(w.trackUrl);
  await page.getByRole('heading', { name: 'Night Drive' }).waitFor({ timeout: 60000 });
  await page.getByTestId('waveform').waitFor();
  await page.getByTestId('track-play').click();
  await page.waitForFunction(() => document.getElementById('veza-audio').currentTime > 0.3, null, { timeout: 20000 });
  await screenshot(page, '13-phone-track');
  // Signed in, the bottom bar holds every section that fits and the bell's count.
  await page.goto('/login');
  await page.getByLabel('Username or email').fill(alice.username);
  await page.getByLabel('Password').fill(alice.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/`);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Notifications/ }).waitFor();
  // No section's name is cut off in the bottom bar ("Dis…", "Upl…").
  const clipped = await page.evaluate(() =>
    [...document.querySelectorAll('nav[aria-label="Main"] .nav-label')]
      .filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth)
      .map((e) => e.textContent),
  );
  expect(clipped.length === 0, `bottom bar names cut off: ${clipped.join(', ')}`);
  await screenshot(page, '13-phone-home-signed-in');
  await page.goto(w.roomUrl);
  await page.getByTestId('composer').waitFor();
  await screenshot(page, '13-phone-chat');
  await context.close();
  delete w.pages.phone;
});

async function main() {
  if (!existsSync(config.chromium)) {
    console.error(`browser suite: skipped, no Chromium at ${config.chromium} (scripts/setup installs Debian's chromium)`);
    process.exit(77);
  }
  for (const [what, path] of [['veza binary', config.binary], ['built web app', join(config.webRoot, 'index.html')]]) {
    if (!existsSync(path)) {
      console.error(`browser suite: no ${what} at ${path}`);
      process.exit(1);
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'veza-browser-audio-'));
  const audioFile = join(work, '01 - night_drive.wav');
  const audioFile2 = join(work, 'second take.wav');
  makeAudio(audioFile, { seconds: 40 });
  makeAudio(audioFile2, { seconds: 4, title: 'Second Take', artist: 'The Test Pattern' });

  // A configured OAuth provider (GitHub preset) against a local server shaped like GitHub.
  const oauth = await startOAuthProvider();
  const gh = `http://127.0.0.1:${oauth.port}`;
  const veza = new Veza([
    '--oauth-provider',
    `name=github,preset=github,authorization_endpoint=${gh}/login/oauth/authorize,token_endpoint=${gh}/login/oauth/access_token,userinfo_endpoint=${gh}/user,client_id=veza-test,client_secret=not-a-real-secret-42`,
  ]);
  await veza.start();
  log(`veza on ${baseUrl}, artifacts in ${config.artifacts}`);
  const browser = await launchBrowser();
  const a = await newPage(browser);
  const b = await newPage(browser);
  const world = { veza, browser, a, b, audioFile, audioFile2, pages: { a: a.page, b: b.page } };
  let failed = 1;
  try {
    failed = await runSteps(world);
  } finally {
    for (const [label, p] of Object.entries(world.pages)) {
      if (p.consoleErrors.length) log(`console errors in ${label}:`, p.consoleErrors.slice(0, 10));
    }
    await browser.close();
    if (failed) log('veza output (tail):\n' + veza.output.join('').slice(-4000));
    await veza.stop();
    oauth.stop();
    rmSync(work, { recursive: true, force: true });
  }
  log(failed ? `${failed} step(s) failed` : 'all steps passed');
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
