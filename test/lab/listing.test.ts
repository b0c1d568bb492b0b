/** `lab list` keeps what it parsed and reuses it only while every lab file and the build are unchanged. */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listingStamp, saveListing, savedListing } from '../../src/lab/listing.js';
import { envFor, lab, tempHome } from '../helpers/cli.js';

test('the listing is reused for the same files, not after a file changed', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-listing-'));
  const previous = process.env.LAB_HOME;
  process.env.LAB_HOME = path.join(dir, 'home');
  t.teardown(() => {
    if (previous === undefined) delete process.env.LAB_HOME;
    else process.env.LAB_HOME = previous;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const file = path.join(dir, 'lab.yaml');
  fs.writeFileSync(file, 'name: a\n');
  const stamp = listingStamp([file]);
  t.is(savedListing(stamp), undefined);
  saveListing(stamp, [{ name: 'a', title: 'A' }]);
  t.deepEqual(savedListing(listingStamp([file])), [{ name: 'a', title: 'A' }]);
  fs.writeFileSync(file, 'name: a\ntitle: changed\n');
  t.is(savedListing(listingStamp([file])), undefined, 'a changed lab file is parsed again');
  fs.writeFileSync(path.join(process.env.LAB_HOME, 'cache', 'list.json'), '{not json');
  t.is(savedListing(stamp), undefined, 'a damaged cache is ignored');
});

test('lab list prints the same from the files and from its cache', async (t) => {
  const env = envFor(tempHome());
  const first = await lab(['list'], env);
  const second = await lab(['list'], env);
  t.is(first.code, 0, first.stderr);
  t.is(second.code, 0, second.stderr);
  t.regex(first.stdout, /^docker-1090\s+\S.*\n\s+https:\/\//m);
  t.is(second.stdout, first.stdout);
  t.true(fs.existsSync(path.join(env.LAB_HOME!, 'cache', 'list.json')));
});
