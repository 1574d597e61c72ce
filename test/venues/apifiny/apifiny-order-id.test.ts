import {
  allocateApifinyOrderId,
  apifinyAccountDigits,
  apifinyOrderIdProblem,
  maxApifinySessionTagLength,
  nextApifinyIdClock,
  parseApifinyOrderId,
} from '../../../src/venues/apifiny/apifiny-order-id';

const ACCT = 'STA-00000001';

describe('Apifiny order ids', () => {
  it("the docs' example parses: account digits + 13-digit ms + 3 digits, no free part", () => {
    expect(parseApifinyOrderId('000000011584603011942221', ACCT)).toEqual({
      ok: true,
      parts: { accountDigits: '00000001', free: '', ms: 1584603011942, seq: 221 },
    });
  });

  it('allocates <account digits><session tag><13-digit ms><3-digit seq> and parses back', () => {
    const id = allocateApifinyOrderId(ACCT, '42', 1700000000123, 7);
    expect(id).toBe('00000001' + '42' + '1700000000123' + '007');
    expect(parseApifinyOrderId(id, ACCT)).toEqual({ ok: true, parts: { accountDigits: '00000001', free: '42', ms: 1700000000123, seq: 7 } });
  });

  it('two sessions on one account never collide at the same ms and seq', () => {
    const a = allocateApifinyOrderId(ACCT, '01', 1700000000123, 0);
    const b = allocateApifinyOrderId(ACCT, '02', 1700000000123, 0);
    expect(a).not.toBe(b);
    // Tags of different lengths give ids of different lengths: they cannot collide either.
    expect(allocateApifinyOrderId(ACCT, '1', 1700000000123, 0)).not.toBe(allocateApifinyOrderId(ACCT, '11', 1700000000123, 0).slice(0, -1));
  });

  it('refuses parts that cannot form a valid id', () => {
    expect(() => allocateApifinyOrderId('STA-XYZ', '1', 1700000000123, 0)).toThrow(/end in digits/);
    expect(() => allocateApifinyOrderId(ACCT, 'a1', 1700000000123, 0)).toThrow(/digits/);
    expect(() => allocateApifinyOrderId(ACCT, '1', 999_999_999_999, 0)).toThrow(/13-digit/);
    expect(() => allocateApifinyOrderId(ACCT, '1', 1700000000123, 1000)).toThrow(/0\.\.999/);
    expect(() => allocateApifinyOrderId(ACCT, '9'.repeat(41), 1700000000123, 0)).toThrow(/max 64/);
    expect(allocateApifinyOrderId(ACCT, '9'.repeat(40), 1700000000123, 0)).toHaveLength(64);
    expect(maxApifinySessionTagLength(ACCT)).toBe(40);
  });

  it('validates ids against the rule for this account', () => {
    expect(apifinyOrderIdProblem('000000011584603011942221', ACCT)).toBeUndefined();
    expect(apifinyOrderIdProblem('000000021584603011942221', ACCT)).toMatch(/account digits 00000001/);
    expect(apifinyOrderIdProblem('00000001158460301194222x', ACCT)).toMatch(/digits only/);
    expect(apifinyOrderIdProblem('0000000115846030119422', ACCT)).toMatch(/13-digit/);
    expect(apifinyOrderIdProblem('00000001' + '0000000000000' + '123', ACCT)).toMatch(/13-digit ms/);
    expect(apifinyOrderIdProblem('1'.repeat(65), ACCT)).toMatch(/longer than 64/);
    expect(apifinyOrderIdProblem('', ACCT)).toMatch(/empty/);
    expect(apifinyOrderIdProblem('000000011584603011942221', 'bad')).toMatch(/end in digits/);
  });

  it('account digits are what follows the last dash', () => {
    expect(apifinyAccountDigits('STA-00000001')).toBe('00000001');
    expect(apifinyAccountDigits('12345')).toBe('12345');
  });

  it('the (ms, seq) clock never repeats and follows the wall clock', () => {
    expect(nextApifinyIdClock(undefined, 1700000000000)).toEqual({ ms: 1700000000000, seq: 0 });
    expect(nextApifinyIdClock({ ms: 1700000000000, seq: 0 }, 1700000000000)).toEqual({ ms: 1700000000000, seq: 1 });
    expect(nextApifinyIdClock({ ms: 1700000000000, seq: 999 }, 1700000000000)).toEqual({ ms: 1700000000001, seq: 0 });
    expect(nextApifinyIdClock({ ms: 1700000000000, seq: 5 }, 1700000000009)).toEqual({ ms: 1700000000009, seq: 0 });
    // A clock that went backwards (restart on a skewed host) keeps counting past the persisted pair.
    expect(nextApifinyIdClock({ ms: 1700000000000, seq: 5 }, 1699999999000)).toEqual({ ms: 1700000000000, seq: 6 });
    const seen = new Set<string>();
    let last: { ms: number; seq: number } | undefined;
    for (let i = 0; i < 2500; i++) {
      last = nextApifinyIdClock(last, 1700000000000);
      seen.add(allocateApifinyOrderId(ACCT, '7', last.ms, last.seq));
    }
    expect(seen.size).toBe(2500);
  });
});
