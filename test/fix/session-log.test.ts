// The FIX message log masks secrets: RawData (96) is a data field whose length is in RawDataLength
// (95), so it may contain SOH and '=': the whole declared length is masked, not just up to the first SOH.
import { encodeFix } from '../../src/fix/codec/fix-encoder';
import { maskSecrets } from '../../src/fix/session-log';

const SOH = '\x01';

function logon(rawData: string): string {
  return encodeFix('FIX.4.2', [
    { tag: 35, value: 'A' },
    { tag: 34, value: '1' },
    { tag: 49, value: 'C' },
    { tag: 52, value: '20240101-00:00:00.000' },
    { tag: 56, value: 'S' },
    { tag: 95, value: String(rawData.length) },
    { tag: 96, value: rawData },
    { tag: 98, value: '0' },
    { tag: 108, value: '30' },
  ]);
}

describe('maskSecrets', () => {
  test('masks a plain RawData and keeps every other field', () => {
    const masked = maskSecrets(logon('hunter2'));
    expect(masked).not.toContain('hunter2');
    expect(masked).toContain(`${SOH}96=****${SOH}98=0${SOH}108=30${SOH}`);
    expect(masked).toContain(`${SOH}95=7${SOH}`);
  });

  test('masks exactly RawDataLength bytes when RawData contains SOH and "=" (nothing of the secret leaks)', () => {
    const secret = `pa${SOH}ss=word${SOH}tail`;
    const masked = maskSecrets(logon(secret));
    expect(masked).not.toContain('ss=word');
    expect(masked).not.toContain('tail');
    expect(masked).toContain(`${SOH}96=****${SOH}98=0${SOH}108=30${SOH}10=`);
  });

  test('a RawDataLength shorter than the value still masks up to the next SOH', () => {
    const raw = `8=FIX.4.2${SOH}9=5${SOH}35=A${SOH}95=2${SOH}96=secret${SOH}98=0${SOH}10=000${SOH}`;
    expect(maskSecrets(raw)).toBe(`8=FIX.4.2${SOH}9=5${SOH}35=A${SOH}95=2${SOH}96=****${SOH}98=0${SOH}10=000${SOH}`);
  });

  test('a RawData without RawDataLength is masked up to the next SOH; messages without secrets are unchanged', () => {
    const raw = `8=FIX.4.2${SOH}35=A${SOH}96=secret${SOH}10=000${SOH}`;
    expect(maskSecrets(raw)).toBe(`8=FIX.4.2${SOH}35=A${SOH}96=****${SOH}10=000${SOH}`);
    const plain = `8=FIX.4.2${SOH}35=D${SOH}55=X96=Y${SOH}10=000${SOH}`;
    expect(maskSecrets(plain)).toBe(plain);
  });

  test('Password (554) and NewPassword (925) are masked', () => {
    const raw = `8=FIX.4.2${SOH}35=A${SOH}554=pw1${SOH}925=pw2${SOH}10=000${SOH}`;
    expect(maskSecrets(raw)).toBe(`8=FIX.4.2${SOH}35=A${SOH}554=****${SOH}925=****${SOH}10=000${SOH}`);
  });
});
