// "Did you mean": the edit distance behind the CLI's suggestion for a mistyped option, and when it
// suggests nothing.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestWord, editDistance } from '../../daemon/cli/closest-word.js';

test('editDistance: insertions, deletions, substitutions, and a swap of neighbours, one edit each', () => {
  assert.equal(editDistance('', ''), 0);
  assert.equal(editDistance('image', 'image'), 0);
  assert.equal(editDistance('', 'json'), 4);
  assert.equal(editDistance('json', ''), 4);
  assert.equal(editDistance('imge', 'image'), 1, 'an insertion');
  assert.equal(editDistance('imagee', 'image'), 1, 'a deletion');
  assert.equal(editDistance('imaqe', 'image'), 1, 'a substitution');
  assert.equal(editDistance('imgae', 'image'), 1, 'two neighbours swapped');
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('ca', 'abc'), 3, 'no swap edited again (optimal string alignment)');
  for (const [a, b] of [['gallery', 'galery'], ['force', 'forse'], ['', 'x'], ['key-file', 'keyfile']]) assert.equal(editDistance(a!, b!), editDistance(b!, a!), `${a} ${b} symmetric`);
});

test('closestWord: the nearest known word within a third of the length, else the one it begins; nothing for a wild guess', () => {
  const options = ['name', 'to', 'id', 'group', 'image', 'dir', 'video', 'force', 'gallery', 'key-file', 'config', 'json'];
  assert.equal(closestWord('imgae', options), 'image');
  assert.equal(closestWord('nmae', options), 'name');
  assert.equal(closestWord('jsn', options), 'json');
  assert.equal(closestWord('galery', options), 'gallery');
  assert.equal(closestWord('Image', options), 'image', 'case is one more slip');
  assert.equal(closestWord('key', options), 'key-file', 'the one option it begins');
  assert.equal(closestWord('g', options), undefined, 'one letter begins nothing it could mean');
  assert.equal(closestWord('frobnicate', options), undefined);
  assert.equal(closestWord('photo', options), undefined, 'a word meant for another option is not guessed');
  assert.equal(closestWord('io', ['id', 'to']), 'id', 'the first of equals');
  assert.equal(closestWord('io', ['to', 'id']), 'to');
  assert.equal(closestWord('anything', []), undefined);
});
