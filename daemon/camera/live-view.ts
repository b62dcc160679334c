import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import type { Picture } from '../base/image.js';
import { toRgb } from '../base/yuv.js';
import type { Logger } from '../base/log.js';
import type { CameraSource } from './camera.js';
import type { LiveViewConfig } from './config.js';
import { drawBoxes, type OverlayBox } from './draw.js';
import { escapeMarkup, LabelPainter } from './labels.js';

const BOUNDARY = 'facegateframe';

/**
 * A live view for technicians: MJPEG over HTTP, which every browser shows in an <img> at any frame
 * rate (node-rtsp-stream's MPEG-1 cannot do 5 fps, see docs/camera.md). Bound to 127.0.0.1 only;
 * reach it from a laptop with `ssh -L 8090:127.0.0.1:8090 box`. It reads each camera's newest frame
 * without taking it, so viewers never steal frames from the pipeline.
 */
/** Label text height as a fraction (1/n) of the picture's height as sent. */
const LABEL_HEIGHT_FRACTION = 24;

export class LiveView {
  private server: Server | undefined;
  private clients = 0;
  private readonly overlays = new Map<string, { boxes: readonly OverlayBox[]; version: number }>();
  private readonly jpegs = new Map<string, { key: string; jpeg: Promise<Buffer> }>();
  private readonly log: Logger;
  private readonly labels = new LabelPainter();
  /** Frames not sent because a viewer's connection was still busy with the last one. */
  framesSkipped = 0;

  /** `cameras` is asked on every request: the daemon adds and removes cameras on reload. */
  constructor(
    private readonly cameras: () => readonly CameraSource[],
    private readonly config: LiveViewConfig,
    logger: Logger,
  ) {
    this.log = logger.child({ stage: 'live-view' });
  }

  /** Listens on 127.0.0.1:port (port 0: any free one); returns the port. */
  async start(port = this.config.port): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const bound = (server.address() as AddressInfo).port;
    this.log.info({ address: `http://127.0.0.1:${bound}/` }, 'live view listening');
    return bound;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  /** Boxes drawn on a camera's frames from now on (the track stage feeds this); [] clears. */
  setOverlay(camera: string, boxes: readonly OverlayBox[]): void {
    const version = (this.overlays.get(camera)?.version ?? 0) + 1;
    this.overlays.set(camera, { boxes, version });
  }

  /** A camera's newest frame as JPEG with its overlay, for the web console; undefined before its first frame. */
  frame(cameraName: string): Promise<Buffer | undefined> {
    const camera = this.cameras().find((c) => c.name === cameraName);
    return camera ? this.jpegOf(camera) : Promise.resolve(undefined);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    // A web page elsewhere must not read the cameras through a DNS name that points here.
    if (!/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(req.headers.host ?? '')) return void res.writeHead(403).end('forbidden host\n');
    if (req.method !== 'GET') return void res.writeHead(405).end();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') return this.index(res);
    const m = /^\/cameras\/([a-z0-9_-]+)\.(mjpeg|jpg)$/.exec(url.pathname);
    const camera = m && this.cameras().find((c) => c.name === m[1]);
    if (!m || !camera) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no such camera\n');
    if (m[2] === 'jpg') return void this.still(camera, res);
    this.stream(camera, req, res);
  }

  private index(res: ServerResponse): void {
    const items = this.cameras()
      .map((c) => {
        const h = c.health();
        return `<figure><img src="/cameras/${c.name}.mjpeg" alt="${c.name}"><figcaption>${c.name}: ${h.state}, ${h.fps_in} of ${h.fps_asked} fps read, ${h.fps_processed} processed${h.attention ? `; needs attention: ${escapeMarkup(h.attention.message)}` : ''}${h.last_error ? `, last error: ${escapeMarkup(h.last_error.message)}` : ''}</figcaption></figure>`;
      })
      .join('\n');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!doctype html><title>facegate live view</title><style>img{max-width:48vw}figure{display:inline-block}</style>\n${items || '<p>no cameras configured</p>'}\n`);
  }

  private async still(camera: CameraSource, res: ServerResponse): Promise<void> {
    const jpeg = await this.jpegOf(camera);
    if (!jpeg) return void res.writeHead(503, { 'content-type': 'text/plain' }).end(`no frame yet from ${camera.name}: ${camera.health().state}\n`);
    res.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'no-store' }).end(jpeg);
  }

  private stream(camera: CameraSource, req: IncomingMessage, res: ServerResponse): void {
    if (this.clients >= this.config.max_clients) return void res.writeHead(503, { 'content-type': 'text/plain' }).end('too many viewers\n');
    this.clients++;
    res.writeHead(200, { 'content-type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`, 'cache-control': 'no-store', connection: 'close' });
    let lastSeq = -1;
    let busy = false;
    const timer = setInterval(async () => {
      const frame = camera.latest();
      if (!frame || frame.seq === lastSeq) return;
      if (busy) {
        this.framesSkipped++;
        return;
      }
      busy = true;
      lastSeq = frame.seq;
      try {
        const jpeg = await this.jpegOf(camera);
        if (!jpeg || res.destroyed) return;
        const part = `--${BOUNDARY}\r\ncontent-type: image/jpeg\r\ncontent-length: ${jpeg.length}\r\n\r\n`;
        res.write(part);
        // A slow viewer: wait for the socket before the next frame rather than queue frames in memory.
        if (!res.write(Buffer.concat([jpeg, Buffer.from('\r\n')]))) await new Promise((r) => res.once('drain', r));
      } catch (e) {
        this.log.warn({ camera: camera.name, err: e }, 'live view frame failed');
      } finally {
        busy = false;
      }
    }, 1000 / this.config.fps);
    const done = () => {
      clearInterval(timer);
      this.clients--;
    };
    req.socket.once('close', done);
  }

  /** One JPEG per frame and overlay, shared by all viewers. */
  private jpegOf(camera: CameraSource): Promise<Buffer | undefined> {
    const frame = camera.latest();
    if (!frame) return Promise.resolve(undefined);
    const overlay = this.overlays.get(camera.name);
    const key = `${frame.seq}/${overlay?.version ?? 0}`;
    const cached = this.jpegs.get(camera.name);
    if (cached?.key === key) return cached.jpeg;
    const jpeg = this.encode(frame.image, overlay?.boxes ?? []);
    this.jpegs.set(camera.name, { key, jpeg });
    return jpeg;
  }

  private async encode(frame: Picture, boxes: readonly OverlayBox[]): Promise<Buffer> {
    // Shrunk as it is encoded; the outlines and the text drawn larger in proportion, so that they
    // are two pixels wide and the text a 24th of the picture's height as sent: still readable when
    // the console shows every camera at once in a tile a third of a screen wide.
    const scale = Math.min(1, MAX_WIDTH / frame.width);
    // A copy, made now: the camera reuses the frame's buffer for a later frame. Converted to RGB
    // here, at the viewers' rate, not for every frame the camera sends.
    const rgb = toRgb(frame);
    const image = boxes.length > 0 ? drawBoxes(rgb, boxes, Math.round(2 / scale)) : rgb;
    await this.labels.paint(image, boxes, Math.round(Math.max(12, (frame.height * scale) / LABEL_HEIGHT_FRACTION) / scale));
    return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
      .resize(Math.round(image.width * scale), Math.round(image.height * scale))
      .jpeg({ quality: this.config.jpeg_quality })
      .toBuffer();
  }
}

/**
 * Widest picture sent, px. A viewer shows it in a browser window or a console panel, not at the
 * camera's full 1080p: encoding a 1280 px JPEG costs well under half of a 1920 px one, taken from
 * the same two cores that run the cameras' vision.
 */
const MAX_WIDTH = 1280;
