import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2'];
const color = (index: number): string => COLORS[index % COLORS.length] ?? '#2563eb';

export interface Series {
  label: string;
  values: number[];
  /** Draw as bars (categorical charts) rather than a line. */
  bars?: boolean;
  /** Second y axis, e.g. cumulative share on a Pareto chart. */
  scale?: 'y' | 'share';
}

function card(parent: HTMLElement, title: string): HTMLElement {
  const section = document.createElement('section');
  section.className = 'card';
  const heading = document.createElement('h2');
  heading.textContent = title;
  section.append(heading);
  parent.append(section);
  return section;
}

function width(element: HTMLElement): number {
  return Math.max(320, Math.min(1100, element.clientWidth - 24));
}

/** Time series (x = epoch ms). */
export function timeChart(parent: HTMLElement, title: string, times: number[], series: Series[]): void {
  const section = card(parent, title);
  section.dataset['chart'] = title;
  if (times.length === 0) return empty(section);
  const options: uPlot.Options = {
    width: width(parent),
    height: 260,
    series: [{}, ...series.map((one, index) => ({ label: one.label, stroke: color(index), width: 2, fill: `${color(index)}22` }))],
    axes: [{}, { size: 70, values: (_chart, ticks) => ticks.map((tick) => `$${tick.toLocaleString('en-US')}`) }],
  };
  new uPlot(options, [times.map((time) => time / 1000), ...series.map((one) => one.values)], section);
}

/** Categories along x (one bar group per label), values as bars, optionally a share line on its own axis. */
export function categoryChart(parent: HTMLElement, title: string, labels: string[], series: Series[], money = true): void {
  const section = card(parent, title);
  section.dataset['chart'] = title;
  if (labels.length === 0) return empty(section);
  const bars = uPlot.paths.bars?.({ size: [0.6, 60] });
  const options: uPlot.Options = {
    width: width(parent),
    height: 280,
    scales: { x: { time: false }, share: { range: [0, 1] } },
    series: [
      {},
      ...series.map((one, index) => ({
        label: one.label,
        stroke: color(index),
        ...(one.bars === false ? {} : { fill: `${color(index)}aa` }),
        width: one.bars === false ? 2 : 1,
        scale: one.scale ?? 'y',
        ...(one.bars === false || !bars ? {} : { paths: bars, points: { show: false } }),
      })),
    ],
    axes: [
      { values: (_chart, ticks) => ticks.map((tick) => (Number.isInteger(tick) ? (labels[tick] ?? '') : '')), rotate: 0, size: 50 },
      { size: 70, values: (_chart, ticks) => ticks.map((tick) => (money ? `$${tick.toLocaleString('en-US')}` : tick.toLocaleString('en-US'))) },
      ...(series.some((one) => one.scale === 'share') ? [{ scale: 'share', side: 1, values: (_chart: uPlot, ticks: number[]) => ticks.map((tick) => `${Math.round(tick * 100)}%`) }] : []),
    ],
  };
  new uPlot(options, [labels.map((_label, index) => index), ...series.map((one) => one.values)], section);
}

export function table(parent: HTMLElement, title: string, header: string[], rows: Array<Array<string | number>>): void {
  const section = card(parent, title);
  if (rows.length === 0) return empty(section);
  const element = document.createElement('table');
  const head = element.createTHead().insertRow();
  for (const name of header) {
    const cell = document.createElement('th');
    cell.textContent = name;
    head.append(cell);
  }
  const body = element.createTBody();
  for (const row of rows) {
    const line = body.insertRow();
    for (const value of row) line.insertCell().textContent = String(value);
  }
  section.append(element);
}

export function tiles(parent: HTMLElement, values: Array<[string, string]>): void {
  const wrapper = document.createElement('div');
  wrapper.className = 'tiles';
  for (const [label, value] of values) {
    const tile = document.createElement('div');
    tile.className = 'tile';
    tile.innerHTML = `<span></span><strong></strong>`;
    (tile.firstElementChild as HTMLElement).textContent = label;
    (tile.lastElementChild as HTMLElement).textContent = value;
    wrapper.append(tile);
  }
  parent.append(wrapper);
}

function empty(section: HTMLElement): void {
  const note = document.createElement('p');
  note.className = 'empty';
  note.textContent = 'No data for this range and filter.';
  section.append(note);
}
