import type { Objective } from '../../shared/config.js';
import { evaluateObjective, minutesBetween } from '../../shared/objectives.js';

const database: Objective = { component: 'Database', rtoMinutes: 30, rpoMinutes: 15, priority: 'critical' };

describe('evaluateObjective', () => {
  it.each([
    ['RTO only, within', { rtoMinutes: 22 }, true],
    ['RTO only, exactly at the objective', { rtoMinutes: 30 }, true],
    ['RTO only, over', { rtoMinutes: 31 }, false],
    ['RPO only, within', { rpoMinutes: 4 }, true],
    ['RPO only, exactly at the objective', { rpoMinutes: 15 }, true],
    ['RPO only, over', { rpoMinutes: 210 }, false],
    ['both within', { rtoMinutes: 20, rpoMinutes: 10 }, true],
    ['RTO met but RPO missed', { rtoMinutes: 20, rpoMinutes: 16 }, false],
    ['RPO met but RTO missed', { rtoMinutes: 45, rpoMinutes: 10 }, false],
    ['RTO measured, RPO explicitly not', { rtoMinutes: 45, rpoMinutes: null }, false],
    ['nothing measured', {}, null],
    ['both explicitly null', { rtoMinutes: null, rpoMinutes: null }, null],
  ])('%s gives met=%p', (_label, measured, met) => {
    const result = evaluateObjective(database, measured, 'note');

    expect(result.met).toBe(met);
  });

  it('carries the objective, the measurements and the note', () => {
    const result = evaluateObjective(database, { rtoMinutes: 22, rpoMinutes: null }, 'restore of frontier-prod-20261125-0800');

    expect(result).toEqual({
      component: 'Database',
      rtoMinutes: 30,
      rpoMinutes: 15,
      measuredRtoMinutes: 22,
      measuredRpoMinutes: null,
      met: true,
      note: 'restore of frontier-prod-20261125-0800',
    });
  });

  it('rounds the measured minutes to one decimal', () => {
    const result = evaluateObjective(database, { rtoMinutes: 7.25, rpoMinutes: 12.3456 }, '');

    expect(result.measuredRtoMinutes).toBe(7.3);
    expect(result.measuredRpoMinutes).toBe(12.3);
  });

  it('keeps a measured zero as zero, not as "not measured"', () => {
    const result = evaluateObjective({ ...database, component: 'Cache Layer', rpoMinutes: 0 }, { rpoMinutes: 0 }, '');

    expect(result).toMatchObject({ measuredRpoMinutes: 0, met: true });
  });
});

describe('minutesBetween', () => {
  it('measures minutes between Dates or ISO strings, negative when reversed', () => {
    expect(minutesBetween('2026-11-25T12:00:00.000Z', '2026-11-25T12:42:30.000Z')).toBe(42.5);
    expect(minutesBetween(new Date('2026-11-25T12:00:00.000Z'), new Date('2026-11-25T13:30:00.000Z'))).toBe(90);
    expect(minutesBetween('2026-11-25T12:10:00.000Z', '2026-11-25T12:00:00.000Z')).toBe(-10);
  });
});
