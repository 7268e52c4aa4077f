#!/usr/bin/env node
// A stand-in external moderation model for tests: the HTTP contract of veza's HTTP content
// classifier (docs/moderation.md). Prints {"msg":"listening","port":N} once it serves, like veza.
//
//   node tests/tools/moderation-classifier.mjs [PORT]
//
// POST / with {"text","user_id","room_id"} answers by what the text holds:
//   "FLAGME"  -> 200 {"flagged":true,"score":0.97,"reason":"toxicity"}
//   "SLOWME"  -> the same clean answer, but after 3 s (longer than the tests' timeout)
//   "BREAKME" -> 500
//   "JUNKME"  -> 200 with a body that is not JSON
//   otherwise -> 200 {"flagged":false,"score":0.01}
// GET /requests -> how many classification requests came in (JSON number).
import http from 'node:http';

const port = Number(process.argv[2] || 0);
let requests = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/requests') {
    res.writeHead(200, {'content-type': 'application/json'});
    res.end(JSON.stringify(requests));
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    requests++;
    let input;
    try {
      input = JSON.parse(body);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (typeof input.text !== 'string' || typeof input.user_id !== 'string' || typeof input.room_id !== 'string' ||
        req.headers['content-type'] !== 'application/json') {
      res.writeHead(400).end();
      return;
    }
    const text = input.text;
    const answer = (status, payload) => {
      res.writeHead(status, {'content-type': 'application/json'});
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    if (text.includes('FLAGME')) return answer(200, {flagged: true, score: 0.97, reason: 'toxicity'});
    if (text.includes('BREAKME')) return answer(500, {error: 'model crashed'});
    if (text.includes('JUNKME')) return answer(200, 'this is not json');
    if (text.includes('SLOWME')) {
      setTimeout(() => answer(200, {flagged: false, score: 0.0}), 3000);
      return;
    }
    answer(200, {flagged: false, score: 0.01});
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(JSON.stringify({msg: 'listening', port: server.address().port}));
});
