// Uploads a file to veza with tus-js-client in chunks, the way the web app does, and prints the
// id of the track the upload became (from the Upload-Track-Id header of the last PATCH).
//   node tests/tools/tus-upload.js ENDPOINT TOKEN FILE CHUNK_SIZE
'use strict';
const fs = require('fs');
const tus = require('tus-js-client');

const [endpoint, token, file, chunkSize] = process.argv.slice(2);
let trackId = '';
const upload = new tus.Upload(fs.readFileSync(file), {
  endpoint,
  chunkSize: Number(chunkSize),
  headers: { Authorization: `Bearer ${token}` },
  metadata: { filename: 'tus.wav', filetype: 'audio/wav', title: 'Via tus-js-client', visibility: 'unlisted' },
  retryDelays: [],
  onAfterResponse(req, res) {
    const id = res.getHeader('Upload-Track-Id');
    if (id) trackId = id;
  },
  onError(error) {
    console.error(String(error));
    process.exit(1);
  },
  onSuccess() {
    console.log(trackId);
    process.exit(0);
  },
});
upload.start();
