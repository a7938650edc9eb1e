/** The compact encoding of profile rows: columns, start + period when regular, status only when present. */
import { compactProfile, deltaColumn, encodeBatch, encodeItem } from '../../../daemon/uplink/encode';

describe('compact encoding', () => {
  const columns = [{ capture: '3:1.0.1.8.0.255:2', unit: 'Wh' }, { capture: '3:1.0.2.8.0.255:2', unit: 'Wh' }];
  it('regular capture times become start + period, cells become columns', () => {
    const rows = [[900_000, null, '1.5', '0'], [1_800_000, null, '2.5', null], [2_700_000, null, '3', '1']];
    expect(compactProfile({ meter: 'm1', profile: '1.0.99.1.0.255', columns, rows })).toEqual({
      meter: 'm1', profile: '1.0.99.1.0.255', columns, count: 3, start: 900_000, period: 900_000, values: [['1.5', '2.5', '3'], ['0', null, '1']],
    });
  });
  it('irregular times stay per row, a status column appears when a row has one', () => {
    const rows = [[0, 8, '1', '2'], [900_000, null, '1', '2'], [2_700_000, 0, '1', '2']];
    const c = compactProfile({ meter: 'm1', profile: 'p', columns, rows });
    expect(c.at).toEqual([0, 900_000, 2_700_000]);
    expect(c.start).toBeUndefined();
    expect(c.status).toEqual([8, null, 0]);
  });
  it('other messages go as stored, with their seq; the envelope names id, class, incarnation, seqs and encoding', () => {
    const item = encodeItem({ seq: 7, payload: JSON.stringify({ meter: 'm', code: 'x' }) }, 'compact');
    expect(item).toEqual({ seq: 7, meter: 'm', code: 'x' });
    const env = JSON.parse(encodeBatch('d1', 'events', '0a1b2c3d', { first: 7, last: 7 }, [JSON.stringify(item)], 'compact', 0).toString()) as unknown;
    expect(env).toEqual({ id: 'd1/events/0a1b2c3d/7', class: 'events', incarnation: '0a1b2c3d', seq: { first: 7, last: 7 }, sentAt: '1970-01-01T00:00:00.000Z', encoding: 'compact', items: [item] });
  });
});

describe('delta columns of the compact encoding', () => {
  it('a column of whole numbers goes as first + differences, exact beyond 2^53', () => {
    expect(deltaColumn(['18001013', '18001050', '18001050', '18001091'])).toEqual({ first: '18001013', delta: [37, 0, 41] });
    expect(deltaColumn(['18446744073709551000', '18446744073709551615'])).toEqual({ first: '18446744073709551000', delta: [615] });
    const c = compactProfile({ meter: 'm1', profile: 'p', columns: [{ capture: '3:1.0.1.8.0.255:2' }], rows: [0, 1, 2, 3].map((i) => [i * 900_000, null, String(18_001_000 + i * 50)]) });
    expect(c.values).toEqual([{ first: '18001000', delta: [50, 50, 50] }]);
  });
  it('decimals, gaps, huge jumps and columns where it would not be shorter stay plain', () => {
    expect(deltaColumn(['1.5', '2.5'])).toBeUndefined();
    expect(deltaColumn(['1', null, '3'])).toBeUndefined();
    expect(deltaColumn(['0', '18446744073709551615'])).toBeUndefined();
    expect(deltaColumn(['7'])).toBeUndefined();
    expect(deltaColumn(['0', '1'])).toBeUndefined();
  });
});
