#!/usr/bin/env node
// A real OpenID Connect provider for tests (npm oauth2-mock-server): discovery, JWKS, an
// authorize endpoint that redirects at once (no login page) and a token endpoint that signs RS256
// ID tokens. Prints {"msg":"listening","port":N} once it serves, like veza does.
//
//   node tests/tools/oidc-provider.mjs [PORT]
//
// A test steers one sign-in by adding parameters to the authorization URL veza redirected to:
//   mock_sub, mock_email, mock_email_verified ("false"), mock_name   the identity in the ID token
//   mock_behaviour=wrong_nonce | wrong_audience | wrong_issuer | expired | bad_signature |
//                  provider_error | no_id_token
// The provider is stricter than the package alone about PKCE: a code issued with a challenge is
// refused at the token endpoint unless the request carries a verifier whose S256 hash matches,
// and only S256 is accepted (the package would also take "plain" or a missing verifier).
import crypto from 'node:crypto';
import { OAuth2Server } from 'oauth2-mock-server';

const port = Number(process.argv[2] || 0);
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

const grants = new Map();  // code -> {behaviour, sub, email, email_verified, name, challenge}

server.service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const q = req.query;
  if (q.mock_behaviour === 'provider_error') {
    redirect.url.searchParams.delete('code');
    redirect.url.searchParams.set('error', 'access_denied');
    redirect.url.searchParams.set('error_description', 'The user said no');
    return;
  }
  if (q.code_challenge_method !== 'S256' || !q.code_challenge) {
    redirect.url.searchParams.delete('code');
    redirect.url.searchParams.set('error', 'invalid_request');
    redirect.url.searchParams.set('error_description', 'S256 PKCE is required');
    return;
  }
  grants.set(redirect.url.searchParams.get('code'), {
    behaviour: q.mock_behaviour || '',
    sub: q.mock_sub || 'johndoe',
    email: q.mock_email || 'john@example.com',
    email_verified: q.mock_email_verified !== 'false',
    name: q.mock_name || 'John Doe',
    challenge: q.code_challenge,
  });
});

server.service.on('beforeTokenSigning', (token, req) => {
  const grant = grants.get(req.body.code);
  if (!grant || !('aud' in token.payload)) return;  // only the ID token of a known code
  Object.assign(token.payload, {
    sub: grant.sub, email: grant.email, email_verified: grant.email_verified, name: grant.name,
    preferred_username: grant.sub,
  });
  if (grant.behaviour === 'wrong_nonce') token.payload.nonce = 'not-the-nonce';
  if (grant.behaviour === 'wrong_audience') token.payload.aud = 'someone-else';
  if (grant.behaviour === 'wrong_issuer') token.payload.iss = 'https://evil.example';
  if (grant.behaviour === 'expired') token.payload.exp = Math.floor(Date.now() / 1000) - 3600;
});

server.service.on('beforeResponse', (response, req) => {
  const grant = grants.get(req.body.code);
  if (!grant) return;
  grants.delete(req.body.code);  // codes are single-use
  const verifier = req.body.code_verifier || '';
  const hashed = crypto.createHash('sha256').update(verifier).digest('base64url');
  if (hashed !== grant.challenge) {
    response.statusCode = 400;
    response.body = { error: 'invalid_grant', error_description: 'PKCE verifier does not match' };
    return;
  }
  if (grant.behaviour === 'no_id_token') delete response.body.id_token;
  if (grant.behaviour === 'bad_signature' && response.body.id_token) {
    const parts = response.body.id_token.split('.');
    const sig = Buffer.from(parts[2], 'base64url');
    sig[0] ^= 1;
    parts[2] = sig.toString('base64url');
    response.body.id_token = parts.join('.');
  }
});

server.service.on('beforeUserinfo', (response) => {
  response.body = { sub: 'johndoe' };
});

await server.start(port, '127.0.0.1');
server.issuer.url = `http://127.0.0.1:${server.address().port}`;
console.log(JSON.stringify({ msg: 'listening', port: server.address().port, issuer: server.issuer.url }));
