import { expect } from 'chai';
import { createActor, createMachine } from 'xstate';
import { startDevInspector, type DevInspector } from '../../../src/dependencies/runtime/inspector.js';
import { SseClient } from '../../helpers/sseClient.js';
import { waitFor } from '../../helpers/waitFor.js';

describe('startDevInspector', () => {
  let inspector: DevInspector | undefined;
  let client: SseClient | undefined;

  afterEach(async () => {
    client?.close();
    client = undefined;
    await inspector?.stop();
    inspector = undefined;
  });

  it('listens on loopback when no host is given, not on every interface', async () => {
    inspector = await startDevInspector({ port: 0 });
    expect(inspector.address.address).to.equal('127.0.0.1');
    expect(inspector.url).to.equal(`http://127.0.0.1:${inspector.address.port}`);
  });

  it('listens on the host it is given (HOST)', async () => {
    inspector = await startDevInspector({ port: 0, host: '127.0.0.2' });
    expect(inspector.address).to.include({ address: '127.0.0.2', family: 'IPv4' });
  });

  it("serves the bridge page and streams the actors' events to it, replaying those sent before it opened", async () => {
    inspector = await startDevInspector({ port: 0 });
    const page = await (await fetch(inspector.url)).text();
    expect(page).to.include('https://stately.ai/inspect').and.include("new EventSource('/events')");
    const actor = createActor(createMachine({ id: 'lamp', initial: 'off', states: { off: { on: { toggle: 'on' } }, on: {} } }), { inspect: inspector.inspect });
    actor.start();
    client = await SseClient.connect(`${inspector.url}/events`);
    actor.send({ type: 'toggle' });
    await waitFor('the actor and its event to arrive', () =>
      client!.events.some((e) => e.data?.type === '@xstate.actor' && e.data?.name === 'lamp') &&
      client!.events.some((e) => e.data?.type === '@xstate.event' && e.data?.event?.type === 'toggle'),
    );
    expect(client.res.headers['access-control-allow-origin'], 'no other origin may read the events').to.equal(undefined);
    actor.stop();
  });
});
