import { createServer, type AddressInfo, type Server } from 'node:net';
import { FacegateError } from '../base/errors.js';

export interface DemoBroker {
  url: string;
  close(): Promise<void>;
}

/** An in-process MQTT 3.1.1 broker (aedes) on 127.0.0.1 and a free port, for the demo only. */
export async function startDemoBroker(): Promise<DemoBroker> {
  let Aedes: { createBroker(): Promise<{ handle: (socket: import('node:net').Socket) => void; close(cb: () => void): void }> };
  try {
    ({ Aedes } = (await import('aedes')) as unknown as { Aedes: typeof Aedes });
  } catch {
    throw new FacegateError('FG_ERR_DEMO_DEPS', 'the demo broker needs the devDependency aedes', "run 'npm ci' (without --omit=dev) in the facegate folder");
  }
  const broker = await Aedes.createBroker();
  const server: Server = createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
