import { Type, type Static } from '@sinclair/typebox';
import type { ConsoleContext } from '../server.js';
import { WebError } from '../errors.js';

const CameraParams = Type.Object({ camera: Type.String({ pattern: '^[a-z0-9_-]{1,64}$' }) });
const Rules = Type.Object(
  { threshold: Type.Number({ minimum: -1, maximum: 1 }), margin: Type.Number({ minimum: 0, maximum: 2 }) },
  { additionalProperties: false },
);
const Change = Type.Object({ rules: Type.Union([Rules, Type.Null()]) }, { additionalProperties: false });

/** Per-camera match threshold and margin, with the score distribution of recent decisions to tune them by. */
export function thresholdRoutes(ctx: ConsoleContext): void {
  const { app, daemon } = ctx;
  app.get('/api/thresholds', ctx.guard({ role: 'operator', limit: 'read' }), async () => daemon.thresholds());
  app.put<{ Params: Static<typeof CameraParams>; Body: Static<typeof Change> }>('/api/thresholds/:camera', { schema: { params: CameraParams, body: Change }, ...ctx.guard({ role: 'admin', limit: 'enrol' }) }, async (req) => {
    const { camera } = req.params;
    if (!daemon.cameraHealth().some((h) => h.camera === camera)) throw new WebError(404, 'FG_ERR_WEB_NO_CAMERA', `no camera named ${camera}`, 'pick a camera from the list');
    daemon.setThreshold(camera, req.body.rules, ctx.actor(req));
    return daemon.thresholds().find((t) => t.camera === camera);
  });
}
