// verify.js: checks in the browser that a record is in truce's transparency log: the leaf's
// hash (SHA-256 of 0x00 || leaf, RFC 6962), the inclusion proof up to the root (RFC 9162
// section 2.1.3.2), the root against the signed checkpoint (C2SP tlog-checkpoint), and the
// checkpoint's Ed25519 signature (C2SP signed-note) with the log's verifier key, all with
// WebCrypto. Where the browser has no Ed25519 in WebCrypto it says that only the proof was checked.

const enc = new TextEncoder();

function concat(...parts) {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)); }
export function fromHex(h) {
  if (!/^[0-9a-f]*$/i.test(h) || h.length % 2) throw new Error('bad hex');
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(i * 2, 2), 16);
  return out;
}
export function fromB64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
function eq(a, b) { return a.length === b.length && a.every((x, i) => x === b[i]); }
export function toHex(b) { return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''); }

export async function leafHash(leaf) { return sha256(concat(new Uint8Array([0]), leaf)); }
async function nodeHash(l, r) { return sha256(concat(new Uint8Array([1]), l, r)); }

// The root an inclusion proof leads to (RFC 9162 2.1.3.2), or null when the proof is malformed.
export async function rootFromInclusion(index, size, leafH, proof) {
  if (index >= size) return null;
  let fn = index, sn = size - 1, r = leafH;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

// Splits a signed note into its text (signed bytes) and signature lines.
export function parseNote(note) {
  const i = note.indexOf('\n\n');
  if (i < 0) throw new Error('the checkpoint is not a signed note');
  const text = note.slice(0, i + 1);
  const lines = text.split('\n');
  const sigs = note.slice(i + 2).split('\n').filter((l) => l.startsWith('\u2014 ')).map((l) => {
    const [name, b64] = l.slice(2).split(' ');
    return { name, bytes: fromB64(b64) };
  });
  return { text, origin: lines[0], size: Number(lines[1]), root: fromB64(lines[2]), sigs };
}

// Checks the note's signature by the key named in vkey ("name+hash+base64(0x01||pub)").
// Returns 'ok', 'bad', or 'unsupported' (no Ed25519 in this browser's WebCrypto).
export async function checkNoteSignature(note, vkey) {
  // name+hash+key: the key's base64 may itself hold '+', so split at the first two only
  const i1 = vkey.indexOf('+'), i2 = vkey.indexOf('+', i1 + 1);
  if (i1 < 1 || i2 < 0) return 'bad';
  const name = vkey.slice(0, i1), hashHex = vkey.slice(i1 + 1, i2);
  const keyBytes = fromB64(vkey.slice(i2 + 1));
  if (keyBytes.length !== 33 || keyBytes[0] !== 1) return 'bad';
  const pub = keyBytes.slice(1);
  const kh = (await sha256(concat(enc.encode(name + '\n'), keyBytes))).slice(0, 4);
  if (toHex(kh) !== hashHex.toLowerCase()) return 'bad';
  const sig = note.sigs.find((s) => s.name === name && s.bytes.length === 68 && eq(s.bytes.slice(0, 4), kh));
  if (!sig) return 'bad';
  let key;
  try {
    key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
  } catch (e) {
    return 'unsupported';
  }
  const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, sig.bytes.slice(4), enc.encode(note.text));
  return ok ? 'ok' : 'bad';
}

// Verifies a proof bundle from GET /api/v1/log/proof/observation/{id}. Returns
// {ok, signature: 'ok'|'bad'|'unsupported', steps: [text...], leafIndex, size}.
export async function verifyBundle(b, expectClientId) {
  const steps = [];
  const leaf = fromB64(b.leaf);
  const lh = await leafHash(leaf);
  if (toHex(lh) !== b.leaf_hash) return { ok: false, steps: ['the leaf bytes do not hash to the stated leaf hash'] };
  steps.push(`leaf ${b.leaf_index}: SHA-256(0x00 || ${leaf.length} bytes) = ${toHex(lh).slice(0, 16)}…`);
  if (expectClientId && !new TextDecoder().decode(leaf).includes(expectClientId))
    return { ok: false, steps: [...steps, `the leaf does not hold the record ${expectClientId}`] };
  const note = parseNote(b.checkpoint);
  if (note.size !== b.tree_size) return { ok: false, steps: [...steps, 'the proof is not for the checkpoint\'s size'] };
  const root = await rootFromInclusion(b.leaf_index, b.tree_size, lh, b.proof.map(fromHex));
  if (!root || !eq(root, note.root))
    return { ok: false, steps: [...steps, 'the inclusion proof does NOT lead to the checkpoint\'s root'] };
  steps.push(`inclusion proof (${b.proof.length} hashes) leads to the root of the checkpoint of size ${note.size}`);
  const signature = await checkNoteSignature(note, b.verifier_key || '');
  if (signature === 'ok') steps.push(`checkpoint signature (Ed25519, ${note.origin}) is valid`);
  else if (signature === 'unsupported') steps.push('this browser has no Ed25519 in WebCrypto: only the proof was checked, not the signature');
  else return { ok: false, signature, steps: [...steps, 'the checkpoint signature is NOT valid for the log\'s key'] };
  return { ok: true, signature, steps, leafIndex: b.leaf_index, size: b.tree_size };
}
