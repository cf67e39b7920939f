import { MemoryPrefixStatistics } from './prefix-statistics.ts';
import { prefixStatisticsSuite } from './prefix-statistics-suite.ts';

prefixStatisticsSuite('in memory', { create: (maxPrefixes) => new MemoryPrefixStatistics(maxPrefixes) });
