// The Node `ws` peer of bench/chat_fanout and bench/ws_idle: a broadcast server speaking the
// subset of veza's chat protocol (docs/websocket.md) the load generator uses: a ticket from
// POST /api/v1/chat/ticket (any bearer token names the user), GET /ws?ticket=..., `hello`,
// `join` -> `joined`, `send` -> `ack` to the sender and `message` to every socket of the room.
// Nothing is stored. Written the way the ws README recommends for broadcasts: each frame is
// encoded once into a Buffer and that Buffer is handed to every recipient.
// Usage: node node_server.js PORT [HOST]
'use strict';
const http = require('http');
const crypto = require('crypto');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 8090);
const host = process.argv[3] || '127.0.0.1';
const tickets = new Map();  // ticket -> user
const rooms = new Map();    // room id -> Set of sockets
const seqs = new Map();     // room id -> last seq

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 });

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/api/v1/chat/ticket') {
    const auth = req.headers.authorization || '';
    if (!auth.startsWith('Bearer ') || auth.length <= 7) {
      res.writeHead(401, { 'content-type': 'application/problem+json' });
      res.end('{"status":401}');
      return;
    }
    req.resume();
    req.on('end', () => {
      const ticket = crypto.randomBytes(32).toString('hex');
      tickets.set(ticket, auth.slice(7));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ticket, expires_in: 30 }));
    });
    return;
  }
  res.writeHead(404);
  res.end();
});
server.keepAliveTimeout = 60000;

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://x');
  const ticket = url.searchParams.get('ticket') || '';
  const user = tickets.get(ticket);
  if (url.pathname !== '/ws' || user === undefined) {
    socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  tickets.delete(ticket);
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.user = user;
    ws.rooms = new Set();
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, user }));
    ws.on('message', (data, isBinary) => onFrame(ws, data, isBinary));
    ws.on('close', () => {
      for (const r of ws.rooms) rooms.get(r)?.delete(ws);
    });
  });
});

function onFrame(ws, data, isBinary) {
  let f;
  try {
    f = JSON.parse(data.toString());
  } catch {
    ws.send('{"type":"error","code":"invalid_argument","message":"not JSON"}');
    return;
  }
  if (f.type === 'join') {
    let members = rooms.get(f.room);
    if (!members) rooms.set(f.room, (members = new Set()));
    members.add(ws);
    ws.rooms.add(f.room);
    ws.send(JSON.stringify({ type: 'joined', room: { id: f.room, kind: 'public', last_seq: seqs.get(f.room) || 0 } }));
  } else if (f.type === 'send') {
    const members = rooms.get(f.room);
    if (!members || !members.has(ws)) {
      ws.send(JSON.stringify({ type: 'error', code: 'not_found', message: 'no such room', ref: f.client_id }));
      return;
    }
    const seq = (seqs.get(f.room) || 0) + 1;
    seqs.set(f.room, seq);
    const message = {
      id: crypto.randomUUID(), room: f.room, seq, sender: ws.user, client_id: f.client_id, body: f.body,
      created_at: Date.now(), reply_to: null, edited_at: null, deleted: false, pinned: false, reactions: [], embeds: [],
    };
    ws.send(JSON.stringify({ type: 'ack', client_id: f.client_id, message }));
    const frame = Buffer.from(JSON.stringify({ type: 'message', message }));
    for (const member of members) member.send(frame, { binary: false });
  } else if (f.type === 'ping') {
    ws.send('{"type":"pong"}');
  }
}

server.listen(port, host, () => console.log(`node ws peer listening on ${host}:${port}`));
