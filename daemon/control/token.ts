import { jwtVerify } from 'jose';
import { FacegateError } from '../base/errors.js';
import { loadCentralKey } from '../service/command-token.js';
import { ROLES, type Role } from './protocol.js';

/**
 * Signed tokens for the control socket when it is reached remotely (a forwarded socket): an EdDSA
 * JWT by the key in control.token_public_key, for this device (aud), unexpired, with a `role` claim.
 */
export function tokenVerifier(publicKeyFile: string, deviceId: string): (token: string) => Promise<{ role: Role; subject: string }> {
  const key = loadCentralKey(publicKeyFile);
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ['EdDSA'], audience: deviceId, requiredClaims: ['exp', 'sub'] });
      const role = payload.role;
      if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw new Error(`role claim must be one of ${ROLES.join(', ')}`);
      return { role: role as Role, subject: payload.sub! };
    } catch (e) {
      throw new FacegateError('FG_ERR_CONTROL_TOKEN', `token refused: ${(e as Error).message}`, 'ask for a fresh token signed by the key in control.token_public_key, for this device');
    }
  };
}
