import { isDcuError } from '../../protocol/common/errors';
import { validateConfig } from '../../config/validate';

describe('mqtt.deflate', () => {
  it('is accepted over MQTT 5 and refused over 3.1.1, where a deflated payload cannot say so', () => {
    expect(validateConfig({ id: 'd', mqtt: { url: 'mqtt://hes:1883', deflate: ['load-profile'] } }).mqtt?.deflate).toEqual(['load-profile']);
    let err: unknown;
    try {
      validateConfig({ id: 'd', mqtt: { url: 'mqtt://hes:1883', protocol: '3.1.1', deflate: ['load-profile'] } });
    } catch (e) {
      err = e;
    }
    expect(isDcuError(err) && err.message).toMatch(/mqtt\.deflate: needs MQTT 5/);
  });
});
