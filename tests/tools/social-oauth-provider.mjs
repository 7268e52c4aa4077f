#!/usr/bin/env node
// Plain OAuth 2.0 providers shaped like GitHub and Discord, for the `github` and `discord`
// presets (neither speaks OpenID Connect: the identity comes from their user APIs). Answers as
// the real services document them: GitHub's token endpoint takes the client secret in the form
// and reports errors with 200 + {"error"}, its user id is a number and the verified primary
// email comes from /user/emails; Discord takes HTTP Basic client authentication and its user
// id is a string snowflake. Prints {"msg":"listening","port":N} once it serves, like veza does.
//
//   node tests/tools/social-oauth-provider.mjs [PORT]
//
// A test steers one sign-in with parameters added to the authorization URL:
//   mock_id, mock_login, mock_email, mock_verified ("false"), mock_name
import crypto from 'node:crypto';
import http from 'node:http';

const CLIENT_ID = 'veza-test';
const CLIENT_SECRET = 'not-a-real-secret-42';
const grants = new Map();  // code -> {identity, challenge, redirect_uri, kind}
const tokens = new Map();  // access token -> identity

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(text);
}

function readForm(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve(new URLSearchParams(data)));
  });
}

function authorize(kind, url, res) {
  const q = url.searchParams;
  const redirect = new URL(q.get('redirect_uri'));
  if (q.get('client_id') !== CLIENT_ID || q.get('response_type') !== 'code' ||
      q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
    redirect.searchParams.set('error', 'invalid_request');
  } else {
    const code = crypto.randomBytes(16).toString('hex');
    grants.set(code, {
      kind,
      challenge: q.get('code_challenge'),
      redirect_uri: q.get('redirect_uri'),
      identity: {
        id: q.get('mock_id') || '4242',
        login: q.get('mock_login') || 'octo',
        email: q.get('mock_email') || 'octo@example.com',
        verified: q.get('mock_verified') !== 'false',
        name: q.get('mock_name') || 'Octo Cat',
      },
    });
    redirect.searchParams.set('code', code);
  }
  redirect.searchParams.set('state', q.get('state') || '');
  res.writeHead(302, { Location: redirect.toString() });
  res.end();
}

async function token(kind, req, res) {
  const form = await readForm(req);
  let id = form.get('client_id');
  let secret = form.get('client_secret');
  const basic = (req.headers.authorization || '').match(/^Basic (.+)$/);
  if (basic) {
    const [u, p] = Buffer.from(basic[1], 'base64').toString().split(':');
    id = decodeURIComponent(u);
    secret = decodeURIComponent(p);
  }
  // GitHub reports every token error with 200; Discord with 400/401 as RFC 6749 says.
  const fail = (error, status) => send(res, kind === 'github' ? 200 : status, { error });
  if (id !== CLIENT_ID || secret !== CLIENT_SECRET) return fail('invalid_client', 401);
  const grant = grants.get(form.get('code'));
  grants.delete(form.get('code'));
  if (!grant || grant.kind !== kind || grant.redirect_uri !== form.get('redirect_uri')) {
    return fail(kind === 'github' ? 'bad_verification_code' : 'invalid_grant', 400);
  }
  const verifier = form.get('code_verifier') || '';
  const hash = crypto.createHash('sha256').update(verifier).digest('base64url');
  if (hash !== grant.challenge) return fail('invalid_grant', 400);
  const access = crypto.randomBytes(20).toString('hex');
  tokens.set(access, grant.identity);
  send(res, 200, { access_token: access, token_type: 'bearer', scope: 'read:user,user:email' });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const path = url.pathname;
  if (req.method === 'GET' && path === '/login/oauth/authorize') return authorize('github', url, res);
  if (req.method === 'GET' && path === '/oauth2/authorize') return authorize('discord', url, res);
  if (req.method === 'POST' && path === '/login/oauth/access_token') return token('github', req, res);
  if (req.method === 'POST' && path === '/api/oauth2/token') return token('discord', req, res);
  const bearer = (req.headers.authorization || '').replace(/^Bearer /, '');
  const who = tokens.get(bearer);
  if (!who) return send(res, 401, { message: 'Bad credentials' });
  if (path === '/user') {
    // The profile email is public-only and may be null; the id is a number.
    return send(res, 200, { id: Number(who.id), login: who.login, name: who.name, email: null });
  }
  if (path === '/user/emails') {
    return send(res, 200, [
      { email: `old-${who.email}`, primary: false, verified: true },
      { email: who.email, primary: true, verified: who.verified },
    ]);
  }
  if (path === '/api/users/@me') {
    return send(res, 200, {
      id: String(who.id), username: who.login, global_name: who.name, email: who.email,
      verified: who.verified,
    });
  }
  send(res, 404, { message: 'Not Found' });
});

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'listening', port: server.address().port }));
});
