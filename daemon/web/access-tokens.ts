import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Role } from '../service/audit.js';
import { ROLES } from './users.js';

export interface AccessClaims {
  /** The account's id (the subject), never its name: names are reused, ids are not. */
  user: string;
  role: Role;
  tokenVersion: number;
  /** The login (refresh token family) the token was made for: logout ends it, and the token with it. */
  session: string;
}

const AUDIENCE = 'facegate-web';

/**
 * Short-lived access tokens of the console: EdDSA JWTs under a key made when the daemon starts and
 * never written anywhere. A restart makes every access token invalid, which costs a user one
 * refresh (refresh tokens live in the state file), and there is no key file to protect.
 */
export class AccessTokens {
  private readonly keys: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('ed25519');

  constructor(
    private readonly ttlS: number,
    private readonly issuer: string,
  ) {}

  sign(c: AccessClaims): Promise<string> {
    return new SignJWT({ role: c.role, ver: c.tokenVersion, sid: c.session })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setSubject(c.user)
      .setIssuer(this.issuer)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlS}s`)
      .sign(this.keys.privateKey);
  }

  /** The claims of a token this daemon signed and that has not expired; undefined otherwise. */
  async verify(token: string): Promise<AccessClaims | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.keys.publicKey, { algorithms: ['EdDSA'], audience: AUDIENCE, issuer: this.issuer, requiredClaims: ['exp', 'sub'] });
      const role = payload.role;
      const ver = payload.ver;
      const sid = payload.sid;
      if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role) || typeof ver !== 'number' || typeof sid !== 'string') return undefined;
      return { user: payload.sub!, role: role as Role, tokenVersion: ver, session: sid };
    } catch {
      return undefined;
    }
  }
}
