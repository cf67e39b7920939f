import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from './seeded-random.ts';
import { FlatPartition, loadUsearch, normalize, PartitionedVectorIndex } from './vector-index.ts';

function vectors(count: number, dimensions: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const vector = Float32Array.from({ length: dimensions }, () => random() - 0.5);
    normalize(vector);
    return vector;
  });
}

test('exact search finds the nearest, removes keep the matrix packed', () => {
  const flat = new FlatPartition(8);
  const data = vectors(50, 8, 1);
  data.forEach((vector, index) => flat.add(index, vector));
  assert.equal(flat.search(data[7] as Float32Array, 1)[0]?.id, 7);
  flat.remove(7);
  flat.remove(49);
  assert.equal(flat.size, 48);
  assert.notEqual(flat.search(data[7] as Float32Array, 1)[0]?.id, 7);
  assert.equal(flat.search(data[30] as Float32Array, 1)[0]?.id, 30);
  assert.ok(Math.abs((flat.search(data[30] as Float32Array, 1)[0]?.similarity ?? 0) - 1) < 1e-6);
});

test('partitions never see each other', async () => {
  const index = new PartitionedVectorIndex(undefined);
  const [first, second] = vectors(2, 8, 2) as [Float32Array, Float32Array];
  await index.add('tenant-a', 1, first);
  await index.add('tenant-b', 2, second);
  assert.deepEqual((await index.search('tenant-a', second, 5)).map((neighbor) => neighbor.id), [1]);
  assert.deepEqual(await index.search('tenant-c', second, 5), []);
  await index.remove('tenant-a', 1);
  assert.equal(index.size, 1);
  assert.equal(index.partitionCount, 1);
});

test('a partition that grows becomes an HNSW graph that agrees with exact search', async (context) => {
  const usearch = await loadUsearch();
  if (!usearch) return context.skip('usearch native module unavailable on this platform');
  const dimensions = 32;
  const data = vectors(3000, dimensions, 3);
  const index = new PartitionedVectorIndex(usearch, undefined, 20_000);
  const exact = new FlatPartition(dimensions);
  data.forEach((vector, id) => {
    index.addNow('p', id, vector);
    exact.add(id, vector);
  });
  const queries = vectors(200, dimensions, 4);
  let agree = 0;
  for (const query of queries) {
    const [graph] = index.searchNow('p', query, 1);
    const [truth] = exact.search(query, 1);
    if (graph?.id === truth?.id) agree += 1;
    assert.ok(graph && truth && Math.abs(graph.similarity - truth.similarity) < 1e-3 || graph?.id !== truth?.id);
  }
  assert.ok(agree / queries.length >= 0.95, `recall@1 ${agree / queries.length}`);
  await index.remove('p', 5);
  assert.notEqual(index.searchNow('p', data[5] as Float32Array, 1)[0]?.id, 5);
  index.addMany('q', [10, 11, 12], data.slice(0, 3));
  assert.equal(index.searchNow('q', data[1] as Float32Array, 1)[0]?.id, 11);
  const bulk = new PartitionedVectorIndex(usearch, undefined, 20_000);
  bulk.addMany('p', data.map((_vector, id) => id), data);
  assert.equal(bulk.size, data.length);
  assert.equal(bulk.searchNow('p', data[123] as Float32Array, 1)[0]?.id, 123);
});
