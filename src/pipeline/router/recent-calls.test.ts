import { RecentCalls } from './recent-calls.ts';
import { recentCallsSuite } from './recent-calls-suite.ts';

recentCallsSuite('in memory', (maxEntries, maxAgeMs, clock, maxCharacters) => new RecentCalls(maxEntries, maxAgeMs, clock, maxCharacters));
