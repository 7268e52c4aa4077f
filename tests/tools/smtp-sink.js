#!/usr/bin/env node
// A real SMTP server for tests (npm smtp-server): accepts every message and writes it, raw, to
// DIR/<time>-<n>.eml (the envelope recipients on the first line as "X-Envelope-To: ..."). Mail
// to any address at rejected.invalid is refused with 550, for tests of permanent failures.
//
//   node tests/tools/smtp-sink.js PORT DIR
const fs = require('fs');
const path = require('path');
const { SMTPServer } = require('smtp-server');

const port = Number(process.argv[2]);
const dir = process.argv[3];
if (!port || !dir) {
  console.error('usage: smtp-sink.js PORT DIR');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });
let n = 0;

const server = new SMTPServer({
  disabledCommands: ['STARTTLS'],
  authOptional: true,
  logger: false,
  onAuth(auth, session, callback) {
    callback(null, { user: auth.username });
  },
  onRcptTo(address, session, callback) {
    if (address.address.toLowerCase().endsWith('@rejected.invalid')) {
      const err = new Error('mailbox unavailable');
      err.responseCode = 550;
      return callback(err);
    }
    callback();
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      const to = session.envelope.rcptTo.map((r) => r.address).join(', ');
      const name = `${Date.now()}-${process.pid}-${n++}.eml`;
      const tmp = path.join(dir, '.' + name);
      fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`X-Envelope-To: ${to}\r\n`), ...chunks]));
      fs.renameSync(tmp, path.join(dir, name));  // readers never see half a message
      callback();
    });
  },
});
server.on('error', (e) => console.error('smtp-sink:', e.message));
server.listen(port, '127.0.0.1', () => console.log(`smtp-sink listening on 127.0.0.1:${port}, writing to ${dir}`));
