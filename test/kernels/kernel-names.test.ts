/** Kernel names, Debian's Packages stanzas and the choice of image, from text shaped like the archive's. */
import test from 'ava';
import { archiveFromSources, compareVersions, kernelKey, parseKernelList, parseStanzas, pickImage } from '../../src/kernels/kernel-names.js';
import { LabError } from '../../src/errors.js';

const stanzas = `Package: linux-image-5.10.0-30-amd64-unsigned
Source: linux
Version: 5.10.218-1
Installed-Size: 321000
Filename: pool/main/l/linux/linux-image-5.10.0-30-amd64-unsigned_5.10.218-1_amd64.deb
Size: 54600000

Package: linux-image-5.10.0-32-cloud-amd64-unsigned
Version: 5.10.223-1
Filename: pool/main/l/linux/linux-image-5.10.0-32-cloud-amd64-unsigned_5.10.223-1_amd64.deb

Package: linux-image-5.10.0-32-amd64-unsigned
Version: 5.10.223-1
Description: Linux 5.10 for 64-bit PCs
 Version: 9.9.9-1 is a continuation line, not a field
Filename: pool/main/l/linux/linux-image-5.10.0-32-amd64-unsigned_5.10.223-1_amd64.deb
Size: 54645720
`;

test('stanzas give package, version, file name and size', (t) => {
  const parsed = parseStanzas(stanzas);
  t.is(parsed.length, 3);
  t.deepEqual(parsed[2], {
    package: 'linux-image-5.10.0-32-amd64-unsigned',
    version: '5.10.223-1',
    filename: 'pool/main/l/linux/linux-image-5.10.0-32-amd64-unsigned_5.10.223-1_amd64.deb',
    size: 54645720,
  });
});

test('the newest generic image of the series is picked, not cloud or rt', (t) => {
  t.is(pickImage(parseStanzas(stanzas), '5.10')?.package, 'linux-image-5.10.0-32-amd64-unsigned');
  t.is(pickImage(parseStanzas(stanzas), '6.1'), undefined);
});

test("trixie's names (no ABI number, +deb13) are understood", (t) => {
  const trixie = [
    { package: 'linux-image-6.12.107+deb13-amd64-unsigned', version: '6.12.107-1' },
    { package: 'linux-image-6.12.117+deb13-rt-amd64-unsigned', version: '6.12.117-1' },
    { package: 'linux-image-6.12.117+deb13-amd64-unsigned', version: '6.12.117-1' },
    { package: 'linux-image-6.12.117+deb13-amd64-dbg', version: '6.12.117-1' },
  ];
  t.is(pickImage(trixie, '6.12')?.package, 'linux-image-6.12.117+deb13-amd64-unsigned');
  t.is(pickImage(trixie, '6.1'), undefined, '6.1 must not match 6.12');
});

test('versions compare numerically, ~ sorts first', (t) => {
  t.true(compareVersions('5.10.223-1', '5.10.99-1') > 0);
  t.true(compareVersions('6.1.0~rc1-1', '6.1.0-1') < 0);
  t.is(compareVersions('6.12.117-1', '6.12.117-1'), 0);
});

test('--kernel lists: versions, suites, host, each once; unknown names are a LabError', (t) => {
  t.deepEqual(parseKernelList('5.10, bookworm,host,6.1').map(kernelKey), ['5-10', '6-1', 'host']);
  const error = t.throws(() => parseKernelList('5.10,4.19'), { instanceOf: LabError });
  t.regex(error!.message, /4\.19/);
  t.throws(() => parseKernelList(''), { instanceOf: LabError });
});

test('the archive comes from deb822 or one-line sources, never the security archive', (t) => {
  const deb822 =
    'Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n\nTypes: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n';
  t.is(archiveFromSources([deb822]), 'http://mirror.example/debian');
  t.is(archiveFromSources(['# comment\ndeb [arch=amd64] http://ftp.example/debian bookworm main\n']), 'http://ftp.example/debian');
  t.is(archiveFromSources(['']), undefined);
});
