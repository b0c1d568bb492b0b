/** Judge mutation tests over every lab's recorded evidence; the properties are in harness.ts, the cases in one file per lab. */
import { registerCount, registerSubject } from './harness.js';
import { docker1090 } from './docker-1090.js';
import { taskclusterReset } from './taskcluster-reset.js';
import { moby15127 } from './moby-15127.js';
import { npaConntrackRace } from './npa-conntrack-race.js';
import { dockerDesktopUdp } from './docker-desktop-udp.js';
import { moby15127Declared } from './moby-15127-declared.js';
import { udpStaleDnat } from './udp-stale-dnat.js';
import { docker1090Declared } from './docker-1090-declared.js';

registerSubject(docker1090);
registerSubject(taskclusterReset);
registerSubject(moby15127);
registerSubject(npaConntrackRace);
registerSubject(dockerDesktopUdp);
registerSubject(moby15127Declared);
registerSubject(udpStaleDnat);
registerSubject(docker1090Declared);
registerCount(100);
