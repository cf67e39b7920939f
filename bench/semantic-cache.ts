/**
 * Semantic-cache lookup latency, excluding the embedding call: the gateway's own lookup (HNSW
 * search in the tenant's partition plus the negation/number/entity guard) at 10k and 100k
 * entries, against an exact brute-force scan of the same vectors in the same run. Also reports
 * recall@1 of the graph against the exact scan, and resident memory per entry. Wall-clock p99 on
 * a shared machine includes time the process waited for a core, so the CPU time each lookup used
 * is reported beside it, with the load average.
 *
 * Vectors are 1536-dimensional (text-embedding-3-small) and clustered the way question
 * embeddings are (topics, paraphrases near each other); queries are perturbed stored vectors.
 *   npm run bench:semantic-cache            SIZES=10000,100000 QUERIES=2000 DIMENSIONS=1536
 */
import { availableParallelism, loadavg } from 'node:os';
import { seededRandom } from '../src/pipeline/semantic-cache/seeded-random.ts';
import { SemanticMatcher } from '../src/pipeline/semantic-cache/semantic-matcher.ts';
import { FlatPartition, loadUsearch, normalize, PartitionedVectorIndex } from '../src/pipeline/semantic-cache/vector-index.ts';
import { percentile, sortedCopy } from './statistics.ts';

const SIZES = (process.env.SIZES ?? '10000,100000').split(',').map(Number);
const QUERIES = Number(process.env.QUERIES ?? 2000);
const BRUTE_QUERIES = Number(process.env.BRUTE_QUERIES ?? 300);
const DIMENSIONS = Number(process.env.DIMENSIONS ?? 1536);
const TOPICS = 2000;
const WORDS = ['refund', 'policy', 'shipping', 'order', 'account', 'password', 'reset', 'invoice', 'plan', 'upgrade', 'cancel', 'delivery', 'warranty', 'return'];

const random = seededRandom(42);
function gaussian(): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
function around(center: Float32Array, spread: number): Float32Array {
  const vector = new Float32Array(DIMENSIONS);
  for (let index = 0; index < DIMENSIONS; index += 1) vector[index] = (center[index] as number) + gaussian() * spread;
  normalize(vector);
  return vector;
}
const centers = Array.from({ length: TOPICS }, () => around(new Float32Array(DIMENSIONS), 1));
function prompt(index: number): string {
  return `how do i ${WORDS[index % WORDS.length]} my ${WORDS[(index * 7) % WORDS.length]} for the ${WORDS[(index * 3) % WORDS.length]} question ${index % 97}`;
}

function rssMegabytes(): number {
  return process.memoryUsage().rss / 1024 / 1024;
}

async function measure(size: number, usearch: Awaited<ReturnType<typeof loadUsearch>>) {
  const vectors = Array.from({ length: size }, (_unused, index) => around(centers[index % TOPICS] as Float32Array, 0.35 / Math.sqrt(DIMENSIONS)));
  global.gc?.();
  const rssBefore = rssMegabytes();
  const buildStarted = performance.now();
  const matcher = new SemanticMatcher(new PartitionedVectorIndex(usearch), 0.95);
  const partition = 'tenant-a/faq';
  // In chunks, as a restart loads a persisted cache: no full-size temporary matrix in the RSS figure.
  for (let start = 0; start < size; start += 10_000) {
    matcher.addMany(
      vectors.slice(start, start + 10_000).map((vector, offset) => ({
        entry: { key: `key-${start + offset}`, partition, tenant: 'tenant-a', prompt: prompt(start + offset), feature: 'faq', expiresAt: Number.POSITIVE_INFINITY },
        vector,
      })),
    );
  }
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  global.gc?.();
  const memoryPerEntryKb = ((rssMegabytes() - rssBefore) * 1024) / size;

  const flat = new FlatPartition(DIMENSIONS, size);
  vectors.forEach((vector, index) => flat.add(index + 1, vector));

  const queryIndexes = Array.from({ length: QUERIES }, () => Math.floor(random() * size));
  const queries = queryIndexes.map((index) => around(vectors[index] as Float32Array, 0.15 / Math.sqrt(DIMENSIONS)));
  const queryPrompts = queryIndexes.map((index) => prompt(index));
  for (let warm = 0; warm < 200; warm += 1) await matcher.lookup(partition, 'tenant-a', queries[warm % QUERIES] as Float32Array, queryPrompts[warm % QUERIES] as string, 0);

  const graphTimes: number[] = [];
  const graphCpu: number[] = [];
  const graphFound: number[] = [];
  for (let query = 0; query < QUERIES; query += 1) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const lookup = await matcher.lookup(partition, 'tenant-a', queries[query] as Float32Array, queryPrompts[query] as string, 0);
    graphTimes.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    graphCpu.push((used.user + used.system) / 1000);
    graphFound.push(lookup.candidate?.entry.id ?? -1);
  }
  const bruteTimes: number[] = [];
  let agree = 0;
  for (let query = 0; query < BRUTE_QUERIES; query += 1) {
    const started = performance.now();
    const [exact] = flat.search(queries[query] as Float32Array, 1);
    bruteTimes.push(performance.now() - started);
    if (exact && exact.id === graphFound[query]) agree += 1;
  }
  return {
    size,
    graphP50: percentile(sortedCopy(graphTimes), 0.5),
    graphP99: percentile(sortedCopy(graphTimes), 0.99),
    cpuP99: percentile(sortedCopy(graphCpu), 0.99),
    bruteP50: percentile(sortedCopy(bruteTimes), 0.5),
    bruteP99: percentile(sortedCopy(bruteTimes), 0.99),
    recall: agree / BRUTE_QUERIES,
    memoryPerEntryKb,
    flatKb: (DIMENSIONS * 4) / 1024,
    buildSeconds,
  };
}

const usearch = await loadUsearch();
if (!usearch) throw new Error('usearch did not load: the benchmark measures the HNSW index');
const rows = [];
for (const size of SIZES) {
  process.stderr.write(`building ${size} entries of ${DIMENSIONS} dimensions...\n`);
  rows.push(await measure(size, usearch));
}
console.log(`semantic-cache lookup, ${DIMENSIONS}-d vectors, ${QUERIES} queries (brute force: ${BRUTE_QUERIES}), embedding excluded; load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores`);
console.log('entries   lookup p50   lookup p99   cpu p99    brute p50   brute p99   recall@1   memory/entry   build');
for (const row of rows) {
  console.log(
    `${String(row.size).padStart(7)}   ${row.graphP50.toFixed(3).padStart(8)} ms   ${row.graphP99.toFixed(3).padStart(8)} ms   ${row.cpuP99.toFixed(3).padStart(6)} ms   ${row.bruteP50.toFixed(2).padStart(6)} ms   ${row.bruteP99.toFixed(2).padStart(6)} ms   ${(row.recall * 100).toFixed(1).padStart(7)}%   ${row.memoryPerEntryKb.toFixed(1).padStart(8)} KB   ${row.buildSeconds.toFixed(1)} s`,
  );
}
const largest = rows.at(-1);
const smallest = rows[0];
if (largest && smallest) {
  console.log(
    `summary: lookup p99 ${smallest.graphP99.toFixed(3)} ms at ${smallest.size} and ${largest.graphP99.toFixed(3)} ms at ${largest.size} entries (goal < 2 ms: ${largest.graphP99 < 2 ? 'met' : 'missed'}; CPU time p99 ${largest.cpuP99.toFixed(3)} ms), brute force p99 ${largest.bruteP99.toFixed(2)} ms, recall@1 ${(largest.recall * 100).toFixed(1)}%, ${largest.memoryPerEntryKb.toFixed(1)} KB/entry (vector alone ${largest.flatKb.toFixed(1)} KB)`,
  );
}
