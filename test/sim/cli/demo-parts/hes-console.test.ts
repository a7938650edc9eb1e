/** The HES console's one line per message: class, seq range, what each item carries. */
import { describeMessage } from '../../../../sim/cli/demo-parts/hes-console';

const P = 'dcu/demo/';
const msg = (doc: unknown): Buffer => Buffer.from(JSON.stringify(doc));

it('names the class and seq range and sums up the items', () => {
  expect(describeMessage(`${P}status`, P, msg({ state: 'online' }))).toBe('status  online');
  expect(describeMessage(`${P}data/load-profile`, P, msg({ class: 'load-profile', seq: { first: 7, last: 8 }, items: [{ seq: 7, meter: 'M1', count: 4 }, { seq: 8, meter: 'M2', count: 1 }] }))).toBe('data/load-profile  seq 7-8  M1 4 rows, M2 1 rows');
  expect(describeMessage(`${P}data/registers`, P, msg({ seq: { first: 3, last: 3 }, items: [{ seq: 3, meter: 'M1', values: [{ name: '+A', value: '1234567', unit: 'Wh' }] }] }))).toBe('data/registers  seq 3  M1 +A 1234.567 kWh');
  expect(describeMessage(`${P}data/events`, P, msg({ seq: { first: 1, last: 1 }, items: [{ seq: 1, meter: 'M1', events: [{}, {}] }] }))).toBe('data/events  seq 1  M1 2 events');
  const many = Array.from({ length: 5 }, (_, i) => ({ seq: i + 1, meter: `M${i}`, count: 1 }));
  expect(describeMessage(`${P}data/daily`, P, msg({ seq: { first: 1, last: 5 }, items: many }))).toBe('data/daily  seq 1-5  M0 1 rows, M1 1 rows, M2 1 rows, … (5 meters)');
  expect(describeMessage(`${P}data/x`, P, Buffer.from([0xff]))).toBe('data/x  (1 bytes, not JSON)');
});
