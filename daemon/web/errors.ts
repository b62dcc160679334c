import { FacegateError } from '../base/errors.js';

/** A coded error with the HTTP status it is answered with. */
export class WebError extends FacegateError {
  readonly status: number;
  constructor(status: number, code: `FG_ERR_${string}`, message: string, hint: string) {
    super(code, message, hint);
    this.status = status;
  }
}

export const unauthenticated = () => new WebError(401, 'FG_ERR_WEB_UNAUTHENTICATED', 'not logged in, or the session has ended', 'log in again');
export const forbidden = (role: string, needs: string) => new WebError(403, 'FG_ERR_WEB_FORBIDDEN', `the ${role} role may not do this (needs ${needs})`, 'ask an admin for an account with that role');

/** The HTTP status of the service's own errors that a request can cause. */
const STATUS: Readonly<Record<string, number>> = {
  FG_ERR_PERSON_NOT_FOUND: 404,
  FG_ERR_UNKNOWN_NOT_FOUND: 404,
  FG_ERR_PHOTO_NOT_FOUND: 404,
  FG_ERR_SIGHTING_NOT_FOUND: 404,
  FG_ERR_ARRIVAL_NOT_FOUND: 404,
  FG_ERR_ARRIVAL_REVIEWED: 409,
  FG_ERR_ARRIVAL_CHECKED_IN: 409,
  FG_ERR_REVIEW_ROLE: 403,
  FG_ERR_ATTENDANCE_OFF: 409,
  FG_ERR_PHOTO_LAST: 409,
  FG_ERR_PERSON_EXISTS: 409,
  FG_ERR_ENROL_DUPLICATE: 409,
  FG_ERR_ENROL_NO_FACE: 422,
  FG_ERR_IMAGE_INVALID: 422,
  FG_ERR_ENROL_TOO_LARGE: 413,
  FG_ERR_COMMAND_BUSY: 503,
  FG_ERR_DAEMON_STOPPING: 503,
  FG_ERR_DISPLAY_TARGET: 404,
  FG_ERR_DISPLAY_TOKEN_NOT_FOUND: 404,
  FG_ERR_DISPLAY_TOKENS_FULL: 409,
};

export function statusOf(e: FacegateError): number {
  return e instanceof WebError ? e.status : (STATUS[e.code] ?? 400);
}
