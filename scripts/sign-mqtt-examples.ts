// `npx tsx scripts/sign-mqtt-examples.ts`: signs the example payloads of docs/mqtt.md again, after
// an example or a payload field changed. The key is derived from a fixed, public seed: it is an
// example key, so anyone may reproduce (or forge) these signatures; the page says so. Running it
// twice changes nothing (Ed25519 signatures are deterministic).
import { createHash, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDeviceKey } from '../daemon/events/device-key.js';
import { createSigner, withSignature } from '../daemon/events/signing.js';
import { packageRoot } from '../daemon/base/paths.js';

const DOC = join(packageRoot(), 'docs', 'mqtt.md');
// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function exampleKey() {
  const seed = createHash('sha256').update('facegate docs/mqtt.md example key').digest();
  const pem = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' });
  // loadDeviceKey gives the kid and public JWK exactly as the daemon makes them.
  const dir = mkdtempSync(join(tmpdir(), 'facegate-example-key-'));
  try {
    writeFileSync(join(dir, 'key.pem'), pem, { mode: 0o600 });
    return loadDeviceKey(join(dir, 'key.pem'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const key = exampleKey();
const signer = createSigner(key);
let doc = readFileSync(DOC, 'utf8');
doc = doc.replace(/(signed with this example key:\s*```json\n)[\s\S]*?(```)/, (_m, head: string, tail: string) => `${head}${JSON.stringify(key.publicJwk, null, 2)}\n${tail}`);
let signed = 0;
doc = doc.replace(/```json\n([\s\S]*?)```/g, (block, body: string) => {
  const example = JSON.parse(body) as Record<string, unknown>;
  if (typeof example.jws !== 'string') return block;
  const { jws: old, ...fields } = example;
  const { jws } = withSignature(signer, fields as { image?: string });
  signed++;
  // The field itself, not the first place its old value occurs: a placeholder such as "x" also
  // occurs inside other fields' text.
  return block.replace(`"jws": ${JSON.stringify(old)}`, `"jws": ${JSON.stringify(jws)}`);
});
writeFileSync(DOC, doc);
console.log(`signed ${signed} examples in ${DOC} with kid ${key.kid}`);
