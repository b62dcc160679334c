import { Type, type Static } from '@sinclair/typebox';
import type { ConsoleContext } from '../server.js';
import { WebError } from '../errors.js';

const CameraParams = Type.Object({ name: Type.String({ pattern: '^[a-z0-9_-]{1,64}$' }) });

/** Camera health and the live picture (the live view's JPEG with the pipeline's boxes), for every role. */
export function cameraRoutes(ctx: ConsoleContext): void {
  const { app, daemon } = ctx;
  const viewer = ctx.guard({ role: 'viewer', limit: 'read' });
  app.get('/api/cameras', viewer, async () => daemon.cameraHealth());
  app.get<{ Params: Static<typeof CameraParams> }>('/api/cameras/:name/frame.jpg', { schema: { params: CameraParams }, ...viewer }, async (req, reply) => {
    if (!daemon.cameraHealth().some((h) => h.camera === req.params.name)) throw new WebError(404, 'FG_ERR_WEB_NO_CAMERA', `no camera named ${req.params.name}`, 'pick a camera from the list');
    const jpeg = await daemon.cameraFrame(req.params.name);
    if (!jpeg) throw new WebError(503, 'FG_ERR_WEB_NO_FRAME', `no frame yet from ${req.params.name}`, 'wait for the camera to stream; its state is on the cameras page');
    return reply.header('content-type', 'image/jpeg').send(jpeg);
  });
}
