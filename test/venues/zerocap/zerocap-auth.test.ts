import { createHmac } from 'node:crypto';
import { signZerocap, zerocapAuthHeaders, zerocapTimestamp } from '../../../src/venues/zerocap/zerocap-auth';

describe('Zerocap signing', () => {
  it("reproduces zerocap.md's vector: HMAC_SHA256('test-secret', '1692346145')", () => {
    expect(signZerocap('test-secret', '1692346145')).toBe('d5eef256e590e4ccfb0c0da71057ff76435b9accf7fbda7f0ab43ac8383832cf');
  });

  it('signs exactly the timestamp string (a decimal timestamp is signed as sent)', () => {
    expect(signZerocap('test-secret', '1692346145.5')).toBe(createHmac('sha256', 'test-secret').update('1692346145.5').digest('hex'));
    expect(signZerocap('test-secret', '1692346145.5')).not.toBe(signZerocap('test-secret', '1692346145'));
  });

  it('timestamps are whole seconds, and the headers carry key, timestamp and the signature of that timestamp', () => {
    expect(zerocapTimestamp(1692346145999)).toBe('1692346145');
    expect(zerocapAuthHeaders('my-key', 'test-secret', 1692346145_123)).toEqual({
      'api-key': 'my-key',
      timestamp: '1692346145',
      signature: 'd5eef256e590e4ccfb0c0da71057ff76435b9accf7fbda7f0ab43ac8383832cf',
    });
  });
});
